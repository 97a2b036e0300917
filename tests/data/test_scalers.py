import json

import numpy as np
import pytest
import torch

from lstmkit.data import (
    MinMaxScaler,
    NotFittedError,
    StandardScaler,
    make_scaler,
    scaler_from_dict,
)
from lstmkit.errors import ConfigError, DataError, ShapeError

KINDS = ["minmax", "standard"]


def data(n=40, f=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, f)) * np.array([1.0, 10.0, 0.1]) + np.array([0.0, 5.0, -3.0])


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_numpy_and_torch(kind):
    x = data()
    scaler = make_scaler(kind).fit(x)
    y = scaler.transform(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float64 and y.shape == x.shape
    np.testing.assert_allclose(scaler.inverse_transform(y), x, rtol=1e-12, atol=1e-12)
    t = torch.tensor(x, dtype=torch.float32)
    ty = scaler.transform(t)
    assert isinstance(ty, torch.Tensor) and ty.dtype == torch.float32
    torch.testing.assert_close(scaler.inverse_transform(ty), t, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ty.numpy(), y, rtol=1e-5, atol=1e-5)
    # (..., F): windows of shape (W, T, F) work too
    w = t.reshape(4, 10, 3)
    torch.testing.assert_close(scaler.transform(w).reshape(40, 3), ty)


def test_minmax_maps_training_range_to_unit_interval():
    x = data()
    y = MinMaxScaler().fit(x).transform(x)
    np.testing.assert_allclose(y.min(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.max(axis=0), 1.0, atol=1e-12)


def test_standard_gives_zero_mean_unit_std():
    x = data()
    y = StandardScaler().fit(x).transform(x)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1.0, atol=1e-12)


def test_fit_on_train_rows_only():
    x = np.arange(100.0).reshape(50, 2)
    train = x[:30]
    scaler = MinMaxScaler().fit(train)
    np.testing.assert_allclose(scaler.min_, train.min(axis=0))
    np.testing.assert_allclose(scaler.max_, train.max(axis=0))
    assert (scaler.transform(x[30:]) > 1.0).all()  # later rows fall outside [0, 1]: no peeking


@pytest.mark.parametrize("kind", KINDS)
def test_constant_columns_do_not_divide_by_zero(kind):
    x = np.column_stack([np.full(10, 7.0), np.arange(10.0)])
    scaler = make_scaler(kind).fit(x)
    y = scaler.transform(x)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y[:, 0], 0.0)
    np.testing.assert_allclose(scaler.inverse_transform(y), x)
    if kind == "standard":
        assert scaler.std_[0] == 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_to_dict_json_round_trip(kind):
    x = data()
    x[:, 2] = 4.0  # a constant column survives the trip too
    scaler = make_scaler(kind).fit(x)
    d = json.loads(json.dumps(scaler.to_dict()))
    assert d["kind"] == kind
    assert all(isinstance(v, float) for key, vals in d.items() if key != "kind" for v in vals)
    for restored in (scaler_from_dict(d), type(scaler).from_dict(d)):
        assert type(restored) is type(scaler)
        np.testing.assert_array_equal(restored.transform(x), scaler.transform(x))
        np.testing.assert_array_equal(restored.inverse_transform(x), scaler.inverse_transform(x))
        assert restored.to_dict() == scaler.to_dict()


def test_make_scaler_unknown_kind():
    with pytest.raises(
        ConfigError, match=r"unknown scaler kind 'robust'; expected one of \['minmax', 'standard'\]"
    ):
        make_scaler("robust")


def test_from_dict_errors():
    with pytest.raises(ConfigError, match="its 'kind' must be one of"):
        scaler_from_dict({"kind": "nope"})
    with pytest.raises(ConfigError, match="needs kind='minmax', got 'standard'"):
        MinMaxScaler.from_dict({"kind": "standard", "mean": [0.0], "std": [1.0]})
    with pytest.raises(ConfigError, match=r"lacks \['max'\]"):
        scaler_from_dict({"kind": "minmax", "min": [0.0]})
    with pytest.raises(ConfigError, match="equal-length"):
        scaler_from_dict({"kind": "standard", "mean": [0.0, 1.0], "std": [1.0]})


@pytest.mark.parametrize("kind", KINDS)
def test_use_before_fit_is_a_clear_error(kind):
    scaler = make_scaler(kind)
    for call in (scaler.transform, scaler.inverse_transform):
        with pytest.raises(
            NotFittedError, match=r"called before fit: call fit\(train_values\) first"
        ):
            call(np.zeros((2, 1)))
    with pytest.raises(NotFittedError, match="to_dict called before fit"):
        scaler.to_dict()
    assert isinstance(NotFittedError("x"), ConfigError)


def test_bad_values():
    scaler = MinMaxScaler().fit(np.zeros((3, 2)))
    with pytest.raises(ShapeError, match=r"fitted on 2 feature\(s\).*got shape \(3, 5\)"):
        scaler.transform(np.zeros((3, 5)))
    with pytest.raises(ShapeError, match="numpy array or torch tensor"):
        scaler.transform([[1.0, 2.0]])
    with pytest.raises(DataError, match="non-finite values: column 1 of row 2 is nan"):
        MinMaxScaler().fit(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, np.nan]]))
    with pytest.raises(DataError, match="cannot fit a scaler on 0 rows"):
        StandardScaler().fit(np.zeros((0, 2)))
    with pytest.raises(ShapeError, match=r"reshape one feature to \(N, 1\)"):
        StandardScaler().fit(np.zeros(5))


def test_integer_input_becomes_float():
    scaler = MinMaxScaler().fit(np.array([[0], [4]]))
    assert scaler.transform(np.array([[2]])).tolist() == [[0.5]]
    assert scaler.transform(torch.tensor([[2]])).dtype == torch.get_default_dtype()
