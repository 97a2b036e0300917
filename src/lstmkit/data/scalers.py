"""Per-column scalers for arrays or tensors whose last dimension holds the F features.

Fit on the training rows only (``split.fit_rows()``), then transform every part with the same
statistics. ``transform``/``inverse_transform`` accept a numpy array or a torch tensor of shape
``(..., F)`` and return the same type (a torch result keeps the input's device and floating dtype).
Statistics are kept as float64 and saved with ``to_dict`` as plain lists (JSON-safe).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from lstmkit.errors import ConfigError, DataError, ShapeError


class NotFittedError(ConfigError):
    """A scaler was used before ``fit`` (or ``from_dict``)."""


def _as_2d_float64(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        arr = values.detach().to("cpu", torch.float64).numpy()
    else:
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise DataError(f"values to fit a scaler on must be numeric: {err}") from None
    if arr.ndim < 2:
        raise ShapeError(
            f"values to fit a scaler on must have shape (N, F) (or (..., F)), got shape "
            f"{arr.shape}; reshape one feature to (N, 1)"
        )
    arr = arr.reshape(-1, arr.shape[-1])
    if arr.shape[0] == 0:
        raise DataError("cannot fit a scaler on 0 rows")
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"cannot fit a scaler on non-finite values: column {col} of row {row} is "
            f"{arr[row, col]}; fill missing values first"
        )
    return arr


def _check_stats(arr: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> None:
    """Refuse statistics that overflowed float64 (values near 1e200 square to inf): scaling
    with them would turn every value into 0 or NaN and the forecasts into inf, silently."""
    with np.errstate(over="ignore", invalid="ignore"):
        bad = ~(np.isfinite(offset) & np.isfinite(scale) & (scale > 0))
    if bad.any():
        col = int(np.flatnonzero(bad)[0])
        peak = float(np.max(np.abs(arr[:, col])))
        raise DataError(
            f"cannot scale column {col}: its values reach {peak:.3g}, too large for float64 "
            "statistics (they overflow to inf); rescale the data first, e.g. divide by 1e100"
        )


class _Scaler:
    """Shared machinery: ``y = (x - offset) / scale`` per column."""

    kind: ClassVar[str]
    _stat_names: ClassVar[tuple[str, str]]

    def __init__(self) -> None:
        self.offset_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    # -- subclasses compute (offset, scale) and say how to store them --------------------------
    def _stats(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _saved(self) -> dict[str, list[float]]:
        raise NotImplementedError

    @classmethod
    def _from_saved(cls, d: dict) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    # -- public API ----------------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        return self.offset_ is not None

    @property
    def n_features(self) -> int:
        self._require_fitted("n_features")
        return int(self.offset_.shape[0])

    def fit(self, values: Any) -> _Scaler:
        """Learn per-column statistics from ``values`` (the training rows only)."""
        arr = _as_2d_float64(values)
        offset, scale = self._stats(arr)
        _check_stats(arr, offset, scale)
        self.offset_, self.scale_ = offset, scale
        return self

    def fit_transform(self, values: Any) -> Any:
        return self.fit(values).transform(values)

    def transform(self, values: Any) -> Any:
        """Scale ``values`` ``(..., F)``; same type as given."""
        offset, scale = self._prepared(values, "transform")
        return (values - offset) / scale

    def inverse_transform(self, values: Any) -> Any:
        """Undo :meth:`transform`; same type as given."""
        offset, scale = self._prepared(values, "inverse_transform")
        return values * scale + offset

    def to_dict(self) -> dict:
        """JSON-safe state: ``{"kind": ..., <stat>: [floats], ...}``."""
        self._require_fitted("to_dict")
        return {"kind": self.kind, **self._saved()}

    @classmethod
    def from_dict(cls, d: dict) -> _Scaler:
        if not isinstance(d, dict) or d.get("kind") != cls.kind:
            got = d.get("kind") if isinstance(d, dict) else type(d).__name__
            raise ConfigError(f"{cls.__name__}.from_dict needs kind={cls.kind!r}, got {got!r}")
        missing = [k for k in cls._stat_names if k not in d]
        if missing:
            raise ConfigError(f"saved {cls.kind} scaler lacks {missing}; it has {sorted(d)}")
        try:
            a, b = (np.asarray(d[k], dtype=np.float64).reshape(-1) for k in cls._stat_names)
        except (TypeError, ValueError) as err:
            raise ConfigError(
                f"saved {cls.kind} scaler has non-numeric statistics: {err}"
            ) from None
        if a.shape != b.shape or a.size == 0:
            raise ConfigError(
                f"saved {cls.kind} scaler: {cls._stat_names} must be equal-length non-empty "
                f"lists, got lengths {a.size} and {b.size}"
            )
        scaler = cls()
        scaler.offset_, scaler.scale_ = cls._from_saved(
            {cls._stat_names[0]: a, cls._stat_names[1]: b}
        )
        return scaler

    def __repr__(self) -> str:
        state = f"n_features={self.offset_.shape[0]}" if self.fitted else "not fitted"
        return f"{type(self).__name__}({state})"

    # -- helpers -------------------------------------------------------------------------------
    def _require_fitted(self, what: str) -> None:
        if not self.fitted:
            raise NotFittedError(
                f"{type(self).__name__}.{what} called before fit: call fit(train_values) first"
            )

    def _prepared(self, values: Any, what: str) -> tuple[Any, Any]:
        self._require_fitted(what)
        n_features = self.offset_.shape[0]
        shape = tuple(values.shape) if hasattr(values, "shape") else None
        if shape is None:
            raise ShapeError(
                f"{what} takes a numpy array or torch tensor of shape (..., F), "
                f"got {type(values).__name__}"
            )
        if len(shape) == 0 or shape[-1] != n_features:
            raise ShapeError(
                f"{what}: the scaler was fitted on {n_features} feature(s) (last dimension), "
                f"got shape {shape}"
            )
        if isinstance(values, torch.Tensor):
            dtype = values.dtype if values.is_floating_point() else torch.get_default_dtype()
            return (
                torch.as_tensor(self.offset_, dtype=dtype, device=values.device),
                torch.as_tensor(self.scale_, dtype=dtype, device=values.device),
            )
        if isinstance(values, np.ndarray):
            dtype = values.dtype if np.issubdtype(values.dtype, np.floating) else np.float64
            return self.offset_.astype(dtype), self.scale_.astype(dtype)
        raise ShapeError(f"{what} takes a numpy array or torch tensor, got {type(values).__name__}")


class MinMaxScaler(_Scaler):
    """Maps each column's training range to [0, 1]; a constant column maps to 0."""

    kind = "minmax"
    _stat_names = ("min", "max")

    def __init__(self) -> None:
        super().__init__()
        self.max_: np.ndarray | None = None

    @property
    def min_(self) -> np.ndarray | None:
        return self.offset_

    @staticmethod
    def _scale(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        span = hi - lo
        return np.where(span > 0, span, 1.0)  # constant column: x - min = 0, no division by 0

    def fit(self, values: Any) -> MinMaxScaler:
        arr = _as_2d_float64(values)
        lo, hi = arr.min(axis=0), arr.max(axis=0)
        _check_stats(arr, lo, self._scale(lo, hi))
        self.offset_, self.scale_, self.max_ = lo, self._scale(lo, hi), hi
        return self

    def _saved(self) -> dict[str, list[float]]:
        return {"min": [float(x) for x in self.offset_], "max": [float(x) for x in self.max_]}

    @classmethod
    def _from_saved(cls, d: dict) -> tuple[np.ndarray, np.ndarray]:
        return d["min"], cls._scale(d["min"], d["max"])

    @classmethod
    def from_dict(cls, d: dict) -> MinMaxScaler:
        scaler = super().from_dict(d)
        scaler.max_ = np.asarray(d["max"], dtype=np.float64).reshape(-1)
        return scaler


class StandardScaler(_Scaler):
    """Subtracts each column's training mean and divides by its (population) standard deviation.

    A zero-variance column is divided by 1.
    """

    kind = "standard"
    _stat_names = ("mean", "std")

    def _stats(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = arr.mean(axis=0)
        std = arr.std(axis=0)
        return mean, np.where(std > 0, std, 1.0)

    @property
    def mean_(self) -> np.ndarray | None:
        return self.offset_

    @property
    def std_(self) -> np.ndarray | None:
        return self.scale_

    def _saved(self) -> dict[str, list[float]]:
        return {"mean": [float(x) for x in self.offset_], "std": [float(x) for x in self.scale_]}

    @classmethod
    def _from_saved(cls, d: dict) -> tuple[np.ndarray, np.ndarray]:
        std = d["std"]
        return d["mean"], np.where(std > 0, std, 1.0)


SCALERS: dict[str, type[_Scaler]] = {"minmax": MinMaxScaler, "standard": StandardScaler}


def make_scaler(kind: str) -> MinMaxScaler | StandardScaler:
    """A new, unfitted scaler: ``"minmax"`` (to [0, 1]) or ``"standard"`` (zero mean, unit std)."""
    if kind not in SCALERS:
        raise ConfigError(f"unknown scaler kind {kind!r}; expected one of {sorted(SCALERS)}")
    return SCALERS[kind]()


def scaler_from_dict(d: dict) -> MinMaxScaler | StandardScaler:
    """Rebuild a fitted scaler from :meth:`to_dict` output, whatever its kind."""
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind not in SCALERS:
        raise ConfigError(
            f"cannot rebuild a scaler from {d!r:.80}: its 'kind' must be one of {sorted(SCALERS)}"
        )
    return SCALERS[kind].from_dict(d)


__all__ = [
    "MinMaxScaler",
    "NotFittedError",
    "StandardScaler",
    "make_scaler",
    "scaler_from_dict",
]
