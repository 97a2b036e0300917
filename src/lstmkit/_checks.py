"""Argument checks shared by every layer (nn, data, train, tasks, experiments): each returns the
value in its plain Python type or raises a ConfigError that names the argument, what it must be
and what it got."""

from __future__ import annotations

import math
import numbers
from typing import Any

from lstmkit.errors import ConfigError


def int_at_least(name: str, value: Any, low: int) -> int:
    """``value`` as an int >= ``low`` (numpy integers too; not bools)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        what = "a positive int" if low == 1 else f"an int >= {low}"
        raise ConfigError(f"{name} must be {what}, got {value!r}")
    return int(value)


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1."""
    return int_at_least(name, value, 1)


def positive_int_or_none(name: str, value: Any) -> int | None:
    """``value`` as an int >= 1, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(f"{name} must be a positive int or None, got {value!r}")
    return int(value)


def number(name: str, value: Any, *, low: float = 0.0, positive: bool = False) -> float:
    """``value`` as a finite float >= ``low`` (> ``low`` with ``positive``); NaN and infinities
    are refused (no option of lstmkit means anything at infinity: a learning rate, a decay, a
    clipping norm, a penalty)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    out = float(value)
    finite = math.isfinite(out)
    if not finite or out < low or (positive and out == low):
        bound = f"> {low:g}" if positive else f">= {low:g}"
        raise ConfigError(
            f"{name} must be {'' if finite else 'a finite number '}{bound}, got {value!r}"
        )
    return out


def finite_number(name: str, value: Any) -> float:
    """``value`` as a finite float (any sign): NaN and infinities are refused, as are strings."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return out


def probability(name: str, value: Any, *, top_closed: bool = False) -> float:
    """``value`` as a float in [0, 1) ([0, 1] with ``top_closed``): a dropout rate, a share."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        out = float(value)
        ok = 0.0 <= out <= 1.0 if top_closed else 0.0 <= out < 1.0
    if not ok:
        interval = "[0, 1]" if top_closed else "[0, 1)"
        raise ConfigError(f"{name} must be a number in {interval}, got {value!r}")
    return out


def described(value: Any, limit: int = 40) -> str:
    """``value`` as a message shows it: its repr (shortened past ``limit`` characters) and, unless
    it is None, its type with an article: ``5 (an int)``, ``[1, 2] (a list)``."""
    shown = repr(value)
    if len(shown) > limit:
        shown = shown[: limit - 3] + "..."
    if value is None:
        return shown
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return f"{shown} ({article} {kind})"


def choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


__all__ = [
    "choice",
    "described",
    "finite_number",
    "int_at_least",
    "number",
    "positive_int",
    "positive_int_or_none",
    "probability",
]
