"""``AnomalyStream``: score one row at a time, with the same scores as batch scoring.

For ``method="prediction"`` each :meth:`~AnomalyStream.update` costs one LSTM step (per layer:
``torch.lstm_cell`` with the carried ``(h, c)``), one linear head and an EWMA update: O(1) per row,
no recomputation over a lookback. It follows exactly the recursion batch scoring runs over the
whole series, so the scores agree to float32 rounding (tested). A detector whose LSTM is not the
plain cell (``layer_norm``, ``peephole``, ... in its ``lstm_options``, or a projection) runs its
layer on the one row instead, with the state carried: still O(1) per row, with a layer call's
overhead.

For ``method="zscore"`` each update costs O(window) (the mean and std of the last ``window`` rows).
``method="reconstruction"`` has no stream: a reconstruction score needs a whole window, so a
streaming version would re-run the autoencoder over ``window`` rows at every step.

Flags use the fixed threshold fitted at training time (``detector.threshold_``), and the first
``detector.warmup_rows`` rows are never flagged, as in batch scoring. With
``threshold="quantile"`` they equal batch flags; with ``threshold="dynamic"`` batch flags come from
per-window thresholds that need future rows, so they can differ; with ``threshold="spot"`` (the
default) batch scoring keeps updating SPOT along the series while a stream uses the calibrated
threshold, so they agree until the first update that moves it.

The detector's ``hysteresis`` and ``suppress`` apply as in batch scoring: a flagged run stays
flagged while the score stays above ``hysteresis * threshold``, and :attr:`AnomalyStream.alarm`
says whether the last row raised an alarm (the first row of an event not within ``suppress`` rows
of the last alarm nor ``merge_gap`` rows of the last flagged row), as the batch ``alarm`` column.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np
import torch

from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.anomaly import scoring


class AnomalyStream:
    """Keeps the detector's state between rows; see the module docstring."""

    def __init__(self, detector: Any) -> None:
        if detector.method == "reconstruction":
            raise ConfigError(
                "streaming is supported for method='prediction' (O(1) per row) and 'zscore'; a "
                "reconstruction detector scores whole windows (O(window) per row): use "
                "detect() on batches of rows instead"
            )
        self.detector = detector
        self.method = detector.method
        self.n_channels = len(detector.channels)
        self.threshold = float(detector.threshold_)
        self._warmup = detector.warmup_rows
        self._hysteresis = float(getattr(detector, "hysteresis", 1.0))
        self._suppress = int(getattr(detector, "suppress_rows", 0))
        self._gap = int(detector.merge_gap)
        scaler = detector._scaler
        self._offset = None if scaler is None else np.asarray(scaler.offset_, dtype=np.float64)
        self._scale = None if scaler is None else np.asarray(scaler.scale_, dtype=np.float64)
        self._alpha = scoring.ewma_alpha(detector.smoothing) if detector.smoothing > 1 else 1.0
        if self.method == "prediction":
            net = detector.net
            self._cell = net.steps_with_cell
            self._weights = net.step_weights() if self._cell else []
            self._head_w = net.head.weight.detach()
            self._head_b = net.head.bias.detach()
            self._hidden = net.lstm.hidden_size
            self._layers = net.lstm.num_layers
        self.reset()

    def reset(self) -> None:
        """Forget every row seen: the next update starts a new series."""
        self.steps = 0
        self._smoothed: np.ndarray | None = None  # per-channel EWMA, None before the first error
        self.channel_scores = np.full(self.n_channels, np.nan)
        self.alarm = False  # whether the last row raised an alarm
        self._flagged = False  # whether the last row was flagged
        self._event = (-(10**18), -(10**18))  # the current event's alarm row and last flagged row
        if self.method == "prediction":
            self._h = [torch.zeros(1, self._hidden) for _ in range(self._layers)]
            self._c = [torch.zeros(1, self._hidden) for _ in range(self._layers)]
            self._state: Any = None  # the layer's (h, c) when it is not the plain cell
            self._pred: np.ndarray | None = None
        else:
            self._buffer: deque[np.ndarray] = deque(maxlen=self.detector.window)

    def _check(self, x_t: Any) -> np.ndarray:
        try:
            x = np.asarray(x_t, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise DataError(
                f"a row must be {self.n_channels} numbers ({', '.join(self.detector.channels)}), "
                f"got {x_t!r}"
            ) from None
        if x.shape[0] != self.n_channels:
            raise DataError(
                f"a row must hold {self.n_channels} values ({', '.join(self.detector.channels)}), "
                f"got {x.shape[0]}"
            )
        if not np.isfinite(x).all():
            raise DataError(f"a row must hold finite numbers, got {x.tolist()}")
        return x

    def update(self, x_t: Any) -> tuple[float, bool]:
        """Score row ``x_t`` (one value per channel, in the training column order).

        Returns ``(score, is_anomaly)``: the combined smoothed score of this row (NaN while the
        method has no score yet: the first row for prediction, the first ``window`` rows for
        zscore) and whether it exceeds the fixed threshold. A bad row raises
        :class:`~lstmkit.errors.DataError` and leaves the state untouched.
        """
        x = self._check(x_t)
        scaled = x if self._offset is None else (x - self._offset) / self._scale
        if self.method == "prediction":
            # The weights are detached, so no graph is recorded; skipping torch.no_grad() here
            # saves a context switch per row.
            err = None if self._pred is None else np.abs(scaled - self._pred)
            x32 = torch.from_numpy(scaled.astype(np.float32)).view(1, -1)
            if self._cell:
                pred = type(self.detector.net).step(
                    x32, self._h, self._c, self._weights, self._head_w, self._head_b
                )
            else:
                with torch.no_grad():
                    pred, self._state = self.detector.net(x32[None], self._state)
            self._pred = pred.view(-1).double().numpy()
        else:
            err = None
            if len(self._buffer) == self._buffer.maxlen:
                past = np.stack(self._buffer)  # (window, C)
                std = np.maximum(past.std(axis=0), 1e-12)
                err = np.abs(scaled - past.mean(axis=0)) / std
            self._buffer.append(scaled)
        self.steps += 1
        self.alarm = False
        if err is None:
            self._flagged = False
            return math.nan, False
        if self._smoothed is None:
            self._smoothed = err
        else:
            self._smoothed = self._alpha * err + (1.0 - self._alpha) * self._smoothed
        self.channel_scores = self._smoothed
        score = float(self._smoothed.mean())
        flag = self.steps > self._warmup and (
            score > self.threshold or (self._flagged and score > self._hysteresis * self.threshold)
        )
        row = self.steps - 1
        if flag and not self._flagged:
            start, end = self._event
            if row - end - 1 <= self._gap or row - start <= self._suppress:
                self._event = (start, row)
            else:
                self._event = (row, row)
                self.alarm = True
        elif flag:
            self._event = (self._event[0], row)
        self._flagged = flag
        return score, flag


__all__ = ["AnomalyStream"]
