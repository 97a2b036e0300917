"""``lstmkit export`` end to end: a saved tiny model to ONNX (run with onnxruntime) and to a
torch.export program; bad requests end with one error line and the documented exit code."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

from lstmkit.cli import build_parser, main

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def _saved(root, name):
    case = importlib.import_module(f"tests.tasks.{name}.case").CASE
    task = case.make()
    case.fit(task)
    return task.save(root / name)


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    return _saved(tmp_path_factory.mktemp("export"), "anomaly")


def test_every_option_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["export"]
    for action in sub._actions:
        assert action.help, f"export {action.option_strings} has no help"


@pytest.mark.slow
def test_onnx_and_torch_export(detector, tmp_path, capsys):
    out = tmp_path / "detector.onnx"
    assert main(["export", "--model", str(detector), "--format", "onnx", "--out", str(out)]) == 0
    assert f"wrote {out} (onnx, AnomalyDetector)" in capsys.readouterr().out
    session = ort.InferenceSession(str(out))
    (y,) = session.run(None, {"x": np.zeros((3, 9, 2), np.float32)})
    assert y.shape == (3, 9, 2)
    pt2 = tmp_path / "detector.pt2"
    args = ["export", "--model", str(detector), "--format", "torch-export", "--out", str(pt2)]
    assert main(args) == 0
    assert pt2.is_file()


def test_out_into_a_missing_directory(tmp_path, capsys):
    out = tmp_path / "no" / "m.onnx"
    assert main(["export", "--model", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmkit: error: --out ") and "does not exist" in err


def test_not_a_model_directory(tmp_path, capsys):
    code = main(["export", "--model", str(tmp_path), "--out", str(tmp_path / "m.onnx")])
    assert code == 1
    assert "is not a saved lstmkit model" in capsys.readouterr().err


def test_a_config_that_names_no_task(tmp_path, capsys):
    header = {"format": "lstmkit-model", "format_version": 1, "task": "Nope"}
    (tmp_path / "config.json").write_text(json.dumps(header), encoding="utf-8")
    code = main(["export", "--model", str(tmp_path), "--out", str(tmp_path / "m.onnx")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.strip() == f"lstmkit: error: {tmp_path / 'config.json'} names no lstmkit task"


def test_unknown_format(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["export", "--model", str(tmp_path), "--format", "tf", "--out", "m"])
    assert stop.value.code == 2
    assert "invalid choice: 'tf'" in capsys.readouterr().err


@pytest.mark.slow
def test_a_task_that_cannot_export(tmp_path, capsys):
    model = _saved(tmp_path, "seq2seq")
    code = main(["export", "--model", str(model), "--out", str(tmp_path / "m.onnx")])
    assert code == 2
    assert "Seq2Seq cannot be exported" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
