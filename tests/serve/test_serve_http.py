"""``lstmkit serve`` for real: the command runs as a subprocess on 127.0.0.1, requests go over HTTP,
and the answers are compared with the library's own predictions of the same saved model."""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.tasks.conftest import monthly_frame

from lstmkit.tasks import AnomalyDetector, Forecaster

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

DETECTOR = Path(__file__).parents[1] / "tasks" / "anomaly" / "data" / "prediction-v0" / "model"
SERIES = pd.read_csv(Path(__file__).parents[1] / "tasks" / "anomaly" / "data" / "series.csv")
FRAME = monthly_frame(72)
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.proc = proc

    def request(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None
    ) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            data = raw if raw is not None else None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        assert "Traceback" not in text
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


@contextlib.contextmanager
def serving(model: Path, *options: str) -> Iterator[Server]:
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    code = "import sys; from lstmkit.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", code, "serve", "--model", str(model), "--port", str(port)]
    proc = subprocess.Popen(
        [*command, *options], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    server = Server(port, proc)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"lstmkit serve exited with {proc.returncode}:\n{out}")
            try:
                status, health = server.request("GET", "/health")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "lstmkit serve did not answer /health in 90 s"
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out = proc.stdout.read().decode() if proc.stdout else ""
        # the server log may hold tracebacks of 500s; none were expected
        assert "Traceback" not in out, out


@pytest.fixture(scope="module")
def forecaster_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = Forecaster(horizon=3, hidden_size=8, ensemble=2)
    model.fit(
        FRAME,
        time_col="date",
        targets="y",
        max_epochs=2,
        enable_progress_bar=False,
        batch_size=32,
        seed=0,
    )
    return model.save(tmp_path_factory.mktemp("serve") / "forecaster")


@pytest.fixture(scope="module")
def forecaster_server(forecaster_dir: Path) -> Iterator[Server]:
    with serving(forecaster_dir, "--max-batch", "3", "--max-body-bytes", "50000") as server:
        yield server


@pytest.fixture(scope="module")
def detector_server() -> Iterator[Server]:
    with serving(DETECTOR, "--max-streams", "2", "--max-batch", "100") as server:
        yield server


def _table(frame: pd.DataFrame) -> dict[str, list[Any]]:
    return {
        name: [t.isoformat() for t in frame[name]]
        if pd.api.types.is_datetime64_any_dtype(frame[name])
        else frame[name].tolist()
        for name in frame.columns
    }


def _assert_same_table(got: dict[str, list[Any]], want: pd.DataFrame) -> None:
    assert list(got) == [str(c) for c in want.columns]
    for name in want.columns:
        column = want[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            assert got[name] == [t.isoformat() for t in column]
        elif column.dtype == bool:
            assert got[name] == column.tolist()
        else:
            values = np.array([math.nan if v is None else v for v in got[name]], dtype=float)
            np.testing.assert_allclose(values, column.to_numpy(float), rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_forecaster_predict_over_http_equals_the_library(forecaster_server, forecaster_dir):
    model = Forecaster.load(forecaster_dir)
    histories = [FRAME[["date", "y"]], FRAME[["date", "y"]].iloc[:60]]
    status, answer = forecaster_server.request(
        "POST", "/predict", {"inputs": [_table(h) for h in histories]}
    )
    assert status == 200, answer
    assert len(answer["outputs"]) == 2
    for got, history in zip(answer["outputs"], histories, strict=True):
        _assert_same_table(got, model.predict(history))

    status, health = forecaster_server.request("GET", "/health")
    assert status == 200
    assert health["task"] == "Forecaster"
    assert health["model_info"]["horizon"] == 3
    assert health["limits"]["max_batch"] == 3
    status, page = forecaster_server.request("GET", "/docs")
    assert status == 200 and "swagger" in page.lower()
    status, schema = forecaster_server.request("GET", "/openapi.json")
    assert status == 200 and "/predict" in schema["paths"]


@pytest.mark.slow
def test_forecaster_bad_requests_get_4xx_with_the_message(forecaster_server):
    good = _table(FRAME[["date", "y"]])

    def post(body: Any = None, raw: bytes | None = None) -> tuple[int, str]:
        status, answer = forecaster_server.request("POST", "/predict", body, raw=raw)
        return status, answer["error"]

    status, error = post(raw=b'{"inputs": [')
    assert status == 400 and error.startswith("malformed JSON"), error
    status, error = post({"inputs": "not a list"})
    assert status == 422 and error == "inputs: Input should be a valid list"
    status, error = post({"inputs": [{"date": [[1]], "y": [1.0]}]})
    assert status == 422 and error.startswith("inputs.0.date.0"), error
    status, error = post({"inputs": [good], "extra": 1})
    assert status == 422 and "extra: Extra inputs are not permitted" in error
    status, error = post({"inputs": [{"date": good["date"], "y": good["y"][:-1]}]})
    assert status == 400
    assert (
        error == "inputs[0]: every column must hold the same number of values, got date: 72, y: 71"
    )
    status, error = post({"inputs": [{"date": good["date"]}]})
    assert status == 400 and "'y'" in error, error
    status, error = post({"inputs": [{"date": ["not a date"] * 72, "y": good["y"]}]})
    assert status == 400 and "cannot parse 'not a date' as a timestamp" in error
    with_nan = {"date": good["date"], "y": [*good["y"][:-1], math.nan]}
    status, error = post(raw=json.dumps({"inputs": [with_nan]}).encode())  # Python writes NaN
    assert status == 400 and "column 'y' has a missing value at data row 72" in error
    status, error = post({"inputs": [good] * 4})
    assert status == 422
    assert error == (
        "4 inputs in one request; the limit is 3 (lstmkit serve --max-batch): split the request"
    )
    status, error = post(raw=b" " * 50_001)
    assert status == 413 and error == "the request body is 50,001 bytes; the limit is 50,000 bytes"
    status, answer = forecaster_server.request("POST", "/stream", {"stream_id": "a", "rows": [[1]]})
    assert status == 404 and answer == {"error": "Not Found"}
    # the server still answers after all that
    status, answer = forecaster_server.request("POST", "/predict", {"inputs": [good]})
    assert status == 200


@pytest.mark.slow
def test_detector_stream_over_http_equals_the_library_stream(detector_server):
    detector = AnomalyDetector.load(DETECTOR)
    rows = SERIES[["x0", "x1"]].to_numpy()[:120]
    want = detector.stream()
    expected = [want.update(row) for row in rows]
    got_scores: list[float | None] = []
    got_flags: list[bool] = []
    for start in range(0, 60):  # batch 1: one row a request
        status, answer = detector_server.request(
            "POST", "/stream", {"stream_id": "s1", "rows": [rows[start].tolist()]}
        )
        assert status == 200, answer
        got_scores += answer["scores"]
        got_flags += answer["is_anomaly"]
    status, answer = detector_server.request(  # then the rest in one request
        "POST", "/stream", {"stream_id": "s1", "rows": rows[60:].tolist()}
    )
    assert status == 200 and answer["steps"] == 120
    got_scores += answer["scores"]
    got_flags += answer["is_anomaly"]
    want_scores = np.array([s for s, _ in expected])
    got = np.array([math.nan if s is None else s for s in got_scores])
    np.testing.assert_allclose(got, want_scores, rtol=1e-6, atol=1e-6)
    assert got_flags == [f for _, f in expected]

    # the batch verb: the score table
    status, answer = detector_server.request(
        "POST", "/predict", {"inputs": [_table(SERIES.iloc[:80])]}
    )
    assert status == 200, answer
    _assert_same_table(answer["outputs"][0], detector.score(SERIES.iloc[:80]))

    # a bad row changes nothing: the state is the same as before it
    status, answer = detector_server.request(
        "POST", "/stream", {"stream_id": "s1", "rows": [[1.0, 2.0], [1.0, None]]}
    )
    assert (
        status == 400
        and answer["error"] == "rows[1]: a row must hold finite numbers, got [1.0, nan]"
    )
    status, answer = detector_server.request(
        "POST", "/stream", {"stream_id": "s1", "rows": [[1.0]]}
    )
    assert status == 400 and answer["error"] == "rows[0]: a row must hold 2 values (x0, x1), got 1"
    status, answer = detector_server.request(
        "POST", "/stream", {"stream_id": "s1", "rows": [[1.0, "x"]]}
    )
    assert status == 422 and answer["error"].startswith("rows.0.1: Input should be a valid number")
    status, answer = detector_server.request(
        "POST", "/stream", {"stream_id": "s1", "rows": [[0.0, 0.0]] * 101}
    )
    assert status == 422 and answer["error"].startswith("101 rows in one request; the limit is 100")
    status, answer = detector_server.request("POST", "/stream", {"stream_id": "", "rows": [[1, 2]]})
    assert status == 422 and answer["error"].startswith("stream_id: String should have at least 1")

    # bounded stream ids: a third is refused while two are open
    status, _ = detector_server.request("POST", "/stream", {"stream_id": "s2", "rows": [[1, 2]]})
    assert status == 200
    status, answer = detector_server.request(
        "POST", "/stream", {"stream_id": "s3", "rows": [[1, 2]]}
    )
    assert status == 429 and answer["error"].startswith("2 streams are open, the limit")
    status, answer = detector_server.request("POST", "/stream/reset", {"stream_id": "s1"})
    assert status == 200 and answer == {"stream_id": "s1", "closed": True, "steps": 120}
    status, answer = detector_server.request("POST", "/stream/reset", {"stream_id": "s1"})
    assert status == 404
    assert answer["error"] == (
        "unknown stream id 's1' (1 streams open); a stream opens with its first POST /stream"
    )
    # a reopened id starts a new series
    status, answer = detector_server.request(
        "POST", "/stream", {"stream_id": "s1", "rows": rows[:2].tolist()}
    )
    assert status == 200 and answer["steps"] == 2
    np.testing.assert_allclose(answer["scores"][1], want_scores[1], rtol=1e-6)
    status, health = detector_server.request("GET", "/health")
    assert health["task"] == "AnomalyDetector" and health["open_streams"] == 2
    for stream_id in ("s1", "s2"):
        assert detector_server.request("POST", "/stream/reset", {"stream_id": stream_id})[0] == 200


@pytest.mark.slow
def test_load_script_reports_rate_and_latency(detector_server, tmp_path):
    body = tmp_path / "row.json"
    body.write_text(json.dumps({"stream_id": "load", "rows": [[0.1, 0.2]]}), encoding="utf-8")
    url = f"http://{HOST}:{detector_server.port}/stream"
    out = subprocess.run(
        [sys.executable, "-m", "lstmkit.serve.load", url, "--body", str(body), "--requests", "30"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    report = json.loads(out.splitlines()[-1])
    assert report["requests"] == 30 and report["errors"] == 0
    assert 0 < report["p50_ms"] <= report["p99_ms"]
    assert report["requests_per_s"] > 0
    assert detector_server.request("POST", "/stream/reset", {"stream_id": "load"})[0] == 200


@pytest.mark.slow
def test_concurrent_requests_to_one_stream_each_apply_whole(detector_server):
    """8 clients send 5 requests each of 2 rows to one stream id: every row is counted once and,
    the rows being equal, the state matches 80 sequential updates whatever the order."""
    row = [0.3, -0.2]
    body = {"stream_id": "shared", "rows": [row, row]}

    def client() -> list[int]:
        return [detector_server.request("POST", "/stream", body)[0] for _ in range(5)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for result in pool.map(lambda _: client(), range(8)) for s in result]
    assert statuses == [200] * 40
    status, answer = detector_server.request(
        "POST", "/stream", {"stream_id": "shared", "rows": [[1.5, 0.7]]}
    )
    assert status == 200 and answer["steps"] == 81
    want = AnomalyDetector.load(DETECTOR).stream()
    for _ in range(80):
        want.update(row)
    np.testing.assert_allclose(answer["scores"][0], want.update([1.5, 0.7])[0], rtol=1e-6)
    assert detector_server.request("POST", "/stream/reset", {"stream_id": "shared"})[0] == 200
