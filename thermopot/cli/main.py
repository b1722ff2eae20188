"""The ``thermopot`` command line: the parser built from the registered subcommands, and :func:`main`.

Progress goes to stderr. Bad input (a ThermopotError, an unreadable file, a bad option) becomes one line
``thermopot: error: ...`` on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import ThermopotError
from ..report import to_json
from .command import COMMANDS, UsageError, noted_warnings

#: the subcommand modules of this package, in the order ``thermopot --help`` lists them
MODULES = ("enumerate", "landscape", "sample", "fit", "minima", "validate", "entropic", "knowledge", "bench",
           "logz", "sweep")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises UsageError (one line on stderr, exit 2) instead of printing usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of ``MODULES``."""
    for name in MODULES:
        importlib.import_module(f"{__package__}.{name}")  # registers its subcommand
    parser = _Parser(prog="thermopot", description="Exact enumeration, thermodynamic potentials and "
                     "validations for binary spin models. Run `thermopot COMMAND --help` for details.")
    parser.add_argument("--version", action="version", version=f"thermopot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, arguments, func) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        for flags, options in arguments:
            p.add_argument(*flags, **options)
        p.set_defaults(func=func)
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, ThermopotError) else f"{type(exc).__name__}: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 success, 1 failed validation, 2 bad input). The notes
    among the warnings a command raises (``thermopot.cli.command.noted_warnings``) go to stderr and to the JSON's
    ``warnings`` list, after any the command puts there itself."""
    try:
        args = build_parser().parse_args(argv)
        with noted_warnings() as notes:
            out = args.func(args)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except (ThermopotError, OSError, MemoryError) as exc:
        print(f"thermopot: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("thermopot: error: interrupted", file=sys.stderr)
        return 130
    data = {**out.data, "warnings": list(dict.fromkeys([*out.data.get("warnings", []), *notes]))}
    print(to_json(data) if getattr(args, "json", False) else out.text)
    return out.code
