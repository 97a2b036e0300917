"""``Forecaster``: multi-step forecasts of one or many time series with an LSTM.

From a table of timestamps and measurements (a CSV/Parquet path, a DataFrame or a
:class:`~lstmkit.data.SeriesTable`) to a trained, evaluated, saved model::

    fc = Forecaster(horizon=12, quantiles=(0.1, 0.5, 0.9))
    fc.fit("sst.csv", time_col="date", targets="sst", max_epochs=60, seed=0)
    print(fc.evaluate())            # MAE, RMSE, sMAPE, MASE beside naive and seasonal naive
    fc.predict(history)             # the next 12 steps, with sst_q0.1 / sst_q0.9 bands
    fc.save("sst-model")            # config.json + weights.safetensors + state.json
    fc = Forecaster.load("sst-model")

Data handling, stated once:

* Every series is split in time into train | val | test (``val_size``, ``test_size``, fractions of
  each series' rows, see :func:`lstmkit.data.temporal_split`). Training windows come from the train
  part of every series, early stopping watches the val part, :meth:`evaluate` scores the test part.
* With ``id_col`` there is one global model for all series. Scalers are per column and fitted on the
  train rows of all series pooled (one scaler for the targets, one for the covariates); they are
  saved with the model.
* Past covariates are inputs over the lookback only. Known-future covariates are inputs over the
  lookback and are also given to the head (or decoder) for the forecast steps, so
  :meth:`predict` needs their values for the next ``horizon`` timestamps.
* MASE divides by the in-sample seasonal-naive MAE of each series (and target) on its training
  part (:meth:`evaluate`) or on the rows before the first forecast origin (:meth:`backtest`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from lstmkit._checks import choice, positive_int, probability
from lstmkit.data import SeriesTable, make_scaler, split_window_starts
from lstmkit.data.window_norm import check_window_norm, wants_log
from lstmkit.errors import ConfigError
from lstmkit.tasks.base import Task
from lstmkit.tasks.forecast import statistical as forecast_stats
from lstmkit.tasks.forecast.combination import COMBINES, combine, fit_smoothers
from lstmkit.tasks.forecast.evaluation import BacktestResult, Evaluation, format_metrics
from lstmkit.tasks.forecast.net import DECODERS, ForecastNet, pinball_loss
from lstmkit.tasks.forecast.options import (
    LOSSES,
    MODELS,
    SCALERS,
    TRANSFORMS,
    check_quantiles,
    detect_season,
    quantile_label,
    season_from_freq,
)
from lstmkit.tasks.forecast.reading import Reading, int_step
from lstmkit.tasks.forecast.saving import Saving
from lstmkit.tasks.forecast.windows import Windowing, Windows, check_finite, part_rows, part_size
from lstmkit.tasks.lstm_options import check_lstm_options
from lstmkit.train import FitResult, History, TrainConfig, fit, seed_everything

log = logging.getLogger(__name__)

TASK = "Forecaster"


# The constructor's arguments that config.json keeps (besides lstm_options).
_INIT_KEYS = (
    "horizon",
    "lookback",
    "quantiles",
    "model",
    "window_norm",
    "transform",
    "ensemble",
    "refit",
    "combine",
    "decoder",
    "hidden_size",
    "num_layers",
    "dropout",
    "scaler",
    "season",
    "loss",
    "teacher_forcing",
    "val_size",
    "test_size",
)


class Forecaster(Reading, Windowing, Evaluation, Saving, Task):
    """Multi-step forecaster: an lstmkit LSTM encoder and a direct or autoregressive head.

    What the defaults do, chosen by ``lstmkit forecast benchmark`` on real series (FORECASTING.md):
    targets are logged when they are positive and their swings grow with their level
    (``transform="auto"``); the hybrid model removes each window's level and seasonality by
    exponential smoothing (``model="hybrid"``), so a trend never leaves the range the network was
    trained on (``model="lstm"`` normalises each window by its last value instead);
    ``ensemble`` networks with consecutive seeds forecast together (the median of their forecasts);
    and after validation has chosen each member's number of epochs and the test part has been
    scored, every member is trained again on all rows for that many epochs (``refit``), so the model
    that :meth:`predict` uses has seen the latest data. :meth:`evaluate` and :meth:`backtest` keep
    using the members fitted before the refit, which never saw the test part.

    Args:
        horizon: steps to forecast (H >= 1).
        lookback: input steps (L); by default ``max(2 * horizon, 2 * season)``, clipped so that the
            shortest series' train part still holds windows.
        quantiles: trained with the pinball loss and forecast (0.5 is added if missing; the point
            forecast is the median); the default ``(0.1, 0.5, 0.9)`` gives an 80 % interval.
            ``None``: point forecasts trained with ``loss``. An ensemble's quantiles are the
            medians of its members' quantiles.
        model: ``"lstm"`` (the network forecasts the normalised window), ``"hybrid"`` (after
            Smyl's ES-RNN: per-series exponential smoothing removes the level and the seasonality
            of each window and the network forecasts the rest; see
            :mod:`lstmkit.tasks.forecast.smoothing`), ``"ets"`` (no network: statsforecast's
            AutoETS, fitted on each history it forecasts from) or ``"auto"``: fit the LSTM and the
            hybrid, score them and AutoETS on the val part (MASE), and keep the best; ``model``
            then names the one kept and ``selection`` holds the scores. AutoETS needs the
            ``stats`` extra and is a candidate only without covariates, which it cannot use.
        window_norm: ``"last"``, ``"mean"``, ``"revin"`` (mean and standard deviation, with a
            learnable affine) or ``"none"``: how each window is normalised before the network sees
            it (:mod:`lstmkit.data.window_norm`). The hybrid uses its smoothed level instead.
        transform: ``"auto"`` (log when every target value is positive and the swings grow with
            the level, decided per target column on the train rows), ``"log"`` or ``"none"``.
        ensemble: number of networks (seeds ``seed``, ``seed + 1``, ...) whose forecasts are
            combined by their median.
        combine: ``"ets"`` (the forecast, and each quantile, is the mean of the ensemble's and an
            exponential-smoothing model's with a damped trend and a season, chosen by AICc on the
            same rows; :mod:`lstmkit.tasks.forecast.combination`) or ``"none"`` (the ensemble
            alone). Applies to the network models without covariates.
        refit: train the members again on all rows (train, val and test) for the epochs that
            validation chose, before saving and predicting.
        decoder: ``"direct"`` (all H steps from one linear head) or ``"autoregressive"`` (an LSTM
            decoder fed its own previous prediction; teacher forcing in training).
        hidden_size, num_layers, dropout: the encoder (and decoder) LSTM; ``dropout`` acts between
            stacked layers and before the head.
        scaler: ``"standard"``, ``"minmax"`` or ``"none"``: per-column scaling of targets and
            covariates, fitted on the train rows.
        season: season length in steps; by default from the frequency (12 monthly, 4 quarterly,
            7 daily, 24 hourly, 52 weekly), else found from the autocorrelation of the training
            data. Used by the seasonal-naive baseline, MASE, the hybrid and the default lookback.
        loss: ``"mse"`` or ``"mae"`` for point forecasts.
        teacher_forcing: probability, per batch, of feeding the true previous value to the
            autoregressive decoder during training.
        val_size, test_size: the parts of every series kept for validation and testing.
        **lstm_options: passed to :class:`lstmkit.nn.LSTM` (``peephole``, ``coupled_gates``,
            ``layer_norm``, ``forget_bias``, ``proj_size``, ``recurrent_dropout``, ``zoneout``,
            ``init``, ``impl``).
    """

    TASK = TASK
    INIT_KEYS = _INIT_KEYS
    ADDED_KEYS = {"combine": "none"}  # models saved before the combination forecast alone

    def __init__(
        self,
        horizon: int,
        *,
        lookback: int | None = None,
        quantiles: tuple[float, ...] | list[float] | None = (0.1, 0.5, 0.9),
        model: str = "hybrid",
        window_norm: str = "last",
        transform: str = "auto",
        ensemble: int = 5,
        refit: bool = True,
        combine: str = "ets",
        decoder: str = "direct",
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        scaler: str = "standard",
        season: int | None = None,
        loss: str = "mse",
        teacher_forcing: float = 1.0,
        val_size: float | int = 0.15,
        test_size: float | int = 0.15,
        **lstm_options: Any,
    ) -> None:
        self.horizon = positive_int("horizon", horizon)
        self.lookback = None if lookback is None else positive_int("lookback", lookback)
        self.quantiles = check_quantiles(quantiles)
        self.model = choice("model", model, MODELS)
        self.window_norm = check_window_norm(window_norm)
        self.transform = choice("transform", transform, TRANSFORMS)
        self.ensemble = positive_int("ensemble", ensemble)
        if not isinstance(refit, bool):
            raise ConfigError(f"refit must be True or False, got {refit!r}")
        self.refit = refit
        self.combine = choice("combine", combine, COMBINES)
        self.decoder = choice("decoder", decoder, DECODERS)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.dropout = probability("dropout", dropout)
        self.scaler = choice("scaler", scaler, SCALERS)
        self.season = None if season is None else positive_int("season", season)
        # What the caller asked for; fit resolves None from the data into lookback/season.
        self._requested = {"lookback": self.lookback, "season": self.season, "model": model}
        self.loss = choice("loss", loss, LOSSES)
        self.teacher_forcing = probability("teacher_forcing", teacher_forcing, top_closed=True)
        self.val_size = part_size("val_size", val_size)
        self.test_size = part_size("test_size", test_size)
        self.lstm_options = check_lstm_options(lstm_options, hidden_size=self.hidden_size)
        # Set by fit (or load):
        self.nets: list[ForecastNet] = []  # the members predict uses (refitted on all rows)
        self.holdout_nets: list[ForecastNet] = []  # the members before the refit
        self.epochs: list[int] = []  # each member's epochs, chosen on validation
        self.log_targets: list[bool] = []  # per target column: modelled in logs
        self.selection: dict[str, float] = {}  # model="auto": validation MASE of each candidate
        self.smoothers: dict[str, Any] = {}  # combine="ets": ETS parameters per part and series
        self.columns: dict[str, Any] | None = None
        self.history: History | None = None
        self.fit_result: FitResult | None = None
        self._target_scaler: Any = None
        self._covariate_scaler: Any = None
        self.training_data: SeriesTable | None = None  # the table fit() read

    # --- configuration ----------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, with what fit decided (``lookback``, ``season``)."""
        config = super().get_config()
        config["quantiles"] = list(self.quantiles) if self.quantiles else None
        return config

    def __repr__(self) -> str:
        state = "fitted" if self.nets else "not fitted"
        return (
            f"Forecaster(horizon={self.horizon}, lookback={self.lookback}, model={self.model!r}, "
            f"ensemble={self.ensemble}, decoder={self.decoder!r}, hidden_size={self.hidden_size}, "
            f"quantiles={self.quantiles}, {state})"
        )

    @property
    def net(self) -> ForecastNet | None:
        """The first member that :meth:`predict` uses (None before fit)."""
        return self.nets[0] if self.nets else None

    @property
    def n_quantiles(self) -> int:
        return len(self.quantiles) if self.quantiles else 1

    @property
    def _point_index(self) -> int:
        return self.quantiles.index(0.5) if self.quantiles else 0

    def _is_fitted(self) -> bool:
        return self.columns is not None and bool(self.nets or self.model == "ets")

    # --- training ---------------------------------------------------------------------------

    def _default_lookback(self, lengths: list[int], season: int) -> int:
        want = max(2 * self.horizon, 2 * season)
        shortest = min(lengths)
        n_val = part_rows(self.val_size, shortest, self.horizon)
        n_test = part_rows(self.test_size, shortest, self.horizon)
        n_train = shortest - n_val - n_test
        # leave room for at least half of the train rows' windows
        allowed = max(1, (n_train - self.horizon) // 2)
        if want > allowed:
            log.info(
                "lookback %d clipped to %d by the shortest series (%d rows)",
                want,
                allowed,
                shortest,
            )
        return max(1, min(want, allowed))

    def fit(
        self,
        data: Any,
        *,
        time_col: str | None = None,
        targets: str | list[str] | None = None,
        past_covariates: Any = (),
        future_covariates: Any = (),
        id_col: str | None = None,
        freq: str | None = None,
        missing: str = "error",
        config: TrainConfig | None = None,
        **train_options: Any,
    ) -> Forecaster:
        """Train on ``data`` (a path, DataFrame or SeriesTable); returns ``self``.

        Column roles (``time_col``, ``targets``, ``past_covariates``, ``future_covariates``,
        ``id_col``), ``freq`` and ``missing`` are those of :func:`lstmkit.data.read_table`.
        Training options are a :class:`~lstmkit.train.TrainConfig` and/or its fields as keywords
        (``max_epochs``, ``lr``, ``batch_size``, ``patience``, ``seed``, ``run_dir``, ...).
        ``lookback`` and ``season`` left as None are chosen from this data (again on a refit).
        """
        base = config or TrainConfig()
        train_config = base.replace(**train_options) if train_options else base
        table = self._read(
            data,
            time_col=time_col,
            targets=targets,
            past_covariates=past_covariates,
            future_covariates=future_covariates,
            id_col=id_col,
            freq=freq,
            missing=missing,
        )
        try:
            return self._fit_table(table, missing, train_config)
        except BaseException:
            # Ctrl-C (or any error) part-way leaves no half-fitted forecaster behind: a partial
            # ensemble would otherwise predict and save as if it were the whole one.
            self.columns = None
            self.nets, self.holdout_nets, self.epochs = [], [], []
            raise

    def _fit_table(self, table: SeriesTable, missing: str, train_config: TrainConfig) -> Forecaster:
        self.model = self._requested["model"]
        if self.model == "auto":
            return self._fit_auto(table, missing, train_config)
        self.columns = {
            "time_col": table.time_col,
            "targets": list(table.targets),
            "past_covariates": list(table.past_covariates),
            "future_covariates": list(table.future_covariates),
            "id_col": table.id_col,
            "freq": table.freq,
            "step": int_step(table),
            "missing": missing,
        }
        series = self._series_values(table)
        n_t = len(table.targets)
        lengths = [len(values) for _, _, values in series]
        self.season, self.lookback = self._requested["season"], self._requested["lookback"]
        if self.season is None:
            found = season_from_freq(table.freq)
            if found is None:
                first = series[int(np.argmax(lengths))][2][:, 0]
                found = detect_season(first[: max(3, int(len(first) * 0.7))])
            self.season = found
        if self.lookback is None:
            self.lookback = self._default_lookback(lengths, self.season)
        splits = [self._split(len(values), key) for key, _, values in series]

        fit_rows = [v[sp.fit_rows()] for (_, _, v), sp in zip(series, splits, strict=True)]
        self.log_targets = [self._wants_log(fit_rows, t) for t in range(n_t)]
        # Scalers: per column, on the (logged) train rows of every series pooled.
        self._target_scaler = self._covariate_scaler = None
        train_rows = np.concatenate(fit_rows)
        if self.scaler != "none":
            self._target_scaler = make_scaler(self.scaler).fit(self._logged(train_rows)[:, :n_t])
            if train_rows.shape[1] > n_t:
                self._covariate_scaler = make_scaler(self.scaler).fit(train_rows[:, n_t:])

        fit_stops = [sp.fit_rows().stop for sp in splits]
        self.smoothers = {}
        if self.combined:
            self.smoothers = fit_smoothers(self, series, fit_stops)
        parts = {}
        for name in ("train", "val"):
            origins = [split_window_starts(sp)[name].numpy() + self.lookback for sp in splits]
            parts[name] = (
                self._windows(series, origins, fit_stops) if any(len(o) for o in origins) else None
            )
        assert parts["train"] is not None
        # The refit's windows: every complete window of every series, test part included.
        every = [np.arange(self.lookback, len(v) - self.horizon + 1) for _, _, v in series]
        all_windows = self._windows(series, every) if self.refit else None

        self.training_data = table
        self.nets, self.holdout_nets, self.epochs = [], [], []
        if self.model == "ets":
            self.fit_result = self.history = None
            return self
        n_inputs = series[0][2].shape[1]
        loss_fn = self._loss_fn()
        train_w, val_w = parts["train"], parts["val"]
        for member in range(self.ensemble):
            member_config = train_config.replace(
                seed=(train_config.seed + member) % 2**32,
                run_dir=train_config.run_dir if member == 0 else None,
            )
            seed_everything(member_config.seed)
            net = self._build_net(n_inputs)
            result = fit(
                net,
                loss_fn,
                (train_w.past, train_w.future, train_w.target),
                (val_w.past, val_w.future, val_w.target) if val_w is not None else None,
                member_config,
            )
            net.eval()
            epochs = result.best_epoch if result.best_epoch is not None else result.epochs
            epochs = max(1, int(epochs))
            if member == 0:
                self.fit_result, self.history = result, result.history
            self.holdout_nets.append(net)
            self.epochs.append(epochs)
            if all_windows is None:
                self.nets.append(net)
                continue
            seed_everything(member_config.seed)
            refitted = self._build_net(n_inputs)
            fit(
                refitted,
                loss_fn,
                (all_windows.past, all_windows.future, all_windows.target),
                None,
                member_config.replace(max_epochs=epochs, patience=None, run_dir=None, resume=False),
            )
            refitted.eval()
            self.nets.append(refitted)
        return self

    @property
    def combined(self) -> bool:
        """Whether forecasts average in exponential smoothing: ``combine="ets"`` on a network
        model without covariates (which smoothing cannot use)."""
        cols = self.columns
        return (
            self.combine == "ets"
            and self.model in ("lstm", "hybrid")
            and cols is not None
            and not (cols["past_covariates"] or cols["future_covariates"])
        )

    def _clone(self, model: str) -> Forecaster:
        """An unfitted forecaster with this one's settings and another ``model``."""
        config = self.get_config()
        options = {k: config[k] for k in _INIT_KEYS}
        options.update(self._requested, model=model)
        return Forecaster(**options, **self.lstm_options)

    def _fit_auto(self, table: SeriesTable, missing: str, config: TrainConfig) -> Forecaster:
        """Fit the LSTM and the hybrid, score them and AutoETS on the val part, keep the best."""
        if self.val_size == 0:
            raise ConfigError("model='auto' chooses on the val part: val_size must not be 0")
        candidates = {name: self._clone(name) for name in ("lstm", "hybrid")}
        scores: dict[str, float] = {}
        with_ets = forecast_stats.available() and not (
            table.past_covariates or table.future_covariates
        )
        for name, candidate in candidates.items():
            candidate.fit(table, missing=missing, config=config)
            val = candidate.evaluate(part="val", statistical=with_ets and name == "hybrid")
            scores[name] = float(val.loc["model", "MASE"])
            if "ets" in val.index:
                scores["ets"] = float(val.loc["ets", "MASE"])
        finite = {k: v for k, v in scores.items() if np.isfinite(v)}
        chosen = min(finite, key=finite.__getitem__) if finite else "lstm"
        source = candidates["hybrid" if chosen == "ets" else chosen]
        self.__dict__.update(
            {k: v for k, v in source.__dict__.items() if k not in ("_requested", "model")}
        )
        self.model = chosen
        if chosen == "ets":
            self.nets, self.holdout_nets, self.epochs = [], [], []
            self.fit_result = self.history = None
        self.selection = scores
        log.info("model='auto' chose %s on validation MASE %s", chosen, scores)
        return self

    def _wants_log(self, fit_rows: list[np.ndarray], t: int) -> bool:
        if self.transform != "auto":
            return self.transform == "log"
        assert self.season is not None
        columns = [rows[:, t] for rows in fit_rows]
        if any(np.any(c <= 0) for c in columns):
            return False
        votes = [wants_log(c, self.season) for c in columns]
        return sum(votes) > len(votes) / 2

    def _loss_fn(self) -> Any:
        quantiles = torch.tensor(self.quantiles or (0.5,), dtype=torch.float32)
        loss_kind, has_q = self.loss, self.quantiles is not None

        def loss_fn(model: ForecastNet, batch: tuple[Tensor, ...]) -> Tensor:
            past, future, target = batch
            pred = model(past, future, target).float()  # (B, H, T, Q); fp32 under autocast
            if has_q:
                return pinball_loss(pred, target, quantiles.to(pred.device))
            pred = pred[..., 0]
            if loss_kind == "mae":
                return (pred - target).abs().mean()
            return torch.nn.functional.mse_loss(pred, target)

        return loss_fn

    def _build_net(self, n_inputs: int) -> ForecastNet:
        cols = self.columns
        assert cols is not None
        return ForecastNet(
            n_inputs=n_inputs,
            n_targets=len(cols["targets"]),
            n_future=len(cols["future_covariates"]),
            horizon=self.horizon,
            n_quantiles=self.n_quantiles,
            point_index=self._point_index,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            decoder=self.decoder,
            teacher_forcing=self.teacher_forcing,
            lstm_options=self.lstm_options,
            affine=self.model == "lstm" and self.window_norm == "revin",
        )

    # --- forecasting ------------------------------------------------------------------------

    @torch.no_grad()
    def _forecast(
        self, windows: Windows, *, holdout: bool = False, batch_size: int = 1024
    ) -> np.ndarray:
        """Scaled forecasts ``(W, H, T, Q)`` of the ensemble (the median of its members),
        quantiles in increasing order. ``holdout``: use the members fitted before the refit."""
        nets = self.holdout_nets if holdout else self.nets
        assert nets
        members = []
        for net in nets:
            net.eval()
            outs = [
                net(windows.past[i : i + batch_size], windows.future[i : i + batch_size])
                for i in range(0, windows.past.shape[0], batch_size)
            ]
            members.append(torch.cat(outs).double().numpy())  # (W, H, T, Q) normalised
        # The median of an even number of members averages two; of an odd number it is one
        # member's forecast, which the monotone maps below (scaler, exp) carry through exactly.
        pred = np.median(np.stack(members), axis=0)
        pred = np.sort(pred, axis=-1)  # quantile crossing is possible; the bands stay ordered
        return windows.denormalise(pred)

    def _unscale_forecasts(self, pred: np.ndarray) -> np.ndarray:
        """Scaled ``(W, H, T, Q)`` forecasts back to the data's units."""
        moved = np.moveaxis(pred, -1, 0)  # (Q, W, H, T)
        return np.moveaxis(self._unscale_targets(moved), 0, -1)

    def _predict_windows(
        self,
        series: list[tuple[Any, pd.DataFrame, np.ndarray]],
        windows: Windows,
        fit_stops: list[int] | None,
        *,
        holdout: bool,
    ) -> np.ndarray:
        """Unscaled ``(W, H, T, Q)`` forecasts of ``windows``: the ensemble's, or AutoETS's fitted
        per series on its rows before ``fit_stops[s]`` (all rows when None)."""
        if self.model != "ets":
            check_finite(windows.past, series, windows, "scaled input")
            with np.errstate(over="ignore", invalid="ignore"):
                pred = self._forecast(windows, holdout=holdout)
                if self.combined and self.smoothers:
                    pred = combine(self, series, windows, pred, holdout=holdout)
                pred = self._unscale_forecasts(pred)
            return check_finite(pred, series, windows, "forecast")
        n_t = len(self.columns["targets"])  # type: ignore[index]
        owners = np.asarray(windows.series)
        pred = np.empty((len(owners), self.horizon, n_t, self.n_quantiles))
        for s, (_, _, values) in enumerate(series):
            rows = np.flatnonzero(owners == s)
            if rows.size == 0:
                continue
            for t in range(n_t):
                pred[rows, :, t, :] = forecast_stats.quantile_forecasts(
                    values[:, t],
                    windows.origins[rows],
                    self.horizon,
                    self.season or 1,
                    self.quantiles or (0.5,),
                    fit_stop=None if fit_stops is None else fit_stops[s],
                )
        return np.sort(pred, axis=-1)

    def predict(
        self, history: Any, future: Any = None, *, missing: str | None = None
    ) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of ``history`` (of every series in it).

        ``history``: a path, DataFrame or SeriesTable with the model's columns and at least
        ``lookback`` rows per series. ``future``: with known-future covariates, a DataFrame (or
        path) holding their values at the next ``horizon`` timestamps (and the id column).

        Returns a DataFrame with the id column (if any), the time column (future timestamps from
        the frequency), each target (the point forecast: the median with quantiles) and, with
        quantiles, ``<target>_q<q>`` columns.
        """
        self._require_fitted("predict")
        cols = self.columns
        assert cols is not None
        series = self._history(history, missing)
        times = [self._future_times(part) for _, part, _ in series]
        if cols["future_covariates"]:
            series = self._append_future(series, times, future)
            origins = [np.array([len(v) - self.horizon]) for _, _, v in series]
        else:
            origins = [np.array([len(v)]) for _, _, v in series]
        windows = self._windows(series, origins)
        pred = self._predict_windows(series, windows, None, holdout=False)  # (S, H, T, Q)
        frames = []
        for s, (key, _, _) in enumerate(series):
            frame = pd.DataFrame({cols["time_col"]: times[s]})
            if cols["id_col"] is not None:
                frame.insert(0, cols["id_col"], key)
            for t, name in enumerate(cols["targets"]):
                frame[name] = pred[s, :, t, self._point_index]
                for q_i, q in enumerate(self.quantiles or ()):
                    frame[f"{name}_{quantile_label(q)}"] = pred[s, :, t, q_i]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def encoder_inputs(self, history: Any, *, missing: str | None = None) -> Tensor:
        """The scaled window the encoder reads to forecast from the end of each series of
        ``history``: ``(n_series, lookback, F_in)``, columns targets | past | future covariates.
        """
        self._require_fitted("encoder_inputs")
        if self.model == "ets":
            raise ConfigError(
                "this forecaster is AutoETS (chosen by model='auto'): it has no encoder"
            )
        series = self._history(history, missing)
        return self._windows(series, [np.array([len(v)]) for _, _, v in series]).past


__all__ = ["BacktestResult", "Forecaster", "format_metrics", "season_from_freq"]
