import numpy as np
import pytest
import torch

from lstmkit.data import n_windows, sliding_windows, window_starts
from lstmkit.errors import ConfigError, DataError


def series(n, f=2):
    return torch.arange(n * f, dtype=torch.float32).reshape(n, f)


def test_exact_windows_of_a_small_arange_series():
    values = torch.arange(10.0).unsqueeze(1)  # row i holds i
    x, y = sliding_windows(values, lookback=3, horizon=2, stride=2)
    assert x.shape == (3, 3, 1) and y.shape == (3, 2, 1)  # W = (10 - 5) // 2 + 1
    assert x[..., 0].tolist() == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    assert y[..., 0].tolist() == [[3, 4], [5, 6], [7, 8]]
    assert window_starts(10, 3, 2, 2).tolist() == [0, 2, 4]


@pytest.mark.parametrize(
    "n,lookback,horizon,stride",
    [(5, 4, 1, 1), (12, 3, 2, 1), (12, 3, 2, 4), (30, 7, 5, 3), (9, 1, 1, 10)],
)
def test_window_rows_follow_the_definition(n, lookback, horizon, stride):
    values = series(n)
    x, y = sliding_windows(values, lookback, horizon, stride)
    starts = window_starts(n, lookback, horizon, stride)
    expected = (n - lookback - horizon) // stride + 1
    assert (
        x.shape[0]
        == y.shape[0]
        == len(starts)
        == expected
        == n_windows(n, lookback, horizon, stride)
    )
    for w, s in enumerate(starts.tolist()):
        assert s == w * stride
        assert torch.equal(x[w], values[s : s + lookback])
        assert torch.equal(y[w], values[s + lookback : s + lookback + horizon])


def test_windows_are_views_sharing_storage():
    values = series(20)
    x, y = sliding_windows(values, 4, 3)
    assert x.untyped_storage().data_ptr() == values.untyped_storage().data_ptr()
    assert y.untyped_storage().data_ptr() == values.untyped_storage().data_ptr()
    assert x._base is not None and y._base is not None
    values[5, 1] = -1.0  # a write to the series shows through every window that covers row 5
    assert x[2, 3, 1] == -1.0 and y[0, 1, 1] == -1.0


def test_one_dimensional_and_numpy_input():
    x, y = sliding_windows(torch.arange(6.0), 2, 1)
    assert x.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]] and y.tolist() == [[2], [3], [4], [5]]
    arr = np.arange(12.0).reshape(6, 2)
    x, _ = sliding_windows(arr, 2, 1)
    arr[0, 0] = 99.0
    assert x[0, 0, 0] == 99.0  # shares memory with the numpy array


def test_exactly_minimum_length_gives_one_window():
    x, y = sliding_windows(series(5), 3, 2)
    assert x.shape[0] == y.shape[0] == 1


def test_too_short_series_names_minimum_and_length():
    with pytest.raises(DataError, match=r"4 rows is too short.*lookback \+ horizon = 3 \+ 2 = 5"):
        sliding_windows(series(4), 3, 2)
    with pytest.raises(DataError, match="at least"):
        window_starts(4, 3, 2)
    assert n_windows(4, 3, 2) == 0


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"lookback": 0}, "lookback"),
        ({"horizon": 0}, "horizon"),
        ({"stride": 0}, "stride"),
        ({"lookback": 2.5}, "lookback"),
        ({"horizon": True}, "horizon"),
    ],
)
def test_bad_window_options_are_config_errors(kwargs, name):
    args = {"lookback": 3, "horizon": 2, "stride": 1, **kwargs}
    with pytest.raises(ConfigError, match=rf"{name} must be a positive int"):
        sliding_windows(series(10), **args)
    with pytest.raises(ConfigError, match=rf"{name} must be a positive int"):
        window_starts(10, **args)
