"""The threshold for the largest |z| of many estimates (a family of K comparisons in one check).

A check that takes the largest |z| of K estimates, each with an estimated standard error, against the
multiple z that is right for one estimate fails by chance far more often than one estimate would: with K = 30
estimates whose errors come from 16 groups (Student-t tails with 15 degrees of freedom), P(max |z| > 3) is
about 0.2 where P(|z| > 3) of one Gaussian estimate is 0.0027. :func:`family_z` gives the Sidak threshold
t_K at which K independent estimates with t_dof errors (Gaussian when dof is None) exceed it together with
the probability of one Gaussian estimate beyond z:

    1 - (1 - 2 S_dof(t_K))^K = 2 (1 - Phi(z)),

S_dof the survival function of Student's t. Correlated estimates (e.g. free energies sharing one log Z
error) exceed it less often, so the family's rate is at most the single estimate's.
"""

from __future__ import annotations

import math

from scipy import stats

from thermopot.checks import check_count, check_positive


def family_z(count: int, z: float, dof: int | None = None) -> float:
    """Sidak threshold for the largest |z| of ``count`` estimates with Student-t(``dof``) errors (Gaussian
    for None) at the chance-failure rate of one Gaussian estimate beyond ``z`` standard errors."""
    count = check_count(count, "count")
    single = 2.0 * stats.norm.sf(check_positive(z, "z"))
    each = -math.expm1(math.log1p(-single) / count)  # 1 - (1 - single)^(1/count), two-sided per estimate
    law = stats.norm if dof is None else stats.t(check_count(dof, "dof"))
    return float(law.isf(each / 2.0))
