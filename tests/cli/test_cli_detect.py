"""``lstmkit detect train|score|stream`` end to end on a small generated series."""

from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli import build_parser, main
from lstmkit.data.synthetic_anomalies import make_anomaly_series


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("detect")
    kinds = ("spike", "level_shift", "noise_burst")
    syn = make_anomaly_series(800, n_anomalies=3, kinds=kinds, gap=30, seed=2)
    syn.frame.iloc[: syn.clean_rows].to_csv(root / "train.csv", index=False)
    syn.frame.to_csv(root / "all.csv", index=False)
    syn.labels[["start", "end", "kind"]].to_csv(root / "labels.csv", index=False)
    return root, syn


def _train(root, method):
    out = root / method
    if not (out / "model").exists():
        args = ["detect", "train", "--data", str(root / "train.csv"), "--time-col", "time"]
        args += ["--columns", "x0", "x1", "--method", method, "--window", "16"]
        args += ["--hidden-size", "8", "--epochs", "2", "--out", str(out)]
        assert main(args) == 0
    return out / "model"


def _stream(monkeypatch, capsys, model, text, *extra):
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    code = main(["detect", "stream", "--model", str(model), *extra])
    return code, capsys.readouterr()


def test_every_option_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["detect"]
    verbs = next(a for a in sub._actions if a.dest == "verb").choices
    assert set(verbs) == {"train", "score", "stream", "benchmark"}
    for verb in verbs.values():
        for action in verb._actions:
            assert action.help, f"{verb.prog} {action.option_strings} has no help"


@pytest.mark.slow
def test_train_and_score_with_labels(files, capsys):
    root, _ = files
    model = _train(root, "prediction")
    capsys.readouterr()
    out = root / "scored.csv"
    code = main(
        ["detect", "score", "--model", str(model), "--data", str(root / "all.csv")]
        + ["--out", str(out), "--labels", str(root / "labels.csv")]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "event-wise (intervals)" in printed and "point-adjusted (flatters)" in printed
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["time", "score", "x0_score", "x1_score", "threshold"] + [
        "is_anomaly",
        "alarm",
    ]
    intervals = pd.read_csv(root / "scored.intervals.csv")
    # one alarm per interval (suppression: runs starting within --window rows join it)
    assert scores["alarm"].sum() == len(intervals)
    assert len(scores) == 800
    intervals = pd.read_csv(root / "scored.intervals.csv")
    assert list(intervals.columns[:2]) == ["start", "end"]
    metrics = pd.read_csv(root / "scored.metrics.csv")
    assert list(metrics["view"]) == ["point", "event", "point_adjusted"]
    assert (root / "scored.png").read_bytes()[:4] == b"\x89PNG"

    code = main(
        ["detect", "score", "--model", str(model), "--data", str(root / "all.csv")]
        + ["--out", str(root / "dyn.csv"), "--threshold", "dynamic"]
    )
    assert code == 0
    assert "(dynamic threshold)" in capsys.readouterr().out
    dynamic = pd.read_csv(root / "dyn.csv")
    np.testing.assert_allclose(dynamic["score"], scores["score"])
    assert not np.allclose(dynamic["threshold"], scores["threshold"])  # not the fixed one


@pytest.mark.slow
def test_stream_matches_batch_and_skips_bad_rows(files, monkeypatch, capsys):
    root, syn = files
    model = _train(root, "prediction")
    capsys.readouterr()  # what training printed, when this test trained the model
    rows = syn.frame.iloc[:60]
    lines = ["time,x0,x1"] + [f"{t},{a!r},{b!r}" for t, a, b in rows.itertuples(index=False)]
    good = "\n".join(lines) + "\n"
    code, clean = _stream(monkeypatch, capsys, model, good)
    assert code == 0 and clean.err == ""
    clean_lines = clean.out.splitlines()
    assert clean_lines[0] == "row,time,score,is_anomaly"
    assert len(clean_lines) == 61

    # the batch scores of the same rows
    from lstmkit.tasks.anomaly import AnomalyDetector

    batch = AnomalyDetector.load(model).score(rows)["score"].to_numpy()
    streamed = np.array([float(line.split(",")[2]) for line in clean_lines[1:]])
    np.testing.assert_allclose(streamed, batch, rtol=1e-5, atol=1e-6)

    bad = lines[:11] + ["9999,1.0", "9999,abc,1.0"] + lines[11:]
    code, out = _stream(monkeypatch, capsys, model, "\n".join(bad) + "\n")
    assert code == 0
    assert "data row 11: expected 3 fields, got 2; skipped" in out.err
    assert "data row 12: non-numeric value 'abc'; skipped" in out.err
    assert "2 bad row(s) skipped" in out.err
    # the state is kept across the bad rows: the same scores as without them
    got = [line.split(",", 1)[1] for line in out.out.splitlines()[1:]]
    want = [line.split(",", 1)[1] for line in clean_lines[1:]]
    assert got == want

    code, out = _stream(monkeypatch, capsys, model, "\n".join(bad) + "\n", "--on-bad-row", "stop")
    assert code == 1  # bad data, not bad usage
    assert "lstmkit: error: data row 11: expected 3 fields, got 2; stopping" in out.err
    assert "Traceback" not in out.err
    assert len(out.out.splitlines()) == 11  # header + the 10 good rows before it


@pytest.mark.slow
def test_stream_errors(files, monkeypatch, capsys):
    root, _ = files
    model = _train(root, "prediction")
    code, out = _stream(monkeypatch, capsys, model, "time,x0\n1,2\n")
    assert code == 1
    assert "the header line lacks the model's column(s) ['x1']" in out.err
    recon = _train(root, "reconstruction")
    code, out = _stream(monkeypatch, capsys, recon, "time,x0,x1\n")
    assert code == 2
    assert "streaming is supported for method='prediction'" in out.err


def test_train_too_short(tmp_path, capsys):
    frame = pd.DataFrame({"time": range(20), "x0": np.arange(20.0)})
    frame.to_csv(tmp_path / "short.csv", index=False)
    code = main(
        ["detect", "train", "--data", str(tmp_path / "short.csv"), "--time-col", "time"]
        + ["--columns", "x0", "--method", "zscore", "--window", "30", "--out", str(tmp_path / "o")]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "training data has 20 rows, too short for window=30" in err
    assert "the minimum is 39 rows" in err


def _bytes_stdin(monkeypatch, data: bytes):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not a CSV with columns start,end: No columns to parse from file"),
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "is not a CSV with columns start,end: not UTF-8 text"),
        (b"a,b\n1,2\n", "lacks the column(s) ['start', 'end']"),
    ],
    ids=["empty", "binary", "no-columns"],
)
def test_score_refuses_a_bad_labels_file(files, tmp_path, capsys, content, message):
    root, _ = files
    model = _train(root, "zscore")
    labels = tmp_path / "labels.csv"
    labels.write_bytes(content)
    capsys.readouterr()
    code = main(
        ["detect", "score", "--model", str(model), "--data", str(root / "all.csv")]
        + ["--out", str(tmp_path / "s.csv"), "--labels", str(labels)]
    )
    err = capsys.readouterr().err
    assert code != 0  # a data error: 1 or 2, whichever the CLI's exit-code policy gives it
    assert message in err and str(labels) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.csv").exists()  # refused before scoring


def test_stream_bad_bytes_garbage_and_bom(files, monkeypatch, capsys):
    root, syn = files
    model = _train(root, "zscore")
    rows = syn.frame.iloc[:40]
    lines = [f"{t},{a!r},{b!r}".encode() for t, a, b in rows.itertuples(index=False)]
    good = b"\n".join([b"time,x0,x1", *lines]) + b"\n"
    _bytes_stdin(monkeypatch, good)
    assert main(["detect", "stream", "--model", str(model)]) == 0
    clean = capsys.readouterr().out.splitlines()

    # a row that is not UTF-8, and garbage that float() would take, are skipped with a warning
    garbage = [b"7,\xff\xfe1.0,2.0", b"8,1_000,2.0", b"9,\xd9\xa1\xd9\xa2,1.0", b"10,nan,1.0"]
    bad = b"\n".join([b"time,x0,x1", *lines[:20], *garbage, *lines[20:]]) + b"\n"
    _bytes_stdin(monkeypatch, bad)
    assert main(["detect", "stream", "--model", str(model), "--on-bad-row", "skip"]) == 0
    out = capsys.readouterr()
    assert "data row 21: not UTF-8 text (byte 0xff at byte 3); skipped" in out.err
    assert "data row 22: non-numeric value '1_000'; skipped" in out.err
    assert "data row 23: non-numeric value '١٢'; skipped" in out.err
    assert "data row 24: non-numeric value 'nan'; skipped" in out.err
    assert "4 bad row(s) skipped" in out.err
    got = [line.split(",", 2)[2] for line in out.out.splitlines()[1:]]
    assert got == [line.split(",", 2)[2] for line in clean[1:]]

    _bytes_stdin(monkeypatch, bad)
    assert main(["detect", "stream", "--model", str(model), "--on-bad-row", "stop"]) != 0
    assert "lstmkit: error: data row 21: not UTF-8 text" in capsys.readouterr().err

    # a UTF-8 byte-order mark before the header keeps the time column
    _bytes_stdin(monkeypatch, b"\xef\xbb\xbf" + good)
    assert main(["detect", "stream", "--model", str(model)]) == 0
    with_bom = capsys.readouterr().out.splitlines()
    assert with_bom[0] == "row,time,score,is_anomaly"
    assert with_bom == clean
