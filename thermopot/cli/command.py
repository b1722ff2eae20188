"""The framework of the ``thermopot`` command: how a subcommand is declared and what it returns.

Every subcommand lives in its own module of this package as one function registered with
:func:`command`; it receives the parsed arguments and returns an :class:`Output`: the object printed by
``--json`` (exactly one JSON object on stdout), the readable text printed otherwise, and the exit code.
Options a user leaves out are passed on as ``None`` wherever the library has a default, so the library's
default is the only one. Adding a subcommand (a new module ``thermopot/cli/name.py``, listed in
``MODULES`` in ``thermopot/cli/main.py``)::

    @command("name", "one-line help", MODEL, TEMPERATURE, JSON, arg("--starts", type=positive_int))
    def name_command(args) -> Output:
        result = ...
        return Output(result.to_dict(), "readable summary")
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ThermopotError


class UsageError(ThermopotError):
    """A command line that does not parse (unknown option, missing argument, bad number)."""


@dataclass(frozen=True)
class Output:
    """What a subcommand produces: ``data`` for --json, ``text`` for people, the exit ``code``."""

    data: dict
    text: str
    code: int = 0


#: subcommand name -> (help, argument specs, function)
COMMANDS: dict[str, tuple[str, tuple, Callable[[argparse.Namespace], Output]]] = {}


def arg(*flags: str, **options: Any) -> tuple[tuple[str, ...], dict]:
    """An argument spec: the positional ``flags`` and keyword ``options`` of ``add_argument``."""
    return flags, options


def command(name: str, help: str, *arguments: tuple) -> Callable:
    """Register the decorated function as subcommand ``name`` with the given :func:`arg` specs."""
    def register(func: Callable[[argparse.Namespace], Output]) -> Callable[[argparse.Namespace], Output]:
        COMMANDS[name] = (help, arguments, func)
        return func
    return register


# shared argument specs
MODEL = arg("model", metavar="MODEL", help="a .npz model file or a generator spec, e.g. sk:n=20,seed=0, "
            "curie-weiss:n=50,j=1, hopfield:n=30,p=3,seed=1, ring:n=12, random:n=10,seed=3")
TEMPERATURE = arg("--T", dest="T", type=float, required=True, metavar="T", help="temperature T > 0")
OPTIONAL_TEMPERATURE = arg("--T", dest="T", type=float, default=None, metavar="T",
                           help="temperature for per-basin free energies and magnetisations")
BACKEND = arg("--backend", default=None, metavar="B",
              help="numpy, cupy or auto (default: $THERMOPOT_BACKEND, else auto)")
JSON = arg("--json", action="store_true", help="print one JSON object on stdout and nothing else")
QUICK = arg("--quick", action="store_true", help="small sizes only (about a minute)")


def _int_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1 (counts: chains, sweeps, starts, tile sizes)."""
    return _int_at_least(text, 1)


def nonnegative_int(text: str) -> int:
    """An argparse type: an integer >= 0 (seeds, burn-in sweeps, rows shown)."""
    return _int_at_least(text, 0)




def signs(state: Sequence[int]) -> str:
    """A +-1 state as a string of + and - (one character per spin)."""
    return "".join("+" if s > 0 else "-" for s in state)


def fmt(value: object) -> str:
    """A number with 4 significant digits, a value that was not computed (None) as 'n/a'."""
    if value is None:
        return "n/a"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def given(args: argparse.Namespace, *names: str) -> dict:
    """The options among ``names`` that the user gave (not None), as keyword arguments for the library, so
    that an option left out takes the library's own default."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def is_note(category: type[Warning]) -> bool:
    """Whether a warning is news for the user of a command (a UserWarning, or a warning class of thermopot
    itself such as a fit's ConvergenceWarning) rather than a library's diagnostic (NumPy's RuntimeWarning)."""
    return issubclass(category, UserWarning) or category.__module__.split(".")[0] == "thermopot"


@contextlib.contextmanager
def noted_warnings() -> Iterator[list[str]]:
    """The warnings of the block that are notes (:func:`is_note`), each once in order (a list filled when the
    block ends, for the JSON's ``warnings``), each also printed to stderr as ``thermopot: warning: ...``, even
    when the block raises (e.g. the shape warning of a transposed array before the run is refused). Other
    warnings are passed on as Python shows them. :func:`thermopot.cli.main.main` runs every command in it."""
    notes: list[str] = []
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield notes
    finally:
        notes.extend(dict.fromkeys(str(w.message) for w in caught if is_note(w.category)))
        for note in notes:
            print(f"thermopot: warning: {note}", file=sys.stderr)
        others = {(w.category, str(w.message)): w for w in caught if not is_note(w.category)}
        for w in others.values():
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
