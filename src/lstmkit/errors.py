"""Errors raised at lstmkit's public boundary.

Every error names the bad value and what was expected. They subclass ``ValueError`` or
``TypeError`` so callers who catch the built-ins keep working.
"""

from __future__ import annotations


class LstmkitError(Exception):
    """Base class of every error lstmkit raises on purpose."""


class ShapeError(LstmkitError, ValueError):
    """A tensor has the wrong rank, size or dtype for where it was passed."""


class ConfigError(LstmkitError, ValueError):
    """An option or combination of options is out of range or not supported."""


class UnsupportedConfigError(ConfigError):
    """An engine was asked for a configuration it does not implement."""


class DataError(LstmkitError, ValueError):
    """Input data (a file, a column, a value) is missing or malformed."""


class ModelFileError(LstmkitError, ValueError):
    """A saved model directory is missing, corrupt or from an incompatible version."""
