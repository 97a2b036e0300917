"""SequenceClassifier: learns small synthetic tasks, pooling ignores padding exactly, saves and
loads, and rejects bad input with messages that say what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.errors import ConfigError, DataError, ModelFileError
from lstmkit.nn import LSTM
from lstmkit.tasks.classify import SequenceClassifier
from lstmkit.tasks.classify.net import POOLINGS, ClassifierNet

FAST = {"max_epochs": 12, "enable_progress_bar": False, "batch_size": 32, "lr": 1e-2}
SMALL = {"hidden_size": 12, "embed_size": 12}
FILLER = [
    "the",
    "a",
    "film",
    "plot",
    "actor",
    "scene",
    "story",
    "long",
    "short",
    "red",
    "blue",
    "green",
]


def keyword_data(n: int, seed: int) -> tuple[list[str], list[str]]:
    """label = "pos" when the keyword "great" occurs, else "neg" (varied lengths, 3-14 words)."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(FILLER, int(rng.integers(3, 14))))
        label = "pos" if rng.random() < 0.5 else "neg"
        if label == "pos":
            words.insert(int(rng.integers(0, len(words) + 1)), "great")
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def trained() -> SequenceClassifier:
    torch.set_num_threads(1)
    clf = SequenceClassifier(pooling="attention", **SMALL)
    return clf.fit(*keyword_data(240, 0), **FAST)


def test_learns_a_keyword_task(trained):
    texts, labels = keyword_data(80, 1)
    scores = trained.evaluate(texts, labels)
    assert list(scores.index) == ["model"]
    assert list(scores.columns) == ["accuracy", "macro_f1", "n"]
    report = trained.report(texts, labels)
    assert scores.loc["model", "accuracy"] == report["accuracy"]
    assert report["accuracy"] >= 0.95
    assert report["macro_f1"] >= 0.95
    assert report["labels"] == ["neg", "pos"]
    assert report["n"] == 80
    assert np.array(report["confusion_matrix"]).sum() == 80
    assert trained.predict(["the great film", "the film"]) == ["pos", "neg"]
    proba = trained.predict_proba(texts[:5])
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # a held-out fraction of the training data drove early stopping
    assert trained.history is not None and trained.history.val_loss[-1] is not None


def test_attention_weights_point_at_the_keyword(trained):
    (weights,) = trained.attention_weights(["red blue great story long"])
    assert weights.shape == (5,)
    assert weights.sum() == pytest.approx(1.0)
    assert int(weights.argmax()) in (1, 2, 3)  # at or beside "great" (a BiLSTM mixes neighbours)


def test_empty_and_unknown_texts_still_get_a_prediction(trained):
    assert len(trained.predict(["", "zebra xylophone", "!!!"])) == 3


def test_save_load_round_trip(trained, tmp_path):
    texts, _ = keyword_data(30, 2)
    path = trained.save(tmp_path / "model")
    loaded = SequenceClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(texts), trained.predict_proba(texts))
    assert loaded.classes == trained.classes
    assert loaded.get_config() == trained.get_config()
    assert loaded.tokenizer.to_dict() == trained.tokenizer.to_dict()
    with pytest.raises(
        ModelFileError, match="holds a 'SequenceClassifier' model, not a 'Forecaster'"
    ):
        from lstmkit.tasks import Forecaster

        Forecaster.load(path)


def test_same_seed_same_model():
    data = keyword_data(60, 3)
    runs = [
        SequenceClassifier(pooling="mean", **SMALL).fit(
            *data, max_epochs=2, enable_progress_bar=False, seed=7
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].predict_proba(data[0]), runs[1].predict_proba(data[0]))


# --- padding: exact ------------------------------------------------------------------------------


def _batch(seqs: list[list[int]], width: int, pad: int) -> torch.Tensor:
    """Padded to ``width`` with token ``pad`` (a real token id: masking must hide it anyway)."""
    out = torch.full((len(seqs), width), pad, dtype=torch.int64)
    for row, s in enumerate(seqs):
        out[row, : len(s)] = torch.tensor(s)
    return out


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [True, False])
def test_pooling_ignores_padding_exactly(pooling, bidirectional):
    torch.manual_seed(0)
    net = ClassifierNet(
        n_classes=3,
        vocab_size=20,
        embed_size=5,
        hidden_size=6,
        num_layers=2,
        bidirectional=bidirectional,
        pooling=pooling,
        dropout=0.3,  # eval mode: must not matter
    ).double()
    net.eval()
    seqs = [[4, 5, 6], [7, 8, 9, 10, 11, 12], [13]]
    lengths = torch.tensor([len(s) for s in seqs])
    with torch.no_grad():
        tight = net(_batch(seqs, 6, 0), lengths)
        # more padding, filled with a real token that would change the result if it were read
        loose = net(_batch(seqs, 11, 17), lengths)
        alone = torch.cat([net(torch.tensor([s]), torch.tensor([len(s)])) for s in seqs])
    torch.testing.assert_close(loose, tight, rtol=0, atol=1e-12)
    torch.testing.assert_close(alone, tight, rtol=0, atol=1e-12)


def test_last_pooling_is_forward_final_and_backward_final():
    torch.manual_seed(0)
    net = ClassifierNet(
        n_classes=2, n_features=3, hidden_size=4, bidirectional=True, pooling="last"
    ).double()
    net.eval()
    x = torch.randn(1, 5, 3, dtype=torch.float64)
    out, _, (h_n, _) = net.encode(x, torch.tensor([5]))
    pooled = net.pool(out, torch.ones(1, 5, dtype=torch.bool), h_n)
    # forward final = output of the forward half at the last step; backward final = output of
    # the backward half at step 0 (it has read the whole sequence from the end)
    expected = torch.cat([out[0, -1, :4], out[0, 0, 4:]])
    torch.testing.assert_close(pooled[0], expected)
    # and the same from a torch.nn.LSTM with the same weights
    ref = torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True).double()
    ref.load_state_dict(net.lstm.state_dict())
    _, (h_ref, _) = ref(x)
    torch.testing.assert_close(pooled[0], torch.cat([h_ref[0, 0], h_ref[1, 0]]))


def test_attention_weights_are_zero_on_padding():
    torch.manual_seed(0)
    net = ClassifierNet(
        n_classes=2, vocab_size=10, embed_size=4, hidden_size=4, pooling="attention"
    )
    w = net.attention_weights(_batch([[4, 5], [6, 7, 8, 9]], 4, 0), torch.tensor([2, 4]))
    assert torch.all(w[0, 2:] == 0)
    torch.testing.assert_close(w.sum(1), torch.ones(2))


# --- numeric sequences ---------------------------------------------------------------------------


def numeric_data(n: int, seed: int) -> tuple[list[np.ndarray], list[int]]:
    """Two features on very different scales; label 1 when feature 0 trends upwards."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n):
        t = int(rng.integers(5, 20))
        label = int(rng.random() < 0.5)
        slope = 1.0 if label else -1.0
        f0 = slope * np.linspace(0, 1, t) + 0.1 * rng.standard_normal(t)
        f1 = 1000.0 + 50.0 * rng.standard_normal(t)  # noise on a large scale: needs scaling
        xs.append(np.stack([f0, f1], axis=1))
        ys.append(label)
    return xs, ys


def test_numeric_sequences():
    train, test = numeric_data(200, 0), numeric_data(60, 1)
    clf = SequenceClassifier(None, hidden_size=12, pooling="max")
    clf.fit(*train, **FAST)
    assert clf.classes == [0, 1]
    assert clf.n_features == 2
    # the scaler saw the training examples only (the stratified hold-out is part of "train")
    assert clf.scaler.offset_[1] == pytest.approx(1000.0, abs=15.0)
    assert clf.evaluate(*test).loc["model", "accuracy"] >= 0.9
    assert clf.predict([np.linspace(0, 1, 7)[:, None].repeat(2, 1) * [1, 0] + [0, 1000]]) == [1]
    with pytest.raises(DataError, match="sequence 0 has 3 features, expected 2"):
        clf.predict([np.zeros((4, 3))])
    with pytest.raises(DataError, match=r"sequence 1 must have shape \(T, F\) with T, F >= 1"):
        clf.predict([np.zeros((4, 2)), np.zeros((0, 2))])


def test_numeric_save_load(tmp_path):
    train = numeric_data(40, 0)
    clf = SequenceClassifier(None, hidden_size=6, pooling="last", bidirectional=False)
    clf.fit(*train, max_epochs=1, enable_progress_bar=False)
    loaded = SequenceClassifier.load(clf.save(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.predict_proba(train[0]), clf.predict_proba(train[0]))


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["char", "bpe"])
def test_other_tokenizers_train_and_round_trip(kind, tmp_path):
    texts, labels = keyword_data(60, 4)
    options = {"vocab_size": 60, "min_freq": 1} if kind == "bpe" else {}
    clf = SequenceClassifier(kind, tokenizer_options=options, pooling="mean", **SMALL)
    clf.fit(texts, labels, max_epochs=1, enable_progress_bar=False)
    loaded = SequenceClassifier.load(clf.save(tmp_path / kind))
    np.testing.assert_array_equal(loaded.predict_proba(texts[:8]), clf.predict_proba(texts[:8]))


def test_balanced_class_weights():
    from lstmkit.tasks.classify.inputs import class_weight_tensor

    w = class_weight_tensor("balanced", ["a", "a", "a", "b"], ["a", "b"])
    torch.testing.assert_close(w, torch.tensor([4 / 6, 4 / 2]))  # n / (classes * count)
    torch.testing.assert_close(
        class_weight_tensor({"b": 3.0}, ["a", "b"], ["a", "b"]), torch.tensor([1.0, 3.0])
    )
    with pytest.raises(DataError, match=r"class_weights name label\(s\) \['z'\] that are not"):
        SequenceClassifier(class_weights={"z": 2.0}).fit(["a b", "c d"], ["x", "y"])


def test_vectors_initialise_and_freeze_embeddings(tmp_path):
    vectors = tmp_path / "glove.txt"
    vectors.write_text("great 1 2 3 4\nfilm -1 0 0.5 2\nunused 9 9 9 9\n", encoding="utf-8")
    texts, labels = keyword_data(40, 5)
    clf = SequenceClassifier(vectors=vectors, freeze_embeddings=True, hidden_size=4)
    clf.fit(texts, labels, max_epochs=1, enable_progress_bar=False)
    assert clf.embed_size == 4  # from the file
    assert clf.vectors_found == 2
    table = clf.net.embedding.weight
    vocab = clf.tokenizer.vocab
    torch.testing.assert_close(table[vocab.index("great")], torch.tensor([1.0, 2, 3, 4]))
    torch.testing.assert_close(table[vocab.index("film")], torch.tensor([-1.0, 0, 0.5, 2]))
    assert torch.all(table[0] == 0)  # the padding row
    assert not table.requires_grad
    # the saved model carries the embeddings: loading needs no vectors file
    vectors.unlink()
    loaded = SequenceClassifier.load(clf.save(tmp_path / "m"))
    torch.testing.assert_close(loaded.net.embedding.weight, table)


def test_fit_frame_uses_the_splits(tmp_path):
    texts, labels = keyword_data(60, 6)
    split = ["train"] * 40 + ["val"] * 10 + ["test"] * 10
    texts[-1] = texts[-1] + " onlyintest"
    frame = pd.DataFrame({"review": texts, "y": labels, "part": split})
    clf = SequenceClassifier(**SMALL)
    clf.fit_frame(frame, "review", "y", "part", max_epochs=1, enable_progress_bar=False)
    assert clf.columns == {"text_col": "review", "label_col": "y", "split_col": "part"}
    assert "onlyintest" not in clf.tokenizer.vocab  # test rows are never read in training
    assert clf.evaluate_frame(frame, split="test").loc["model", "n"] == 10
    report = clf.report_frame(frame, split="test")
    assert report["n"] == 10 and len(report["per_class"]) == 2
    texts_test, labels_test = clf.read_examples(frame, split="test")
    assert texts_test == texts[-10:] and labels_test == labels[-10:]
    out = clf.predict_frame(frame.drop(columns=["y"]))
    assert list(out.columns) == ["review", "part", "prediction", "p_neg", "p_pos"]
    # CSV: every column read as text, "NA" stays a text
    path = tmp_path / "data.csv"
    frame.assign(review=["NA"] + texts[1:]).to_csv(path, index=False)
    assert len(clf.predict_frame(path)) == 60


# --- bad input ---------------------------------------------------------------------------------


def test_missing_label_column_lists_the_columns(tmp_path):
    frame = pd.DataFrame({"text": ["a b", "c"], "sentiment": ["x", "y"]})
    with pytest.raises(
        DataError,
        match=r"label column 'label' not found in the table; the columns are "
        r"\['text', 'sentiment'\]",
    ):
        SequenceClassifier().fit_frame(frame, "text", "label")
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"label column 'label' not found in .*d\.csv; the columns"):
        SequenceClassifier().fit_frame(path, "text", "label")


def test_empty_data(tmp_path):
    with pytest.raises(DataError, match=r"training data: there are no examples \(empty input\)"):
        SequenceClassifier().fit([], [])
    path = tmp_path / "empty.csv"
    path.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(DataError, match="empty.csv has no rows: there is nothing to classify"):
        SequenceClassifier().fit_frame(path, "text", "label")
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="is empty: no header and no rows"):
        SequenceClassifier().fit_frame(path, "text", "label")
    with pytest.raises(
        DataError,
        match=r"no rows with 'split' in \['train'\]; the splits present "
        r"are \['test'\]",
    ):
        SequenceClassifier().fit_frame(
            pd.DataFrame({"t": ["a"], "l": ["x"], "split": ["test"]}), "t", "l", "split"
        )


def test_bad_options():
    with pytest.raises(
        ConfigError, match="pooling must be one of 'last', 'mean', 'max', 'attention', got 'median'"
    ):
        SequenceClassifier(pooling="median")
    with pytest.raises(ConfigError, match="tokenizer must be one of 'char', 'word', 'bpe' or None"):
        SequenceClassifier("sentencepiece")
    with pytest.raises(ConfigError, match="class_weights must be None, 'balanced' or a dict"):
        SequenceClassifier(class_weights="inverse")
    with pytest.raises(ConfigError, match="unknown option\\(s\\) colour; the LSTM options are"):
        SequenceClassifier(colour="red")
    with pytest.raises(ConfigError, match="vectors initialise a word or char vocabulary"):
        SequenceClassifier("bpe", vectors="x.txt")
    with pytest.raises(ConfigError, match="val_size must be a fraction in"):
        SequenceClassifier(val_size=1.5)


def test_bad_data():
    clf = SequenceClassifier()
    with pytest.raises(
        DataError,
        match="a classifier needs at least 2 classes, the labels hold "
        r"only \['x'\]",
    ):
        clf.fit(["a", "b"], ["x", "x"])
    with pytest.raises(DataError, match="training data: 2 examples but 1 labels"):
        clf.fit(["a", "b"], ["x"])
    with pytest.raises(
        DataError, match=r"training data: example 1 is nan \(a float\); expected a string of text"
    ):
        clf.fit(["a", float("nan")], ["x", "y"])
    with pytest.raises(DataError, match=r"training data: label 1 is missing \(None\)"):
        clf.fit(["a", "b"], ["x", None])
    with pytest.raises(
        DataError,
        match=r"validation data: 1 label\(s\) never seen in training: 'z'; "
        "the 2 training labels are 'x', 'y'",
    ):
        clf.fit(["a", "b"], ["x", "y"], val=(["c"], ["z"]))
    many = [f"c{k:02d}" for k in range(12)]
    with pytest.raises(DataError, match=r"the 12 training labels are 'c00', .*'c09' and 2 more$"):
        clf.fit(many, many, val=(["c"], ["z"]))
    with pytest.raises(DataError, match="expected a list of texts, got a single string"):
        clf.fit("a b c", ["x"])
    with pytest.raises(ConfigError, match=r"predict needs a trained model: call fit\(\) or load"):
        clf.predict(["a"])
    frame = pd.DataFrame({"text": ["a", None, "c"], "label": ["x", "y", "x"]})
    with pytest.raises(
        DataError, match="text column 'text' has 1 missing value\\(s\\), the first in data row 2"
    ):
        clf.fit_frame(frame, "text", "label")
    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "", "x"]})
    with pytest.raises(DataError, match="label column 'label' has 1 missing value"):
        clf.fit_frame(frame, "text", "label")


def test_the_layer_is_lstmkits():
    clf = SequenceClassifier(None, hidden_size=4, impl="reference")
    clf.fit(*numeric_data(12, 0), max_epochs=1, enable_progress_bar=False)
    assert isinstance(clf.net.lstm, LSTM) and clf.net.lstm.impl == "reference"
    assert clf.net.lstm.batch_first and clf.net.lstm.bidirectional


def test_a_separate_validation_table_replaces_the_val_rows():
    texts, labels = keyword_data(60, 7)
    frame = pd.DataFrame({"review": texts, "y": labels, "part": ["train"] * 50 + ["val"] * 10})
    val = pd.DataFrame({"review": texts[:4], "y": labels[:4]})
    clf = SequenceClassifier(**SMALL, val_size=0)
    clf.fit_frame(frame, "review", "y", "part", val=val, max_epochs=1, enable_progress_bar=False)
    assert clf.columns == {"text_col": "review", "label_col": "y", "split_col": "part"}
    assert clf.history.val_loss[-1] is not None


def test_evaluate_scores_the_baseline_beside_the_model(trained):
    pytest.importorskip("sklearn")
    train, test = keyword_data(120, 8), keyword_data(40, 9)
    scores = trained.evaluate(*test, baseline=train)
    assert list(scores.index) == ["model", "bow-logreg"]
    assert scores.loc["bow-logreg", "n"] == 40
    assert scores.loc["bow-logreg", "accuracy"] >= 0.7  # one keyword decides the label
    frame = pd.DataFrame({"text": test[0], "label": test[1]})
    base = pd.DataFrame({"text": train[0], "label": train[1]})
    again = trained.evaluate_frame(frame, text_col="text", label_col="label", baseline_train=base)
    pd.testing.assert_frame_equal(again, scores)


def test_seed_is_a_training_option_and_balanced_weights_are_saved(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown option\(s\) seed"):
        SequenceClassifier(seed=1)
    clf = SequenceClassifier(class_weights="balanced", **SMALL)
    clf.fit(*keyword_data(30, 10), max_epochs=1, enable_progress_bar=False, seed=3)
    assert "seed" not in clf.get_config()
    loaded = SequenceClassifier.load(clf.save(tmp_path / "m"))
    assert loaded.class_weights == "balanced"
    assert loaded.get_config() == clf.get_config()
