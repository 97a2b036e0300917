"""Small argument checks shared by the data modules."""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmkit.errors import ConfigError


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1, or a ConfigError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


def show(value: Any) -> str:
    """``repr`` of a value for messages, numpy scalars shown as plain Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def describe_row(row: Any) -> str:
    """How a data row is named in messages: 1-based, the header line not counted."""
    if row is None:
        return "an inserted row (a gap in the time index)"
    return f"data row {int(row)} (1-based, header not counted)"
