"""Reading a forecaster's tables: columns checked against the fitted model, history long
enough to forecast from, the forecast's timestamps and known-future covariates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lstmkit.data import (
    SeriesTable,
    read_table,
)
from lstmkit.errors import ConfigError, DataError


class Reading:
    """The :class:`~lstmkit.tasks.forecast.task.Forecaster`'s data-reading methods."""

    def _read(
        self,
        data: Any,
        *,
        time_col: str | None = None,
        targets: str | list[str] | None = None,
        past_covariates: Any = (),
        future_covariates: Any = (),
        id_col: str | None = None,
        freq: str | None = None,
        missing: str | None = None,
    ) -> SeriesTable:
        if isinstance(data, SeriesTable):
            return data
        if self.columns is not None and time_col is None and targets is None:
            cols = self.columns
            return read_table(
                data,
                time_col=cols["time_col"],
                targets=cols["targets"],
                past_covariates=cols["past_covariates"],
                future_covariates=cols["future_covariates"],
                id_col=cols["id_col"],
                freq=cols["freq"],
                missing=missing or cols.get("missing", "error"),
            )
        if time_col is None or targets is None:
            raise ConfigError(
                "fit needs the column roles: pass time_col= and targets= (or a SeriesTable)"
            )
        return read_table(
            data,
            time_col=time_col,
            targets=targets,
            past_covariates=past_covariates or (),  # one name or a list, as read_table takes
            future_covariates=future_covariates or (),
            id_col=id_col,
            freq=freq,
            missing=missing or "error",
        )

    def read(self, data: Any, *, missing: str | None = None) -> SeriesTable:
        """Read ``data`` with the model's column roles and frequency (a SeriesTable passes)."""
        self._require_fitted("read")
        return self._read(data, missing=missing)

    def _series_values(self, table: SeriesTable) -> list[tuple[Any, pd.DataFrame, np.ndarray]]:
        """``(id, frame, values (n, F) float64 in targets | past | future column order)``."""
        cols = self.columns
        assert cols is not None
        names = [*cols["targets"], *cols["past_covariates"], *cols["future_covariates"]]
        return [(key, part, part[names].to_numpy(np.float64)) for key, part in table.series()]

    def _check_same_columns(self, table: SeriesTable) -> None:
        cols = self.columns
        assert cols is not None
        for role in ("targets", "past_covariates", "future_covariates"):
            if list(getattr(table, role)) != list(cols[role]):
                raise DataError(
                    f"the data's {role} {list(getattr(table, role))} differ from the model's "
                    f"{list(cols[role])}"
                )
        if (table.id_col is None) != (cols["id_col"] is None):
            raise DataError(
                f"the model was trained with id_col={cols['id_col']!r}, the data has "
                f"id_col={table.id_col!r}"
            )

    def _history(self, history: Any, missing: str | None) -> list[Any]:
        """The series of ``history``, each checked to hold at least ``lookback`` rows."""
        assert self.lookback is not None
        table = self.read(history, missing=missing)
        self._check_same_columns(table)
        series = self._series_values(table)
        for key, _, values in series:
            if len(values) < self.lookback:
                where = "history" if key is None else f"history of series {key!r}"
                raise DataError(
                    f"{where} has {len(values)} rows; the model needs at least lookback="
                    f"{self.lookback} rows to forecast from"
                )
        return series

    def _future_times(self, part: pd.DataFrame) -> pd.Index:
        cols = self.columns
        assert cols is not None
        last = part[cols["time_col"]].iloc[-1]
        if cols["freq"] is None:
            step = int(cols.get("step") or 1)
            return pd.Index(int(last) + step * np.arange(1, self.horizon + 1))
        return pd.date_range(start=last, periods=self.horizon + 1, freq=cols["freq"])[1:]

    def _append_future(
        self, series: list[tuple[Any, pd.DataFrame, np.ndarray]], times: list[pd.Index], future: Any
    ) -> list[tuple[Any, pd.DataFrame, np.ndarray]]:
        """Append the horizon's known-future covariates (targets and past covariates as NaN)."""
        cols = self.columns
        assert cols is not None
        names = cols["future_covariates"]
        if future is None:
            raise DataError(
                f"this model uses known-future covariates {names}: pass future= with their values "
                f"for the {self.horizon} timestamps after the history"
            )
        frame = future if isinstance(future, pd.DataFrame) else read_any(future)
        absent = [c for c in [cols["time_col"], *names] if c not in frame.columns]
        if cols["id_col"] is not None and cols["id_col"] not in frame.columns:
            absent.append(cols["id_col"])
        if absent:
            raise DataError(
                f"future covariates: column(s) {absent} not found; the columns present are "
                f"{list(frame.columns)}"
            )
        frame = frame.copy()
        if cols["freq"] is not None:
            frame[cols["time_col"]] = pd.to_datetime(frame[cols["time_col"]])
        out = []
        n_t = len(cols["targets"]) + len(cols["past_covariates"])
        for (key, part, values), when in zip(series, times, strict=True):
            rows = frame if cols["id_col"] is None else frame[frame[cols["id_col"]] == key]
            rows = rows.set_index(cols["time_col"])
            missing_times = [t for t in when if t not in rows.index]
            if missing_times:
                where = "" if key is None else f" for series {key!r}"
                raise DataError(
                    f"future covariates{where} lack timestamp {missing_times[0]} "
                    f"({len(missing_times)} of the {self.horizon} forecast timestamps missing)"
                )
            fut = rows.loc[list(when), names].to_numpy(np.float64)
            if not np.isfinite(fut).all():
                where = "" if key is None else f" of series {key!r}"
                raise DataError(f"future covariates{where} hold missing or non-numeric values")
            extra = np.full((self.horizon, values.shape[1]), np.nan)
            extra[:, n_t:] = fut
            out.append((key, part, np.concatenate([values, extra])))
        return out


def int_step(table: SeriesTable) -> int | None:
    if table.freq is not None:
        return None
    diffs = [np.diff(part[table.time_col].to_numpy()) for _, part in table.series()]
    flat = np.concatenate(diffs) if diffs else np.array([1])
    flat = flat[flat > 0]
    return int(np.gcd.reduce(flat.astype(np.int64))) if flat.size else 1


def read_any(source: Any) -> pd.DataFrame:
    from lstmkit.data.fileio import read_file

    return read_file(source)
