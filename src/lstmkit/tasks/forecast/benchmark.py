"""Rolling-origin benchmark of forecasters against the statisticians' baselines, over many series.

For each series (a CSV of a time column and one value column) the last ``origins`` forecast
origins, ``stride`` steps apart, are held out. Every method is fitted once on the rows before the
first origin and forecasts ``horizon`` steps from each origin with no refit in between (the LSTM
methods read the actual history up to each origin; the statistical ones apply their fitted
parameters to it). Scores per series and method: MASE (scaled by the in-sample seasonal-naive MAE
of the rows before the first origin), sMAPE, the coverage of the 80 % interval where the method has
one, and fit and predict seconds. Methods with a seed run once per seed; the table shows the mean
and the seed spread (max - min over seeds, divided by the mean).

:func:`run_benchmark` returns the results; :func:`benchmark_markdown` renders them;
``lstmkit forecast benchmark`` writes both (FORECASTING.md and a JSON).
"""

from __future__ import annotations

import logging
import math
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.errors import DataError
from lstmkit.tasks.forecast import statistical as forecast_stats
from lstmkit.tasks.forecast.baselines import naive_forecast, seasonal_naive_forecast
from lstmkit.tasks.forecast.metrics import mase, seasonal_naive_scale, smape

log = logging.getLogger(__name__)

# Forecast horizon by season length when none is given: a year of months, two of quarters, ...
HORIZONS = {12: 12, 4: 8, 1: 10, 7: 14, 24: 24, 52: 13, 5: 10, 60: 30}
INTERVAL = (0.1, 0.9)  # the 80 % interval that coverage is measured on

# The LSTM methods: name -> Forecaster keyword arguments. "default" is the Forecaster as a user
# gets it (the hybrid averaged with exponential smoothing, quantiles 0.1/0.5/0.9), so the table
# measures exactly that; "hybrid" and "lstm" are networks alone, to show what each half brings.
LSTM_METHODS: dict[str, dict[str, Any]] = {
    "default": {},
    "hybrid": {"combine": "none"},
    "lstm": {"model": "lstm", "combine": "none"},
    "auto": {"model": "auto"},
}
BASELINES = ("naive", "seasonal_naive", "ets", "arima", "theta")


@dataclass
class SeriesSpec:
    """One benchmark series: where it is, its columns, season and horizon."""

    name: str
    path: str
    time_col: str
    target: str
    season: int
    horizon: int
    n: int


@dataclass
class MethodResult:
    """One method on one series, over its seeds (one entry per seed; one for seedless methods)."""

    mase: list[float] = field(default_factory=list)
    smape: list[float] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)
    fit_seconds: list[float] = field(default_factory=list)
    predict_seconds: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def mean_mase(self) -> float:
        return float(np.mean(self.mase)) if self.mase else math.nan

    @property
    def spread(self) -> float:
        """(max - min) / mean of MASE over seeds; 0 for one run."""
        if len(self.mase) < 2 or not np.all(np.isfinite(self.mase)):
            return 0.0 if len(self.mase) < 2 else math.nan
        return float((max(self.mase) - min(self.mase)) / np.mean(self.mase))


@dataclass
class BenchmarkResult:
    series: list[SeriesSpec]
    methods: list[str]
    results: dict[str, dict[str, MethodResult]]  # series name -> method -> result
    settings: dict[str, Any]

    def mean_mase(self, method: str) -> float:
        values = [self.results[s.name][method].mean_mase for s in self.series]
        return float(np.mean(values)) if values else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "series": [asdict(s) for s in self.series],
            "methods": self.methods,
            "results": {
                s: {m: asdict(r) for m, r in per.items()} for s, per in self.results.items()
            },
            "mean_mase": {m: self.mean_mase(m) for m in self.methods},
        }


def series_spec(
    path: str | Path, *, horizon: int | None = None, season: int | None = None
) -> SeriesSpec:
    """Read a benchmark CSV: its first column is the time, the first numeric column after it the
    target; season from the frequency (or the autocorrelation), horizon from the season."""
    from lstmkit.data import read_table
    from lstmkit.tasks.forecast.task import detect_season, season_from_freq

    path = Path(path)
    frame = pd.read_csv(path)
    if frame.shape[1] < 2:
        raise DataError(f"{path}: a benchmark series needs a time column and a value column")
    time_col = str(frame.columns[0])
    numeric = [c for c in frame.columns[1:] if pd.api.types.is_numeric_dtype(frame[c])]
    if not numeric:
        raise DataError(f"{path}: no numeric column after the time column {time_col!r}")
    target = str(numeric[0])
    table = read_table(frame, time_col=time_col, targets=target)
    if season is None:
        season = season_from_freq(table.freq)
        if season is None:
            values = frame[target].to_numpy(np.float64)
            season = detect_season(values[: int(len(values) * 0.7)])
    if horizon is None:
        horizon = HORIZONS.get(season, 10)
    return SeriesSpec(
        name=path.stem,
        path=str(path),
        time_col=time_col,
        target=target,
        season=int(season),
        horizon=int(horizon),
        n=len(frame),
    )


def origins_of(n: int, horizon: int, origins: int, stride: int) -> np.ndarray:
    """The last ``origins`` forecast origins of a series of ``n`` rows, ``stride`` apart."""
    return n - horizon - stride * np.arange(origins - 1, -1, -1)


def _score(
    y: np.ndarray,
    org: np.ndarray,
    horizon: int,
    scale: float,
    point: np.ndarray,
    lo: np.ndarray | None = None,
    hi: np.ndarray | None = None,
) -> tuple[float, float, float]:
    actual = y[org[:, None] + np.arange(horizon)[None, :]]
    cover = math.nan
    if lo is not None and hi is not None and np.all(np.isfinite(lo)):
        cover = float(((actual >= lo) & (actual <= hi)).mean())
    if not np.all(np.isfinite(point)):
        return math.nan, math.nan, cover
    return mase(actual, point, scale), smape(actual, point), cover


def _lstm_run(
    spec: SeriesSpec,
    frame: pd.DataFrame,
    org: np.ndarray,
    options: dict[str, Any],
    seed: int,
    train_options: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, float, float]:
    from lstmkit.tasks.forecast.task import Forecaster, quantile_label

    start = time.perf_counter()
    model = Forecaster(horizon=spec.horizon, season=spec.season, **options)
    train = frame.iloc[: int(org[0])]
    model.fit(
        train,
        time_col=spec.time_col,
        targets=spec.target,
        seed=seed,
        enable_progress_bar=False,
        **train_options,
    )
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    points, lows, highs = [], [], []
    for o in org:
        pred = model.predict(frame.iloc[: int(o)])
        points.append(pred[spec.target].to_numpy(np.float64))
        if model.quantiles:
            lows.append(pred[f"{spec.target}_{quantile_label(model.quantiles[0])}"].to_numpy())
            highs.append(pred[f"{spec.target}_{quantile_label(model.quantiles[-1])}"].to_numpy())
    predict_seconds = (time.perf_counter() - start) / len(org)
    lo = np.stack(lows) if lows else None
    hi = np.stack(highs) if highs else None
    return np.stack(points), lo, hi, fit_seconds, predict_seconds


def series_files(paths: Sequence[str | Path]) -> list[Path]:
    """The CSV files to benchmark: each path that is a file, and every ``*.csv`` of each path
    that is a directory (sorted); a missing path or a directory without one is a DataError."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob("*.csv"))
            if not found:
                raise DataError(f"{path} is a directory with no *.csv file to benchmark")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DataError(f"{path}: no such file or directory")
    return files


def run_benchmark(
    paths: Sequence[str | Path],
    *,
    methods: dict[str, dict[str, Any]] | None = None,
    baselines: Sequence[str] = BASELINES,
    seeds: Sequence[int] = (0, 1, 2),
    origins: int = 3,
    horizon: int | None = None,
    train_options: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Benchmark ``methods`` (name -> Forecaster options) and ``baselines`` on every series.

    ``origins`` forecast origins per series, ``ceil(horizon / 2)`` steps apart, the last at
    ``n - horizon``. ``horizon`` overrides each series' default (from its season).
    """
    methods = dict(LSTM_METHODS if methods is None else methods)
    train_options = dict(train_options or {})
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise DataError(f"unknown baseline(s) {unknown}; known: {list(BASELINES)}")
    specs = [series_spec(p, horizon=horizon) for p in paths]
    stats_ok = forecast_stats.available()
    names = [*methods, *baselines]
    results: dict[str, dict[str, MethodResult]] = {}
    for spec in specs:
        frame = pd.read_csv(spec.path)
        y = frame[spec.target].to_numpy(np.float64)
        stride = max(1, math.ceil(spec.horizon / 2))
        org = origins_of(spec.n, spec.horizon, origins, stride)
        scale = float(seasonal_naive_scale(y[: org[0]], spec.season)[0])
        per: dict[str, MethodResult] = {}
        for name, options in methods.items():
            res = MethodResult()
            for seed in seeds:
                point, lo, hi, fit_s, pred_s = _lstm_run(
                    spec, frame, org, options, seed, train_options
                )
                m, s, c = _score(y, org, spec.horizon, scale, point, lo, hi)
                res.mase.append(m)
                res.smape.append(s)
                res.coverage.append(c)
                res.fit_seconds.append(fit_s)
                res.predict_seconds.append(pred_s)
                if progress:
                    progress(f"{spec.name}  {name}  seed {seed}: MASE {m:.3f}  fit {fit_s:.1f} s")
            per[name] = res
        statistical = [b for b in baselines if b in forecast_stats.MODELS]
        stat_out: dict[str, Any] = {}
        if statistical and stats_ok:
            for b in statistical:
                start = time.perf_counter()
                stat_out[b] = forecast_stats.statistical_forecasts(
                    y, org, spec.horizon, spec.season, models=(b,)
                )[b]
                stat_out[b]["seconds"] = time.perf_counter() - start
        for b in baselines:
            res = MethodResult()
            if b == "naive":
                point, lo, hi = naive_forecast(y, org, spec.horizon), None, None
            elif b == "seasonal_naive":
                point = seasonal_naive_forecast(y, org, spec.horizon, spec.season)
                lo = hi = None
            elif not stats_ok:
                res.note = forecast_stats.MISSING_NOTE
                per[b] = res
                continue
            else:
                point, lo, hi = stat_out[b]["mean"], stat_out[b]["lo"], stat_out[b]["hi"]
                res.fit_seconds.append(stat_out[b]["seconds"])
            m, s, c = _score(y, org, spec.horizon, scale, point, lo, hi)
            res.mase.append(m)
            res.smape.append(s)
            res.coverage.append(c)
            per[b] = res
        results[spec.name] = per
        if progress:
            summary = ", ".join(f"{k} {v.mean_mase:.3f}" for k, v in per.items())
            progress(f"{spec.name}: {summary}")
    settings = {
        "origins": origins,
        "stride": "ceil(horizon / 2)",
        "seeds": list(seeds),
        "methods": methods,
        "train_options": train_options,
        "interval": list(INTERVAL),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }
    return BenchmarkResult(series=specs, methods=names, results=results, settings=settings)


def _fmt(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def benchmark_markdown(result: BenchmarkResult, *, command: str = "") -> str:
    """FORECASTING.md: the summary over all series, then one table per series."""
    methods = result.methods
    lines = ["# Forecasting benchmark", ""]
    if command:
        lines += ["Reproduce with:", "", "```bash", command, "```", ""]
    s = result.settings
    lines += [
        f"Rolling origin: {s['origins']} origins per series, {s['stride']} steps apart, the last "
        "at n - horizon; every method is fitted once on the rows before the first origin and "
        "not refitted between origins. MASE is scaled by the in-sample seasonal-naive MAE of "
        f"those rows. LSTM methods ran with seeds {s['seeds']}: mean MASE, and the seed spread "
        "(max - min over seeds, divided by the mean). Coverage: share of actual values inside "
        f"the {s['interval'][0]:g}-{s['interval'][1]:g} interval (nominal 80 %).",
        "",
        "## Mean MASE over the series (lower is better)",
        "",
        "| method | mean MASE | series where it beats seasonal naive |",
        "|---|---|---|",
    ]
    for m in methods:
        wins = sum(
            result.results[x.name][m].mean_mase < result.results[x.name]["seasonal_naive"].mean_mase
            for x in result.series
            if "seasonal_naive" in result.results[x.name]
        )
        note = next((r.note for per in result.results.values() if (r := per[m]).note), "")
        mean = _fmt(result.mean_mase(m)) + (f" ({note})" if note else "")
        lines.append(f"| {m} | {mean} | {wins}/{len(result.series)} |")
    best = min(methods, key=lambda m: np.nan_to_num(result.mean_mase(m), nan=np.inf))
    lines += ["", f"Best mean MASE: **{best}**.", ""]
    for spec in result.series:
        per = result.results[spec.name]
        lines += [
            f"## {spec.name}",
            "",
            f"{spec.n} rows, season {spec.season}, horizon {spec.horizon}.",
            "",
            "| method | MASE | seed spread | sMAPE | coverage 80% | fit s | predict s |",
            "|---|---|---|---|---|---|---|",
        ]
        for m in methods:
            r = per[m]
            if r.note:
                lines.append(f"| {m} | {r.note} | | | | | |")
                continue
            fit_s = _fmt(float(np.mean(r.fit_seconds)), 2) if r.fit_seconds else "-"
            pred_s = _fmt(float(np.mean(r.predict_seconds)), 3) if r.predict_seconds else "-"
            spread = f"{100 * r.spread:.1f} %" if len(r.mase) > 1 else "-"
            covered = np.asarray(r.coverage, dtype=np.float64)
            covered = covered[np.isfinite(covered)]
            cover = float(covered.mean()) if covered.size else None
            lines.append(
                f"| {m} | {_fmt(r.mean_mase)} | {spread} | {_fmt(float(np.mean(r.smape)), 2)} | "
                f"{_fmt(cover, 2)} | {fit_s} | {pred_s} |"
            )
        lines.append("")
    return "\n".join(lines)


__all__ = [
    "BASELINES",
    "LSTM_METHODS",
    "BenchmarkResult",
    "MethodResult",
    "SeriesSpec",
    "benchmark_markdown",
    "run_benchmark",
    "series_files",
    "series_spec",
]
