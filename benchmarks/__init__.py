"""Benchmarks, run by hand or by `thermopot bench` (installed as thermopot.benchmarks)."""
