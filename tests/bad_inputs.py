"""The machinery of the bad-input corpus (tests/test_bad_inputs_api.py and _tasks.py):
a case is a call that must raise a given exception whose message names the bad value or the
argument. Tiny models are fitted once per module (``tests/tasks/*/case.py``, lazily: a case only
fits the model it uses). Cases that fail in files this suite's authors do not own are
xfail(strict=True), with the file to fix in the reason.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.errors import LstmkitError

# --- the fitted tiny models, shared by every case ---------------------------------------------


class Models:
    """Each tiny model of the task contract, fitted on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def _fit(case_module: str) -> Any:
        import importlib

        case = importlib.import_module(case_module).CASE
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return case.fit(case.make())

    @cached_property
    def forecaster(self) -> Any:
        return self._fit("tests.tasks.forecast.case")

    @cached_property
    def classifier(self) -> Any:
        return self._fit("tests.tasks.classify.case")

    @cached_property
    def language_model(self) -> Any:
        return self._fit("tests.tasks.language_model.case")

    @cached_property
    def tagger(self) -> Any:
        return self._fit("tests.tasks.tagging.case")

    @cached_property
    def seq2seq(self) -> Any:
        return self._fit("tests.tasks.seq2seq.case")

    @cached_property
    def detector(self) -> Any:
        return self._fit("tests.tasks.anomaly.case")

    @cached_property
    def forecaster_dir(self) -> Path:
        return self.forecaster.save(self.root / "forecaster")

    def broken_copy(
        self,
        name: str,
        *,
        config: Callable[[dict], Any] | None = None,
        state: Callable[[dict], Any] | None = None,
        raw: dict[str, bytes] | None = None,
    ) -> Path:
        """A copy of the saved Forecaster with config.json / state.json edited."""
        target = self.root / f"broken-{name}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(self.forecaster_dir, target)
        for file, edit in (("config.json", config), ("state.json", state)):
            if edit is not None:
                data = json.loads((target / file).read_text())
                result = edit(data)
                (target / file).write_text(json.dumps(data if result is None else result))
        for file, content in (raw or {}).items():
            (target / file).write_bytes(content)
        return target


@dataclass
class Case:
    id: str
    call: Callable[[Models, Path], Any]
    error: type[BaseException] | tuple[type[BaseException], ...]
    names: str  # a substring the message must contain: the bad value or the argument's name
    xfail: str | None = None  # the file to fix, when it is not ours


def _set(key: str, value: Any) -> Callable[[dict], None]:
    return lambda d: d["config"].__setitem__(key, value)


def _file(tmp: Path, name: str, content: bytes | str) -> Path:
    path = tmp / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


# --- helpers to build the calls ------------------------------------------------------------------


def _lstm(**kw: Any) -> Any:
    from lstmkit.nn import LSTM

    return LSTM(3, 4, **kw)


def _run_lstm(x: Any, *, batch_first: bool = True, **kw: Any) -> Any:
    from lstmkit.nn import LSTM

    return LSTM(3, 4, batch_first=batch_first)(x, **kw)


def _frame(n: int = 40, **cols: Any) -> pd.DataFrame:
    idx = pd.date_range("2000-01", periods=n, freq="MS")
    base = {"date": idx, "y": np.sin(np.arange(n) / 3.0) + 2.0}
    base.update(cols)
    return pd.DataFrame(base)


def _fc(**kw: Any) -> Any:
    from lstmkit.tasks import Forecaster

    return Forecaster(**{"horizon": 3, **kw})


def _fit_fc(data: Any, **kw: Any) -> Any:
    return _fc(hidden_size=4).fit(
        data, **{"time_col": "date", "targets": "y", "max_epochs": 1, **kw}
    )


def _clf(**kw: Any) -> Any:
    from lstmkit.tasks import SequenceClassifier

    return SequenceClassifier(**kw)


def _lm(**kw: Any) -> Any:
    from lstmkit.tasks import LanguageModel

    return LanguageModel(**kw)


def _tagger(**kw: Any) -> Any:
    from lstmkit.tasks import Tagger

    return Tagger(**kw)


def _s2s(**kw: Any) -> Any:
    from lstmkit.tasks import Seq2Seq

    return Seq2Seq(**kw)


def _det(method: str = "prediction", **kw: Any) -> Any:
    from lstmkit.tasks import AnomalyDetector

    return AnomalyDetector(method, **kw)


def _train(**kw: Any) -> Any:
    from lstmkit.train import TrainConfig

    return TrainConfig(**kw)


def _read_table(path: Any, **kw: Any) -> Any:
    from lstmkit.data import read_table

    return read_table(path, **{"time_col": "date", "targets": "y", **kw})


NAN, INF = float("nan"), float("inf")
X = torch.zeros(2, 5, 3)
BAD_ANOMALY = "src/lstmkit/tasks/anomaly/"
BAD_CLASSIFY = "src/lstmkit/tasks/classify/"


def params(cases: list[Case]) -> list[Any]:
    """``cases`` as pytest params, the xfail ones marked strict."""
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return [
        pytest.param(
            c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        )
        for c in cases
    ]


def check(case: Case, models: Models | None, tmp_path: Path) -> None:
    """Run ``case``: the exception type, and a message naming the bad value."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(case.error) as info:
            case.call(models, tmp_path)  # type: ignore[arg-type]
    message = str(info.value)
    assert case.names.lower() in message.lower(), f"{message!r} does not name {case.names!r}"
    # raised on purpose (an LstmkitError), unless the case expects a built-in TypeError
    if not isinstance(info.value, (TypeError, FileNotFoundError)):
        assert isinstance(info.value, LstmkitError), type(info.value)
