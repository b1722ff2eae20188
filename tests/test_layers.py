"""The layers of thermopot (design.md, "Inside thermopot/") as tests.

- The import-linter contracts of pyproject.toml (layers, no SymPy in numeric code, no cycles, private
  modules private) hold on the package as it is installed: validation/ and benchmarks/ inside it as
  thermopot.validation and thermopot.benchmarks, which only that layout lets the linter see.
- Each contract fails on an import that breaks it (so a passing run means something).
- Numeric modules load no SymPy when imported in a fresh interpreter; no private name (``_x``) is imported
  from another module; ``import thermopot`` imports no subpackage until it is used.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]
#: where each source folder lies in the installed package (pyproject: package-dir)
LAYOUT = {"thermopot": ROOT / "thermopot", "thermopot/validation": ROOT / "validation",
          "thermopot/benchmarks": ROOT / "benchmarks"}
CONTRACTS = ("thermopot layers, top first", "the mean-field package, top first",
             "numeric code never imports SymPy (nor the symbolic derivations)",
             "no import cycles between the modules of any package",
             "private modules are imported only inside their own package")


def _installed_tree(dest: Path) -> Path:
    """The Python files of thermopot under ``dest`` as they are installed (validation/ and benchmarks/
    inside the package)."""
    def keep_python(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if not (n.endswith(".py") or (Path(folder) / n).is_dir()) or n == "__pycache__"]

    for target, source in LAYOUT.items():
        shutil.copytree(source, dest / target, ignore=keep_python, dirs_exist_ok=True)
    return dest


def _lint(tree: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` with pyproject.toml's contracts on the package under ``tree``."""
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([sys.executable, "-c", code, str(ROOT / "pyproject.toml")], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=300)


def _add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_contracts_hold(tmp_path):
    result = _lint(_installed_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in CONTRACTS:
        assert f"{name} KEPT" in result.stdout


def test_each_contract_fails_on_a_bad_import(tmp_path):
    """One bad import per contract (and an upward import of the validation scripts, visible only in the
    installed layout): every contract reports BROKEN, naming the import."""
    tree = _installed_tree(tmp_path)
    pkg = tree / "thermopot"
    _add_line(pkg / "states.py", "import thermopot.report")  # a lower layer imports a higher one
    _add_line(pkg / "entropic" / "sgd.py", "import thermopot.validation")  # library -> scripts
    _add_line(pkg / "exact" / "tiles.py", "import sympy")  # numeric code -> SymPy
    _add_line(pkg / "meanfield" / "program.py", "from . import evaluate")  # the IR leaf imports upward
    _add_line(pkg / "knowledge" / "description.py", "from . import _description_identities")  # a cycle
    _add_line(pkg / "benchmarks" / "knowledge.py", "from ..knowledge import _retrieval_barrier")  # a foreign private module
    result = _lint(tree)
    out = " ".join(result.stdout.split())
    assert result.returncode != 0
    for name in CONTRACTS:
        assert f"{name} BROKEN" in out, name
    for words in ("thermopot.states is not allowed to import thermopot.report",
                  "thermopot.entropic is not allowed to import thermopot.validation",
                  "thermopot.exact.tiles -> sympy",
                  "thermopot.meanfield.program is not allowed to import thermopot.meanfield.evaluate",
                  "No cycles are allowed in thermopot.knowledge",
                  "thermopot.benchmarks.knowledge -> thermopot.knowledge._retrieval_barrier"):
        assert words in out, words


def _loaded_after_import(module: str, code: str = "") -> set[str]:
    """The top-level and second-level module names in sys.modules after ``import module`` (then ``code``)
    in a fresh interpreter."""
    script = (f"import sys, {module}\n{code}\n"
              "print(' '.join(sorted({'.'.join(m.split('.')[:2]) for m in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize("module", ["thermopot.knowledge", "thermopot.exact", "thermopot.sampling",
                                    "thermopot.solvers", "thermopot.meanfield", "thermopot.datasets"])
def test_numeric_modules_load_no_sympy(module):
    assert "sympy" not in _loaded_after_import(module)


def test_mean_field_potential_of_order_6_needs_no_sympy():
    """The compiled programs of every order are shipped: evaluating G_6 compiles nothing."""
    code = ("import numpy as np; from thermopot.models import sk; "
            "m = np.full(6, 0.1); print(thermopot.meanfield.gibbs_free_energy(sk(6, seed=0), m, 2.0, 6))")
    assert "sympy" not in _loaded_after_import("thermopot.meanfield", code)


def test_datasets_load_no_learning_and_no_optimizer():
    """The data sets lie below learning: loading them loads no fitting code and no scipy.optimize."""
    loaded = _loaded_after_import("thermopot.datasets", "thermopot.datasets.load_digits()")
    assert not loaded & {"scipy.optimize", "thermopot.learning", "sympy"}


def test_learning_data_is_an_alias_of_the_moved_module():
    """thermopot.learning.data (the old home of Dataset) still imports, as thermopot.datasets.dataset."""
    import thermopot.datasets.dataset as dataset
    import thermopot.learning.data as old
    from thermopot.learning.data import DataError, Dataset, as_dataset, load_dataset, save_dataset

    assert old is dataset
    assert (Dataset, DataError, as_dataset, load_dataset, save_dataset) == (
        dataset.Dataset, dataset.DataError, dataset.as_dataset, dataset.load_dataset, dataset.save_dataset)


def test_missing_program_is_an_error_not_a_compilation(tmp_path, monkeypatch):
    """A programs file without the order asked for gives a ThermopotError naming the file and the command
    that regenerates it (the IR module never imports the SymPy compiler)."""
    import thermopot.meanfield.program as code
    from thermopot.errors import ThermopotError

    partial = tmp_path / "programs.json"
    partial.write_text(json.dumps({"1": json.loads(code.PROGRAMS_FILE.read_text())["1"]}))
    monkeypatch.setattr(code, "PROGRAMS_FILE", partial)
    assert code.load_program.__wrapped__(1).order == 1
    with pytest.raises(ThermopotError, match=r"order 2.*python -m thermopot\.meanfield\.compiler"):
        code.load_program.__wrapped__(2)


def _imported_from(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name of the module that ``from ... import`` in ``module`` reads from."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def test_no_private_name_imported_across_modules(tmp_path):
    """``from X import _name`` only where X is the importing module's own private submodule (a private
    module, which the private-modules contract covers), never a private function or constant of another
    module."""
    tree = _installed_tree(tmp_path)
    files = {}
    for path in sorted((tree / "thermopot").rglob("*.py")):
        parts = path.relative_to(tree).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    found = []
    for module, path in files.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                source = _imported_from(node, module, path.name == "__init__.py")
                found += [f"{module}:{node.lineno} imports {a.name} from {source}" for a in node.names
                          if source.startswith("thermopot") and a.name.startswith("_")
                          and not a.name.startswith("__") and f"{source}.{a.name}" not in files]
    assert not found, "\n".join(found)


def test_import_thermopot_is_lazy():
    """``import thermopot`` imports no subpackage; ``thermopot.exact.thermodynamics`` then works and
    imports what it needs (exact and below), not the layers above it."""
    code = ("before = {m for m in sys.modules if m.startswith('thermopot.')}\n"
            "assert before == set(), before\n"
            "import numpy as np\n"
            "h = np.array([0.3, -0.5, 1.25])\n"
            "model = thermopot.models.PairwiseModel(h, np.zeros((3, 3)))\n"
            "r = thermopot.exact.thermodynamics(model, T=0.5)\n"  # independent spins: log Z = sum log 2 cosh(h/T)
            "assert abs(r.log_z - np.log(2 * np.cosh(h / 0.5)).sum()) < 1e-12, r.log_z")
    loaded = _loaded_after_import("thermopot", code)
    assert "thermopot.exact" in loaded
    assert not loaded & {"thermopot.knowledge", "thermopot.solvers", "thermopot.sampling", "sympy"}


def test_submodules_list_every_library_module():
    """thermopot.SUBMODULES names every public top-level module and subpackage of the library."""
    import thermopot

    on_disk = {p.stem if p.suffix == ".py" else p.name for p in (ROOT / "thermopot").iterdir()
               if (p.suffix == ".py" or (p / "__init__.py").exists()) and not p.name.startswith("_")}
    assert set(thermopot.SUBMODULES) == on_disk
    assert "exact" in dir(thermopot)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        thermopot.nonexistent  # noqa: B018
