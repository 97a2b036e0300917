"""Small synthetic series for the task tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def monthly_frame(n: int = 120, *, seed: int = 0, start: str = "2000-01-01") -> pd.DataFrame:
    """A monthly series with a yearly cycle, a trend and noise, plus two covariates."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = np.sin(2 * np.pi * t / 12)
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=n, freq="MS"),
            "y": 10 + 3 * season + 0.02 * t + 0.3 * rng.standard_normal(n),
            "y2": 5 - 2 * season + 0.3 * rng.standard_normal(n),
            "temp": season + 0.1 * rng.standard_normal(n),
            "promo": (t % 6 == 0).astype(float),
        }
    )


@pytest.fixture
def monthly() -> pd.DataFrame:
    return monthly_frame()


TINY = {"max_epochs": 2, "enable_progress_bar": False, "batch_size": 32}
