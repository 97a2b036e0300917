"""A corpus of bad inputs on the command line, every command: each case asserts the exit code
(1 a runtime or data error, 2 a usage error) and one ``lstmkit: error:`` line naming the bad value,
with no traceback. Run through ``lstmkit.cli.main``, and a few through a real subprocess.

Saved tiny models come from the task-contract cases (tests/tasks/*/case.py), fitted once per
module and only when a case needs them.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
import torch

from lstmkit.cli import EXIT_CODES, INTERRUPTED_MESSAGE, main


class Saved:
    """Tiny models saved where the CLI reads them, and small input files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _save(self, module: str, name: str) -> Path:
        case = importlib.import_module(module).CASE
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = case.fit(case.make())
        return model.save(self.root / name / "model").parent  # like 'train --out'

    @cached_property
    def fc(self) -> Path:
        return self._save("tests.tasks.forecast.case", "fc")

    @cached_property
    def fc_data(self) -> Path:
        frame = importlib.import_module("tests.tasks.forecast.case").FRAME[["date", "y"]]
        frame.to_csv(self.root / "fc.csv", index=False)
        return self.root / "fc.csv"

    @cached_property
    def lm(self) -> Path:
        return self._save("tests.tasks.language_model.case", "lm")

    @cached_property
    def tagger(self) -> Path:
        return self._save("tests.tasks.tagging.case", "tag")

    @cached_property
    def s2s(self) -> Path:
        return self._save("tests.tasks.seq2seq.case", "s2s")

    @cached_property
    def clf(self) -> Path:
        return self._save("tests.tasks.classify.case", "clf")

    @cached_property
    def det(self) -> Path:
        return self._save("tests.tasks.anomaly.case", "det")

    @cached_property
    def det_data(self) -> Path:
        return Path(__file__).parents[1] / "tasks" / "anomaly" / "data" / "series.csv"

    def file(self, name: str, content: bytes | str) -> Path:
        path = self.root / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    @cached_property
    def empty(self) -> Path:
        return self.file("empty.csv", b"")

    @cached_property
    def binary(self) -> Path:
        return self.file("binary.csv", b"\x89PNG\r\n\x1a\n\x00\xff\xfe\xfd" * 8)

    @cached_property
    def a_file(self) -> Path:
        return self.file("a_file.txt", "not a directory\n")

    @cached_property
    def a_dir(self) -> Path:
        path = self.root / "a_dir"
        path.mkdir(exist_ok=True)
        return path


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Saved:
    return Saved(tmp_path_factory.mktemp("cli-bad-inputs"))


@dataclass
class Case:
    id: str
    argv: Callable[[Saved], list[str]]
    code: int
    names: str  # what the error line must contain: the bad value, path or option
    xfail: str | None = None


def _fc_train(s: Saved, *extra: str, out: str | None = None) -> list[str]:
    argv = ["forecast", "train", "--data", str(s.fc_data), "--time-col", "date", "--target", "y"]
    argv += ["--horizon", "3", "--hidden-size", "4", "--epochs", "1"]
    return [*argv, *extra, "--out", out or str(s.root / "never")]


def _fc_predict(s: Saved, *, model: Path | None = None, data: Path | None = None, out=None):
    model = s.fc if model is None else model
    data = s.fc_data if data is None else data
    out = s.root / "p.csv" if out is None else out
    return ["forecast", "predict", "--model", str(model), "--data", str(data), "--out", str(out)]


CASES = [
    # --- usage errors (argparse, or an option value refused): exit 2 ------------------------------
    Case("unknown-command", lambda s: ["forecats"], 2, "forecats"),
    Case("unknown-option", lambda s: ["bench", "--fast"], 2, "--fast"),
    Case("missing-required", lambda s: ["forecast", "train", "--data", "x.csv"], 2, "--time-col"),
    Case("horizon-word", lambda s: _fc_train(s, "--horizon", "three"), 2, "three"),
    Case("epochs-0", lambda s: _fc_train(s, "--epochs", "0"), 2, "0"),
    Case("dropout-1", lambda s: _fc_train(s, "--dropout", "1"), 2, "1"),
    Case("missing-choice", lambda s: _fc_train(s, "--missing", "drop"), 2, "drop"),
    Case("threads-0", lambda s: ["bench", "--threads", "0"], 2, "0"),
    Case("bench-device-typo", lambda s: ["bench", "--device", "gpu0"], 2, "gpu0"),
    Case("demo-seconds-word", lambda s: ["demo", "--seconds", "abc"], 2, "abc"),
    Case("demo-seq-len-short", lambda s: ["demo", "--seq-len", "5"], 2, "5"),
    Case(
        "text-length-0",
        lambda s: ["text", "generate", "--model", str(s.lm), "--length", "0"],
        2,
        "length",
    ),
    Case(
        "translate-beam-0",
        lambda s: ["translate", "run", "--model", str(s.s2s), "--text", "ab", "--beam", "0"],
        2,
        "0",
    ),
    Case(
        "forecast-bundled-unknown",
        lambda s: _fc_predict(s, data=Path("bundled:nope")),
        2,
        "nope",
    ),
    Case(
        "experiments-unknown",
        lambda s: ["experiments", "run", "parity", "--results", str(s.root / "r")],
        2,
        "parity",
    ),
    Case("inspect-forecaster-no-data", lambda s: ["inspect", "--model", str(s.fc)], 2, "--data"),
    # --- data and runtime errors: exit 1 ----------------------------------------------------------
    Case("train-data-missing", lambda s: _fc_train(s, "--data", "nope.csv"), 1, "nope.csv"),
    Case("train-data-empty", lambda s: _fc_train(s, "--data", str(s.empty)), 1, "empty.csv"),
    Case("train-data-binary", lambda s: _fc_train(s, "--data", str(s.binary)), 1, "binary.csv"),
    Case("train-data-a-dir", lambda s: _fc_train(s, "--data", str(s.a_dir)), 1, "a_dir"),
    Case("train-target-absent", lambda s: _fc_train(s, "--target", "sales"), 1, "sales"),
    Case("train-out-a-file", lambda s: _fc_train(s, out=str(s.a_file)), 1, "a_file.txt"),
    Case(
        "train-out-under-a-file",
        lambda s: _fc_train(s, out=str(s.a_file / "out")),
        1,
        "a_file.txt",
    ),
    Case("predict-out-a-dir", lambda s: _fc_predict(s, out=s.a_dir), 1, "a_dir"),
    Case("predict-out-under-a-file", lambda s: _fc_predict(s, out=s.a_file / "p.csv"), 1, "a_file"),
    Case("predict-model-missing", lambda s: _fc_predict(s, model=s.root / "none"), 1, "none"),
    Case("predict-model-a-file", lambda s: _fc_predict(s, model=s.a_file), 1, "a_file.txt"),
    Case("predict-data-empty", lambda s: _fc_predict(s, data=s.empty), 1, "empty.csv"),
    Case("predict-data-binary", lambda s: _fc_predict(s, data=s.binary), 1, "binary.csv"),
    Case(
        "predict-data-wrong-column",
        lambda s: _fc_predict(s, data=s.file("z.csv", "date,z\n2000-01-01,1\n")),
        1,
        "'y'",
    ),
    Case(
        "backtest-data-missing",
        lambda s: ["forecast", "backtest", "--model", str(s.fc), "--data", "nope.csv"],
        1,
        "nope.csv",
    ),
    Case(
        "inspect-data-empty",
        lambda s: ["inspect", "--model", str(s.fc), "--data", str(s.empty)],
        1,
        "empty.csv",
    ),
    Case(
        "inspect-data-binary",
        lambda s: ["inspect", "--model", str(s.fc), "--data", str(s.binary)],
        1,
        "binary.csv",
    ),
    Case("inspect-model-missing", lambda s: ["inspect", "--model", str(s.root / "x")], 1, "x"),
    Case(
        "text-train-corpus-missing",
        lambda s: ["text", "train", "--corpus", "nope.txt", "--out", str(s.root / "o")],
        1,
        "nope.txt",
    ),
    Case(
        "text-generate-model-a-dir",
        lambda s: ["text", "generate", "--model", str(s.a_dir), "--length", "3"],
        1,
        "a_dir",
    ),
    Case(
        "text-train-out-a-file",
        lambda s: ["text", "train", "--corpus", "bundled:char_text", "--out", str(s.a_file)],
        1,
        "a_file.txt",
    ),
    Case(
        "tag-predict-data-missing",
        lambda s: (
            ["tag", "predict", "--model", str(s.tagger), "--data", "nope.conll"]
            + ["--out", str(s.root / "t.conll")]
        ),
        1,
        "nope.conll",
    ),
    Case(
        "tag-evaluate-binary",
        lambda s: ["tag", "evaluate", "--model", str(s.tagger), "--data", str(s.binary)],
        1,
        "binary.csv",
    ),
    Case(
        "translate-evaluate-pairs-missing",
        lambda s: ["translate", "evaluate", "--model", str(s.s2s), "--pairs", "nope.tsv"],
        1,
        "nope.tsv",
    ),
    Case(
        "translate-train-out-under-file",
        lambda s: ["translate", "train", "--pairs", "x.tsv", "--out", str(s.a_file / "o")],
        1,
        "a_file.txt",
    ),
    Case(
        "classify-predict-data-missing",
        lambda s: (
            ["classify", "predict", "--model", str(s.clf), "--data", "nope.csv"]
            + ["--text-col", "text", "--out", str(s.root / "c.csv")]
        ),
        1,
        "nope.csv",
    ),
    Case(
        "classify-train-data-empty",
        lambda s: ["classify", "train", "--data", str(s.empty), "--out", str(s.root / "o")],
        1,
        "empty.csv",
    ),
    Case(
        "detect-score-data-missing",
        lambda s: (
            ["detect", "score", "--model", str(s.det), "--data", "nope.csv"]
            + ["--out", str(s.root / "d.csv")]
        ),
        1,
        "nope.csv",
    ),
    Case(
        "detect-score-labels-empty",
        lambda s: (
            ["detect", "score", "--model", str(s.det), "--data", str(s.det_data)]
            + ["--out", str(s.root / "d.csv"), "--labels", str(s.empty)]
        ),
        1,
        "empty.csv",
    ),
    Case(
        "detect-train-data-binary",
        lambda s: (
            ["detect", "train", "--data", str(s.binary), "--time-col", "time"]
            + ["--columns", "x0", "--out", str(s.root / "o")]
        ),
        1,
        "binary.csv",
    ),
]


def run(argv: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own errors
            code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def _params() -> list:
    return [
        pytest.param(
            c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] * bool(c.xfail)
        )
        for c in CASES
    ]


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("case", _params())
def test_bad_input_exits_with_one_clear_line(case: Case, saved: Saved, capsys):
    argv = case.argv(saved)
    code, err = run(argv, capsys)
    assert code == case.code, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert case.names in errors[0], err
    if code == 1:
        assert errors[0].startswith("lstmkit: error: ")


def test_the_cli_corpus_is_not_small():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)


def test_ctrl_c_exits_130_and_says_nothing_was_half_written(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    _replace_func(monkeypatch, interrupted)
    code, err = run(["demo"], capsys)
    assert code == 130
    assert INTERRUPTED_MESSAGE in err and "Traceback" not in err


def _replace_func(monkeypatch, func) -> None:
    """Make ``lstmkit demo`` call ``func`` instead."""
    from lstmkit.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["demo"])
    args.func = func
    monkeypatch.setattr("lstmkit.cli.build_parser", lambda: _Fixed(parser, args))


class _Fixed:
    """A parser that returns the given arguments (whose func raises KeyboardInterrupt)."""

    def __init__(self, parser, args) -> None:
        self.parser, self.args = parser, args

    def parse_args(self, argv=None):
        return self.args

    def print_help(self) -> None:
        self.parser.print_help()


def test_an_os_error_is_one_line_without_errno(monkeypatch, capsys):
    def denied(args):
        raise PermissionError(13, "Permission denied", "/root/secret.csv")

    _replace_func(monkeypatch, denied)
    code, err = run(["demo"], capsys)
    assert code == 1
    assert err.strip() == "lstmkit: error: Permission denied: '/root/secret.csv'"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this torch has CUDA")
def test_bench_on_cuda_without_cuda_is_a_usage_error(capsys):
    code, err = run(["bench", "--device", "cuda", "--quick"], capsys)
    assert code == 2
    assert err.strip().startswith("lstmkit: error: --device 'cuda': this torch build has no usable")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only directory")
def test_train_out_in_a_read_only_directory(saved: Saved, capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, err = run(_fc_train(saved, out=str(locked / "out")), capsys)
    finally:
        locked.chmod(0o700)
    assert code == 1 and "no write permission" in err and "Traceback" not in err


def test_exit_codes_are_documented():
    assert sorted(EXIT_CODES) == [0, 1, 2, 130]


def _lstmkit(*argv: str) -> subprocess.CompletedProcess:
    code = "import sys; from lstmkit.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=300, env=env
    )


@pytest.mark.parametrize(
    ("argv", "code", "names"),
    [
        (
            ["forecast", "predict", "--model", "{root}/none", "--data", "x", "--out", "o.csv"],
            1,
            "none",
        ),
        (["inspect", "--model", "{root}/none", "--data", "{empty}"], 1, "none"),
        (["bench", "--threads", "0"], 2, "0"),
    ],
    ids=["missing-model", "inspect-missing", "threads-0"],
)
def test_in_a_subprocess(argv, code, names, saved: Saved):
    argv = [a.format(root=saved.root, empty=saved.empty) for a in argv]
    done = _lstmkit(*argv)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert names in done.stderr.strip().splitlines()[-1]
    assert done.stdout == ""


# A Ctrl-C test's child starts as a command typed at a terminal does, with SIGINT at Python's
# default. A test run started as a background job of a non-interactive shell (``pytest ... &`` in
# a CI script) hands its children SIGINT *ignored*, and Python then never installs its handler:
# the child ignores the signal, as every Unix program does there (the 120 s hang one CI run saw;
# ``bash -c 'pytest ... & wait'`` reproduces it every time).
_DEFAULT_SIGINT = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "


@pytest.mark.slow
def test_ctrl_c_during_training_exits_130_and_leaves_no_model(saved: Saved, tmp_path):
    """A real SIGINT in the middle of 'forecast train' (Lightning's own handling would exit 1)."""
    import signal
    import time

    out = tmp_path / "out"
    code = (
        f"{_DEFAULT_SIGINT}import sys; from lstmkit.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    argv = _fc_train(saved, "--epochs", "10000", "--patience", "10000", out=str(out))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    training = out / "run" / "checkpoints" / "last.ckpt"  # written as each epoch ends
    # stderr to a file: a pipe that nobody reads while the child trains could fill and block it
    with open(tmp_path / "stderr.txt", "w+") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", code, *argv], stdout=subprocess.DEVNULL, stderr=stderr, env=env
        )
        try:
            deadline = time.monotonic() + 240
            while not training.exists() and child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert training.exists(), "training did not start"
            child.send_signal(signal.SIGINT)
            sent = time.monotonic()
            child.wait(timeout=60)
            seconds = time.monotonic() - sent
        finally:
            child.kill()
            child.wait()
        stderr.seek(0)
        err = stderr.read()
    assert child.returncode == 130, err
    assert INTERRUPTED_MESSAGE in err and "Traceback" not in err
    assert not (out / "model").exists()
    assert seconds < 30, seconds  # about 0.5 s measured on the busy 2-core machine


@pytest.mark.parametrize(
    ("stdin", "extra", "code", "names"),
    [
        (b"time,x0,x1\n1,0.5,0.5\n2,\xff\xfe,1\n", [], 0, "row 2"),
        (
            b"time,x0,x1\n1,0.5,0.5\n2,\xff\xfe,1\n",
            ["--on-bad-row", "stop"],
            1,
            "error: data row 2: not UTF-8 text (byte 0xff at byte 3)",
        ),
        (b"time,x0,x1\n1,0.5,0.5\n2,abc,1\n", [], 0, "'abc'"),
        (
            b"time,x0,x1\n1,0.5,0.5\n2,abc,1\n",
            ["--on-bad-row", "stop"],
            1,
            "error: data row 2: non-numeric value 'abc'",
        ),
        (b"\xef\xbb\xbftime,x0,x1\n1,0.5,0.5\n", [], 0, ""),
        (b"time,x0\n1,0.5\n", [], 1, "x1"),
    ],
    ids=["non-utf8-skip", "non-utf8-stop", "garbage-skip", "garbage-stop", "bom", "no-column"],
)
def test_detect_stream_bad_rows(saved: Saved, monkeypatch, capsys, stdin, extra, code, names):
    import io

    model = saved.det
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    got, err = run(["detect", "stream", "--model", str(model), *extra], capsys)
    assert "Traceback" not in err
    assert got == code, err
    assert names in err
