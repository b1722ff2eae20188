"""Batched Gibbs and Metropolis chains, measurements with autocorrelation-aware errors, escape times."""
