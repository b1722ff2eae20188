"""Array backend: one code path for NumPy and CuPy.

Every numeric routine in thermopot receives an array namespace ``xp`` from this module (or infers it
from its input arrays) and uses only functions that NumPy and CuPy share. This is the only module that
may import CuPy.

Choice of backend, in order of precedence:

1. the ``backend=`` keyword of an entry point (``"numpy"``, ``"cupy"`` or ``"auto"``);
2. the environment variable ``THERMOPOT_BACKEND`` (same values);
3. ``"auto"``: CuPy when it imports and sees a usable GPU, NumPy otherwise.
"""

from __future__ import annotations

import contextlib
import functools
import os
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np
from threadpoolctl import ThreadpoolController

from .errors import BackendError

BACKENDS = ("numpy", "cupy", "auto")

#: A NumPy or CuPy array: what the public signatures accept (results come back as NumPy unless stated).
Array = Any

#: default number of array elements per streaming block (tile), per backend
_DEFAULT_BLOCK = {"numpy": 1 << 20, "cupy": 1 << 25}


@functools.lru_cache(maxsize=None)
def _cupy_namespace() -> ModuleType | None:
    """The array-api-compat CuPy namespace if CuPy imports and a GPU is usable, else None."""
    try:
        import array_api_compat.cupy as xp_cupy  # noqa: PLC0415 (only place cupy is imported)
        import cupy  # noqa: PLC0415

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        cupy.zeros(1).sum()  # fails early if the driver or the CUDA libraries are unusable
    except Exception:  # ImportError, CUDARuntimeError, ...: no usable GPU
        return None
    return xp_cupy


def gpu_available() -> bool:
    """True when CuPy imports and a CUDA device is usable."""
    return _cupy_namespace() is not None


def resolve_backend_name(backend: str | None = None) -> str:
    """The concrete backend name ("numpy" or "cupy") for a request (None: environment, then auto)."""
    name = backend if backend is not None else os.environ.get("THERMOPOT_BACKEND", "auto")
    name = str(name).strip().lower()
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "auto":
        return "cupy" if gpu_available() else "numpy"
    if name == "cupy" and not gpu_available():
        raise BackendError("backend 'cupy' requested but CuPy is not installed or no GPU is usable "
                           "(install the 'gpu' extra: pip install 'thermopot[gpu]')")
    return name


def get_namespace(backend: str | ModuleType | None = None) -> ModuleType:
    """The array namespace for a backend name, or the namespace itself when one is passed."""
    if isinstance(backend, ModuleType):
        return backend
    if resolve_backend_name(backend) == "cupy":
        return _cupy_namespace()
    import array_api_compat.numpy as xp_numpy  # noqa: PLC0415

    return xp_numpy


def namespace_of(*arrays: Any) -> ModuleType:
    """The namespace of the given arrays (NumPy for plain Python scalars and lists)."""
    arrays = [a for a in arrays if a is not None and not isinstance(a, (int, float, list, tuple))]
    if not arrays:
        return get_namespace("numpy")
    return array_api_compat.array_namespace(*arrays)


def backend_name(xp: ModuleType) -> str:
    """"cupy" for the CuPy namespace, "numpy" otherwise."""
    return "cupy" if array_api_compat.is_cupy_namespace(xp) else "numpy"


def to_numpy(x: Any) -> np.ndarray:
    """Copy an array of any backend to a NumPy array (no copy for NumPy input)."""
    if array_api_compat.is_cupy_array(x):
        return x.get()
    return np.asarray(x)


def to_float(x: Any) -> float:
    """A 0-d array of any backend (or a number) as a Python float."""
    return float(to_numpy(x))


def asarray(x: Any, xp: ModuleType, dtype: Any = None) -> Any:
    """``x`` as an array of namespace ``xp`` (float64 unless another dtype is given)."""
    if dtype is None:
        dtype = xp.float64
    if array_api_compat.is_cupy_array(x) and backend_name(xp) == "numpy":
        x = x.get()
    return xp.asarray(x, dtype=dtype)


def default_block_size(xp: ModuleType) -> int:
    """Elements per streaming tile: a few MiB of float64 on the CPU, more on a GPU."""
    return _DEFAULT_BLOCK[backend_name(xp)]


def resolve_block_size(block_size: int | None, xp: ModuleType) -> int:
    """``block_size`` checked (an integer >= 1), or the backend's default when None."""
    if block_size is None:
        return default_block_size(xp)
    if int(block_size) != block_size or block_size < 1:
        raise BackendError(f"block_size must be an integer >= 1, got {block_size!r}")
    return int(block_size)


def vector_exp(xp: ModuleType) -> bool:
    """Whether float64 ``exp`` of the backend runs at memory speed: on a GPU always; NumPy vectorises its
    float64 exp only with AVX-512F (x86; measured 0.55 ns per element per core on an Intel Xeon with
    AVX-512 against 1.4-4 ns for the scalar loop on an AMD EPYC with AVX2, where a multiplication costs
    0.15-0.3 ns). Decided from the CPU features NumPy itself dispatches on, so it is the same in every run."""
    if backend_name(xp) != "numpy":
        return True
    return bool(_numpy_cpu_features().get("AVX512F", False))


@functools.cache
def _numpy_cpu_features() -> dict:
    """NumPy's runtime CPU feature table (what its SIMD loops dispatch on); empty when not exposed."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__  # noqa: PLC0415
    except ImportError:  # NumPy 1.x keeps it under numpy.core
        try:
            from numpy.core._multiarray_umath import __cpu_features__  # noqa: PLC0415
        except ImportError:
            return {}
    return dict(__cpu_features__)


def free_memory_bytes(xp: ModuleType) -> int:
    """Memory available to the backend now: free device memory for CuPy; for NumPy the smaller of the
    host's MemAvailable and what this process's memory cgroup still allows (:func:`cgroup_free_bytes`)."""
    if backend_name(xp) == "cupy":
        import cupy  # noqa: PLC0415

        free, _total = cupy.cuda.runtime.memGetInfo()
        return int(free)
    host = _meminfo_available()
    cgroup = cgroup_free_bytes()
    return host if cgroup is None else min(host, cgroup)


def _meminfo_available() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


#: (controllers of the /proc/self/cgroup line, mount, limit file, usage file, reclaimable key of memory.stat)
#: for cgroup v2 (the line "0::PATH") and v1 (the line "K:memory:PATH")
_CGROUP_FILES = (("", "/sys/fs/cgroup", "memory.max", "memory.current", "inactive_file"),
                 ("memory", "/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes",
                  "total_inactive_file"))


def cgroup_free_bytes(proc_cgroup: str = "/proc/self/cgroup", files: tuple = _CGROUP_FILES) -> int | None:
    """limit - (usage - inactive file cache) of the memory cgroup of this process and of each of its
    ancestors, the smallest; None when no cgroup sets a limit (cgroup v2 ``memory.max``, v1
    ``memory.limit_in_bytes``). A container sees its own cgroup as the root of the mount. The folders
    with a limit are found once per process (a limit set later is not seen); their usage is read each call."""
    free = [_cgroup_level_free(folder, *names) for folder, names in _limited_cgroups(proc_cgroup, files)]
    free = [f for f in free if f is not None]
    return min(free) if free else None


@functools.lru_cache(maxsize=None)
def _limited_cgroups(proc_cgroup: str, files: tuple) -> tuple:
    """(folder, (limit file, usage file, stat key)) of this process's memory cgroups that set a limit."""
    try:
        with open(proc_cgroup) as fh:
            lines = [line.rstrip("\n").split(":", 2) for line in fh if line.count(":") >= 2]
    except OSError:
        lines = []
    found = []
    for controller, root, *names in files:
        paths = [path for _, controllers, path in lines if controller in controllers.split(",")] or ["/"]
        folder = os.path.normpath(root + "/" + paths[0].strip("/"))
        while folder.startswith(root):
            if _cgroup_level_free(folder, *names) is not None:
                found.append((folder, tuple(names)))
            folder = os.path.dirname(folder)
    return tuple(found)


def _cgroup_level_free(folder: str, limit_file: str, usage_file: str, stat_key: str) -> int | None:
    """limit - (usage - reclaimable cache) of one cgroup folder, or None without a limit there."""
    try:
        with open(os.path.join(folder, limit_file)) as fh:
            limit = fh.read().strip()
        with open(os.path.join(folder, usage_file)) as fh:
            usage = int(fh.read())
    except (OSError, ValueError):
        return None
    if not limit.isdigit() or int(limit) >= 1 << 60:  # "max" (v2) or the page-rounded 2^63 (v1): no limit
        return None
    reclaimable = 0
    try:
        with open(os.path.join(folder, "memory.stat")) as fh:
            for line in fh:
                key, _, value = line.partition(" ")
                if key == stat_key:
                    reclaimable = int(value)
    except (OSError, ValueError):
        pass
    return max(0, int(limit) - max(0, usage - reclaimable))


#: matrix products below this many flops run on one BLAS thread: handing them to several threads
#: costs more than it saves, and on a busy machine several times more (benchmarks/sampling.py)
SMALL_PRODUCT_FLOPS = 5e7


def blas_limit(flops: float, small: float = SMALL_PRODUCT_FLOPS) -> int | None:
    """BLAS threads for matrix products of ``flops``: 1 below ``small`` (default SMALL_PRODUCT_FLOPS, a
    caller with its own measurement passes its threshold), else None (the library's default); pass it to
    :func:`blas_threads`."""
    return 1 if flops < small else None


def blas_threads(limit: int | None, xp: ModuleType) -> contextlib.AbstractContextManager:
    """A context that caps the CPU BLAS threads at ``limit`` (None, or a GPU namespace: no change).

    Many small matrix products (the tiles of a small enumeration) run several times faster on one
    thread than on all cores, which spend their time handing the work over (measured: exact ML on the
    digits, N = 16, 0.17 s on one thread against 1.1 s on two)."""
    if limit is None or backend_name(xp) != "numpy":
        return contextlib.nullcontext()
    return _blas_controller().limit(limits=int(limit), user_api="blas")


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The thread pools of the loaded libraries, found once (about 1 ms), then reused."""
    return ThreadpoolController()


@functools.lru_cache(maxsize=None)
def cuda_kernel(source: str, name: str) -> Any:
    """The CUDA C function ``name`` of ``source`` as a ``cupy.RawKernel`` (compiled by NVRTC on the
    first launch and cached on disk by CuPy). Raises BackendError when no GPU is usable."""
    if not gpu_available():
        raise BackendError(f"the CUDA kernel {name!r} needs CuPy and a usable GPU")
    import cupy  # noqa: PLC0415

    return cupy.RawKernel(source, name)


def synchronize(xp: ModuleType) -> None:
    """Wait for queued device work (a no-op on NumPy); use before reading a wall clock."""
    if backend_name(xp) == "cupy":
        import cupy  # noqa: PLC0415

        cupy.cuda.Device().synchronize()


def device_info(backend: str | ModuleType | None = None) -> dict:
    """A description of the device a backend computes on: name, memory, library versions."""
    xp = get_namespace(backend)
    info = {"backend": backend_name(xp), "numpy": np.__version__}
    if info["backend"] == "cupy":
        import cupy  # noqa: PLC0415

        dev = cupy.cuda.Device()
        props = cupy.cuda.runtime.getDeviceProperties(dev.id)
        name = props["name"]
        info.update(device=name.decode() if isinstance(name, bytes) else str(name),
                    memory_bytes=int(props["totalGlobalMem"]), cupy=cupy.__version__)
    else:
        info.update(device=f"CPU ({os.cpu_count()} cores)", memory_bytes=free_memory_bytes(xp))
    return info
