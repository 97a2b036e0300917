"""One contract for every task: fit returns the task, evaluate returns a metrics DataFrame,
save/load round-trips the predictions, the config round-trips, LSTM options reach the network,
bad options and unfitted use fail with a clear ConfigError, and a seed fixes the model."""

from __future__ import annotations

import importlib
import pathlib

import pandas as pd
import pytest

from lstmkit.errors import ConfigError
from lstmkit.nn import LSTM
from lstmkit.tasks.base import Task

HERE = pathlib.Path(__file__).parent
CASES = {
    path.parent.name: importlib.import_module(f"tests.tasks.{path.parent.name}.case").CASE
    for path in sorted(HERE.glob("*/case.py"))
}


@pytest.fixture(scope="module", params=sorted(CASES))
def fitted(request):
    case = CASES[request.param]
    task = case.make()
    returned = case.fit(task)
    return case, task, returned


def test_every_task_has_a_case():
    import lstmkit.tasks

    tasks = {getattr(lstmkit.tasks, name) for name in lstmkit.tasks.__all__}
    covered = {case.cls for case in CASES.values()}
    assert {t for t in tasks if isinstance(t, type) and issubclass(t, Task)} <= covered


def test_the_task_is_a_task(fitted):
    case, task, _ = fitted
    assert isinstance(task, Task)
    assert isinstance(task, case.cls)


def test_fit_returns_the_task(fitted):
    _, task, returned = fitted
    assert returned is task


def test_evaluate_returns_a_metrics_frame(fitted):
    case, task, _ = fitted
    metrics = case.evaluate(task)
    assert isinstance(metrics, pd.DataFrame)
    assert metrics.index[0] == "model"
    assert len(metrics.columns) > 0
    assert all(pd.api.types.is_numeric_dtype(metrics[c]) for c in metrics.columns)


def test_save_and_load_round_trip(fitted, tmp_path):
    case, task, _ = fitted
    task.save(tmp_path / "model")
    loaded = case.cls.load(tmp_path / "model")
    assert type(loaded) is case.cls
    assert loaded.get_config() == task.get_config()
    assert case.same(case.predict(loaded), case.predict(task))


def test_the_config_rebuilds_the_task(fitted):
    case, task, _ = fitted
    config = task.get_config()
    options = config.pop("lstm_options")
    again = case.cls(**config, **options)
    assert again.get_config() == task.get_config()


@pytest.mark.parametrize("name", sorted(CASES))
def test_lstm_options_reach_every_lstm(name):
    case = CASES[name]
    task = case.make(layer_norm=True)
    assert task.get_config()["lstm_options"] == {"layer_norm": True}
    case.fit(task)
    layers = [m for m in task._weights().modules() if isinstance(m, LSTM)]
    assert layers, "the task's networks hold no lstmkit LSTM"
    assert all(layer.layer_norm for layer in layers)


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_unknown_lstm_option_is_a_config_error(name):
    with pytest.raises(ConfigError, match=r"unknown option\(s\) leak_gate"):
        CASES[name].make(leak_gate=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_unfitted_task_says_to_fit_or_load(name, tmp_path):
    case = CASES[name]
    task = case.make()
    message = rf"{case.cls.__name__}\.\w+ needs a trained model: call fit\(\) or load\(\) first"
    with pytest.raises(ConfigError, match=message):
        case.predict(task)
    with pytest.raises(ConfigError, match=message):
        task.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_the_seed_fixes_the_model(fitted):
    case, task, _ = fitted
    again = case.make()
    case.fit(again)
    assert case.same(case.predict(again), case.predict(task))
