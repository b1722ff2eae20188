"""follow_minima(init=...): following chosen states; Branch.plefka_valid per point; the branch plot marks
Plefka-invalid segments and accounts for every branch in its legend."""

import warnings

import numpy as np
import pytest
from scipy.optimize import brentq

from thermopot.models import curie_weiss, sk
from thermopot.report import branch_segments, draw_branches, new_figure, plot_branches
from thermopot.solvers import follow_minima
from thermopot.solvers.continuation import Branch, Branches


def _cw_nmf(T, n):
    """Positive root of the nMF equation of Curie-Weiss (J_kl = 1/N): m = tanh(beta (N-1)/N m)."""
    a = (n - 1) / n / T
    return brentq(lambda m: m - np.tanh(a * m), 1e-9, 1.0 - 1e-15)


def test_follow_chosen_states_of_curie_weiss_against_the_mean_field_equation():
    """From init = (+0.9, -0.9) at T = 0.5, the two nMF branches m = +-m*(T) with m* the root of
    m = tanh(beta (N-1)/N m); no reseeding, so no other branch appears; both end at the spinodal
    (T_c = (N-1)/N) with a point valid by Plefka's condition 1 - beta^2 (1-m^2)^2 (N-1)/N^2 > 0."""
    n = 10
    temps = np.linspace(0.5, 0.95, 10)
    init = np.array([np.full(n, 0.9), np.full(n, -0.9)])
    br = follow_minima(curie_weiss(n), temps, method="nmf", init=init, seed=0)
    assert len(br.branches) == 2 and br.count.max() == 2
    assert sorted(b.init_row for b in br.branches) == [0, 1]
    for b in br.branches:
        sign = 1.0 if b.init_row == 0 else -1.0
        want = [sign * _cw_nmf(T, n) for T in b.T]
        np.testing.assert_allclose(b.m, np.repeat(np.array(want)[:, None], n, axis=1), atol=1e-8)
        q = 1 - b.m[:, 0] ** 2
        margin = 1 - (1 / np.array(b.T)) ** 2 * q**2 * (n - 1) / n**2
        assert b.plefka_valid == list(margin > 0) and len(b.plefka_valid) == len(b.T)
        assert b.T[-1] < (n - 1) / n < temps[-1] and b.end == "spinodal"
        assert b.to_dict()["plefka_valid"] == b.plefka_valid and b.to_dict()["init_row"] == b.init_row


def test_follow_warns_about_init_rows_that_reach_no_minimum():
    """m = 0 is a stationary saddle of Curie-Weiss below T_c: that row is named and not followed."""
    n = 8
    init = np.array([np.full(n, 0.8), np.zeros(n)])
    with pytest.warns(RuntimeWarning, match=r"1 of 2 init rows reached no minimum .*rows \[1\]"):
        br = follow_minima(curie_weiss(n), [0.5, 0.6], method="nmf", init=init, seed=0)
    assert [b.init_row for b in br.branches] == [0]


def test_branch_plefka_valid_matches_the_per_site_condition_along_sk_branches():
    """Along TAP2 branches of SK (N = 12) the flag at each point equals the per-site condition computed
    here from J and m: min_i [1 - beta^2 (1 - m_i^2) sum_j J_ij^2 (1 - m_j^2)] > 0; the grid crosses
    from invalid (low T) to valid."""
    model = sk(12, seed=1)
    br = follow_minima(model, np.linspace(0.3, 1.5, 13), starts=32, seed=0)
    flags = []
    for b in br.branches:
        for T, m, flag in zip(b.T, b.m, b.plefka_valid):
            q = 1 - m**2
            want = np.min(1 - q * (model.J**2 @ q) / T**2) > 0
            assert flag == want
            flags.append(flag)
    assert set(map(bool, flags)) == {True, False}  # both valid and invalid points on the branches


def _fake(valids, end="range end"):
    T = list(np.arange(len(valids), dtype=float))
    return Branch(T=T, x=[np.zeros(2)] * len(T), free_energy=[-t for t in T], hessian_min_eig=[1.0] * len(T),
                  end=end, plefka_valid=list(valids))


def test_branch_segments_split_at_validity_changes():
    segs = branch_segments(_fake([True, True, False, False, True]))
    assert [(list(T), v) for T, _, v in segs] == [([0, 1, 2], True), ([2, 3, 4], False), ([4], True)]
    assert [v for _, _, v in branch_segments(_fake([True] * 3))] == [True]


def test_plot_labels_every_branch_or_counts_the_rest(tmp_path):
    """Up to 12 branches are named; beyond, one legend line counts the unlabelled ones; invalid points
    are drawn dotted and explained in the legend."""
    many = Branches(temperatures=np.arange(5.0), branches=[_fake([True, False, True, True, True])] * 15,
                    count=np.full(5, 15), method="tap2")
    fig, ax = new_figure()
    labels = draw_branches(ax, many)
    assert labels[:12] == [f"branch {k} (range end)" for k in range(12)]
    assert labels[12:] == ["3 more branches, not labelled", "Plefka-invalid (dotted)"]
    styles = {line.get_linestyle() for line in ax.get_lines() if len(line.get_xdata())}
    assert styles == {"-", ":"}
    fig2, ax2 = new_figure()
    few = Branches(temperatures=np.arange(3.0), branches=[_fake([True] * 3), _fake([True] * 3, "spinodal")],
                   count=np.full(3, 2), method="nmf")
    assert draw_branches(ax2, few) == ["branch 0 (range end)", "branch 1 (spinodal)"]
    path = plot_branches(many, tmp_path / "branches.png")
    assert (tmp_path / "branches.png").stat().st_size > 1000 and path.endswith("branches.png")
