"""Sphinx configuration of the thermopot documentation site.

Build from the repository root (the source folder is the root, so that README.md, docs/*.md and the
notebooks in derivations/ keep the relative links that also work on a plain clone):

    sphinx-build -W -c docs . docs/_build/html

``-W`` turns every warning (a broken reference, a malformed docstring) into an error; nothing is
downloaded and no notebook is executed.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

project = "thermopot"
author = "the thermopot developers"
copyright = "the thermopot developers"
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]

root_doc = "docs/index"
include_patterns = ["README.md", "docs/**", "derivations/*.ipynb"]
exclude_patterns = [".venv", ".git", "docs/_build", "docs/_templates", "**/.ipynb_checkpoints", "build", "dist"]
templates_path = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "_templates")]

# MyST: Markdown pages and the notebooks' markdown cells ($...$ and $$...$$ math, heading anchors).
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
# Notebooks are rendered with the outputs they were saved with (the tests execute them separately).
nb_execution_mode = "off"

# API map: one generated page per public module (docs/api/generated/ is written at build time).
autosummary_generate = True
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_type_aliases = {"Array": "thermopot.backend.Array"}
numpydoc_show_class_members = False


def _submodules(package: str) -> list[str]:
    """Public submodules of a package that no package attribute shadows (exact.thermodynamics is the
    function): the template declares them as targets, so :mod:`.sgd` in a docstring resolves."""
    obj = importlib.import_module(package)
    names = [m.name for m in pkgutil.iter_modules(getattr(obj, "__path__", []))]
    return [f"{package}.{n}" for n in names
            if not n.startswith("_") and not callable(getattr(obj, n, None))]


# Names a module re-exports from another public module are documented once, where they are defined.
autosummary_context = {"reexported": {"thermopot.datasets": "Dataset, DataError"},
                       "submodules": _submodules}
numpydoc_xref_param_type = False

# A broken reference fails the build (with -W). Third-party types are not resolved (no intersphinx:
# nothing is downloaded at build time), so they, and only they, are ignored here.
nitpicky = True
# autosummary_context holds a function, so the configuration is not cached (every build is fresh).
suppress_warnings = ["config.cache"]
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|sympy|scipy|cupy|matplotlib|collections\.abc|typing|types|os|pathlib|contextlib)(\..*)?"),
]

html_theme = "alabaster"
html_title = "thermopot"
html_additional_pages = {"index": "redirect.html"}


# Docstrings write norms as plain text, |g_u|^2; reStructuredText would read |...| as a substitution.
# Outside `...` and ``...`` spans a bar is escaped, so |x| stays the norm it means.
_LITERAL_OR_ROLE = re.compile(r"(`[^`]*`+)")


def _escape_bars(app, what, name, obj, options, lines: list[str]) -> None:
    for i, line in enumerate(lines):
        parts = _LITERAL_OR_ROLE.split(line)
        lines[i] = "".join(p if k % 2 else p.replace("|", r"\|") for k, p in enumerate(parts))


def setup(app):
    app.connect("autodoc-process-docstring", _escape_bars)
