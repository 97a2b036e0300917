"""Tagger: learns a tiny synthetic tagged set, round-trips through save/load, clear errors."""

from __future__ import annotations

import json
import random

import pytest
import torch

from lstmkit.data.conll import spans, write_conll
from lstmkit.errors import ConfigError, DataError, ModelFileError
from lstmkit.tasks.tagging import Tagger

FAST = {"enable_progress_bar": False, "batch_size": 16, "lr": 0.02}
SMALL = {"hidden_size": 16, "embedding_dim": 16, "char_filters": 8, "char_dim": 8, "dropout": 0.0}


def make_sentences(n: int, seed: int) -> list[tuple[list[str], list[str]]]:
    """Sentences where names are PER (two tokens) and capitalised city names are LOC."""
    rng = random.Random(seed)
    people = ["john", "mary", "peter", "anna", "li"]
    cities = ["paris", "berlin", "rome", "oslo"]
    filler = ["the", "a", "went", "to", "saw", "in", "and", "today"]
    out = []
    for _ in range(n):
        tokens, tags = [], []
        for _ in range(rng.randint(2, 7)):
            r = rng.random()
            if r < 0.2:
                tokens += [rng.choice(people).title(), "smith"]
                tags += ["B-PER", "I-PER"]
            elif r < 0.35:
                tokens.append(rng.choice(cities).title())
                tags.append("B-LOC")
            else:
                tokens.append(rng.choice(filler))
                tags.append("O")
        out.append((tokens, tags))
    return out


@pytest.fixture(scope="module")
def trained():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # module fixtures run before the suite's one-thread fixture
    try:
        tagger = Tagger(**SMALL)
        tagger.fit(make_sentences(120, 0), make_sentences(20, 2), max_epochs=8, seed=0, **FAST)
    finally:
        torch.set_num_threads(threads)
    return tagger


def test_fit_learns_the_tiny_set(trained):
    test = make_sentences(40, 1)
    metrics = trained.evaluate(test)
    assert list(metrics.index) == ["model"]
    assert list(metrics.columns) == ["precision", "recall", "f1", "accuracy"]
    assert metrics.loc["model", "f1"] >= 0.95, metrics
    assert metrics.loc["model", "accuracy"] >= 0.97
    report = trained.span_report(test)
    assert set(report["per_type"]) == {"LOC", "PER"}
    assert report["f1"] == metrics.loc["model", "f1"]
    assert report["n_sentences"] == 40
    assert trained.scheme == "BIO"
    assert trained.tags == ["B-LOC", "B-PER", "I-PER", "O"]
    assert len(trained.history) == 8
    pred = trained.predict([["Mary", "smith", "saw", "Oslo"], [], ["the"]])
    assert pred[0] == ["B-PER", "I-PER", "O", "B-LOC"]
    assert pred[1] == [] and len(pred[2]) == 1


def test_constrained_predictions_are_valid_bio(trained):
    # unseen words and odd capitalisation: whatever it predicts, no I- follows O
    sentences = [["Zed", "Qux", "smith", "smith"], ["smith", "Smith", "Berlin", "smith"]]
    for tags in trained.predict(sentences):
        for prev, cur in zip(["O", *tags], tags, strict=False):
            if cur.startswith("I-"):
                assert prev[2:] == cur[2:] and prev[0] in "BI", tags


def test_save_load_round_trip(trained, tmp_path):
    path = trained.save(tmp_path / "model")
    loaded = Tagger.load(path)
    test = make_sentences(15, 3)
    tokens = [t for t, _ in test]
    assert loaded.predict(tokens) == trained.predict(tokens)
    assert loaded.get_config() == trained.get_config()
    assert loaded.words == trained.words and loaded.scheme == "BIO"
    for a, b in zip(
        loaded.net.state_dict().values(), trained.net.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def test_load_rejects_corrupt_state(trained, tmp_path):
    path = trained.save(tmp_path / "model")
    state = json.loads((path / "state.json").read_text())
    state["tags"] = []
    (path / "state.json").write_text(json.dumps(state))
    with pytest.raises(ModelFileError, match=r"state\.json is corrupt or does not match.*'tags'"):
        Tagger.load(path)
    with pytest.raises(ModelFileError, match="does not exist"):
        Tagger.load(tmp_path / "nothing")


def test_predict_from_files(trained, tmp_path):
    text = tmp_path / "in.txt"
    text.write_text("Anna smith went to Rome\n\nthe\n")
    assert trained.predict(text) == [["B-PER", "I-PER", "O", "O", "B-LOC"], ["O"]]
    conll = write_conll(tmp_path / "in.conll", [(["Anna", "smith"], ["B-PER", "I-PER"])])
    assert trained.predict(conll) == [["B-PER", "I-PER"]]
    assert trained.evaluate(conll).loc["model", "f1"] == 1.0
    assert trained.compare(conll) == [(["Anna", "smith"], ["B-PER", "I-PER"], ["B-PER", "I-PER"])]


def test_compare_reads_other_columns_without_changing_the_model(trained, tmp_path):
    conll = tmp_path / "tag-first.conll"
    conll.write_text("Anna B-PER NNP\nsmith I-PER NNP\n", encoding="utf-8")
    expected = [(["Anna", "smith"], ["B-PER", "I-PER"], ["B-PER", "I-PER"])]
    assert trained.compare(conll, tag_col=1) == expected
    assert (trained.token_col, trained.tag_col) == (0, -1)
    assert trained.compare(conll)[0][1] == ["NNP", "NNP"]  # the model's last column
    with pytest.raises(ConfigError, match="tag_col must be an int column index, got '1'"):
        trained.compare(conll, tag_col="1")


def test_softmax_tagger_and_no_constraints(tmp_path):
    data = make_sentences(40, 0)
    soft = Tagger(use_crf=False, char_features=False, **SMALL)
    soft.fit(data, max_epochs=1, seed=0, **FAST)
    assert soft.net.crf is None and soft.scheme is None and soft.chars is None
    pred = soft.predict([t for t, _ in data[:5]])
    assert [len(p) for p in pred] == [len(t) for t, _ in data[:5]]
    loaded = Tagger.load(soft.save(tmp_path / "soft"))
    assert loaded.predict([t for t, _ in data[:5]]) == pred
    free = Tagger(constraints="none", **SMALL).fit(data, max_epochs=1, seed=0, **FAST)
    assert free.scheme is None and not free.net.crf.constrained


def test_auto_constraints_off_for_invalid_bio():
    data = [(["a", "b"], ["O", "I-X"]), (["c"], ["B-X"])]  # I-X after O: IOB1-style
    tagger = Tagger(**SMALL).fit(data, max_epochs=1, seed=0, **FAST)
    assert tagger.scheme is None
    with pytest.raises(ConfigError, match=r"tags \['NN'\] do not follow the BIO scheme"):
        Tagger(constraints="BIO", **SMALL).fit([(["a"], ["NN"])], max_epochs=1, **FAST)


def test_same_seed_same_model():
    data = make_sentences(30, 0)
    a = Tagger(**SMALL).fit(data, max_epochs=1, seed=3, **FAST)
    b = Tagger(**SMALL).fit(data, max_epochs=1, seed=3, **FAST)
    for x, y in zip(a.net.state_dict().values(), b.net.state_dict().values(), strict=True):
        assert torch.equal(x, y)


def test_pretrained_frozen_vectors(tmp_path):
    vectors = tmp_path / "vec.txt"
    vectors.write_text("the 1 2 3 4\nsmith 0.5 0.5 0.5 0.5\n")
    tagger = Tagger(freeze_embeddings=True, **SMALL)
    tagger.fit(make_sentences(20, 0), vectors=vectors, max_epochs=1, seed=0, **FAST)
    assert tagger.embedding_dim == 4
    row = tagger.net.embedding.weight[tagger.words.index("the")]
    assert row.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_malformed_conll_line_number(tmp_path):
    path = tmp_path / "train.conll"
    path.write_text("EU B-ORG\nrejects O\n\nGerman B-MISC\ncall O extra\n")
    with pytest.raises(
        DataError, match=r"train\.conll, line 5: expected 2 .*got 3: 'call O extra'"
    ):
        Tagger(**SMALL).fit(path, max_epochs=1)


def test_bad_inputs(trained):
    with pytest.raises(DataError, match="validation data: sentence 0 has tag 'B-ORG'"):
        Tagger(**SMALL).fit(make_sentences(5, 0), [(["x"], ["B-ORG"])], max_epochs=1, **FAST)
    with pytest.raises(DataError, match="training data: sentence 0 has 2 tokens and 1 tags"):
        Tagger().fit([(["a", "b"], ["O"])])
    with pytest.raises(DataError, match="training data holds no"):
        Tagger().fit([])
    with pytest.raises(DataError, match=r"sentence 0 is a string 'John went'"):
        trained.predict(["John went"])
    with pytest.raises(DataError, match="sentence 1: tokens must be non-empty strings, got ''"):
        trained.predict([["a"], ["b", ""]])
    with pytest.raises(ConfigError, match=r"Tagger\.predict needs a trained model"):
        Tagger().predict([["a"]])
    with pytest.raises(ConfigError, match="constraints must be one of"):
        Tagger(constraints="BILOU")
    with pytest.raises(ConfigError, match="unknown option"):
        Tagger(colour="red")
    with pytest.raises(ConfigError, match="dropout must be a number in"):
        Tagger(dropout=1.0)


def test_spans_of_predictions_are_consistent(trained):
    tags = trained.predict([["Peter", "smith", "and", "Anna", "smith"]])[0]
    assert [(s.type, s.start, s.end) for s in spans(tags)] == [("PER", 0, 2), ("PER", 3, 5)]
