"""Why plain PCD misses exact maximum likelihood on planted clusters (N = 20, ``planted20(seed)`` of
benchmarks/pcd_exact_ml.py), by enumeration of all 2^20 states:

- the exact gradient at the PCD answer, data moments - exact model moments - l2 theta, in units of the
  data's sampling error sqrt((1 - x^2) / M) (small: the negative phase and the fit's moments are fine);
- the spectrum of the exact Hessian at ML, Cov_ML(phi) + l2 I, phi = (s_k, s_k s_l), and the share of
  |theta - theta_ML|^2 along its 10 flattest eigenvectors, for the pseudo-likelihood start and the PCD
  answer (large: the error sits in the flat directions);
- the coupling with the largest error at the start, at ML and at the PCD answer.

Run: ``PYTHONPATH=. python benchmarks/pcd_diagnosis.py [--seed 1] [--steps 6000] [--precondition none]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from thermopot.datasets import noisy_patterns_dataset
from thermopot.exact.thermodynamics import thermodynamics
from thermopot.learning import fit
from thermopot.learning.precondition import statistics
from thermopot.learning.result import pack
from thermopot.models import PairwiseModel

BLOCK = 1 << 14


def exact_hessian(model: PairwiseModel, l2: float) -> np.ndarray:
    """Cov_model(phi) + l2 I by enumeration, in blocks of states."""
    n = model.n
    log_w, blocks = [], []
    for start in range(0, 1 << n, BLOCK):
        s = ((np.arange(start, start + BLOCK)[:, None] >> np.arange(n)) & 1) * 2.0 - 1.0
        log_w.append(s @ model.h + 0.5 * np.einsum("ik,kl,il->i", s, model.J, s))
        blocks.append(s)
    top = max(float(v.max()) for v in log_w)
    z = sum(float(np.exp(v - top).sum()) for v in log_w)
    size = n * (n + 1) // 2
    second, mean = np.zeros((size, size)), np.zeros(size)
    for s, v in zip(blocks, log_w):
        phi, p = statistics(s), np.exp(v - top) / z
        second += (phi * p[:, None]).T @ phi
        mean += phi.T @ p
    return second - np.outer(mean, mean) + l2 * np.eye(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--precondition", default="none")
    args = parser.parse_args()
    l2 = 1e-3
    data = noisy_patterns_dataset(20, 4, 150, 0.06, seed=args.seed + 5)[0]  # planted20(seed)
    n = data.n
    m, c = data.moments()
    target = pack(m, c)
    se = np.sqrt(np.maximum(1 - target ** 2, 1e-12) / data.total_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ml = fit(data.unique(), "exact", l2=l2).model
        start = fit(data, "pseudo", l2=l2).model
    pcd = fit(data, "pcd", l2=l2, chains=256, steps=args.steps, seed=args.seed, precondition=args.precondition)
    theta_ml = pack(ml.h, ml.J)
    eigenvalues, vectors = np.linalg.eigh(exact_hessian(ml, l2))
    print(f"Hessian at ML: eigenvalues {eigenvalues[0]:.4g} .. {eigenvalues[-1]:.4g}, condition {eigenvalues[-1] / eigenvalues[0]:.0f}")
    iu = np.triu_indices(n, 1)
    for name, model in (("pseudo-likelihood start", start), (f"PCD ({args.precondition}, {args.steps} steps)", pcd.model)):
        theta = pack(model.h, model.J)
        thermo = thermodynamics(model, 1.0, progress=False)
        gradient = target - pack(thermo.magnetization, thermo.correlation) - l2 * theta
        delta = theta - theta_ml
        share = float(np.sum((vectors[:, :10].T @ delta) ** 2) / np.sum(delta ** 2))
        worst = int(np.argmax(np.abs(delta[n:])))
        k, l = int(iu[0][worst]), int(iu[1][worst])
        print(f"{name}: max |exact gradient| / data se {np.abs(gradient / se).max():.3g}; |theta - theta_ML| "
              f"{np.linalg.norm(delta):.3g}, share along the 10 flattest directions {share:.2f}; worst J_{k},{l} "
              f"{model.J[k, l]:.3f} (ML {ml.J[k, l]:.3f}; data <s_k> {m[k]:.3f}, <s_l> {m[l]:.3f}, <s_k s_l> {c[k, l]:.3f})")


if __name__ == "__main__":
    main()
