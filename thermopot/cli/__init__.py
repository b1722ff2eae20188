"""The ``thermopot`` command: one module per subcommand, each a thin layer over one library function.

Read ``command.py`` (how a subcommand is declared, the shared options) and ``main.py`` (the parser and the
exit codes), then the subcommand you need: ``enumerate.py``, ``landscape.py``, ``sample.py``, ``fit.py``,
``minima.py``, ``validate.py``, ``entropic.py``, ``knowledge.py``, ``bench.py``, ``logz.py``, ``sweep.py``. The contract of every subcommand (its JSON fields, exit codes) is in
docs/architecture.md, "Command-line contract".
"""

from .command import COMMANDS, Output, UsageError
from .main import build_parser, main

__all__ = ["main", "build_parser", "COMMANDS", "Output", "UsageError"]
