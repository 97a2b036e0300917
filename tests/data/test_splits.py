import pytest
import torch

from lstmkit.data import (
    make_scaler,
    sliding_windows,
    split_window_starts,
    split_windows,
    temporal_split,
)
from lstmkit.errors import ConfigError, DataError, ShapeError


def test_sizes_fraction_and_rows():
    s = temporal_split(100, lookback=10, horizon=5)
    assert (s.train, s.val, s.test) == (slice(0, 70), slice(70, 85), slice(85, 100))
    s = temporal_split(100, lookback=10, horizon=5, val_size=20, test_size=0)
    assert (s.train, s.val, s.test) == (slice(0, 80), slice(80, 100), slice(100, 100))
    assert s.n == 100 and (s.lookback, s.horizon) == (10, 5)


def test_fraction_smaller_than_horizon_is_raised_to_horizon():
    s = temporal_split(50, lookback=4, horizon=12, val_size=0.1, test_size=0.1)
    assert s.val.stop - s.val.start == 12 and s.test.stop - s.test.start == 12


@pytest.mark.parametrize(
    "n,lookback,horizon,val,test",
    [(100, 10, 5, 0.15, 0.15), (61, 7, 3, 9, 0.2), (40, 3, 4, 0.0, 0.25), (200, 24, 12, 30, 30)],
)
@pytest.mark.parametrize("stride", [1, 3])
def test_no_window_leaks_across_a_boundary(n, lookback, horizon, val, test, stride):
    s = temporal_split(n, lookback=lookback, horizon=horizon, val_size=val, test_size=test)
    values = torch.arange(float(n)).unsqueeze(1)  # each value is its own row index
    parts = split_windows(values, s, stride=stride)
    starts = split_window_starts(s, stride=stride)
    # train: inputs AND targets before val start
    x, y = parts["train"]
    assert x.shape[0] > 0
    assert x.max() < s.val.start and y.max() < s.val.start
    assert y.max() < s.train.stop and x.min() >= s.train.start
    for name in ("val", "test"):
        part = s.part(name)
        x, y = parts[name]
        assert x.shape[1:] == (lookback, 1) and y.shape[1:] == (horizon, 1)
        if part.stop > part.start:
            assert x.shape[0] > 0
            # targets inside the part; inputs are history: before the targets, never after
            assert y.min() >= part.start and y.max() < part.stop
            assert torch.all(x.amax(dim=(1, 2)) < y.amin(dim=(1, 2)))
        else:
            assert x.shape[0] == 0 and y.shape[0] == 0
        # windows match the global sliding windows at the reported starts
        for w, st in enumerate(starts[name].tolist()):
            assert x[w, 0, 0] == st and y[w, 0, 0] == st + lookback
    # fit rows are exactly the train rows
    fit = s.fit_rows()
    assert fit.start == s.train.start == 0 and fit.stop == s.train.stop <= s.val.start


def test_first_val_window_follows_last_train_window():
    s = temporal_split(100, lookback=10, horizon=5)
    parts = split_windows(torch.arange(100.0).unsqueeze(1), s)
    assert parts["train"][1][-1, -1, 0] == s.train.stop - 1
    assert parts["val"][1][0, 0, 0] == s.val.start  # every val target row is covered
    assert parts["val"][0][0, 0, 0] == s.val.start - 10  # inputs reach back into train
    assert parts["test"][1][-1, -1, 0] == 99


def test_split_windows_are_views():
    values = torch.randn(100, 3)
    parts = split_windows(values, temporal_split(100, lookback=8, horizon=2))
    for x, y in parts.values():
        assert x.untyped_storage().data_ptr() == values.untyped_storage().data_ptr()
        assert y.untyped_storage().data_ptr() == values.untyped_storage().data_ptr()


def test_scaler_fitted_on_train_rows_differs_from_all_rows_for_a_trend():
    values = torch.linspace(0.0, 10.0, 100).unsqueeze(1)  # trending: the future is larger
    s = temporal_split(100, lookback=5, horizon=1)
    on_train = make_scaler("minmax").fit(values[s.fit_rows()])
    on_all = make_scaler("minmax").fit(values)
    assert on_train.max_[0] < on_all.max_[0]
    assert on_train.max_[0] == pytest.approx(values[s.train.stop - 1, 0].item())
    scaled = on_train.transform(values)
    assert scaled[s.fit_rows()].max() == pytest.approx(1.0)
    assert scaled[s.test].min() > 1.0  # test values lie beyond anything seen in training
    std_train = make_scaler("standard").fit(values[s.fit_rows()])
    std_all = make_scaler("standard").fit(values)
    assert std_train.mean_[0] < std_all.mean_[0]


def test_too_short_series_says_minimum_length():
    with pytest.raises(DataError, match=r"too short.*the minimum length is 20"):
        temporal_split(19, lookback=6, horizon=2, val_size=6, test_size=6)
    # a hand-made split whose train part is too short
    from lstmkit.data import TemporalSplit

    bad = TemporalSplit(slice(0, 3), slice(3, 10), slice(10, 10), lookback=4, horizon=2)
    with pytest.raises(DataError, match=r"train part has 3 rows.*minimum series length is 13"):
        split_windows(torch.zeros(10, 1), bad)


def test_bad_sizes_and_shapes():
    with pytest.raises(ConfigError, match=r"val_size=3 rows is fewer than horizon=5"):
        temporal_split(100, lookback=4, horizon=5, val_size=3)
    with pytest.raises(ConfigError, match=r"test_size as a fraction must be in \[0, 1\)"):
        temporal_split(100, lookback=4, horizon=5, test_size=1.5)
    with pytest.raises(ConfigError, match=r"val_size must be >= 0"):
        temporal_split(100, lookback=4, horizon=5, val_size=-1)
    with pytest.raises(ConfigError, match="lookback must be a positive int"):
        temporal_split(100, lookback=0, horizon=5)
    with pytest.raises(ShapeError, match="split was made for 100 rows"):
        split_windows(torch.zeros(90, 1), temporal_split(100, lookback=4, horizon=5))


def test_matches_plain_sliding_windows_on_train():
    values = torch.randn(50, 2)
    s = temporal_split(50, lookback=5, horizon=3, val_size=0.2, test_size=0.2)
    x, y = split_windows(values, s, stride=2)["train"]
    ex, ey = sliding_windows(values[s.train], 5, 3, 2)
    assert torch.equal(x, ex) and torch.equal(y, ey)
