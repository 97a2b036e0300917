"""The bench harness's structure on a tiny shape; speed is never asserted."""

import json

import pytest
import torch

from lstmkit.bench import (
    BASELINE,
    Contender,
    Shape,
    environment,
    render,
    run_bench,
    select_contenders,
    select_shapes,
    write_json,
)
from lstmkit.cli import main
from lstmkit.errors import ConfigError, UnsupportedConfigError

TINY = Shape("tiny", 4, 2, 3, 5)


def _unsupported(D, H):
    raise UnsupportedConfigError("impl='made-up' does not support this configuration (testing)")


def _broken(D, H):
    raise RuntimeError("boom")


def test_every_contender_gets_a_row_per_shape_and_mode_with_ratios():
    contenders = select_contenders(["plain", "peephole"], ["torch", "native", "reference"])
    assert [c.name for c in contenders] == [
        BASELINE,
        "native/plain",
        "reference/plain",
        "reference/peephole",
    ]
    results = run_bench([TINY], ["inference", "train"], contenders, repeats=1, warmup=0)
    assert len(results) == 2 * len(contenders)
    for row in results:
        assert row["status"] == "ok", row
        assert row["median_ms"] > 0 and row["repeats"] == 1 and row["ratio"] > 0
        assert (row["T"], row["B"], row["D"], row["H"]) == (4, 2, 3, 5)
    assert {r["ratio"] for r in results if r["contender"] == BASELINE} == {1.0}


def test_unsupported_and_failing_contenders_are_reported_not_raised(tmp_path):
    contenders = [
        *select_contenders(["plain"], ["torch"]),
        Contender("made-up", "plain", _unsupported),
        Contender("broken", "plain", _broken),
    ]
    results = run_bench([TINY], ["inference"], contenders, repeats=1, warmup=0, memory=False)
    by_name = {r["contender"]: r for r in results}
    na = by_name["made-up/plain"]
    assert na["status"] == "n/a" and "does not support" in na["reason"]
    assert na["median_ms"] is None and na["ratio"] is None
    assert by_name["broken/plain"]["status"] == "error"
    assert by_name["broken/plain"]["reason"] == "RuntimeError: boom"

    env = environment()
    assert {"device", "torch", "threads", "cpu_model", "memory_method"} <= set(env)
    text = render(results, env)
    assert "n/a" in text and "does not support" in text and "torch.nn.LSTM plain" in text
    path = write_json(tmp_path / "sub" / "b.json", results, env, {"repeats": 1})
    saved = json.loads(path.read_text())
    assert saved["environment"] == env and saved["settings"] == {"repeats": 1}
    assert saved["results"] == results


def test_cli_writes_json_and_prints_its_path(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("lstmkit.cli.bench.select_shapes", lambda names: [TINY])
    out = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "--quick",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--variants",
            "plain,gru",
            "--impls",
            "torch,fused",
            "--modes",
            "inference",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert f"results written to {out}" in printed
    assert "torch.nn.GRU gru" in printed and "lstmkit fused plain" in printed
    saved = json.loads(out.read_text())
    names = [r["contender"] for r in saved["results"]]
    assert names == ["torch/plain", "torch/gru", "fused/plain", "fused/gru"]
    for row in saved["results"]:
        assert row["status"] in ("ok", "n/a")
        if row["status"] == "n/a":  # the fused engine may not cover everything
            assert row["reason"]


def test_unknown_names_are_rejected_with_the_choices():
    with pytest.raises(ConfigError, match="unknown shape 'S9'; choose from S1, S2, S3, S4"):
        select_shapes(["S9"])
    with pytest.raises(ConfigError, match="unknown variant 'nope'"):
        select_contenders(["nope"])
    with pytest.raises(ConfigError, match="unknown mode 'fast'"):
        run_bench([TINY], ["fast"])


def test_stream_bench_reports_latency_per_step(tmp_path):
    from lstmkit.bench.stream import STREAM_CONTENDERS, run_stream_bench

    results = run_stream_bench(hidden_size=8, steps=20, warmup=2, round_size=7)
    assert [r["contender"] for r in results] == list(STREAM_CONTENDERS)
    for row in results:
        assert row["steps"] == 20 and row["batch"] == 1
        assert 0 < row["median_ms"] <= row["p99_ms"]


def test_stream_bench_rejects_unknown_contender():
    from lstmkit.bench.stream import run_stream_bench

    with pytest.raises(ConfigError, match="unknown stream contender"):
        run_stream_bench(contenders=("nope",))


def test_cli_stream_writes_json(tmp_path, capsys):
    out = tmp_path / "stream.json"
    code = main(
        ["bench", "--stream", "--stream-hidden", "8", "--stream-steps", "10", "--out", str(out)]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "AnomalyDetector stream" in text and "p99 ms" in text
    data = json.loads(out.read_text())
    assert data["settings"]["mode"] == "stream" and len(data["results"]) == 6
    assert "OnlineDetector row, with update" in text and "rows/s" in text


def test_online_stream_bench_splits_rows_with_and_without_an_update():
    from lstmkit.bench.stream import ONLINE_CONTENDERS, run_online_stream_bench

    results = run_online_stream_bench(
        rows=100, probation=40, update_every=20, warm_steps=3, long=50
    )
    assert [r["contender"] for r in results] == list(ONLINE_CONTENDERS)
    without, with_update, every = results
    assert (without["steps"], with_update["steps"], every["steps"]) == (95, 5, 100)
    for row in results:
        assert set(row) >= {"median_ms", "p99_ms", "mean_ms", "rows_per_s", "update_every"}
        assert 0 < row["median_ms"] <= row["p99_ms"]
        assert row["rows_per_s"] == pytest.approx(1000.0 / row["mean_ms"])
    # an update is a few Adam steps: dearer than a row that only scores
    assert with_update["median_ms"] > without["median_ms"]


def test_online_stream_bench_rejects_a_bad_row_count():
    from lstmkit.bench.stream import run_online_stream_bench

    with pytest.raises(ConfigError, match="rows must be a positive int, got 0"):
        run_online_stream_bench(rows=0)


def test_cpu_peak_memory_sees_a_tensor_that_lives_across_operators():
    from lstmkit.bench.core import peak_memory_mib

    x = torch.ones(256, 1024)  # 1 MiB

    def call():
        a = x * 2  # 1 MiB
        b = a + 1  # 1 MiB more while a lives
        c = torch.cat([a, b])  # 2 MiB more: 4 MiB at the peak
        return float(c.sum())

    peak = peak_memory_mib(call, torch.device("cpu"))
    assert 3.9 <= peak <= 4.5
