"""The service's other task verbs, the limits' own checks and the command's refusals, in process
(the app through an in-memory ASGI client; tests/serve/test_serve_http.py runs the real server)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from lstmkit.cli import main  # noqa: E402
from lstmkit.errors import ConfigError, ModelFileError  # noqa: E402
from lstmkit.serve import Limits, build_app, load_task  # noqa: E402
from lstmkit.serve.load import run_load  # noqa: E402

TASKS = Path(__file__).parents[1] / "tasks"
CLASSIFIER = TASKS / "classify" / "data"
TAGGER = TASKS / "tagging" / "data"
SEQ2SEQ = TASKS / "seq2seq" / "data"


def _client(path: Path, **limits: int) -> TestClient:
    return TestClient(build_app(load_task(path), limits=Limits(**limits), model_dir=path))


@pytest.mark.parametrize("name", ["text_v1", "numeric_v1"])
def test_classifier_predict_equals_the_library(name):
    path = CLASSIFIER / name
    inputs = json.loads((path / "expected.json").read_text(encoding="utf-8"))["inputs"]
    model = load_task(path)
    answer = _client(path).post("/predict", json={"inputs": inputs})
    assert answer.status_code == 200, answer.text
    outputs = answer.json()["outputs"]
    assert [o["label"] for o in outputs] == model.predict(inputs)
    np.testing.assert_allclose(
        [o["probabilities"] for o in outputs], model.predict_proba(inputs), rtol=1e-6, atol=1e-9
    )
    health = _client(path).get("/health").json()
    assert health["task"] == "SequenceClassifier"
    assert health["model_info"]["classes"] == list(model.classes)


def test_tagger_and_seq2seq_predict_equal_the_library():
    tagger_inputs = json.loads((TAGGER / "tagger_v1.json").read_text(encoding="utf-8"))["inputs"]
    answer = _client(TAGGER / "tagger_v1").post("/predict", json={"inputs": tagger_inputs})
    assert answer.status_code == 200, answer.text
    assert answer.json()["outputs"] == load_task(TAGGER / "tagger_v1").predict(tagger_inputs)

    texts = json.loads((SEQ2SEQ / "seq2seq_v1.json").read_text(encoding="utf-8"))["inputs"]
    client = _client(SEQ2SEQ / "seq2seq_v1")
    model = load_task(SEQ2SEQ / "seq2seq_v1")
    for beam in (1, 3):
        answer = client.post("/predict", json={"inputs": texts, "beam_size": beam})
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputs"] == model.translate(texts, beam_size=beam)
    answer = client.post("/predict", json={"inputs": texts, "beam_size": 0})
    assert answer.status_code == 422
    assert answer.json()["error"] == "beam_size: Input should be greater than or equal to 1"
    assert client.post("/stream", json={"stream_id": "a", "rows": [[1.0]]}).status_code == 404


def test_a_chunked_body_over_the_limit_gets_413():
    client = _client(TAGGER / "tagger_v1", max_body_bytes=100)

    def chunks():
        yield b'{"inputs": [["a"'
        yield b', "b"' * 40
        yield b"]]}"

    answer = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json() == {"error": "the request body is over the limit of 100 bytes"}
    small = client.post("/predict", json={"inputs": [["a", "b"]]})
    assert small.status_code == 200


def test_limits_refuse_bad_values():
    with pytest.raises(ConfigError, match=r"^Limits.max_batch must be a positive int, got 0$"):
        Limits(max_batch=0)
    with pytest.raises(ConfigError, match=r"^Limits.max_streams must be a positive int, got 1.5"):
        Limits(max_streams=1.5)  # type: ignore[arg-type]


def test_language_model_generates_what_the_library_generates():
    path = TASKS / "language_model" / "data" / "char-v0" / "model"
    model = load_task(path)
    client = _client(path)
    body = {"inputs": ["the ", "my "], "length": 20, "temperature": 0.8, "top_k": 5, "seed": 3}
    answer = client.post("/predict", json=body)
    assert answer.status_code == 200, answer.text
    options = {"temperature": 0.8, "top_k": 5, "seed": 3}
    assert answer.json()["outputs"] == [model.generate(p, 20, **options) for p in body["inputs"]]
    answer = client.post("/predict", json={"inputs": ["the "], "length": 2001})
    assert answer.status_code == 422
    assert answer.json()["error"] == "length: Input should be less than or equal to 2000"
    answer = client.post("/predict", json={"inputs": ["the "], "temperature": -1})
    assert answer.status_code == 400 and "temperature" in answer.json()["error"]


def test_load_task_refuses_what_it_cannot_serve(tmp_path):
    with pytest.raises(ModelFileError, match="is not a saved lstmkit model"):
        load_task(tmp_path)
    config = {"format": "lstmkit-model", "format_version": 1, "task": "SpeechRecognizer"}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelFileError, match="holds a 'SpeechRecognizer' model; lstmkit serve"):
        load_task(tmp_path)


def test_serve_command_refuses_a_missing_model(tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "nope"), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lstmkit: error: ") and "is not a saved lstmkit model" in err
    with pytest.raises(SystemExit):
        main(["serve", "--model", str(tmp_path), "--port", "70000"])
    assert "expected a port number in 0..65535, got 70000" in capsys.readouterr().err


def test_load_test_runs_on_loopback_only():
    with pytest.raises(ConfigError, match="the load test runs on loopback only"):
        run_load("http://example.com:80/predict", b"{}", requests=1)
    with pytest.raises(ConfigError, match="requests must be >= 1, got 0"):
        run_load("http://127.0.0.1:9/predict", b"{}", requests=0)


@pytest.mark.parametrize("missing", ["fastapi", "uvicorn"])
def test_serve_without_the_extra_names_the_install_command(missing, tmp_path):
    code = (
        f"import sys; sys.modules[{missing!r}] = None\n"
        "from lstmkit.cli import main\n"
        f"sys.exit(main(['serve', '--model', {str(CLASSIFIER / 'text_v1')!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    assert f"lstmkit serve needs FastAPI and uvicorn ({missing} is not installed): " in done.stderr
    assert "pip install 'lstmkit[serve]'" in done.stderr


@pytest.mark.slow
def test_forecaster_with_future_covariates_takes_a_future_table(tmp_path):
    from tests.tasks.conftest import TINY, monthly_frame

    from lstmkit.tasks import Forecaster

    monthly = monthly_frame(72)
    model = Forecaster(horizon=3, lookback=12, hidden_size=8, ensemble=1)
    model.fit(monthly, time_col="date", targets="y", future_covariates=["promo"], **TINY)
    client = TestClient(build_app(model))
    history = monthly[["date", "y", "promo"]]
    dates = pd.date_range("2006-01-01", periods=3, freq="MS")
    future = pd.DataFrame({"date": dates, "promo": [1.0, 0.0, 0.0]})

    def table(frame: pd.DataFrame) -> dict:
        return {c: [str(v) for v in frame[c]] if c == "date" else frame[c].tolist() for c in frame}

    body = {"inputs": [table(history)], "future": [table(future)]}
    answer = client.post("/predict", json=body)
    assert answer.status_code == 200, answer.text
    want = model.predict(history, future=future)
    np.testing.assert_allclose(answer.json()["outputs"][0]["y"], want["y"], rtol=1e-6)
    answer = client.post("/predict", json={"inputs": [table(history)]})
    assert answer.status_code == 400 and "future" in answer.json()["error"]
    answer = client.post("/predict", json={"inputs": [table(history)], "future": []})
    assert answer.status_code == 400
    assert answer.json()["error"] == "future must hold one table per input (1), got 0"


def test_idle_streams_make_room_only_when_allowed(monkeypatch):
    import types

    import lstmkit.serve.app as app

    # The server's clock, moved by hand: with a real clock and sleeps, a busy machine let more
    # than the idle time pass between two requests and the "keeps its place" check failed.
    now = [1000.0]
    monkeypatch.setattr(app, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    detector = TASKS / "anomaly" / "data" / "prediction-v0" / "model"
    strict = _client(detector, max_streams=1)
    lenient = _client(detector, max_streams=1, stream_idle_seconds=0.05)
    for client in (strict, lenient):
        assert client.post("/stream", json={"stream_id": "a", "rows": [[1, 2]]}).status_code == 200
    now[0] += 0.1
    assert strict.post("/stream", json={"stream_id": "b", "rows": [[1, 2]]}).status_code == 429
    answer = lenient.post("/stream", json={"stream_id": "b", "rows": [[1, 2]]})
    assert answer.status_code == 200 and answer.json()["steps"] == 1
    assert lenient.post("/stream/reset", json={"stream_id": "a"}).status_code == 404
    assert lenient.get("/health").json()["limits"]["stream_idle_seconds"] == 0.05
    # a stream used within the idle time keeps its place
    assert lenient.post("/stream", json={"stream_id": "c", "rows": [[1, 2]]}).status_code == 429
    with pytest.raises(ConfigError, match="stream_idle_seconds must be a number > 0, got 0"):
        Limits(stream_idle_seconds=0)


def test_language_model_requests_are_bounded_in_total_tokens():
    client = _client(TASKS / "language_model" / "data" / "char-v0" / "model")
    answer = client.post("/predict", json={"inputs": ["a"] * 6, "length": 2000})
    assert answer.status_code == 422
    assert answer.json()["error"] == (
        "6 prompts x 2000 tokens = 12,000 tokens in one request; the limit is 10,000: "
        "split the request"
    )
