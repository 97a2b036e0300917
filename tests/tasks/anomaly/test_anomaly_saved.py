"""Detectors saved before the Task refactor (issue 18) still load and give the same scores,
flags, intervals and metrics (tests/tasks/anomaly/data/)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmkit.tasks.anomaly import AnomalyDetector

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", ["prediction-v0", "zscore-v0"])
def test_a_saved_detector_scores_as_before(name):
    expected = json.loads((DATA / name / "expected.json").read_text(encoding="utf-8"))
    det = AnomalyDetector.load(DATA / name / "model")
    assert det.threshold_ == pytest.approx(expected["threshold"], rel=1e-12)
    frame = pd.read_csv(DATA / "series.csv")
    result = det.detect(frame)
    want = np.array([np.nan if v is None else v for v in expected["score"]])
    np.testing.assert_allclose(result.scores["score"], want, rtol=1e-6, atol=1e-9)
    assert result.scores["is_anomaly"].astype(int).tolist() == expected["is_anomaly"]
    assert result.intervals[["start_row", "end_row"]].values.tolist() == expected["intervals"]
    labels = pd.read_csv(DATA / "labels.csv")
    views = det.evaluate_views(result, labels)
    metrics = det.evaluate(frame, labels)
    for view, values in expected["views"].items():
        for key, value in values.items():
            assert views.loc[view, key] == pytest.approx(value), (view, key)
            assert metrics.loc["model", f"{view}_{key}"] == pytest.approx(value), (view, key)
