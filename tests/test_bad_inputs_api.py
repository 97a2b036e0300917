"""Bad inputs to the nn layers, the training options and the data readers: each must raise the
given error with a message naming the bad value (the machinery is in tests/bad_inputs.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from tests.bad_inputs import (
    INF,
    NAN,
    Case,
    X,
    _file,
    _frame,
    _lstm,
    _read_table,
    _run_lstm,
    _train,
    check,
    params,
)

from lstmkit.errors import ConfigError, DataError, ShapeError

CASES: list[Case] = [
    # --- nn layers: constructor options
    Case("lstm-input-size-0", lambda m, t: _lstm().__class__(0, 4), ConfigError, "input_size"),
    Case("lstm-hidden-str", lambda m, t: _lstm().__class__(3, "4"), ConfigError, "'4'"),
    Case("lstm-layers-0", lambda m, t: _lstm(num_layers=0), ConfigError, "num_layers"),
    Case("lstm-dropout-1", lambda m, t: _lstm(dropout=1.0), ConfigError, "dropout"),
    Case("lstm-dropout-neg", lambda m, t: _lstm(dropout=-0.1), ConfigError, "-0.1"),
    Case("lstm-dropout-nan", lambda m, t: _lstm(dropout=NAN), ConfigError, "nan"),
    Case("lstm-forget-bias-str", lambda m, t: _lstm(forget_bias="x"), ConfigError, "forget_bias"),
    Case("lstm-forget-bias-nan", lambda m, t: _lstm(forget_bias=NAN), ConfigError, "forget_bias"),
    Case("lstm-forget-bias-inf", lambda m, t: _lstm(forget_bias=INF), ConfigError, "inf"),
    Case("lstm-impl-unknown", lambda m, t: _lstm(impl="cudnn9"), ConfigError, "cudnn9"),
    Case("lstm-init-unknown", lambda m, t: _lstm(init="zeros!"), ConfigError, "zeros!"),
    Case("lstm-unknown-option", lambda m, t: _lstm(hiden=3), TypeError, "hiden"),
    Case(
        "cell-forget-bias-str",
        lambda m, t: __import__("lstmkit.nn", fromlist=["LSTMCell"]).LSTMCell(
            3, 4, forget_bias="x"
        ),
        ConfigError,
        "forget_bias",
    ),
    Case(
        "gru-hidden-0",
        lambda m, t: __import__("lstmkit.nn", fromlist=["GRU"]).GRU(3, 0),
        ConfigError,
        "hidden_size",
    ),
    # --- nn layers: forward inputs
    Case("fwd-list", lambda m, t: _run_lstm([[1.0, 2.0, 3.0]]), TypeError, "list"),
    Case("fwd-1d", lambda m, t: _run_lstm(torch.zeros(3)), ShapeError, "1-D"),
    Case("fwd-4d", lambda m, t: _run_lstm(torch.zeros(1, 2, 5, 3)), ShapeError, "4-D"),
    Case("fwd-features", lambda m, t: _run_lstm(torch.zeros(2, 5, 7)), ShapeError, "7 features"),
    Case(
        "fwd-int",
        lambda m, t: _run_lstm(torch.zeros(2, 5, 3, dtype=torch.long)),
        ShapeError,
        "int64",
    ),
    Case(
        "fwd-float64",
        lambda m, t: _run_lstm(torch.zeros(2, 5, 3, dtype=torch.float64)),
        ShapeError,
        "float64",
    ),
    Case("fwd-batch-0", lambda m, t: _run_lstm(torch.zeros(0, 5, 3)), ShapeError, "batch of 0"),
    Case("fwd-time-0-bf", lambda m, t: _run_lstm(torch.zeros(2, 0, 3)), ShapeError, "0 time steps"),
    Case(
        "fwd-time-0-tm",
        lambda m, t: _run_lstm(torch.zeros(0, 2, 3), batch_first=False),
        ShapeError,
        "0 time steps",
    ),
    Case("fwd-time-0-2d", lambda m, t: _run_lstm(torch.zeros(0, 3)), ShapeError, "0 time steps"),
    Case("fwd-lengths-str", lambda m, t: _run_lstm(X, lengths=["5", "3"]), ShapeError, "'5'"),
    Case("fwd-lengths-string", lambda m, t: _run_lstm(X, lengths="53"), ShapeError, "'53'"),
    Case("fwd-lengths-float", lambda m, t: _run_lstm(X, lengths=[5.0, 3.0]), ShapeError, "float"),
    Case("fwd-lengths-0", lambda m, t: _run_lstm(X, lengths=[5, 0]), ShapeError, ">= 1"),
    Case("fwd-lengths-long", lambda m, t: _run_lstm(X, lengths=[9, 3]), ShapeError, "9"),
    Case("fwd-lengths-count", lambda m, t: _run_lstm(X, lengths=[5]), ShapeError, "(2,)"),
    Case("fwd-hx-list", lambda m, t: _run_lstm(X, hx=[1, 2, 3]), ShapeError, "hx"),
    Case(
        "fwd-hx-shape",
        lambda m, t: _run_lstm(X, hx=(torch.zeros(1, 2, 9), torch.zeros(1, 2, 4))),
        ShapeError,
        "9",
    ),
    # --- training options
    Case("train-lr-0", lambda m, t: _train(lr=0), ConfigError, "lr"),
    Case("train-lr-nan", lambda m, t: _train(lr=NAN), ConfigError, "nan"),
    Case("train-lr-str", lambda m, t: _train(lr="0.1"), ConfigError, "'0.1'"),
    Case("train-epochs-0", lambda m, t: _train(max_epochs=0), ConfigError, "max_epochs"),
    Case("train-batch-float", lambda m, t: _train(batch_size=3.5), ConfigError, "3.5"),
    Case("train-optimizer", lambda m, t: _train(optimizer="adamm"), ConfigError, "adamm"),
    Case("train-schedule", lambda m, t: _train(schedule="cosine!"), ConfigError, "cosine!"),
    Case("train-seed-neg", lambda m, t: _train(seed=-1), ConfigError, "-1"),
    Case("train-seed-str", lambda m, t: _train(seed="1"), ConfigError, "'1'"),
    Case("train-clip-0", lambda m, t: _train(gradient_clip=0), ConfigError, "gradient_clip"),
    Case(
        "train-lr-inf",
        lambda m, t: _train(lr=INF),
        ConfigError,
        "lr must be a finite number > 0, got inf",
    ),
    Case(
        "train-weight-decay-inf",
        lambda m, t: _train(weight_decay=INF),
        ConfigError,
        "weight_decay must be a finite number >= 0, got inf",
    ),
    Case(
        "train-clip-inf",
        lambda m, t: _train(gradient_clip=INF),
        ConfigError,
        "gradient_clip must be a finite number > 0, got inf",
    ),
    Case(
        "train-momentum-nan",
        lambda m, t: _train(momentum=NAN),
        ConfigError,
        "momentum must be a finite number >= 0, got nan",
    ),
    Case("train-workers-neg", lambda m, t: _train(num_workers=-2), ConfigError, "-2"),
    Case("train-precision", lambda m, t: _train(precision="8"), ConfigError, "'8'"),
    Case("train-resume-no-dir", lambda m, t: _train(resume=True), ConfigError, "run_dir"),
    Case(
        "train-replace-unknown",
        lambda m, t: _train().replace(max_epoch=3),
        ConfigError,
        "max_epoch",
    ),
    # --- data readers
    Case("read-missing-file", lambda m, t: _read_table(t / "nope.csv"), DataError, "nope.csv"),
    Case("read-empty-file", lambda m, t: _read_table(_file(t, "e.csv", "")), DataError, "e.csv"),
    Case(
        "read-binary-file",
        lambda m, t: _read_table(_file(t, "b.csv", bytes(range(256)) * 4)),
        DataError,
        "b.csv",
    ),
    Case(
        "read-header-only",
        lambda m, t: _read_table(_file(t, "h.csv", "date,y\n")),
        DataError,
        "h.csv",
    ),
    Case(
        "read-no-target-col",
        lambda m, t: _read_table(_frame(), targets="sales"),
        DataError,
        "sales",
    ),
    Case(
        "read-no-time-col", lambda m, t: _read_table(_frame(), time_col="when"), DataError, "when"
    ),
    Case(
        "read-text-values",
        lambda m, t: _read_table(_frame(y=["a"] * 40)),
        DataError,
        "'a'",
    ),
    Case(
        "read-bad-dates",
        lambda m, t: _read_table(_frame().assign(date=["x"] * 40)),
        DataError,
        "'x'",
    ),
    Case(
        "read-duplicate-times",
        lambda m, t: _read_table(_frame().assign(date=pd.Timestamp("2000-01-01"))),
        DataError,
        "2000-01-01",
    ),
    Case("read-nan-error", lambda m, t: _read_table(_frame(y=[NAN] * 40)), DataError, "missing"),
    Case(
        "read-missing-policy",
        lambda m, t: _read_table(_frame(), missing="drop"),
        DataError,
        "drop",
    ),
    Case("read-bundled-unknown", lambda m, t: _read_table("bundled:nope"), ConfigError, "nope"),
    Case(
        "read-dataframe-empty", lambda m, t: _read_table(pd.DataFrame()), DataError, "no data rows"
    ),
    Case("read-wrong-type", lambda m, t: _read_table(42), (DataError, TypeError), "int"),
    Case(
        "read-directory",
        lambda m, t: _read_table(t),
        DataError,
        "not a file",
    ),
    Case(
        "scaler-not-fitted",
        lambda m, t: (
            __import__("lstmkit.data", fromlist=["x"]).StandardScaler().transform(np.zeros((2, 1)))
        ),
        ConfigError,
        "fit",
    ),
    Case(
        "scaler-nan",
        lambda m, t: (
            __import__("lstmkit.data", fromlist=["x"])
            .StandardScaler()
            .fit(np.array([[1.0], [NAN]]))
        ),
        DataError,
        "nan",
    ),
    Case(
        "scaler-1e200",
        lambda m, t: (
            __import__("lstmkit.data", fromlist=["x"])
            .StandardScaler()
            .fit(np.array([[1e200], [-3e200]]))
        ),
        DataError,
        "3e+200",
    ),
    Case(
        "scaler-1d",
        lambda m, t: __import__("lstmkit.data", fromlist=["x"]).StandardScaler().fit(np.zeros(3)),
        ShapeError,
        "(3,)",
    ),
    Case(
        "scaler-from-dict",
        lambda m, t: __import__("lstmkit.data", fromlist=["x"]).scaler_from_dict(
            {"kind": "robust"}
        ),
        ConfigError,
        "robust",
    ),
    Case(
        "conll-missing",
        lambda m, t: __import__("lstmkit.data", fromlist=["x"]).read_conll(t / "none.conll"),
        (DataError, FileNotFoundError),
        "none.conll",
    ),
    Case(
        "conll-binary",
        lambda m, t: __import__("lstmkit.data", fromlist=["x"]).read_conll(
            _file(t, "b.conll", b"\xff\xfe\x00abc\n")
        ),
        DataError,
        "b.conll",
    ),
    Case(
        "pairs-missing",
        lambda m, t: __import__("lstmkit.data", fromlist=["x"]).read_pairs(t / "none.tsv"),
        (DataError, FileNotFoundError),
        "none.tsv",
    ),
    Case(
        "pairs-one-column",
        lambda m, t: __import__("lstmkit.data", fromlist=["x"]).read_pairs(
            _file(t, "p.tsv", "abc\ndef\n")
        ),
        DataError,
        "p.tsv",
    ),
    Case(
        "tokenizer-kind",
        lambda m, t: __import__("lstmkit.data", fromlist=["x"]).make_tokenizer("morpheme"),
        ConfigError,
        "morpheme",
    ),
    Case(
        "dataset-unknown",
        lambda m, t: __import__("lstmkit.data", fromlist=["x"]).dataset_path("air_passengerz"),
        DataError,
        "air_passengerz",
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input_is_refused_with_a_clear_error(case: Case, tmp_path: Path):
    check(case, None, tmp_path)
