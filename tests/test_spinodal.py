"""track_minimum: one minimum followed in T to its spinodal (thermopot.solvers.spinodal).

The reference is the Curie-Weiss model (J_kl = j/N, field h < 0), whose metastable state m > 0 is uniform,
so its TAP equation is one equation in one unknown,
    g(m, T) = atanh m - beta (j' m + h) + beta^2 c m (1 - m^2) = 0,   j' = j (N - 1)/N,
    c = sum_l J_kl^2 = j^2 (N - 1)/N^2 at order 2 (c = 0 for naive mean field),
and its spinodal is where that root meets a second one: g = dg/dm = 0. For naive mean field this is in
closed form: 1 - m^2 = T / j', h = T atanh m - j' m.
"""

import math

import numpy as np
import pytest
from scipy.optimize import brentq, fsolve

from thermopot.errors import ThermopotError
from thermopot.models import curie_weiss, sk
from thermopot.solvers import find_minima
from thermopot.solvers.newton import newton_batch
from thermopot.solvers.objective import free_energy_interaction
from thermopot.solvers.spinodal import track_minimum

N, J, H = 50, 1.0, -0.05
JP = J * (N - 1) / N


def tap2_residual(model, m, T):
    """max_k |m_k - tanh(beta (h + J m)_k - beta^2 m_k sum_l J_kl^2 (1 - m_l^2))|, written out here."""
    beta = 1.0 / T
    field = beta * (model.h + model.J @ m) - beta**2 * m * ((model.J**2) @ (1 - m * m))
    return float(np.max(np.abs(m - np.tanh(field))))


def nmf_spinodal():
    """(T_s, m_s) of the metastable Curie-Weiss state in naive mean field, closed form (module docstring)."""
    def field(T):
        m = math.sqrt(1 - T / JP)
        return T * math.atanh(m) - JP * m - H
    T = brentq(field, 1e-3, JP * (1 - 1e-12), xtol=1e-15)
    return T, math.sqrt(1 - T / JP)


def tap2_spinodal():
    """(T_s, m_s) of the same state at Plefka order 2: g = dg/dm = 0 (module docstring)."""
    c = J**2 * (N - 1) / N**2

    def equations(v):
        m, T = v
        b = 1.0 / T
        return [math.atanh(m) - b * (JP * m + H) + b * b * c * m * (1 - m * m),
                1 / (1 - m * m) - b * JP + b * b * c * (1 - 3 * m * m)]
    m, T = fsolve(equations, [0.45, 0.8], xtol=1e-13)
    return T, m


def test_nmf_spinodal_of_the_curie_weiss_state_matches_the_closed_form():
    model = curie_weiss(N, j=J, h=H)
    T_s, m_s = nmf_spinodal()
    track = track_minimum(model, np.full(N, 0.9), 0.5, 0.99, method="nmf", min_step=1e-5)
    assert track.end == "spinodal"
    assert track.resolution <= 1e-5
    assert abs(track.spinodal - T_s) <= track.resolution + 1e-7
    assert abs(track.m[-1, 0] - m_s) < 0.02  # m - m_s ~ sqrt(T_s - T) at the last point
    assert np.all(np.diff(track.T) > 0) and track.T[0] == 0.5
    # the whole path: uniform, and the smallest eigenvalue of K is that of the uniform mode,
    # T - (1 - m^2) j', and Plefka's ratio beta^2 (j^2 / N) (1 - m^2)^2, both in closed form
    m = track.m[:, 0]
    assert np.ptp(track.m, axis=1).max() < 1e-12
    np.testing.assert_allclose(track.hessian_min_eig, track.T - (1 - m * m) * JP, atol=1e-9)
    np.testing.assert_allclose(track.plefka_ratio, (J**2 / N) * (1 - m * m) ** 2 / track.T**2, rtol=1e-12)
    assert 0 < track.hessian_min_eig[-1] < 0.01 * track.hessian_min_eig[0]
    assert np.all(np.abs(np.arctanh(m) - (JP * m + H) / track.T) < 1e-9)  # the nMF equation at every point


def test_tap2_spinodal_of_the_curie_weiss_state_matches_the_fold_of_its_equation():
    model = curie_weiss(N, j=J, h=H)
    T_s, m_s = tap2_spinodal()
    assert abs(T_s - nmf_spinodal()[0]) > 1e-3  # the Onsager term moves it: the check tells the orders apart
    track = track_minimum(model, np.full(N, 0.9), 0.5, 0.99, method="tap2", min_step=1e-5)
    assert track.end == "spinodal"
    assert abs(track.spinodal - T_s) <= track.resolution + 1e-7
    assert max(tap2_residual(model, m, T) for m, T in zip(track.m, track.T)) < 1e-8


def test_a_state_that_survives_the_range_ends_there():
    model = curie_weiss(N, j=J, h=H)
    T_s, _ = nmf_spinodal()
    track = track_minimum(model, np.full(N, 0.9), 0.5, T_s - 0.05, method="nmf")
    assert track.end == "range end" and math.isnan(track.spinodal)
    assert track.T[-1] == T_s - 0.05
    down = track_minimum(model, np.full(N, 0.9), 0.5, 0.1, method="nmf")
    assert down.end == "range end" and np.all(np.diff(down.T) < 0) and down.T[-1] == 0.1


def test_an_sk_tap_state_ends_where_newton_finds_no_minimum_near_it():
    model = sk(200, seed=0)
    found = find_minima(model, 0.3, seeds="thermal", starts=64, seed=1)
    q = np.mean(found.points**2, axis=1)
    state = found.points[np.flatnonzero(found.is_minimum & (q > 1e-6))[0]]
    track = track_minimum(model, state, 0.3, 0.6)
    assert track.end == "spinodal" and 0.3 < track.spinodal < 0.6
    assert max(tap2_residual(model, m, T) for m, T in zip(track.m, track.T)) < 1e-8
    assert np.all(track.hessian_min_eig > 0)
    assert track.hessian_min_eig[-1] < 0.25 * track.hessian_min_eig[0]
    # past the spinodal, Newton from the last point lands on no minimum within max_jump of it
    beyond = track.spinodal + 2 * track.resolution
    R = free_energy_interaction(model, beyond, 2, np)
    end = newton_batch(R, np.arctanh(track.m[-1:]), beyond, np, tol=1e-10, max_iter=60)
    assert np.max(np.abs(np.tanh(end.x[0]) - track.m[-1])) > 0.2


@pytest.mark.parametrize("kwargs, match", [
    ({"T_end": 0.5}, "T_end must differ"),
    ({"min_step": 0.1, "step": 0.01}, "min_step <= step"),
    ({"m": np.zeros(N) + 1e-3}, "not near a minimum"),
    ({"m": np.full((2, N), 0.9)}, "one magnetisation vector"),
    ({"m": np.full(N, 1.0)}, "strictly inside"),
])
def test_bad_input_is_refused(kwargs, match):
    args = {"m": np.full(N, 0.9), "T_end": 0.9, **kwargs}
    with pytest.raises(ThermopotError, match=match):
        track_minimum(curie_weiss(N, j=J, h=0.0 if "not near" in match else H), args.pop("m"), 0.5,
                      args.pop("T_end"), method="nmf", **args)
