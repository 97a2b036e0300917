"""Bad inputs to every task (forecaster, classifier, language model, tagger, seq2seq, anomaly
detector) and to saved model directories: each must raise the given error with a message naming
the bad value (the machinery is in tests/bad_inputs.py; tiny models fitted once per module)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.bad_inputs import (
    INF,
    NAN,
    Case,
    Models,
    _clf,
    _det,
    _fc,
    _file,
    _fit_fc,
    _frame,
    _lm,
    _s2s,
    _set,
    _tagger,
    check,
    params,
)

from lstmkit.errors import ConfigError, DataError, ModelFileError
from lstmkit.tasks.classify.metrics import accuracy as _accuracy

CASES: list[Case] = [
    # --- Forecaster: options
    Case("fc-horizon-0", lambda m, t: _fc(horizon=0), ConfigError, "horizon"),
    Case("fc-horizon-str", lambda m, t: _fc(horizon="3"), ConfigError, "'3'"),
    Case("fc-lookback-0", lambda m, t: _fc(lookback=0), ConfigError, "lookback"),
    Case("fc-quantile-1", lambda m, t: _fc(quantiles=(0.1, 1.0)), ConfigError, "1.0"),
    Case("fc-quantile-nan", lambda m, t: _fc(quantiles=(NAN,)), ConfigError, "nan"),
    Case("fc-model", lambda m, t: _fc(model="prophet"), ConfigError, "prophet"),
    Case("fc-scaler", lambda m, t: _fc(scaler="robust"), ConfigError, "robust"),
    Case("fc-decoder", lambda m, t: _fc(decoder="tcn"), ConfigError, "tcn"),
    Case("fc-dropout", lambda m, t: _fc(dropout=2), ConfigError, "dropout"),
    Case("fc-val-size", lambda m, t: _fc(val_size=-0.5), ConfigError, "-0.5"),
    Case("fc-ensemble-0", lambda m, t: _fc(ensemble=0), ConfigError, "ensemble"),
    Case("fc-season-0", lambda m, t: _fc(season=0), ConfigError, "season"),
    Case("fc-window-norm", lambda m, t: _fc(window_norm="zscore!"), ConfigError, "zscore!"),
    Case("fc-transform", lambda m, t: _fc(transform="sqrt"), ConfigError, "sqrt"),
    Case("fc-lstm-option", lambda m, t: _fc(peeps=True), ConfigError, "peeps"),
    Case("fc-forget-bias-nan", lambda m, t: _fc(forget_bias=NAN), ConfigError, "forget_bias"),
    # --- Forecaster: fit and predict
    Case("fc-fit-too-short", lambda m, t: _fit_fc(_frame(5)), DataError, "5"),
    Case("fc-fit-no-target", lambda m, t: _fit_fc(_frame(), targets="sales"), DataError, "sales"),
    Case("fc-fit-bundled-bad", lambda m, t: _fit_fc("bundled:nope"), ConfigError, "nope"),
    Case(
        "fc-fit-1e200",
        lambda m, t: _fit_fc(_frame(y=np.linspace(1, 3, 40) * 1e200)),
        DataError,
        "e+200",
    ),
    Case("fc-fit-inf", lambda m, t: _fit_fc(_frame(y=[INF] * 40)), DataError, "inf"),
    Case("fc-fit-lr-neg", lambda m, t: _fit_fc(_frame(), lr=-1), ConfigError, "-1"),
    Case(
        "fc-fit-unknown-kw",
        lambda m, t: _fit_fc(_frame(), max_epoch=1),
        (ConfigError, TypeError),
        "max_epoch",
    ),
    Case("fc-predict-unfitted", lambda m, t: _fc().predict(_frame()), ConfigError, "fit"),
    Case(
        "fc-predict-1e200",
        lambda m, t: m.forecaster.predict(
            __import__("tests.tasks.forecast.case", fromlist=["x"])
            .FRAME[["date", "y"]]
            .assign(y=lambda d: d.y * 1e200)
        ),
        DataError,
        "e+20",
    ),
    Case(
        "fc-predict-short",
        lambda m, t: m.forecaster.predict(_frame(4)),
        DataError,
        "lookback",
    ),
    Case(
        "fc-predict-missing-col",
        lambda m, t: m.forecaster.predict(_frame().rename(columns={"y": "z"})),
        DataError,
        "'y'",
    ),
    Case(
        "fc-predict-missing-policy",
        lambda m, t: m.forecaster.predict(_frame(), missing="zero"),
        DataError,
        "zero",
    ),
    Case(
        "fc-backtest-windows-0",
        lambda m, t: m.forecaster.backtest(_frame(72), windows=0),
        ConfigError,
        "windows",
    ),
    Case("fc-save-dot", lambda m, t: m.forecaster.save("."), ModelFileError, "."),
    Case(
        "fc-save-file",
        lambda m, t: m.forecaster.save(_file(t, "model.txt", "x")),
        ModelFileError,
        "model.txt",
    ),
    # --- saved model directories
    Case("load-missing", lambda m, t: _fc().load(t / "nothing"), ModelFileError, "nothing"),
    Case(
        "load-a-file", lambda m, t: _fc().load(_file(t, "f.json", "{}")), ModelFileError, "f.json"
    ),
    Case("load-empty-dir", lambda m, t: _fc().load(t), ModelFileError, "config.json"),
    Case(
        "load-wrong-task",
        lambda m, t: __import__("lstmkit.tasks", fromlist=["x"]).Seq2Seq.load(m.forecaster_dir),
        ModelFileError,
        "forecast",
    ),
    Case(
        "load-lookback-null",
        lambda m, t: _fc().load(m.broken_copy("lookback", config=_set("lookback", None))),
        ModelFileError,
        "lookback",
    ),
    Case(
        "load-season-null",
        lambda m, t: _fc().load(m.broken_copy("season", config=_set("season", None))),
        ModelFileError,
        "season",
    ),
    Case(
        "load-misspelt-key",
        lambda m, t: _fc().load(m.broken_copy("typo", config=_set("hiden_size", 9))),
        ModelFileError,
        "hiden_size",
    ),
    Case(
        "load-missing-key",
        lambda m, t: _fc().load(
            m.broken_copy("nokey", config=lambda d: d["config"].pop("horizon") and None)
        ),
        ModelFileError,
        "horizon",
    ),
    Case(
        "load-hidden-str",
        lambda m, t: _fc().load(m.broken_copy("hstr", config=_set("hidden_size", "8"))),
        ModelFileError,
        "hidden_size",
    ),
    Case(
        "load-config-not-json",
        lambda m, t: _fc().load(m.broken_copy("cjson", raw={"config.json": b"{not json"})),
        ModelFileError,
        "config.json",
    ),
    Case(
        "load-state-history-str",
        lambda m, t: _fc().load(m.broken_copy("hist", state=lambda s: {**s, "history": "x"})),
        ModelFileError,
        "state.json",
    ),
    Case(
        "load-state-epochs-int",
        lambda m, t: _fc().load(m.broken_copy("ep", state=lambda s: {**s, "epochs": 5})),
        ModelFileError,
        "state.json",
    ),
    Case(
        "load-state-scaler-list",
        lambda m, t: _fc().load(m.broken_copy("sc", state=lambda s: {**s, "target_scaler": [1]})),
        ModelFileError,
        "state.json",
    ),
    Case(
        "load-state-list",
        lambda m, t: _fc().load(m.broken_copy("slist", raw={"state.json": b"[1, 2]"})),
        ModelFileError,
        "state.json",
    ),
    Case(
        "load-weights-flipped",
        lambda m, t: _fc().load(
            m.broken_copy(
                "flip",
                raw={
                    "weights.safetensors": (lambda b: b[:-8] + bytes(x ^ 0xFF for x in b[-8:]))(
                        (m.forecaster_dir / "weights.safetensors").read_bytes()
                    )
                },
            )
        ),
        ModelFileError,
        "weights.safetensors",
    ),
    Case(
        "load-weights-missing",
        lambda m, t: _fc().load(
            (lambda p: ((p / "weights.safetensors").unlink(), p)[1])(m.broken_copy("now"))
        ),
        ModelFileError,
        "weights.safetensors",
    ),
]

CASES += [
    # --- SequenceClassifier
    Case("clf-tokenizer", lambda m, t: _clf(tokenizer="morph"), ConfigError, "morph"),
    Case("clf-pooling", lambda m, t: _clf(pooling="sum"), ConfigError, "sum"),
    Case("clf-hidden-0", lambda m, t: _clf(hidden_size=0), ConfigError, "hidden_size"),
    Case("clf-dropout-nan", lambda m, t: _clf(dropout=NAN), ConfigError, "nan"),
    Case(
        "clf-class-weight-inf",
        lambda m, t: _clf(class_weights={"pos": INF}),
        ConfigError,
        "class weight of 'pos' must be a finite number > 0, got inf",
    ),
    Case("clf-val-size", lambda m, t: _clf(val_size=1.5), ConfigError, "1.5"),
    Case("clf-max-length-0", lambda m, t: _clf(max_length=0), ConfigError, "max_length"),
    Case("clf-class-weights", lambda m, t: _clf(class_weights="heavy"), ConfigError, "heavy"),
    Case("clf-forget-bias-x", lambda m, t: _clf(forget_bias="x"), ConfigError, "forget_bias"),
    Case(
        "clf-fit-len-mismatch",
        lambda m, t: _clf(hidden_size=4).fit(["a b", "c d"], ["x"]),
        DataError,
        "1",
    ),
    Case(
        "clf-fit-one-class",
        lambda m, t: _clf(hidden_size=4).fit(["a b", "c d"], ["x", "x"], max_epochs=1),
        DataError,
        "class",
    ),
    Case(
        "clf-fit-empty",
        lambda m, t: _clf(hidden_size=4).fit([], [], max_epochs=1),
        DataError,
        "no examples",
    ),
    Case(
        "clf-fit-none-text",
        lambda m, t: _clf(hidden_size=4).fit(["a b", None, "c"], ["x", "y", "x"], max_epochs=1),
        DataError,
        "None",
    ),
    Case("clf-predict-unfitted", lambda m, t: _clf().predict(["a"]), ConfigError, "fit"),
    Case("clf-predict-none", lambda m, t: m.classifier.predict([None]), DataError, "None"),
    Case(
        "clf-predict-int",
        lambda m, t: m.classifier.predict([3]),
        DataError,
        "example 0 is 3 (an int); expected a string of text",
    ),
    Case(
        "clf-predict-batch-0",
        lambda m, t: m.classifier.predict(["a"], batch_size=0),
        ConfigError,
        "batch_size",
    ),
    Case(
        "clf-evaluate-unknown-label",
        lambda m, t: m.classifier.evaluate(["the film"], ["meh"]),
        DataError,
        "1 label(s) never seen in training: 'meh'; the 2 training labels are",
    ),
    # --- LanguageModel
    Case("lm-tokenizer", lambda m, t: _lm(tokenizer="byte"), ConfigError, "byte"),
    Case("lm-bptt-0", lambda m, t: _lm(bptt=0), ConfigError, "bptt"),
    Case("lm-ar-neg", lambda m, t: _lm(ar=-1.0), ConfigError, "ar"),
    Case("lm-tar-inf", lambda m, t: _lm(tar=INF), ConfigError, "tar must be a finite number"),
    Case("lm-weight-drop", lambda m, t: _lm(weight_drop=1.0), ConfigError, "weight_drop"),
    Case("lm-embed-0", lambda m, t: _lm(embed_size=0), ConfigError, "embed_size"),
    Case(
        "lm-fit-empty",
        lambda m, t: _lm(hidden_size=4, embed_size=4).fit("", max_epochs=1),
        DataError,
        "empty",
    ),
    Case(
        "lm-fit-int",
        lambda m, t: _lm(hidden_size=4, embed_size=4).fit(123, max_epochs=1),
        (DataError, TypeError),
        "int",
    ),
    Case(
        "lm-fit-missing-file",
        lambda m, t: _lm(hidden_size=4, embed_size=4).fit(t / "corpus.txt", max_epochs=1),
        DataError,
        "corpus.txt",
    ),
    Case(
        "lm-generate-prompt-int",
        lambda m, t: m.language_model.generate(5, 3),
        ConfigError,
        "prompt must be a string, got 5 (an int)",
    ),
    Case(
        "clf-metrics-unhashable",
        lambda m, t: _accuracy([["a"], "b"], ["a", "b"]),
        DataError,
        "y_true must hold hashable labels, got ['a'] (a list)",
    ),
    Case(
        "lm-generate-length-0",
        lambda m, t: m.language_model.generate("the", 0),
        ConfigError,
        "length",
    ),
    Case(
        "lm-generate-temp-neg",
        lambda m, t: m.language_model.generate("the", 3, temperature=-1),
        ConfigError,
        "temperature",
    ),
    Case(
        "lm-generate-temp-nan",
        lambda m, t: m.language_model.generate("the", 3, temperature=NAN),
        ConfigError,
        "nan",
    ),
    Case(
        "lm-generate-top-k-0",
        lambda m, t: m.language_model.generate("the", 3, top_k=0),
        ConfigError,
        "top_k",
    ),
    Case(
        "lm-generate-top-p-2",
        lambda m, t: m.language_model.generate("the", 3, top_p=2.0),
        ConfigError,
        "top_p",
    ),
    Case(
        "lm-generate-prompt-none",
        lambda m, t: m.language_model.generate(None, 3),
        (DataError, ConfigError),
        "None",
    ),
    Case(
        "lm-generate-seed-str",
        lambda m, t: m.language_model.generate("the", 3, seed="x"),
        ConfigError,
        "'x'",
    ),
    Case("lm-perplexity-empty", lambda m, t: m.language_model.perplexity(""), DataError, "empty"),
    Case(
        "lm-perplexity-missing",
        lambda m, t: m.language_model.perplexity(t / "nope.txt"),
        DataError,
        "nope.txt",
    ),
    Case("lm-unfitted", lambda m, t: _lm().generate("a", 3), ConfigError, "fit"),
    # --- Tagger
    Case("tag-hidden-0", lambda m, t: _tagger(hidden_size=0), ConfigError, "hidden_size"),
    Case("tag-dropout", lambda m, t: _tagger(dropout=1.5), ConfigError, "dropout"),
    Case("tag-constraints", lambda m, t: _tagger(constraints="iob9"), ConfigError, "iob9"),
    Case("tag-min-freq-0", lambda m, t: _tagger(min_freq=0), ConfigError, "min_freq"),
    Case("tag-word-dropout", lambda m, t: _tagger(word_dropout=NAN), ConfigError, "word_dropout"),
    Case(
        "tag-fit-empty",
        lambda m, t: _tagger(hidden_size=4).fit([], max_epochs=1),
        DataError,
        "no (non-empty)",
    ),
    Case(
        "tag-fit-length-mismatch",
        lambda m, t: _tagger(hidden_size=4).fit([(["a", "b"], ["O"])], max_epochs=1),
        DataError,
        "1",
    ),
    Case(
        "tag-fit-missing-file",
        lambda m, t: _tagger().fit(t / "train.conll", max_epochs=1),
        DataError,
        "train.conll",
    ),
    Case("tag-predict-str", lambda m, t: m.tagger.predict("John went"), DataError, "John went"),
    Case(
        "tag-predict-none-token", lambda m, t: m.tagger.predict([["John", None]]), DataError, "None"
    ),
    Case("tag-predict-int", lambda m, t: m.tagger.predict(5), DataError, "int"),
    Case(
        "tag-predict-batch-0",
        lambda m, t: m.tagger.predict([["a"]], batch_size=0),
        ConfigError,
        "batch_size",
    ),
    Case("tag-unfitted", lambda m, t: _tagger().predict([["a"]]), ConfigError, "fit"),
    # --- Seq2Seq
    Case("s2s-attention", lambda m, t: _s2s(attention="dot!"), ConfigError, "dot!"),
    Case("s2s-tokenizer", lambda m, t: _s2s(tokenizer="byte"), ConfigError, "byte"),
    Case(
        "s2s-teacher-forcing",
        lambda m, t: _s2s(teacher_forcing=1.5),
        ConfigError,
        "teacher_forcing",
    ),
    Case("s2s-hidden-0", lambda m, t: _s2s(hidden_size=0), ConfigError, "hidden_size"),
    Case(
        "s2s-fit-empty",
        lambda m, t: _s2s(hidden_size=4).fit([], max_epochs=1),
        DataError,
        "no pairs",
    ),
    Case(
        "s2s-fit-not-pairs",
        lambda m, t: _s2s(hidden_size=4).fit(["abc"], max_epochs=1),
        DataError,
        "abc",
    ),
    Case(
        "s2s-fit-none",
        lambda m, t: _s2s(hidden_size=4).fit([("ab", None)], max_epochs=1),
        DataError,
        "None",
    ),
    Case("s2s-translate-none", lambda m, t: m.seq2seq.translate([None]), DataError, "None"),
    Case("s2s-translate-int", lambda m, t: m.seq2seq.translate([5]), DataError, "5"),
    Case("s2s-translate-empty-text", lambda m, t: m.seq2seq.translate([""]), DataError, "''"),
    Case(
        "s2s-translate-beam-0",
        lambda m, t: m.seq2seq.translate(["ab"], beam_size=0),
        ConfigError,
        "beam_size",
    ),
    Case(
        "s2s-translate-max-len-0",
        lambda m, t: m.seq2seq.translate(["ab"], max_len=0),
        ConfigError,
        "max_len",
    ),
    Case(
        "s2s-length-penalty-nan",
        lambda m, t: m.seq2seq.translate(["ab"], length_penalty=NAN),
        ConfigError,
        "nan",
    ),
    Case(
        "s2s-length-penalty-neg",
        lambda m, t: m.seq2seq.translate(["ab"], length_penalty=-1),
        ConfigError,
        "-1",
    ),
    Case(
        "s2s-length-penalty-str",
        lambda m, t: m.seq2seq.translate(["ab"], length_penalty="0.6"),
        ConfigError,
        "'0.6'",
    ),
    Case(
        "s2s-length-penalty-inf",
        lambda m, t: m.seq2seq.translate(["ab"], length_penalty=INF),
        ConfigError,
        "inf",
    ),
    Case("s2s-unfitted", lambda m, t: _s2s().translate(["ab"]), ConfigError, "fit"),
    # --- AnomalyDetector
    Case("det-method", lambda m, t: _det("isolation"), ConfigError, "isolation"),
    Case("det-window-0", lambda m, t: _det(window=0), ConfigError, "window"),
    Case("det-quantile-2", lambda m, t: _det(quantile=2.0), ConfigError, "quantile"),
    Case("det-threshold", lambda m, t: _det(threshold="magic"), ConfigError, "magic"),
    Case("det-scaler", lambda m, t: _det(scaler="robust"), ConfigError, "robust"),
    Case(
        "det-z-max-nan",
        lambda m, t: _det(z_max=NAN),
        ConfigError,
        "z_max must be a finite number >= 2.5, got nan",
    ),
    Case("det-z-max-inf", lambda m, t: _det(z_max=INF), ConfigError, "z_max"),
    Case("det-merge-gap-neg", lambda m, t: _det(merge_gap=-1), ConfigError, "merge_gap"),
    Case(
        "det-fit-too-short",
        lambda m, t: _det(window=16, hidden_size=4).fit(
            _frame(10).rename(columns={"date": "time"}),
            time_col="time",
            columns=["y"],
            max_epochs=1,
        ),
        DataError,
        "10",
    ),
    Case(
        "det-fit-no-column",
        lambda m, t: _det(window=4, hidden_size=4).fit(
            _frame(60).rename(columns={"date": "time"}),
            time_col="time",
            columns=["x9"],
            max_epochs=1,
        ),
        DataError,
        "x9",
    ),
    Case(
        "det-score-missing-col",
        lambda m, t: m.detector.score(pd.DataFrame({"time": range(50), "x0": np.zeros(50)})),
        DataError,
        "x1",
    ),
    Case(
        "det-score-text",
        lambda m, t: m.detector.score(
            pd.DataFrame({"time": range(50), "x0": ["a"] * 50, "x1": np.zeros(50)})
        ),
        DataError,
        "'a'",
    ),
    Case(
        "det-score-missing-file",
        lambda m, t: m.detector.score(t / "none.csv"),
        DataError,
        "none.csv",
    ),
    Case("det-score-unfitted", lambda m, t: _det().score(_frame()), ConfigError, "fit"),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Models:
    return Models(tmp_path_factory.mktemp("bad-inputs"))


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input_is_refused_with_a_clear_error(case: Case, models: Models, tmp_path: Path):
    check(case, models, tmp_path)


def test_the_corpus_is_large():
    from tests.test_bad_inputs_api import CASES as API_CASES

    assert len(CASES) + len(API_CASES) >= 150
