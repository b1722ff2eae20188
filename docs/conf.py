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
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

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
templates_path = [os.path.join(HERE, "_templates")]

# MyST: Markdown pages and the notebooks' markdown cells ($...$ and $$...$$ math, heading anchors).
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
# Notebooks are rendered with the outputs they were saved with (the tests execute them separately).
nb_execution_mode = "off"

# API map: one generated page per public module, written to docs/api/generated/ at every build (emptied
# first, so a module that left api.md leaves no orphan page behind).
shutil.rmtree(os.path.join(HERE, "api", "generated"), ignore_errors=True)
autosummary_generate = True
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_type_aliases = {"Array": "thermopot.backend.Array"}
numpydoc_show_class_members = False
numpydoc_xref_param_type = False


def _api_modules() -> set[str]:
    """The modules listed in api.md, each documented on its own page."""
    with open(os.path.join(HERE, "api.md"), encoding="utf-8") as f:
        return {m.group(1) for m in re.finditer(r"^ +(thermopot[\w.]*) *$", f.read(), re.MULTILINE)}


def _submodules(package: str) -> list[str]:
    """Public submodules of a package that have no page of their own and that no package attribute
    shadows (exact.thermodynamics is the function): the template declares them as targets, so that
    :mod:`.sgd` in a docstring resolves to the package page."""
    obj = importlib.import_module(package)
    names = [m.name for m in pkgutil.iter_modules(getattr(obj, "__path__", []))]
    return [f"{package}.{n}" for n in names if not n.startswith("_") and f"{package}.{n}" not in _api_modules()
            and not callable(getattr(obj, n, None))]


# Names a module re-exports from another public module are documented once, where they are defined.
autosummary_context = {"reexported": {"thermopot.learning": "Dataset, DataError, as_dataset, load_dataset, save_dataset",
                                      "thermopot.exact": "check_size"},
                       "submodules": _submodules}

# A broken reference fails the build (with -W). Types of other packages and of the standard library are
# not resolved (no intersphinx: nothing is downloaded at build time), so they, and only they, are ignored.
nitpicky = True
# thermopot.distributed.tasks.Task (a command name or a callable) is a type alias without a page of its own
nitpick_ignore = [("py:class", "Task")]
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|sympy|scipy|cupy|matplotlib|pandas|collections\.abc|typing|types|os|pathlib|contextlib|argparse)(\..*)?"),
]

# autosummary_context holds a function, so the configuration is not cached (every build is fresh).
suppress_warnings = ["config.cache"]

html_theme = "alabaster"
html_title = "thermopot"
html_additional_pages = {"index": "redirect.html"}


# Docstrings write norms as plain text, |g_u|^2; reStructuredText would read |...| as a substitution.
# Outside ``...`` literals and `...` role targets a bar is escaped, so |x| stays the norm it means.
_LITERAL_OR_ROLE = re.compile(r"(``.*?``|`[^`]*`)")


def _escape_bars(app, what, name, obj, options, lines: list[str]) -> None:
    """autodoc-process-docstring hook: |x| -> \\|x\\| in place, except in literals, in literal blocks
    (the indented lines after a line ending in ``::``) and in doctest blocks (``>>>`` to a blank line)."""
    literal_indent = None   # indentation of the line that opened the current literal block
    in_doctest = False
    for i, line in enumerate(lines):
        text = line.lstrip()
        indent = len(line) - len(text)
        if in_doctest:
            in_doctest = bool(text)
            continue
        if literal_indent is not None:
            if not text or indent > literal_indent:
                continue
            literal_indent = None
        if text.startswith(">>>"):
            in_doctest = True
            continue
        parts = _LITERAL_OR_ROLE.split(line)
        lines[i] = "".join(p if k % 2 else p.replace("|", r"\|") for k, p in enumerate(parts))
        if text.endswith("::"):
            literal_indent = indent


def setup(app) -> None:
    app.connect("autodoc-process-docstring", _escape_bars)
