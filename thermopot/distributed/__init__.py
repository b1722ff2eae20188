"""Scale-out on Dask (dask.distributed): resumable parameter sweeps whose rows land in a Parquet dataset.

Needs the ``distributed`` extra (``pip install -e ".[distributed]"``): dask[distributed], pyarrow, pandas.
See docs/distributed.md for clusters (LocalCluster, a scheduler address, Slurm, several GPUs)."""

from .sweep import MAX_TASKS, grid_points, load, sweep
from .tasks import COMMANDS

__all__ = ["sweep", "load", "grid_points", "COMMANDS", "MAX_TASKS"]
