"""Theory-versus-exact validations, run by ``thermopot validate`` (installed as thermopot.validation).

Each validation is a module of this package with a function ``run(ctx: Context) -> None`` that
records checks with ``ctx.check(name, theory, exact, tol, figure=None, note=None)``. To add one,
write ``validation/<name>.py`` and append ``<name>`` to :data:`MODULES`. The runner is library code,
:mod:`thermopot.validate`; its names are re-exported here, with :func:`family_z` (the threshold of a
check on the largest |z| of many estimates).
"""

from __future__ import annotations

from ..validate import Context, run_validations, select_modules
from ._family import family_z

#: the registered validation modules, run in this order
MODULES: tuple[str, ...] = (
    "thermodynamics",
    "minima",
    "plefka",
    "sampling",
    "sampled",
    "learning",
    "knowledge",
    "entropic",
)

__all__ = ["MODULES", "Context", "family_z", "run_validations", "select_modules"]
