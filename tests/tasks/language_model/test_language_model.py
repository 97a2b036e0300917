"""LanguageModel: learning a tiny corpus, scoring, sampling, saving, options and errors."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from lstmkit.data.corpus import read_text, split_tail
from lstmkit.errors import ConfigError, DataError, ModelFileError
from lstmkit.nn.regularization import WeightDrop
from lstmkit.tasks.language_model import LanguageModel

CORPUS = "".join(f"{w} sat on the mat.\n" for w in ["the cat", "a dog", "the cow", "my hen"] * 60)
QUIET = {"enable_progress_bar": False}
NO_DROP = {"input_dropout": 0.0, "hidden_dropout": 0.0, "output_dropout": 0.0}


@pytest.fixture(scope="module")
def char_lm() -> LanguageModel:
    torch.set_num_threads(1)
    lm = LanguageModel(embed_size=16, hidden_size=16, num_layers=1, bptt=25, **NO_DROP)
    return lm.fit(CORPUS, max_epochs=6, batch_size=8, lr=0.01, seed=0, **QUIET)


def test_tiny_corpus_is_learnt(char_lm):
    history = char_lm.history
    assert history.val_loss[-1] < 0.5 * history.val_loss[0]
    scores = char_lm.perplexity(CORPUS[-400:])
    assert scores["tokens"] == scores["characters"] == 400
    assert scores["bits_per_char"] < 0.3 * scores["unigram_bits_per_char"]
    assert scores["perplexity"] == pytest.approx(math.exp(scores["loss"]))
    assert scores["bits_per_char"] == pytest.approx(scores["loss"] / math.log(2))
    text = char_lm.generate("the ", 40, temperature=0)
    assert "on the mat" in text


def test_evaluate_is_the_metrics_frame_of_perplexity(char_lm):
    text = CORPUS[-400:]
    scores = char_lm.perplexity(text)
    metrics = char_lm.evaluate(text)
    assert list(metrics.index) == ["model", "unigram"]
    assert list(metrics.columns) == [
        "cross_entropy",
        "perplexity",
        "bits_per_token",
        "bits_per_char",
    ]
    model, unigram = metrics.loc["model"], metrics.loc["unigram"]
    assert model["cross_entropy"] == scores["loss"]
    assert model["bits_per_char"] == scores["bits_per_char"]
    assert unigram["perplexity"] == pytest.approx(scores["unigram_perplexity"])
    assert unigram["bits_per_char"] == scores["unigram_bits_per_char"]
    assert unigram["perplexity"] == pytest.approx(math.exp(unigram["cross_entropy"]))
    assert model["bits_per_char"] < unigram["bits_per_char"]


def test_fit_keeps_the_split_it_made(char_lm):
    from lstmkit.data.corpus import split_tail

    train, held_out = split_tail(CORPUS, 0.1)
    assert char_lm.held_out == held_out
    assert char_lm.train_characters == len(train)


def test_perplexity_is_the_mean_nll_of_every_character(char_lm):
    text = "a dog sat on the mat.\nmy hen sat"
    tok, net = char_lm.tokenizer_, char_lm.net
    ids = torch.tensor([[tok.bos_id, *tok.encode(text)]])
    with torch.no_grad():
        logits = net(ids[:, :-1])[0][0].double()
    nll = F.cross_entropy(logits, ids[0, 1:], reduction="sum").item()
    scores = char_lm.perplexity(text, bptt=7)  # windows with the state carried across
    assert scores["loss"] == pytest.approx(nll / len(text), rel=1e-5)
    assert scores["bits_per_char"] == pytest.approx(nll / len(text) / math.log(2), rel=1e-5)
    # 4 parallel streams of 401 // 4 = 100 ids: the first id of each is not a target
    fast = char_lm.perplexity(CORPUS[-400:], batch_size=4)
    assert fast["tokens"] == 4 * 99


def test_save_load_round_trip(char_lm, tmp_path):
    path = char_lm.save(tmp_path / "lm")
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json",
        "state.json",
        "weights.safetensors",
    ]
    loaded = LanguageModel.load(path)
    assert loaded.net.decoder.weight is loaded.net.embedding.weight  # tying restored
    text = CORPUS[-300:]
    assert loaded.perplexity(text) == char_lm.perplexity(text)
    kwargs = {"temperature": 0.9, "top_k": 5, "top_p": 0.95, "seed": 3}
    assert loaded.generate("a ", 50, **kwargs) == char_lm.generate("a ", 50, **kwargs)
    assert char_lm.generate("a ", 50, seed=1) == char_lm.generate("a ", 50, seed=1)
    assert char_lm.generate("a ", 50, seed=1) != char_lm.generate("a ", 50, seed=2)
    assert loaded.history.to_dict() == char_lm.history.to_dict()
    with pytest.raises(ModelFileError, match="holds a 'LanguageModel' model, not a 'Forecaster'"):
        from lstmkit.tasks import Forecaster

        Forecaster.load(path)


def test_generation_inputs(char_lm):
    with pytest.warns(UserWarning, match=r"2 piece\(s\) not in the model's vocabulary.*'Z', 'é'"):
        out = char_lm.generate("Zé the ", 10, seed=0)
    assert len(out) == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(char_lm.generate("", 12, seed=0)) == 12  # starts from <bos>
    for bad in (0, -3, 2.5):
        with pytest.raises(
            ConfigError, match=f"length must be a positive number of tokens, got {bad}"
        ):
            char_lm.generate("the", bad)
    with pytest.raises(ConfigError, match=r"top_p must be a number in \(0, 1\]"):
        char_lm.generate("the", 5, top_p=0)
    with pytest.raises(ConfigError, match="temperature must be a finite number >= 0"):
        char_lm.generate("the", 5, temperature=-1)


def test_errors_and_inputs(tmp_path):
    lm = LanguageModel(embed_size=8, hidden_size=8, num_layers=1)
    with pytest.raises(DataError, match="the training corpus is empty"):
        lm.fit("  \n\n ")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=r"the training corpus is empty \(.*empty.txt\)"):
        lm.fit(empty)
    with pytest.raises(DataError, match="the training corpus: no file at .*missing.txt"):
        lm.fit(tmp_path / "missing.txt")
    with pytest.raises(DataError, match="too few for batch_size=32 parallel streams"):
        lm.fit("abc def", val_fraction=0)
    with pytest.raises(ConfigError, match=r"LanguageModel.generate needs a trained model"):
        lm.generate("a", 3)
    with pytest.raises(ConfigError, match=r"LanguageModel.perplexity needs a trained model"):
        lm.perplexity("abc")
    with pytest.raises(ConfigError, match=r"LanguageModel.evaluate needs a trained model"):
        lm.evaluate("abc")
    with pytest.raises(ConfigError, match=r"unknown option\(s\) proj_size"):
        LanguageModel(proj_size=4)
    with pytest.raises(
        ConfigError, match="tokenizer must be one of 'char', 'word', 'bpe', got 'byte'"
    ):
        LanguageModel("byte")
    with pytest.raises(ConfigError, match=r"weight_drop must be a number in \[0, 1\), got 1"):
        LanguageModel(weight_drop=1)
    with pytest.raises(
        ConfigError, match="tie_weights with one layer needs hidden_size >= embed_size"
    ):
        LanguageModel(embed_size=32, hidden_size=16, num_layers=1)
    with pytest.raises(ConfigError, match=r"val_fraction must be a number in \[0, 1\), got 1.5"):
        lm.fit(CORPUS, val_fraction=1.5)
    with pytest.raises(ModelFileError, match="no model at"):
        LanguageModel.load(tmp_path / "nothing")


def test_read_text_and_split():
    assert read_text("hello") == "hello"
    head, tail = split_tail("line one\nline two\nline three\n", 0.3)
    assert head + tail == "line one\nline two\nline three\n"
    assert head.endswith("\n") and tail == "line three\n"
    assert split_tail("abcdefghij", 0.2) == ("abcdefgh", "ij")
    assert split_tail("abc", 0.0) == ("abc", "")


def test_word_model_with_every_regulariser(tmp_path):
    lm = LanguageModel(
        "word",
        embed_size=12,
        hidden_size=20,
        num_layers=2,
        embed_dropout=0.1,
        input_dropout=0.1,
        hidden_dropout=0.1,
        output_dropout=0.1,
        recurrent_dropout=0.1,
        weight_drop=0.2,
        ar=1.0,
        tar=1.0,
        bptt=10,
    )
    corpus = Path(_write(tmp_path / "c.txt", CORPUS))
    lm.fit(corpus, max_epochs=2, batch_size=4, lr=0.01, seed=1, **QUIET)
    assert lm.get_config()["lstm_options"] == {"recurrent_dropout": 0.1}
    assert isinstance(lm.net.layers[0], WeightDrop)
    assert lm.net.layers[1].module.hidden_size == 12  # tied: last layer has embed_size units
    scores = lm.perplexity("the cat sat on the mat.\na dog sat on the mat.\n")
    assert scores["tokens"] == 16  # 7 words/marks + <eos> per line
    assert scores["characters"] == 46
    total = scores["loss"] * scores["tokens"]
    assert scores["bits_per_char"] == pytest.approx(total / 46 / math.log(2))
    with pytest.warns(UserWarning, match=r"not in the model's vocabulary.*'zebra'"):
        out = lm.generate("the zebra", 8, seed=0)
    assert out.startswith((" ", "\n"))
    assert "<" not in out  # no special token is written out
    loaded = LanguageModel.load(lm.save(tmp_path / "wlm"))
    assert loaded.generate("the", 8, seed=4) == lm.generate("the", 8, seed=4)
    assert loaded.perplexity(CORPUS[:200]) == lm.perplexity(CORPUS[:200])


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_bpe_model_round_trip(tmp_path):
    lm = LanguageModel(
        "bpe",
        tokenizer_options={"vocab_size": 40},
        embed_size=12,
        hidden_size=12,
        num_layers=1,
        bptt=10,
    )
    lm.fit(CORPUS, max_epochs=1, batch_size=4, **QUIET)
    assert lm.tokenizer_.kind == "bpe" and lm.tokenizer_.vocab_size == 40
    scores = lm.perplexity("the cat sat on the mat.\n")
    assert scores["characters"] == 24
    assert scores["tokens"] == len(lm.tokenizer_.encode("the cat sat on the mat.")) + 1
    loaded = LanguageModel.load(lm.save(tmp_path / "bpe"))
    assert loaded.perplexity(CORPUS[:100]) == lm.perplexity(CORPUS[:100])
    assert loaded.generate("the", 6, seed=2) == lm.generate("the", 6, seed=2)
