"""Derivation of all Plefka graph terms up to an order, and their on-disk cache (JSON).

Lookup order for ``load_graph_terms(order)``: the file shipped in ``thermopot/symbolic/plefka/data/``
(precomputed orders), then the user cache (``$THERMOPOT_CACHE_DIR``, else
``$XDG_CACHE_HOME/thermopot``, else ``~/.cache/thermopot``), then a fresh derivation that is written to
the user cache. A file for order n holds every term of order <= n and the SHA-256 of its content; a
file that is malformed, edited or damaged is ignored (and a user cache file derived and written again).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from ...fileio import atomic_write
from .derive import graph_coefficients
from .graphs import automorphisms, skeleton_name, skeletons

FORMAT = 2  # 2: the file carries the SHA-256 of its content
DATA_FILE = Path(__file__).with_name("data") / "plefka.json"


@dataclass(frozen=True)
class GraphTerm:
    """One multigraph class of -beta G:  beta^order / symmetry * sum over DISTINCT vertex indices
    i_0..i_{k-1} of prod_edges J_{i_u i_v}^power * coefficient(m_{i_0}, ..., m_{i_{k-1}}).

    ``edges`` are ``(u, v, power)``; ``symmetry`` is the number of automorphisms of the multigraph
    (so that each subgraph of the model is counted once); ``coefficient`` is a SymPy polynomial in
    the symbols m0..m{k-1}.
    """

    order: int
    n_vertices: int
    edges: tuple[tuple[int, int, int], ...]
    symmetry: int
    coefficient: sp.Expr
    name: str

    @property
    def vertex_symbols(self) -> tuple[sp.Symbol, ...]:
        return sp.symbols(f"m0:{self.n_vertices}")

    @property
    def label(self) -> str:
        """E.g. ``bond J^4``, ``triangle J^(2,1,1)``, ``square``."""
        powers = [a for _, _, a in self.edges]
        if len(powers) == 1:
            return f"{self.name} J^{powers[0]}"
        if all(a == 1 for a in powers):
            return self.name
        return f"{self.name} J^({','.join(map(str, powers))})"

    def to_json(self) -> dict:
        poly = sp.Poly(self.coefficient, *self.vertex_symbols)
        return {"order": self.order, "n_vertices": self.n_vertices, "edges": [list(e) for e in self.edges],
                "symmetry": self.symmetry, "name": self.name,
                "coefficient": [[list(mon), str(c)] for mon, c in poly.terms()]}

    @classmethod
    def from_json(cls, d: dict) -> "GraphTerm":
        syms = sp.symbols(f"m0:{d['n_vertices']}")
        poly = sp.Poly.from_dict({tuple(mon): sp.Rational(c) for mon, c in d["coefficient"]}, *syms)
        return cls(int(d["order"]), int(d["n_vertices"]), tuple(tuple(e) for e in d["edges"]),
                   int(d["symmetry"]), poly.as_expr(), str(d["name"]))


def derive_graph_terms(order: int) -> list[GraphTerm]:
    """Derive every graph term of -beta G up to ``order`` from scratch (no cache).

    Only 2-connected skeletons are expanded (see :func:`check_irreducible` for the check that the
    others vanish); each skeleton yields all its multigraphs (edge powers >= 1) at once, grouped into
    classes under the skeleton's automorphisms.
    """
    out = []
    for k, edges in skeletons(order):
        coeffs = graph_coefficients(k, edges, order)
        perms = automorphisms(k, edges)
        edge_index = {e: i for i, e in enumerate(edges)}
        edge_perms = [[edge_index[tuple(sorted((p[u], p[v])))] for u, v in edges] for p in perms]
        done = set()
        for powers in sorted(coeffs, key=lambda a: (sum(a), tuple(-x for x in a))):
            if powers in done:
                continue
            orbit = set()
            for ep in edge_perms:
                image = [0] * len(edges)
                for e, target in enumerate(ep):
                    image[target] = powers[e]
                orbit.add(tuple(image))
            done |= orbit
            out.append(GraphTerm(sum(powers), k, tuple((u, v, a) for (u, v), a in zip(edges, powers)),
                                 len(perms) // len(orbit), coeffs[powers].as_expr(),
                                 skeleton_name(k, edges)))
    return sorted(out, key=lambda g: (g.order, g.n_vertices, g.name, [-e[2] for e in g.edges]))


def check_irreducible(order: int) -> list[tuple[int, tuple]]:
    """The connected graphs with an articulation vertex (trees, bow-ties, triangles with a tail, ...)
    with up to ``order`` edges whose expansion coefficients do NOT all vanish (an empty list confirms
    that only 2-connected graphs contribute through that order)."""
    return [(k, edges) for k, edges in skeletons(order, biconnected=False)
            if graph_coefficients(k, edges, order)]


def _user_cache_dir() -> Path:
    if os.environ.get("THERMOPOT_CACHE_DIR"):
        return Path(os.environ["THERMOPOT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "thermopot"


def _checksum(order: int, terms: list) -> str:
    """SHA-256 of the canonical JSON of (format, order, terms): an edited or damaged file does not match."""
    text = json.dumps({"format": FORMAT, "order": order, "terms": terms}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(path: Path, order: int) -> list[GraphTerm] | None:
    """The terms up to ``order`` stored in ``path``, or None when the file is missing, of another format,
    too low an order, malformed, or does not match its checksum (edited or damaged): never used then."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if (not isinstance(data, dict) or data.get("format") != FORMAT or data.get("order", 0) < order
                or data.get("sha256") != _checksum(data["order"], data["terms"])):
            return None
        return [GraphTerm.from_json(t) for t in data["terms"] if t["order"] <= order]
    except Exception:  # noqa: BLE001 (any malformed content: the terms are derived again)
        return None


def write_graph_terms(path: Path, order: int, terms: list[GraphTerm]) -> None:
    """Write the terms for ``order`` with their checksum, atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = [t.to_json() for t in terms]
    payload = {"format": FORMAT, "order": order, "terms": stored, "sha256": _checksum(order, stored)}
    with atomic_write(path, "w") as fh:
        fh.write(json.dumps(payload))


def load_graph_terms(order: int, *, cache: bool = True) -> list[GraphTerm]:
    """All graph terms up to ``order``: from the shipped data, the user cache, or a derivation."""
    if cache:
        for path in (DATA_FILE, _user_cache_dir() / f"plefka_order{order}.json"):
            terms = _read(path, order)
            if terms is not None:
                return terms
    terms = derive_graph_terms(order)
    if cache:
        try:
            write_graph_terms(_user_cache_dir() / f"plefka_order{order}.json", order, terms)
        except OSError:
            pass  # a read-only home: the derivation still returns
    return terms
