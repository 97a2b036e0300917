"""``export_model`` on every task whose predict is a network call: the ONNX file's outputs match the
task's network (eager float32) within 1e-5 at two batch sizes and two lengths, the file runs with
onnxruntime in a process where torch cannot be imported, the torch-export program matches at its
fixed shape, and bad requests fail with a clear message."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from lstmkit.errors import ConfigError
from lstmkit.export import EXPORTABLE, export_model
from lstmkit.export.tasks import task_spec

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

# The tiny tasks of the shared task contract (tests/tasks/<name>/case.py).
NAMES = {
    "anomaly": "AnomalyDetector",
    "classify": "SequenceClassifier",
    "forecast": "Forecaster",
    "language_model": "LanguageModel",
    "speech": "SpeechRecognizer",
    "tagging": "Tagger",
}


def _case(name):
    return importlib.import_module(f"tests.tasks.{name}.case").CASE


@pytest.fixture(scope="module")
def fitted():
    tasks = {}
    for name in NAMES:
        case = _case(name)
        # The classifier's cell goes through the ONNX Loop route, the detector's through ONNX's
        # LSTM op with peepholes (lstmkit's own translation), the others through torch's mapping.
        options = {
            "classify": {"layer_norm": True, "peephole": True},
            "anomaly": {"peephole": True},
        }.get(name, {})
        task = case.make(**options)
        case.fit(task)
        tasks[name] = task
    return tasks


def _inputs(spec, batch, steps, generator):
    """Inputs like the export example, at another batch size and length."""
    feeds = []
    for name, example in zip(spec.inputs, spec.example, strict=True):
        if name == "lengths":
            feeds.append(torch.tensor([steps, 1, steps - 1, 2][:batch]))
            continue
        shape = list(example.shape)
        axes = spec.dynamic_axes.get(name, {})
        for axis, label in axes.items():
            shape[axis] = batch if label == "batch" else steps if label == "time" else shape[axis]
        if example.dtype == torch.int64:  # token ids: 1..3 exist in every vocabulary
            feeds.append(torch.randint(1, 4, shape, generator=generator))
        else:
            feeds.append(torch.randn(shape, generator=generator))
    return tuple(feeds)


def test_every_listed_task_is_covered():
    assert set(NAMES.values()) == set(EXPORTABLE)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NAMES))
def test_onnx_matches_the_network(fitted, name, tmp_path):
    task = fitted[name]
    path = task.export(tmp_path / "model.onnx")  # the method is export_model(task, ...)
    spec = task_spec(task)
    session = ort.InferenceSession(str(path))
    assert [i.name for i in session.get_inputs()] == spec.inputs
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["task"]) == NAMES[name]
    generator = torch.Generator().manual_seed(0)
    for batch in (1, 3):
        for steps in (4, 11):
            feeds = _inputs(spec, batch, steps, generator)
            got = session.run(None, {n: t.numpy() for n, t in zip(spec.inputs, feeds, strict=True)})
            with torch.no_grad():
                want = spec.net.eval()(*feeds)
            want = want if isinstance(want, tuple) else (want,)
            for out, g, w in zip(spec.outputs, got, want, strict=True):
                where = f"{name} {out} at batch {batch}, length {steps}"
                assert g.shape == tuple(w.shape), where
                np.testing.assert_allclose(g, w.numpy(), rtol=0, atol=1e-5, err_msg=where)


# Imports onnxruntime and runs the file in a process where importing torch fails.
NO_TORCH = textwrap.dedent(
    """
    import sys

    class NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("torch is blocked in this process")
            return None

    sys.meta_path.insert(0, NoTorch())
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(sys.argv[1])
    x = np.load(sys.argv[2])
    (y,) = session.run(None, {"x": x})
    np.save(sys.argv[3], y)
    print("torch" in sys.modules)
    """
)


@pytest.mark.slow
def test_the_file_runs_without_torch(fitted, tmp_path):
    task = fitted["anomaly"]
    loaded = type(task).load(task.save(tmp_path / "saved"))  # a model saved by lstmkit
    path = export_model(loaded, tmp_path / "detector.onnx")
    x = np.random.default_rng(0).standard_normal((2, 7, 2)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    script = tmp_path / "run.py"
    script.write_text(NO_TORCH)
    done = subprocess.run(
        [sys.executable, str(script), str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    with torch.no_grad():
        want = task_spec(task).net.eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), want, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_torch_export_program_matches_at_its_fixed_shape(fitted, tmp_path):
    task = fitted["classify"]  # a variant cell: its loop is unrolled at the example's length
    path = export_model(task, tmp_path / "model.pt2", format="torch-export")
    spec = task_spec(task)
    program = torch.export.load(str(path))
    with torch.no_grad():
        got = program.module()(*spec.example)
        want = spec.net.eval()(*spec.example)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-5)


# --- bad requests ------------------------------------------------------------------------------


def test_unknown_format(fitted, tmp_path):
    with pytest.raises(
        ConfigError, match=r"format must be one of 'onnx', 'torch-export', got 'tf'"
    ):
        export_model(fitted["anomaly"], tmp_path / "m.onnx", format="tf")


def test_out_into_a_missing_directory(fitted, tmp_path):
    out = tmp_path / "missing" / "m.onnx"
    with pytest.raises(ConfigError, match=r"directory '.*missing' does not exist"):
        export_model(fitted["anomaly"], out)
    assert not (tmp_path / "missing").exists()


def test_out_is_a_directory(fitted, tmp_path):
    with pytest.raises(ConfigError, match=r"is a directory; give a file name"):
        export_model(fitted["anomaly"], tmp_path)


def test_a_task_that_cannot_export(tmp_path):
    from lstmkit.tasks import Seq2Seq

    with pytest.raises(ConfigError, match=r"Seq2Seq cannot be exported: its predict is not one"):
        export_model(Seq2Seq("char"), tmp_path / "m.onnx")


def test_an_unfitted_task(tmp_path):
    from lstmkit.tasks import SequenceClassifier

    with pytest.raises(ConfigError, match=r"SequenceClassifier.export needs a trained model"):
        export_model(SequenceClassifier("word"), tmp_path / "m.onnx")


def test_a_detector_without_a_network(tmp_path):
    from lstmkit.tasks import AnomalyDetector

    detector = AnomalyDetector("zscore", window=8)
    detector.fit(_frame(), time_col="time", columns=["x0"], seed=0)
    with pytest.raises(ConfigError, match=r"method='zscore'\) has no network to export"):
        export_model(detector, tmp_path / "m.onnx")


def _frame():
    import pandas as pd

    return pd.DataFrame({"time": np.arange(100), "x0": np.sin(np.arange(100) / 5.0)})


def test_missing_extra_names_the_install_command():
    from lstmkit.export import writer

    with pytest.raises(ConfigError, match=r"pip install 'lstmkit\[export\]'"):
        writer.require("a_package_that_is_not_installed")


@pytest.mark.slow
def test_forecaster_with_an_autoregressive_layer_norm_decoder_and_known_future(tmp_path):
    from tests.tasks.conftest import monthly_frame

    from lstmkit.tasks import Forecaster

    frame = monthly_frame(72)
    frame["promo"] = np.arange(len(frame)) % 3
    model = Forecaster(horizon=3, hidden_size=8, ensemble=2, decoder="autoregressive",
                       layer_norm=True)  # fmt: skip
    model.fit(frame, time_col="date", targets="y", future_covariates=["promo"], max_epochs=1,
              enable_progress_bar=False, seed=0)  # fmt: skip
    spec = task_spec(model)
    session = ort.InferenceSession(str(model.export(tmp_path / "f.onnx")))
    assert [i.name for i in session.get_inputs()] == ["past", "future"]
    generator = torch.Generator().manual_seed(0)
    for batch, steps in ((1, 7), (4, 13)):
        past = torch.randn(batch, steps, spec.example[0].shape[2], generator=generator)
        future = torch.randn(batch, 3, spec.example[1].shape[2], generator=generator)
        (got,) = session.run(None, {"past": past.numpy(), "future": future.numpy()})
        with torch.no_grad():
            want = spec.net.eval()(past, future).numpy()
        assert got.shape == (2, batch, 3, 1, len(model.quantiles))
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
