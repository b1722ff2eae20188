"""Inverse Ising: exact maximum likelihood, pseudo-likelihood, mean-field and TAP inversion, mixtures."""
