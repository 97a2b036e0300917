"""How the data modules show values and rows in messages; argument checks: lstmkit._checks."""

from __future__ import annotations

from typing import Any

import numpy as np


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
