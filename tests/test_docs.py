"""The documentation site builds without a single warning (this is how CI builds it), and no page
cites the theory notes outside the repository.

The build is ``sphinx-build -W -c docs . OUT`` from the repository root (docs/conf.py): a broken
reference, a malformed docstring or a notebook that does not render fails it. Notebooks are rendered as
saved, not executed (tests/test_notebooks.py executes them).
"""

from __future__ import annotations

import doctest
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _build(out: Path) -> subprocess.CompletedProcess:
    for package in ("sphinx", "numpydoc", "myst_parser", "myst_nb"):
        pytest.importorskip(package)
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-E", "-c", str(ROOT / "docs"),
           "-d", str(out / "doctrees"), str(ROOT), str(out / "html")]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def test_site_builds_without_warnings(tmp_path: Path) -> None:
    run = _build(tmp_path)
    assert run.returncode == 0, f"sphinx-build -W failed:\n{run.stderr[-6000:]}"
    assert "WARNING" not in run.stderr, run.stderr[-6000:]
    html = tmp_path / "html"
    for page in ("index", "docs/index", "README", "docs/theory", "docs/theory-entropic", "docs/architecture",
                 "derivations/plefka", "derivations/knowledge_potentials", "derivations/entropic_loss"):
        assert (html / f"{page}.html").exists(), page
    models = (html / "docs/api/generated/thermopot.models.html").read_text()
    assert 'id="thermopot.models.PairwiseModel"' in models   # the API map documents the entry points


def test_no_citation_outside_the_repository() -> None:
    """A clone has no ../shared: the pages, notebooks and docstrings cite docs/ instead."""
    sources = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("derivations/*.ipynb"),
               *ROOT.rglob("thermopot/**/*.py"),
               *ROOT.glob("validation/*.py")]
    cited = [str(p.relative_to(ROOT)) for p in sources if re.search(r"shared/docs", p.read_text())]
    assert not cited, cited


ENTRY_POINTS = [("thermopot.models", "PairwiseModel"), ("thermopot.models", "MultiSpinModel"),
                ("thermopot.models", "sk"), ("thermopot.states", "fwht"),
                ("thermopot.symbolic", "plefka_expansion"), ("thermopot.meanfield", "gibbs_free_energy")]


@pytest.mark.parametrize(("module", "name"), ENTRY_POINTS)
def test_entry_point_documents_and_runs_its_examples(module: str, name: str) -> None:
    """The numpydoc sections are there, and the Examples (closed forms: energies, H H = 2^N I, G_2 at
    m = 0) give the values they print."""
    obj = getattr(importlib.import_module(module), name)
    doc = obj.__doc__ or ""
    for section in ("Parameters", "Raises", "Examples"):
        assert f"\n    {section}\n    {'-' * len(section)}\n" in doc, (name, section)
    tests = doctest.DocTestFinder(recurse=False).find(obj, name, globs={})
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 2 and result.failed == 0, (name, result)
