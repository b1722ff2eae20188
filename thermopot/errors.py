"""Exceptions with messages that name the problem. All derive from ``ThermopotError`` (a ValueError),
which the command line turns into one line on stderr and a non-zero exit."""


class ThermopotError(ValueError):
    """Base class: bad input or a job that cannot be done, with a message for the user."""


class BackendError(ThermopotError):
    """An unknown or unusable array backend."""


class ModelError(ThermopotError):
    """A model that is not valid (shapes, symmetry, non-finite values, unknown generator spec, bad file)."""


class SizeError(ThermopotError):
    """A job too large for this machine: the message says how much memory and time it would need."""
