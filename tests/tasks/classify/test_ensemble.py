"""The classifier's ensemble of seeds (issue 13): one member reproduces the single model, several
average their probabilities, an ensemble saves and loads whole, and a model saved before
ensembles (one network's tensors, no "ensemble" key) loads and predicts exactly as before."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
import torch
from safetensors import safe_open

from lstmkit.data import pad_sequences
from lstmkit.errors import ConfigError, ModelFileError
from lstmkit.tasks.classify import SequenceClassifier
from lstmkit.tasks.classify.ensemble import AUTO_MEMBERS, ensemble_size, member_seed

DATA = pathlib.Path(__file__).parent / "data"
V2 = json.loads((DATA / "numeric_v2" / "expected.json").read_text(encoding="utf-8"))
TRAIN = ([np.array(x) for x in V2["train_inputs"]], V2["train_labels"])
INPUTS = [np.array(x) for x in V2["inputs"]]
# numeric_v2 was fitted so (tests/tasks/classify/data/make_saved_v2.py):
MODEL = {"hidden_size": 4, "pooling": "attention"}
FIT = {"seed": 4, "max_epochs": 3, "enable_progress_bar": False}


def _fit(ensemble, **fit):
    clf = SequenceClassifier(None, ensemble=ensemble, **MODEL)
    return clf.fit(*TRAIN, **{**FIT, **fit})


def _member_proba(clf, net, inputs) -> np.ndarray:
    """One member's probabilities, by hand: scale, pad, the net's logits, softmax."""
    encoded = [torch.as_tensor(clf.scaler.transform(x), dtype=torch.float32) for x in inputs]
    x, lengths = pad_sequences(encoded)
    with torch.no_grad():
        return torch.softmax(net.eval()(x, lengths).double(), dim=1).numpy()


def test_one_member_is_the_model_fitted_before_ensembles():
    clf = _fit(1)
    assert len(clf.nets) == 1 and clf.net is clf.nets[0]
    np.testing.assert_allclose(clf.predict_proba(INPUTS), V2["predict_proba"], rtol=1e-6, atol=1e-9)
    assert clf.predict(INPUTS) == V2["predict"]


@pytest.fixture(scope="module")
def three():
    return _fit(3)


def test_an_ensemble_averages_its_members_probabilities(three):
    assert len(three.nets) == 3 and three.net is three.nets[0]
    members = [_member_proba(three, net, INPUTS) for net in three.nets]
    np.testing.assert_allclose(three.predict_proba(INPUTS), np.mean(members, axis=0), atol=1e-12)
    # member k is the single model of member_seed(seed, k): member 0 is numeric_v2 (seed 4),
    # member 1 the model of seed 4 + 10007, so the ensembles of seeds 4 and 5 share no member
    assert [member_seed(4, k) for k in range(3)] == [4, 10_011, 20_018]
    np.testing.assert_allclose(members[0], V2["predict_proba"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(members[1], _fit(1, seed=10_011).predict_proba(INPUTS), atol=1e-12)
    by_hand = []
    for x in INPUTS:
        seq = torch.as_tensor(three.scaler.transform(x), dtype=torch.float32)
        per_net = [n.attention_weights(*pad_sequences([seq]))[0].double() for n in three.nets]
        by_hand.append(torch.stack(per_net).mean(0).numpy())
    for got, want in zip(three.attention_weights(INPUTS), by_hand, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_an_ensemble_saves_and_loads_whole(three, tmp_path):
    path = three.save(tmp_path / "ens")
    with safe_open(str(path / "weights.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert {k.split(".")[1] for k in keys} == {"0", "1", "2"}
    assert all(k.startswith("members.") for k in keys)
    loaded = SequenceClassifier.load(path)
    assert len(loaded.nets) == 3 and loaded.ensemble == 3
    np.testing.assert_array_equal(loaded.predict_proba(INPUTS), three.predict_proba(INPUTS))
    for a, b in zip(loaded.attention_weights(INPUTS), three.attention_weights(INPUTS), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_model_saved_before_ensembles_loads_as_one_member(tmp_path):
    clf = SequenceClassifier.load(DATA / "numeric_v2")
    assert clf.ensemble == 1 and len(clf.nets) == 1
    assert clf.predict(INPUTS) == V2["predict"]
    np.testing.assert_allclose(clf.predict_proba(INPUTS), V2["predict_proba"], rtol=1e-6, atol=1e-9)
    for got, want in zip(clf.attention_weights(INPUTS), V2["attention"], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    # saved again, it keeps the one-network layout (no "members." prefix)
    again = clf.save(tmp_path / "again")
    with safe_open(str(again / "weights.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert not any(k.startswith("members.") for k in keys)
    loaded = SequenceClassifier.load(again)
    np.testing.assert_array_equal(loaded.predict_proba(INPUTS), clf.predict_proba(INPUTS))


@pytest.mark.parametrize("bad", [0, 2.5, True])
def test_a_corrupt_member_count_is_a_model_file_error_naming_it(three, tmp_path, bad):
    path = three.save(tmp_path / "ens")
    state = json.loads((path / "state.json").read_text())
    state["members"] = bad
    (path / "state.json").write_text(json.dumps(state))
    with pytest.raises(
        ModelFileError, match=rf"state.json.*members must be a positive int, got {bad}"
    ):
        SequenceClassifier.load(path)


@pytest.mark.parametrize("bad", [0, -1, "many", 2.5, True, None])
def test_a_bad_ensemble_is_refused_with_its_value(bad):
    with pytest.raises(ConfigError, match=rf"ensemble must be .* got {bad!r}"):
        SequenceClassifier(None, ensemble=bad)


def test_auto_trains_several_members_on_small_numeric_data_only():
    assert ensemble_size("auto", numeric=True, has_val=False, n_train=999) == AUTO_MEMBERS
    assert ensemble_size("auto", numeric=True, has_val=False, n_train=1000) == 1
    assert ensemble_size("auto", numeric=True, has_val=True, n_train=50) == 1
    assert ensemble_size("auto", numeric=False, has_val=False, n_train=50) == 1
    assert ensemble_size(2, numeric=False, has_val=False, n_train=50000) == 2
    clf = SequenceClassifier(None, hidden_size=4)
    clf.fit(*TRAIN, max_epochs=1, enable_progress_bar=False)
    assert clf.ensemble == "auto" and len(clf.nets) == AUTO_MEMBERS
    texts = ["a b great", "a b", "great c", "c d"] * 3
    text_clf = SequenceClassifier("word", hidden_size=4, embed_size=4).fit(
        texts, ["pos", "neg", "pos", "neg"] * 3, max_epochs=1, enable_progress_bar=False
    )
    assert len(text_clf.nets) == 1


def test_an_ensemble_exports_its_mean_probabilities(three, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path = three.export(tmp_path / "ens.onnx")
    session = ort.InferenceSession(str(path))
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    encoded = [torch.as_tensor(three.scaler.transform(x), dtype=torch.float32) for x in INPUTS]
    x, lengths = pad_sequences(encoded)
    (got,) = session.run(None, {"x": x.numpy(), "lengths": lengths.numpy()})
    np.testing.assert_allclose(got, three.predict_proba(INPUTS), atol=1e-5)
