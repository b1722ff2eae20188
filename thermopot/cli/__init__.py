"""The ``thermopot`` command: one module per subcommand, each a thin layer over one library function.

Read :mod:`.command` (how a subcommand is declared, the shared options) and :mod:`.main` (the parser and
the exit codes), then the subcommand you need: :mod:`.enumerate`, :mod:`.landscape`, :mod:`.sample`,
:mod:`.fit`, :mod:`.minima`, :mod:`.validate`, :mod:`.entropic`, :mod:`.knowledge`, :mod:`.bench`,
:mod:`.logz`, :mod:`.sweep`. The contract of every subcommand (its JSON fields, exit codes) is in
docs/architecture.md, "Command-line contract".
"""

from .command import COMMANDS, Output, UsageError
from .main import build_parser, main

__all__ = ["main", "build_parser", "COMMANDS", "Output", "UsageError"]
