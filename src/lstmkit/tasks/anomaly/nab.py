"""The Numenta Anomaly Benchmark (NAB) score, written from Lavin & Ahmad, "Evaluating Real-time
Anomaly Detection Algorithms - the Numenta Anomaly Benchmark" (ICMLA 2015, arXiv:1510.03336) and
the NAB whitepaper.

* Every labelled anomaly window is a range of rows. A detection is a row whose anomaly score is at
  or above the threshold, outside the probationary period (the first ``min(floor(0.15 n), 750)``
  rows of a series of ``n`` rows, 0.15 * 5000 = 750), where a detector is still learning.
* Inside a window only the first detection counts: it earns ``A_tp * sigma(y) / sigma(-1)``, with
  ``y`` the relative position in the window: ``y = -(right - i + 1) / width`` (-1 at the window's
  first row, about 0 at its last) and the scaled sigmoid ``sigma(y) = 2 / (1 + exp(5 y)) - 1``
  (0.987 at the start, 0 at the end); dividing by ``sigma(-1)`` makes a detection on the first row
  of a window worth exactly ``A_tp``, as NAB's published per-row scores show (without it the
  windowed-Gaussian scores come out 0.36 points low). A window without a detection costs
  ``-A_fn``.
* A detection outside every window is a false positive: it costs ``A_fp * sigma(y)`` (negative),
  with ``y = |i - right| / (width - 1)`` measured from the right end of the window before it (so
  a detection just after a window is charged less), or ``-A_fp`` when no window lies before it
  or ``y > 3``.
* The raw score of a threshold is the sum over the corpus; each profile (``profiles.json``:
  standard, reward_low_FP_rate, reward_low_FN_rate) picks the single threshold that maximises it
  over the whole corpus; the reported score is ``100 (S - S_null) / (S_perfect - S_null)``, where
  the null detector never alarms (``S_null = -A_fn * windows``) and the perfect one scores
  ``A_tp`` per window.

Tested by reproducing the published scores of the windowed-Gaussian detector from its raw outputs
(tests/tasks/anomaly/test_nab.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.errors import DataError

PROBATION = 0.15


@dataclass(frozen=True)
class Profile:
    """The cost matrix of one NAB application profile."""

    tp: float = 1.0
    fp: float = 0.11
    fn: float = 1.0


PROFILES: dict[str, Profile] = {
    "standard": Profile(1.0, 0.11, 1.0),
    "reward_low_FP_rate": Profile(1.0, 0.22, 1.0),
    "reward_low_FN_rate": Profile(1.0, 0.11, 2.0),
}


def load_profiles(path: str | Path) -> dict[str, Profile]:
    """The profiles of NAB's ``config/profiles.json``."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    out = {}
    for name, spec in raw.items():
        m = spec["CostMatrix"]
        out[name] = Profile(float(m["tpWeight"]), float(m["fpWeight"]), float(m["fnWeight"]))
    return out


def scaled_sigmoid(y: float) -> float:
    """NAB's weight of a detection at relative position ``y`` (see the module docstring)."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


_SIGMA_START = scaled_sigmoid(-1.0)  # a detection at a window's first row earns exactly A_tp


def probationary_length(n: int, percent: float = PROBATION) -> int:
    """Rows at the start of a series of ``n`` rows whose detections are not scored."""
    return int(min(math.floor(percent * n), percent * 5000))


def window_rows(timestamps: Any, windows: Iterable[Sequence[Any]]) -> list[tuple[int, int]]:
    """Inclusive row ranges of ``windows`` (pairs of timestamps, inclusive) in ``timestamps``."""
    ts = pd.to_datetime(pd.Series(timestamps)).to_numpy()
    out = []
    for start, end in windows:
        a = int(np.searchsorted(ts, np.datetime64(pd.Timestamp(start)), side="left"))
        b = int(np.searchsorted(ts, np.datetime64(pd.Timestamp(end)), side="right")) - 1
        if b >= a:
            out.append((a, b))
    return out


def row_weights(n: int, windows: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the unweighted NAB value of a detection there (``sigma``) and the index of the
    window holding the row (-1 outside windows)."""
    weight = np.full(n, -1.0)
    window_id = np.full(n, -1, dtype=np.int64)
    ordered = sorted(windows)
    for k, (a, b) in enumerate(ordered):
        width = float(b - a + 1)
        for i in range(a, b + 1):
            weight[i] = scaled_sigmoid(-(b - i + 1) / width)
            window_id[i] = k
        stop = ordered[k + 1][0] if k + 1 < len(ordered) else n
        for i in range(b + 1, stop):
            weight[i] = scaled_sigmoid(abs(b - i) / (width - 1)) if width > 1 else -1.0
    return weight, window_id


@dataclass
class Series:
    """One scored series ready for the sweep: its name, anomaly scores and window rows."""

    name: str
    scores: np.ndarray
    windows: list[tuple[int, int]]
    probation: int = field(default=-1)

    def __post_init__(self) -> None:
        self.scores = np.asarray(self.scores, dtype=np.float64)
        if self.probation < 0:
            self.probation = probationary_length(self.scores.shape[0])


def _steps(series: Series, profile: Profile) -> tuple[np.ndarray, np.ndarray, float]:
    """The series' raw score as a step function of the threshold: ``(thresholds, scores,
    null)``: ``thresholds`` descending unique scores; ``scores[j]`` the raw score with every row
    at or above ``thresholds[j]`` a detection; ``null`` the score with none."""
    n = series.scores.shape[0]
    weight, window_id = row_weights(n, series.windows)
    p = series.probation
    s = np.nan_to_num(series.scores[p:], nan=-np.inf)
    w, k = weight[p:], window_id[p:]
    order = np.argsort(-s, kind="stable")
    best = np.full(len(series.windows), -profile.fn)
    null = float(best.sum())
    current = null
    thresholds: list[float] = []
    totals: list[float] = []
    sv, wv, kv = s[order], w[order], k[order]
    for j in range(order.shape[0]):
        if kv[j] < 0:
            current += profile.fp * wv[j]
        else:
            value = profile.tp * wv[j] / _SIGMA_START
            if value > best[kv[j]]:
                current += value - best[kv[j]]
                best[kv[j]] = value
        if j + 1 == order.shape[0] or sv[j + 1] != sv[j]:
            thresholds.append(float(sv[j]))
            totals.append(current)
    return np.asarray(thresholds), np.asarray(totals), null


def _raw_at(steps: tuple[np.ndarray, np.ndarray, float], threshold: np.ndarray) -> np.ndarray:
    thresholds, totals, null = steps
    # thresholds descend: count of thresholds >= t gives the last group included
    count = np.searchsorted(-thresholds, -np.asarray(threshold), side="right")
    out = np.full(np.shape(threshold), null, dtype=np.float64)
    hit = count > 0
    out[hit] = totals[count[hit] - 1]
    return out


@dataclass
class NabResult:
    """Scores of one detector on a corpus: ``totals`` (one row per profile: threshold, raw, null,
    perfect, score) and ``per_series`` (one row per series and profile, at that threshold)."""

    totals: pd.DataFrame
    per_series: pd.DataFrame

    def score(self, profile: str = "standard") -> float:
        return float(self.totals.loc[profile, "score"])


def detections_at(series: Series, threshold: float) -> np.ndarray:
    """The rows a threshold turns into scored detections (after the probationary period)."""
    flags = np.nan_to_num(series.scores, nan=-np.inf) >= threshold
    flags[: series.probation] = False
    return flags


def score_corpus(
    corpus: Sequence[Series],
    profiles: Mapping[str, Profile] | None = None,
    *,
    threshold: float | None = None,
) -> NabResult:
    """NAB scores of ``corpus`` per profile; with ``threshold=None`` each profile's threshold is
    the one that maximises its raw score over the corpus (NAB's sweep), else the given one."""
    if not corpus:
        raise DataError("the NAB corpus holds no series")
    profiles = dict(profiles or PROFILES)
    n_windows = sum(len(s.windows) for s in corpus)
    totals, rows = {}, []
    for name, profile in profiles.items():
        steps = [_steps(s, profile) for s in corpus]
        if threshold is None:
            cands = np.unique(np.concatenate([st[0] for st in steps] + [np.array([np.inf])]))
            raw = sum(_raw_at(st, cands) for st in steps)
            best = int(np.argmax(raw[::-1]))  # ties: the highest threshold (fewest alarms)
            t = float(cands[::-1][best])
        else:
            t = float(threshold)
        per = [float(_raw_at(st, np.array([t]))[0]) for st in steps]
        raw_total = float(sum(per))
        null = -profile.fn * n_windows
        perfect = profile.tp * n_windows
        score = 100.0 * (raw_total - null) / (perfect - null) if perfect != null else 0.0
        totals[name] = {
            "threshold": t,
            "raw": raw_total,
            "null": null,
            "perfect": perfect,
            "score": score,
        }
        for s, r in zip(corpus, per, strict=True):
            flags = detections_at(s, t)
            rows.append(
                {
                    "series": s.name,
                    "profile": name,
                    "raw": r,
                    "windows": len(s.windows),
                    "detections": int(flags.sum()),
                }
            )
    frame = pd.DataFrame.from_dict(totals, orient="index")
    frame.index.name = "profile"
    return NabResult(totals=frame, per_series=pd.DataFrame(rows))


# --- the NAB data folder --------------------------------------------------------------------


def series_names(nab_dir: str | Path) -> list[str]:
    """The relative paths (``realKnownCause/nyc_taxi.csv``, ...) of the labelled series."""
    labels = _windows(nab_dir)
    return sorted(labels)


def _windows(nab_dir: str | Path) -> dict[str, list[list[str]]]:
    path = Path(nab_dir) / "labels" / "combined_windows.json"
    if not path.is_file():
        raise DataError(f"{nab_dir} is not a NAB folder: {path} does not exist")
    return json.loads(path.read_text(encoding="utf-8"))


def read_series(nab_dir: str | Path, name: str) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """One NAB data file (``timestamp``, ``value``) and its window rows."""
    frame = pd.read_csv(Path(nab_dir) / "data" / name)
    windows = window_rows(frame["timestamp"], _windows(nab_dir)[name])
    return frame, windows


def read_results(
    nab_dir: str | Path, detector: str, names: Sequence[str] | None = None
) -> list[Series]:
    """A detector's raw NAB outputs (``results/<detector>/<dir>/<detector>_<file>``: columns
    ``timestamp`` and ``anomaly_score``) as a corpus."""
    windows = _windows(nab_dir)
    corpus = []
    for name in names or sorted(windows):
        folder, file = name.split("/")
        path = Path(nab_dir) / "results" / detector / folder / f"{detector}_{file}"
        frame = pd.read_csv(path, usecols=["timestamp", "anomaly_score"])
        rows = window_rows(frame["timestamp"], windows[name])
        corpus.append(Series(name, frame["anomaly_score"].to_numpy(np.float64), rows))
    return corpus


__all__ = [
    "PROFILES",
    "NabResult",
    "Profile",
    "Series",
    "detections_at",
    "load_profiles",
    "probationary_length",
    "read_results",
    "read_series",
    "row_weights",
    "scaled_sigmoid",
    "score_corpus",
    "series_names",
    "window_rows",
]
