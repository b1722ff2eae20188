"""The checks of parallel tempering at a temperature where single chains are trapped (validation/sampled.py,
digits N = 16 and planted clusters N = 20) pass as shipped and fail when a plausible mistake is injected: the
swaps never accepted, the ladder's top temperature too low, or no trapping at the temperatures scanned."""

from __future__ import annotations

import numpy as np
import pytest

from thermopot.exact import thermodynamics
from thermopot.models import curie_weiss
from thermopot.sampling import tempering
from thermopot.validation import Context
from thermopot.validation import sampled as module

DIGITS, PLANTED = 0, 1


@pytest.fixture(scope="module")
def cases():
    return module._trapped_tempering_cases(0)


def _verdicts(tmp_path, case) -> list[bool]:
    """(premise passed, moments passed) of the quick check of one case, seed 0."""
    ctx = Context(module="sampled", out=tmp_path, quick=True, seed=0)
    module.trapped_tempering_check(ctx, *case, True, None)
    assert len(ctx.checks) == 2
    return [c.passed for c in ctx.checks]


@pytest.mark.parametrize("index", [DIGITS, PLANTED])
def test_trapped_tempering_checks_pass(tmp_path, cases, index):
    assert _verdicts(tmp_path, cases[index]) == [True, True]


@pytest.mark.parametrize("index", [DIGITS, PLANTED])
def test_check_fails_when_swaps_are_never_accepted(tmp_path, cases, monkeypatch, index):
    """Without swaps the columns at T* are independent chains from random starts, trapped in their basins
    (seed 0: largest |z| 6.3 on the digits, 14 on the planted data)."""
    def no_swaps(energies, betas, perm, level, direction, u, parity, attempts, accepts):
        attempts[parity::2] += perm.shape[1]
        return 0

    monkeypatch.setattr(tempering, "swap_pairs", no_swaps)
    assert _verdicts(tmp_path, cases[index]) == [True, False]


@pytest.mark.parametrize("index", [DIGITS, PLANTED])
def test_check_fails_when_the_ladder_stays_cold(tmp_path, cases, monkeypatch, index):
    """A ladder whose top temperature is only 1.1 T* (where chains are still trapped) does not mix
    (seed 0: largest |z| 9.3 on the digits, 29 on the planted data)."""
    monkeypatch.setattr(module, "temperature_ladder", lambda model, T, top, seed: np.geomspace(T, 1.1 * T, 4))
    assert _verdicts(tmp_path, cases[index]) == [True, False]


def test_premise_fails_where_single_chains_mix(tmp_path, cases, monkeypatch):
    """Scanning only T = 1 (the model's own temperature, where the planted model's chains mix): no trapping,
    so the premise check fails."""
    monkeypatch.setattr(module, "TRAP_GRID", np.array([1.0]))
    assert _verdicts(tmp_path, cases[PLANTED])[0] is False


def test_single_chain_z_sees_a_trapped_chain():
    """Curie-Weiss N = 16 at T = 0.4: chains started all up keep m > 0 while the exact <s_k> = 0 (|z| > 4);
    at T = 3 they mix (|z| < 4); a frozen estimate off the exact value has |z| = inf."""
    model = curie_weiss(16)
    starts = np.ones((2, 16))
    cold = module.single_chain_z(model, 0.4, starts, thermodynamics(model, 0.4), sweeps=500, seed=0)
    hot = module.single_chain_z(model, 3.0, starts, thermodynamics(model, 3.0), sweeps=500, seed=0)
    assert np.all(cold > module.Z_MAX) and np.all(hot < module.Z_MAX)
    np.testing.assert_array_equal(module._z_scores([1.0, 0.5], [0.0, 0.0], np.array([0.0, 0.5])), [np.inf, 0.0])


def test_a_moment_never_seen_off_plus_one_gets_its_binomial_z():
    """An average of +-1 values at exactly -1 with a zero error bar: z from P = (1 - q)^n, q = (1 - e x) / 2.
    -1 against the exact -0.9 from 10 samples: q = 0.05, P = 0.95^10 = 0.5987, z = Phi^-1(1 - P/2) = 0.527.
    The digits' seed-42 case (fwer25): +1 against 0.99988 from 16 x 4000 samples, P = 0.0215, z = 2.30 (was
    inf). A frozen value off the exact one (+1 against 0) keeps a large z (3.30 from 10 samples, inf from
    64000); without ``samples``, inf as before."""
    z = module._z_scores([-1.0, 1.0, 1.0], [0.0, 0.0, 0.0], np.array([-0.9, 0.99988, 0.0]), samples=10)
    assert z[0] == pytest.approx(0.5269, abs=1e-3)
    assert module._z_scores([1.0], [0.0], np.array([0.99988]), samples=64000)[0] == pytest.approx(2.30, abs=0.01)
    assert z[2] == pytest.approx(3.297, abs=1e-3)  # +1 against 0 from only 10 samples: P = 2^-10
    assert module._z_scores([1.0], [0.0], np.array([0.0]), samples=64000)[0] > 30  # a frozen chain stays trapped
    assert module._z_scores([1.0], [0.0], np.array([0.99988]))[0] == np.inf
