"""``AnomalyDetector``: anomaly scores, flags and intervals for multivariate series.

Three methods behind one interface::

    det = AnomalyDetector("prediction", window=64)
    det.fit("train.csv", time_col="time", columns=["x0", "x1"], max_epochs=30, seed=0)
    result = det.detect("new.csv")          # result.scores (per row), result.intervals
    det.evaluate("new.csv", "labels.csv")   # one row "model": point_f1, event_f1, ... columns
    det.evaluate_views(result, "labels.csv")  # the same as a table: one row per view
    stream = det.stream()                   # stream.update(x_t) -> (score, is_anomaly), O(1)
    det.save("detector"); AnomalyDetector.load("detector")

* ``"prediction"`` — a one-step-ahead LSTM (:class:`~lstmkit.tasks.anomaly.net.NextStepNet`)
  run over the whole series with its state carried from row to row; the error of row t is
  ``|x_t - prediction of x_t made at t-1|`` per channel (row 0 has none: NaN). Batch scoring is one
  pass over the series; streaming is the same pass one row at a time, so both give the same scores.
  The network is trained on chunks of ``window + 1`` rows started from a zero state, so the first
  rows of a scored series (before the state has warmed up) can score higher; the first
  ``warmup`` rows (default ``window // 4``) are therefore never flagged.
* ``"reconstruction"`` — an LSTM autoencoder over windows of ``window`` rows taken every
  ``stride`` rows (the last window ends at the last row); the error of a row is its absolute
  reconstruction error averaged over the windows that cover it. No streaming (a score needs a
  whole window: O(window) per step).
* ``"zscore"`` — the baseline: ``|x_t - mean| / std`` over the ``window`` rows before t.

Per channel, the errors are taken on the scaled values (so channels weigh alike) and smoothed by an
EWMA of span ``smoothing``; the combined score is their mean over channels. Flags come from
``threshold``: ``"spot"`` (the default since issue 15: a threshold from a false-alarm rate
``risk``, extreme-value theory fitted to the validation scores), ``"quantile"`` (a fixed
threshold: the ``quantile`` of the combined scores on the validation part of the training data) or
``"dynamic"`` (Hundman et al., KDD 2018: a
nonparametric threshold per window of ``threshold_window`` rows plus pruning, see
:mod:`lstmkit.tasks.anomaly.scoring`; on the synthetic benchmark it is precise but misses most
events, see docs/anomaly.md). The fixed threshold is always fitted, and it is the one a stream
uses: the dynamic threshold needs the scores of a whole window, which a stream does not have yet,
so with ``threshold="dynamic"`` batch flags and stream flags differ while their scores do not.
Flags become alarms with a suppression window (``suppress``, default ``window`` rows: one alarm
per event) and optional hysteresis; see :func:`lstmkit.tasks.anomaly.evt.group_flags`.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from lstmkit._checks import choice, positive_int, probability
from lstmkit.data import SeriesTable, make_scaler, read_table, scaler_from_dict
from lstmkit.data.interval_labels import labels_to_rows
from lstmkit.errors import ConfigError, DataError, ModelFileError
from lstmkit.tasks import persistence
from lstmkit.tasks.anomaly import scoring
from lstmkit.tasks.anomaly.evt import Spot, group_flags
from lstmkit.tasks.anomaly.metrics import (
    UCR_TOLERANCE,
    evaluate_detection,
    flat_metrics,
    top_score_hit,
)
from lstmkit.tasks.anomaly.net import NextStepNet, WindowAutoencoder
from lstmkit.tasks.base import Task, metrics_frame
from lstmkit.tasks.lstm_options import check_lstm_options
from lstmkit.train import FitResult, History, TrainConfig, fit, seed_everything

log = logging.getLogger(__name__)

TASK = "AnomalyDetector"
METHODS = ("prediction", "reconstruction", "zscore")
THRESHOLDS = ("dynamic", "quantile", "spot")
SCALERS = ("standard", "minmax", "none")
_INIT_KEYS = (
    "method",
    "window",
    "hidden_size",
    "num_layers",
    "dropout",
    "smoothing",
    "threshold",
    "quantile",
    "risk",
    "suppress",
    "hysteresis",
    "threshold_window",
    "z_max",
    "min_percent_decrease",
    "stride",
    "merge_gap",
    "warmup",
    "val_size",
    "scaler",
)


@dataclass
class Detection:
    """What :meth:`AnomalyDetector.detect` returns.

    ``scores``: one row per input row: the time column, ``score`` (combined, smoothed),
    ``<channel>_score`` per channel (smoothed), ``threshold``, ``is_anomaly`` (flagged, hysteresis
    included) and ``alarm`` (the first row of each interval).
    ``intervals``: one row per detected interval (per alarm: flagged runs that start within
    ``suppress`` rows of the alarm or ``merge_gap`` rows of the interval's end join it):
    ``start``, ``end`` (timestamps, inclusive), ``start_row``, ``end_row`` (0-based, inclusive),
    ``length``, ``peak_time``, ``peak_score``.
    """

    scores: pd.DataFrame
    intervals: pd.DataFrame


class AnomalyDetector(Task):
    """Anomaly detection on multivariate series with an LSTM (or the rolling z-score baseline).

    Args:
        method: ``"prediction"``, ``"reconstruction"`` or ``"zscore"`` (see the module docstring).
        window: rows per training chunk (prediction), per autoencoder window (reconstruction) or in
            the rolling statistics (zscore).
        hidden_size, num_layers, dropout: the LSTM(s).
        smoothing: EWMA span applied to the per-channel errors (1: none).
        threshold: ``"spot"`` (the default; SPOT, Siffer et al. 2017: calibrated on the
            validation scores, then updated along the scored series; streams use its calibrated
            threshold as a fixed one), ``"quantile"`` (fixed; the default before issue 15) or
            ``"dynamic"`` (Hundman et al. 2018).
        quantile: the quantile of the validation scores used as the fixed threshold (1.0: their
            maximum).
        risk: the false-alarm rate of ``threshold="spot"`` (1e-4: one alarm in 10,000 nominal
            rows).
        suppress: after an alarm, no second alarm for this many rows: flagged runs that start
            within them join the alarm's interval (one alarm per event). None (the default): the
            ``window``; 0: every separate run is an alarm, as before issue 15.
        hysteresis: in (0, 1]; a flagged run stays flagged while the score stays above
            ``hysteresis * threshold`` (1, the default: no hysteresis).
        threshold_window: rows per window of the dynamic threshold.
        z_max: the largest z tried by the dynamic threshold.
        min_percent_decrease: Hundman's pruning parameter p (0: no pruning).
        stride: rows between training chunks and between reconstruction windows (default
            ``max(1, window // 16)``).
        merge_gap: detected runs separated by at most this many unflagged rows form one interval.
        warmup: rows at the start of a scored series (or stream) that are scored but never
            flagged, while the LSTM state warms up from zero; default ``window // 4`` for
            prediction, 0 otherwise.
        val_size: the trailing share (float) or number of rows (int) of the training data used for
            early stopping and for fitting the fixed threshold.
        scaler: ``"standard"``, ``"minmax"`` or ``"none"``, fitted on the training rows.
        **lstm_options: passed to every :class:`lstmkit.nn.LSTM` of the networks (``layer_norm``,
            ``peephole``, ``recurrent_dropout``, ``zoneout``, ``impl``, ...), checked here; a
            zscore detector has no LSTM and ignores them.
    """

    TASK: ClassVar[str] = TASK
    INIT_KEYS: ClassVar[tuple[str, ...]] = _INIT_KEYS

    def __init__(
        self,
        method: str = "prediction",
        *,
        window: int = 64,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        smoothing: int = 4,
        threshold: str = "spot",
        quantile: float = 1.0,
        risk: float = 1e-4,
        suppress: int | None = None,
        hysteresis: float = 1.0,
        threshold_window: int = 1000,
        z_max: float = 12.0,
        min_percent_decrease: float = 0.13,
        stride: int | None = None,
        merge_gap: int = 10,
        warmup: int | None = None,
        val_size: float | int = 0.2,
        scaler: str = "standard",
        **lstm_options: Any,
    ) -> None:
        self.method = choice("method", method, METHODS)
        self.window = positive_int("window", window)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.dropout = probability("dropout", dropout)
        self.smoothing = positive_int("smoothing", smoothing)
        self.threshold = choice("threshold", threshold, THRESHOLDS)
        self.quantile = scoring.check_quantile(quantile)
        self.risk = Spot(risk).risk  # checked there
        if suppress is not None and (
            isinstance(suppress, bool) or not isinstance(suppress, int) or suppress < 0
        ):
            raise ConfigError(f"suppress must be an int >= 0 (rows) or None, got {suppress!r}")
        self.suppress = suppress
        if (
            isinstance(hysteresis, bool)
            or not isinstance(hysteresis, int | float)
            or not 0.0 < hysteresis <= 1.0
        ):
            raise ConfigError(f"hysteresis must be a number in (0, 1], got {hysteresis!r}")
        self.hysteresis = float(hysteresis)
        self.threshold_window = positive_int("threshold_window", threshold_window)
        if (
            isinstance(z_max, bool)
            or not isinstance(z_max, int | float)
            or not scoring.Z_MIN <= z_max < math.inf  # NaN fails this too
        ):
            raise ConfigError(f"z_max must be a finite number >= {scoring.Z_MIN}, got {z_max!r}")
        self.z_max = float(z_max)
        self.min_percent_decrease = probability("min_percent_decrease", min_percent_decrease)
        self.stride = None if stride is None else positive_int("stride", stride)
        if isinstance(merge_gap, bool) or not isinstance(merge_gap, int) or merge_gap < 0:
            raise ConfigError(f"merge_gap must be an int >= 0, got {merge_gap!r}")
        self.merge_gap = merge_gap
        if warmup is not None and (
            isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0
        ):
            raise ConfigError(f"warmup must be an int >= 0 or None, got {warmup!r}")
        self.warmup = warmup
        if isinstance(val_size, int) and not isinstance(val_size, bool):
            if val_size < 0:
                raise ConfigError(f"val_size must be >= 0 rows, got {val_size}")
        else:
            probability("val_size", val_size)
        self.val_size = val_size
        self.scaler = choice("scaler", scaler, SCALERS)
        self.lstm_options = check_lstm_options(lstm_options, hidden_size=self.hidden_size)
        # Set by fit (or load):
        self.net: torch.nn.Module | None = None
        self.columns: dict[str, Any] | None = None
        self.threshold_: float | None = None
        self.spot_: dict[str, Any] | None = None  # the calibrated SPOT (threshold="spot")
        # the threshold in force after fit: ``threshold``, or "quantile" where SPOT had too few
        # validation scores (``threshold`` itself keeps the user's choice for the next fit)
        self.threshold_method_: str | None = None
        self.history: History | None = None
        self.fit_result: FitResult | None = None
        self._scaler: Any = None

    def __repr__(self) -> str:
        state = "fitted" if self.columns is not None else "not fitted"
        return (
            f"AnomalyDetector(method={self.method!r}, window={self.window}, "
            f"hidden_size={self.hidden_size}, threshold={self.threshold!r}, {state})"
        )

    @property
    def channels(self) -> list[str]:
        self._require_fitted("channels")
        return list(self.columns["columns"])  # type: ignore[index]

    @property
    def suppress_rows(self) -> int:
        """Rows after an alarm in which no second alarm is raised (``suppress``, or ``window``
        when it is None)."""
        return self.window if self.suppress is None else self.suppress

    @property
    def warmup_rows(self) -> int:
        """Rows at the start of a series that are never flagged."""
        if self.warmup is not None:
            return self.warmup
        return self.window // 4 if self.method == "prediction" else 0

    @property
    def train_stride(self) -> int:
        return self.stride or max(1, self.window // 16)

    def _is_fitted(self) -> bool:
        return self.columns is not None and self.threshold_ is not None

    # --- data -------------------------------------------------------------------------------

    def read(self, data: Any, *, missing: str | None = None) -> SeriesTable:
        """Read ``data`` (path, DataFrame or SeriesTable) with the columns the detector uses."""
        self._require_fitted("read")
        cols = self.columns
        assert cols is not None
        if isinstance(data, SeriesTable):
            table = data
        else:
            table = read_table(
                data,
                time_col=cols["time_col"],
                targets=cols["columns"],
                freq=cols["freq"],
                missing=missing or cols["missing"],
            )
        if list(table.targets) != list(cols["columns"]) or table.id_col is not None:
            raise DataError(
                f"the detector was trained on columns {cols['columns']}; the data has "
                f"{list(table.targets)}" + (" and an id column" if table.id_col else "")
            )
        return table

    def _values(self, table: SeriesTable) -> np.ndarray:
        return table.frame[list(table.targets)].to_numpy(np.float64)

    def _scale(self, values: np.ndarray) -> np.ndarray:
        if self._scaler is None:
            return np.asarray(values, dtype=np.float64)
        return self._scaler.transform(np.asarray(values, dtype=np.float64))

    def _n_val(self, n: int) -> int:
        if isinstance(self.val_size, int):
            return self.val_size
        return int(round(self.val_size * n))

    def _train_rows_needed(self) -> int:
        if self.method == "reconstruction":
            return self.window
        return self.window + 1

    def min_rows(self) -> int:
        """The fewest training rows :meth:`fit` accepts with this window and val_size."""
        need = self._train_rows_needed()
        n = need
        while n - self._n_val(n) < need or (self.val_size and self._n_val(n) < 1):
            n += 1
        return n

    # --- training ---------------------------------------------------------------------------

    def fit(
        self,
        data: Any,
        *,
        time_col: str | None = None,
        columns: str | list[str] | None = None,
        freq: str | None = None,
        missing: str = "error",
        config: TrainConfig | None = None,
        **train_options: Any,
    ) -> AnomalyDetector:
        """Train on ``data`` (mostly nominal rows); returns ``self``.

        ``columns`` are the channels to model (all of them are scored). Training options are a
        :class:`~lstmkit.train.TrainConfig` and/or its fields as keywords (``max_epochs``,
        ``lr``, ``patience``, ``seed``, ...); without a config the defaults are TrainConfig's
        except ``lr=3e-3`` and ``batch_size=32``. The trailing ``val_size`` part of the data drives
        early stopping and gives the fixed threshold.
        """
        # Defaults measured on the synthetic benchmark: small batches of short chunks train faster.
        base = config or TrainConfig(lr=3e-3, batch_size=32)
        train_config = base.replace(**train_options) if train_options else base
        if isinstance(data, SeriesTable):
            table = data
        else:
            if time_col is None or columns is None:
                raise ConfigError(
                    "fit needs the column roles: pass time_col= and columns= (or a SeriesTable)"
                )
            table = read_table(data, time_col=time_col, targets=columns, freq=freq, missing=missing)
        if table.id_col is not None:
            raise DataError(
                f"AnomalyDetector models one series; the table has an id column {table.id_col!r}"
            )
        values = self._values(table)
        n = values.shape[0]
        n_val = self._n_val(n)
        n_train = n - n_val
        need = self.min_rows()
        if n < need:
            raise DataError(
                f"training data has {n} rows, too short for window={self.window}: with "
                f"val_size={self.val_size} the minimum is {need} rows (use a smaller window or "
                "val_size, or more data)"
            )
        self.columns = {
            "time_col": table.time_col,
            "columns": list(table.targets),
            "freq": table.freq,
            "missing": missing,
        }
        self._scaler = None
        if self.scaler != "none":
            self._scaler = make_scaler(self.scaler).fit(values[:n_train])
        scaled = self._scale(values)

        self.net, self.history, self.fit_result = None, None, None
        if self.method != "zscore":
            seed_everything(train_config.seed)
            self.net = self._build_net(values.shape[1])
            train_x, val_x = self._training_chunks(scaled, n_train)
            if self.method == "prediction":

                def loss_fn(model: torch.nn.Module, batch: tuple[Tensor, ...]) -> Tensor:
                    (chunk,) = batch  # (B, window + 1, C)
                    pred, _ = model(chunk[:, :-1])
                    return torch.nn.functional.mse_loss(pred.float(), chunk[:, 1:])

            else:

                def loss_fn(model: torch.nn.Module, batch: tuple[Tensor, ...]) -> Tensor:
                    (win,) = batch  # (B, window, C)
                    return torch.nn.functional.mse_loss(model(win).float(), win)

            try:
                self.fit_result = fit(
                    self.net,
                    loss_fn,
                    (train_x,),
                    (val_x,) if val_x is not None else None,
                    train_config,
                )
            except BaseException:  # Ctrl-C or an error mid-training: no half-trained model left
                self.net, self.threshold_ = None, None
                raise
            self.history = self.fit_result.history
            self.net.eval()

        self.threshold_ = 0.0  # so _combined can run; replaced below
        combined = self._combined(self._smoothed(self._channel_errors(scaled)))
        part = combined[n_train:] if n_val > 0 else combined[:n_train]
        part = part[~np.isnan(part)]
        if n_val == 0:
            log.warning("no validation rows: the fixed threshold comes from the training rows")
        if part.size == 0:
            raise DataError(
                f"no scores on the validation part ({n_val} rows) to fit the threshold; "
                "use a larger val_size"
            )
        self.threshold_ = float(np.quantile(part, self.quantile))
        self.threshold_method_ = self.threshold
        self.spot_ = self._calibrate_spot(part)
        if self.threshold == "spot" and self.spot_ is not None:
            self.threshold_ = float(self.spot_["z"])  # what a stream uses
        return self

    def _calibrate_spot(self, part: np.ndarray) -> dict[str, Any] | None:
        """SPOT calibrated on the validation scores: its initial threshold ``t`` is their 98 %
        quantile, or a lower one so that at least 10 of them are peaks; None when there are
        fewer than 20 scores."""
        if part.size < 20:
            if self.threshold == "spot":
                log.warning(
                    "threshold='spot' needs at least 20 validation scores, got %d: using "
                    "threshold='quantile' instead (use a larger val_size for SPOT)",
                    part.size,
                )
                # not self.threshold: a later fit with enough scores must get SPOT back
                self.threshold_method_ = "quantile"
            return None
        level = min(0.98, 1.0 - 10.0 / part.size)
        return Spot(self.risk, level=max(level, 0.5)).fit(part).state_dict()

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> AnomalyDetector:
        # detectors saved before ``risk``, ``suppress`` and ``hysteresis`` existed keep their
        # behaviour: every flagged run is an alarm
        return super()._from_config({"risk": 1e-4, "suppress": 0, "hysteresis": 1.0, **config})

    def _build_net(self, n_channels: int) -> torch.nn.Module:
        cls = NextStepNet if self.method == "prediction" else WindowAutoencoder
        return cls(n_channels, self.hidden_size, self.num_layers, self.dropout, self.lstm_options)

    def _training_chunks(self, scaled: np.ndarray, n_train: int) -> tuple[Tensor, Tensor | None]:
        """Train chunks from the train rows; val chunks ending in the val rows."""
        length = self.window + 1 if self.method == "prediction" else self.window
        x = torch.from_numpy(scaled.astype(np.float32))
        stride = self.train_stride

        def chunks(first: int, last_end: int) -> Tensor | None:
            starts = np.arange(first, last_end - length + 1, stride)
            if starts.size == 0:
                return None
            return x[torch.from_numpy(starts)[:, None] + torch.arange(length)[None, :]]

        train = chunks(0, n_train)
        assert train is not None  # min_rows guarantees one chunk
        val = chunks(max(0, n_train - length + 1), scaled.shape[0])
        return train, val

    # --- scoring ----------------------------------------------------------------------------

    @torch.no_grad()
    def _channel_errors(self, scaled: np.ndarray) -> np.ndarray:
        """Raw per-channel errors ``(n, C)`` of scaled values; NaN where a row has no score."""
        n = scaled.shape[0]
        if self.method == "zscore":
            return scoring.rolling_zscore(scaled, self.window)
        assert self.net is not None
        self.net.eval()
        x = torch.from_numpy(scaled.astype(np.float32))
        err = np.full(scaled.shape, np.nan)
        if self.method == "prediction":
            pred, _ = self.net(x[None])  # (1, n, C): row t predicts row t + 1
            err[1:] = np.abs(scaled[1:] - pred[0, :-1].double().numpy())
            return err
        if n < self.window:
            raise DataError(
                f"the data has {n} rows; the reconstruction detector needs at least "
                f"window={self.window} rows to score"
            )
        starts = np.arange(0, n - self.window + 1, self.train_stride)
        if starts[-1] != n - self.window:
            starts = np.append(starts, n - self.window)
        total = np.zeros(scaled.shape)
        count = np.zeros((n, 1))
        for i in range(0, len(starts), 512):
            batch = starts[i : i + 512]
            idx = torch.from_numpy(batch)[:, None] + torch.arange(self.window)[None, :]
            recon = self.net(x[idx]).double().numpy()  # (B, W, C)
            abs_err = np.abs(recon - scaled[idx.numpy()])
            np.add.at(total, idx.numpy().reshape(-1), abs_err.reshape(-1, scaled.shape[1]))
            np.add.at(count, idx.numpy().reshape(-1), 1.0)
        err[:] = total / count
        return err

    def _smoothed(self, errors: np.ndarray) -> np.ndarray:
        return scoring.ewma(errors, self.smoothing)

    @staticmethod
    def _combined(smoothed: np.ndarray) -> np.ndarray:
        return smoothed.mean(axis=1)

    def _flags(self, combined: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert self.threshold_ is not None
        method = self.threshold
        if method == "spot" and self.spot_ is None and self.threshold_method_ == "quantile":
            method = "quantile"  # SPOT fell back to the quantile at fit time (too few scores)
        if method == "quantile":
            flags = np.nan_to_num(combined, nan=-np.inf) > self.threshold_
            thresholds = np.full(combined.shape[0], self.threshold_)
        elif method == "spot":
            if self.spot_ is None:
                raise ConfigError(
                    "this detector has no calibrated SPOT (saved before threshold='spot' "
                    "existed, or too few validation scores): fit it again"
                )
            flags, thresholds = Spot.from_state(self.spot_).run(combined)
        else:
            flags, thresholds = scoring.dynamic_flags(
                combined,
                window=self.threshold_window,
                z_max=self.z_max,
                p=self.min_percent_decrease,
                buffer=self.merge_gap // 2,
            )
        flags[: self.warmup_rows] = False
        return flags, thresholds

    def score(self, data: Any, *, missing: str | None = None) -> pd.DataFrame:
        """Scores and flags of every row of ``data`` (see :class:`Detection`)."""
        return self.detect(data, missing=missing).scores

    def detect(self, data: Any, *, missing: str | None = None) -> Detection:
        """Score ``data`` in one pass and turn the flags into intervals."""
        self._require_fitted("detect")
        table = self.read(data, missing=missing)
        values = self._values(table)
        if values.shape[0] == 0:
            raise DataError("the data holds no rows to score")
        smoothed = self._smoothed(self._channel_errors(self._scale(values)))
        combined = self._combined(smoothed)
        flags, thresholds = self._flags(combined)
        flags, alarm, events = group_flags(
            flags,
            combined,
            thresholds,
            hysteresis=self.hysteresis,
            suppress=self.suppress_rows,
            merge_gap=self.merge_gap,
        )
        time_col = table.time_col
        times = table.frame[time_col].to_numpy()
        scores = pd.DataFrame({time_col: times, "score": combined})
        for j, name in enumerate(table.targets):
            scores[f"{name}_score"] = smoothed[:, j]
        scores["threshold"] = thresholds
        scores["is_anomaly"] = flags
        scores["alarm"] = alarm
        return Detection(scores=scores, intervals=self._intervals(times, combined, events))

    @staticmethod
    def _intervals(
        times: np.ndarray, combined: np.ndarray, events: list[tuple[int, int]]
    ) -> pd.DataFrame:
        rows = []
        filled = np.nan_to_num(combined, nan=-np.inf)
        for s, e in events:
            peak = s + int(np.argmax(filled[s : e + 1]))
            rows.append((times[s], times[e], s, e, e - s + 1, times[peak], float(combined[peak])))
        return pd.DataFrame(
            rows,
            columns=[
                "start",
                "end",
                "start_row",
                "end_row",
                "length",
                "peak_time",
                "peak_score",
            ],
        )

    # --- evaluation -------------------------------------------------------------------------

    def label_rows(self, labels: Any, times: Any) -> list[tuple[int, int]]:
        """Inclusive row ranges of labelled intervals (a path or DataFrame with ``start`` and
        ``end`` columns of timestamps, inclusive) against the time column ``times``."""
        return labels_to_rows(labels, times)

    def evaluate_views(self, data: Any, labels: Any, *, missing: str | None = None) -> pd.DataFrame:
        """Point-wise, event-wise and point-adjusted precision/recall/F1 against ``labels``, one
        row per view (see :func:`lstmkit.tasks.anomaly.metrics.evaluate_detection`). ``data`` is
        what :meth:`detect` takes, or the :class:`Detection` it returned (not scored again)."""
        self._require_fitted("evaluate_views")
        result = data if isinstance(data, Detection) else self.detect(data, missing=missing)
        time_col = self.columns["time_col"]  # type: ignore[index]
        truth = labels_to_rows(labels, result.scores[time_col])
        predicted = list(
            zip(result.intervals["start_row"], result.intervals["end_row"], strict=True)
        )
        return evaluate_detection(predicted, truth, len(result.scores))

    def evaluate(self, data: Any, labels: Any, *, missing: str | None = None) -> pd.DataFrame:
        """:meth:`evaluate_views` as one row, ``model``, with a column per view and metric:
        ``point_precision``, ``point_recall``, ``point_f1``, ``point_n_predicted``,
        ``point_n_labelled``, then the same for ``event_`` and ``point_adjusted_``; last
        ``ucr_top_within_100``, the UCR-archive view: with exactly one labelled interval, 1.0 if
        the highest score (after the ``warmup`` rows) lies within 100 rows of it, else 0.0 (NaN
        with another number of labelled intervals)."""
        self._require_fitted("evaluate")
        result = data if isinstance(data, Detection) else self.detect(data, missing=missing)
        views = self.evaluate_views(result, labels)
        time_col = self.columns["time_col"]  # type: ignore[index]
        truth = labels_to_rows(labels, result.scores[time_col])
        row = flat_metrics(views)
        row[f"ucr_top_within_{UCR_TOLERANCE}"] = top_score_hit(
            result.scores["score"].to_numpy(), truth, skip=self.warmup_rows
        )
        return metrics_frame({"model": row})

    # --- streaming --------------------------------------------------------------------------

    def stream(self) -> Any:
        """A stream scoring one row at a time (see :class:`AnomalyStream`)."""
        from lstmkit.tasks.anomaly.streaming import AnomalyStream

        self._require_fitted("stream")
        return AnomalyStream(self)

    # --- saving -----------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {
            "scaler": self._scaler.to_dict() if self._scaler is not None else None,
            "threshold": self.threshold_,
            "spot": self.spot_,
            "threshold_method": self.threshold_method_,
            "history": self.history.to_dict() if self.history else None,
        }

    def _saved_config(self) -> dict[str, Any]:
        return {**self.get_config(), "columns": self.columns, "n_channels": len(self.channels)}

    def _weights(self) -> nn.Module:
        # a zscore detector has no network: an empty module, no tensors
        return self.net if self.net is not None else nn.Module()

    def _restore(self, state: dict[str, Any], config: dict[str, Any]) -> None:
        self.columns = dict(config["columns"])
        self._scaler = None if state.get("scaler") is None else scaler_from_dict(state["scaler"])
        self.threshold_ = float(state["threshold"])
        self.spot_ = state.get("spot")
        self.threshold_method_ = state.get("threshold_method", config.get("threshold"))
        self.history = History.from_dict(state["history"]) if state.get("history") else None
        n_channels = int(config["n_channels"])
        self.net = self._build_net(n_channels) if self.method != "zscore" else None

    def _load_weights(self, tensors: dict[str, Any], path: str | os.PathLike[str]) -> None:
        if self.net is None and tensors:
            raise ModelFileError(
                f"{Path(path) / persistence.WEIGHTS_FILE} holds tensors, but a zscore detector "
                "has no weights"
            )
        super()._load_weights(tensors, path)


__all__ = ["METHODS", "THRESHOLDS", "AnomalyDetector", "Detection", "labels_to_rows"]
