"""The compiled array programs of the Plefka expansion (see :mod:`thermopot.meanfield.compiler` for how
they are made), and their on-disk form: plain numbers in JSON, so that evaluating a mean-field
potential never needs SymPy. Every supported order (1..``symbolic.orders.MAX_ORDER``) is shipped in
``meanfield/data/programs.json``; this module is the leaf of the mean-field code and never imports
the compiler (the tests compare the shipped file with a fresh compilation).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ThermopotError
from ..fileio import atomic_write

#: shipped programs, written by ``python -m thermopot.meanfield.compiler`` (regenerate after changing
#: the derivation or the compiler; the tests compare it with a fresh compilation)
PROGRAMS_FILE = Path(__file__).parent / "data" / "programs.json"


@dataclass(frozen=True)
class UniPoly:
    """A univariate polynomial with its first two derivatives (coefficients low -> high)."""

    c0: tuple
    c1: tuple
    c2: tuple


@dataclass(frozen=True)
class BondGroup:
    """All two-block quotients with J^power: sum_{x,y} J^power_xy f(m_x) f(m_y) sum_ij C_ij m_x^i m_y^j.

    ``left[j]`` = f(x) c_j(x) with c_j(x) = sum_i C_ij x^i, ``right[j]`` = f(y) y^j (P is symmetric).
    """

    order: int
    power: int
    left: tuple[UniPoly, ...]
    right: tuple[UniPoly, ...]


@dataclass(frozen=True)
class Network:
    """coef * sum over ALL maps of the blocks of prod_edges J^a prod_b q_b(m): a tensor contraction."""

    order: int
    coef: float
    polys: tuple[UniPoly, ...]
    edges: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class Program:
    order: int
    bonds: tuple[BondGroup, ...]
    networks: tuple[Network, ...]

    @property
    def powers(self) -> tuple[int, ...]:
        """The elementwise powers of J the program uses."""
        return tuple(sorted({b.power for b in self.bonds} | {a for n in self.networks for *_, a in n.edges}))


def _poly(d: dict) -> UniPoly:
    return UniPoly(tuple(d["c0"]), tuple(d["c1"]), tuple(d["c2"]))


def program_from_dict(d: dict) -> Program:
    """The inverse of ``dataclasses.asdict`` for a Program."""
    bonds = tuple(BondGroup(b["order"], b["power"], tuple(map(_poly, b["left"])), tuple(map(_poly, b["right"])))
                  for b in d["bonds"])
    networks = tuple(Network(n["order"], n["coef"], tuple(map(_poly, n["polys"])), tuple(map(tuple, n["edges"])))
                     for n in d["networks"])
    return Program(d["order"], bonds, networks)


def _checksum(entry: dict) -> str:
    """SHA-256 of the canonical JSON of one stored program (without its own ``sha256`` field)."""
    body = {k: v for k, v in entry.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def write_programs(programs: list[Program], path: Path = PROGRAMS_FILE) -> None:
    """Store compiled programs as JSON (one entry per order, each with the SHA-256 of its content),
    atomically (:func:`thermopot.fileio.atomic_write`)."""
    stored = {str(p.order): asdict(p) for p in programs}
    for entry in stored.values():
        entry["sha256"] = _checksum(entry)
    with atomic_write(path, "w") as fh:
        fh.write(json.dumps(stored, separators=(",", ":")))


def _stored_program(order: int) -> Program | None:
    """The program of ``order`` in the shipped file, or None when the file is missing or does not hold
    it, or the entry is malformed or does not match its checksum (an edited or damaged file)."""
    try:
        entry = json.loads(PROGRAMS_FILE.read_text(encoding="utf-8"))[str(order)]
        return program_from_dict(entry) if entry["sha256"] == _checksum(entry) else None
    except Exception:  # noqa: BLE001 (missing or malformed: compiled afresh instead)
        return None


@lru_cache(maxsize=None)
def load_program(order: int) -> Program:
    """The array program of ``order`` from the shipped file, verified against its checksum (a
    ThermopotError when the file lacks it or the entry is damaged or edited: regenerate the file with
    ``python -m thermopot.meanfield.compiler``)."""
    stored = _stored_program(order)
    if stored is None:
        raise ThermopotError(f"{PROGRAMS_FILE} holds no intact mean-field program of order {order} (missing, "
                             "malformed or not matching its checksum); regenerate it with "
                             "`python -m thermopot.meanfield.compiler`")
    return stored
