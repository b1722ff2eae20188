"""BLAS threads per operation size: a sampler whose sweep products are small runs them on one BLAS
thread (threads handing over tiny products cost more than they save, several times more on a busy
machine); a large block product keeps the library's default."""

import pytest
from threadpoolctl import threadpool_info

from thermopot.models import random_multispin, sk
from thermopot.sampling import Sampler
from thermopot.backend import SMALL_PRODUCT_FLOPS
from thermopot.sampling.kernels import PAIRWISE_BLOCK


def blas_threads_now():
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.mark.parametrize("model,chains,scan,flops", [
    (sk(100, seed=0), 256, "sequential", 2 * 256 * PAIRWISE_BLOCK * 100),  # delayed block update
    (sk(40, seed=0), 8, "sequential", 2 * 8 * 40 * 40),  # N < one block
    (sk(100, seed=0), 256, "random", 0),  # rank-1 updates only
    (random_multispin(12, order=3, seed=0), 64, "sequential", None),
])
def test_small_products_run_on_one_blas_thread(model, chains, scan, flops):
    sampler = Sampler(model, 1.0, scan=scan)
    state = sampler.init(chains=chains, seed=0)
    work = sampler._work(state, record=False)  # the working copy a run makes: its kernel and BLAS limit
    if flops is not None:
        assert work.kernel.product_flops(scan) == flops
    assert work.kernel.product_flops(scan) < SMALL_PRODUCT_FLOPS and work.blas_limit == 1
    seen = []
    sampler.run(state, 2, record=False, progress=False,
                hook=lambda t, k, flip, new: seen.append(blas_threads_now()))
    assert seen and all(s <= {1} for s in seen)


def test_a_large_block_product_keeps_the_default_threads():
    n = 1600  # 2 B 64 N = 5.2e7 flops per block update with B = 256
    sampler = Sampler(sk(n, seed=0), 1.0)
    work = sampler._work(sampler.init(chains=256, seed=0), record=False)
    assert work.kernel.product_flops("sequential") == 2 * 256 * 64 * n >= SMALL_PRODUCT_FLOPS
    assert work.blas_limit is None
