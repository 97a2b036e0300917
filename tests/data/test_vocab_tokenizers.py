"""Vocabulary and the three tokenisers: ids, round trips, unknowns, persistence, bad input."""

from __future__ import annotations

import json

import pytest

from lstmkit.data.tokenizers import (
    BPETokenizer,
    CharTokenizer,
    WordTokenizer,
    make_tokenizer,
    tokenizer_from_dict,
)
from lstmkit.data.vocab import SPECIALS, Vocabulary
from lstmkit.errors import ConfigError, DataError, ModelFileError

CORPUS = ["the cat sat on the mat.", "The dog sat, the cat ran!", "a cat and a dog"]


def test_vocabulary_orders_by_frequency_then_alphabet_after_the_specials():
    vocab = Vocabulary.build([["b", "a", "c", "a"], ["c", "d"]])
    assert vocab.tokens == [*SPECIALS, "a", "c", "b", "d"]
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2, 3)
    assert vocab.index("a") == 4 and vocab.index("zzz") == vocab.unk_id
    assert vocab.encode(["d", "x"]) == [7, 1]
    assert vocab.decode([2, 4, 1, 3, 0]) == ["a", "<unk>"]
    assert vocab.decode([2, 4], skip_special=False) == ["<bos>", "a"]


def test_vocabulary_min_freq_max_size_and_round_trip():
    vocab = Vocabulary.build([["a", "a", "b", "b", "c"]], min_freq=2)
    assert vocab.tokens[4:] == ["a", "b"]
    assert Vocabulary.build([["a", "a", "b", "b", "c"]], max_size=1).tokens[4:] == ["a"]
    again = Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again == vocab


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"min_freq": 0}, "min_freq must be a positive int, got 0"), ({"max_size": 0}, "max_size")],
)
def test_vocabulary_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Vocabulary.build([["a"]], **kwargs)


def test_vocabulary_rejects_duplicates_and_corrupt_files():
    with pytest.raises(ConfigError, match="repeated: \\['a'\\]"):
        Vocabulary(["a", "b", "a"])
    with pytest.raises(ModelFileError, match="'tokens' list"):
        Vocabulary.from_dict({"tokens": "abc"})
    with pytest.raises(ModelFileError, match="expected \\['<pad>'"):
        Vocabulary.from_dict({"tokens": ["a"], "specials": ["<unk>"]})
    with pytest.raises(ConfigError, match="token id 9 is outside the vocabulary"):
        Vocabulary(["a"]).decode([9])


def test_char_tokenizer_round_trip_and_unknowns():
    tok = CharTokenizer().fit(CORPUS)
    text = "the cat sat."
    ids = tok.encode(text, bos=True, eos=True)
    assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id
    assert tok.decode(ids) == text
    assert tok.unknown("the cat, zebra") == ["z", "b"]
    assert tok.decode(tok.encode("zoo")) == "<unk>oo"


def test_word_tokenizer_splits_punctuation_and_lowercases():
    tok = WordTokenizer().fit(CORPUS)
    assert tok.tokenize("The cat, sat!") == ["the", "cat", ",", "sat", "!"]
    assert tok.decode(tok.encode("The cat ran.")) == "the cat ran ."
    assert tok.unknown("the zebra and the yak") == ["zebra", "yak"]
    cased = WordTokenizer(lowercase=False).fit(CORPUS)
    assert "The" in cased.vocab and "the" in cased.vocab


def test_word_tokenizer_min_freq_sends_rare_words_to_unk():
    tok = WordTokenizer(min_freq=2).fit(CORPUS)
    assert "mat" not in tok.vocab and "cat" in tok.vocab
    assert tok.encode("mat") == [tok.unk_id]


def test_bpe_tokenizer_reconstructs_text_and_keeps_special_ids():
    corpus = CORPUS * 20
    tok = BPETokenizer(vocab_size=60, min_freq=2).fit(corpus)
    text = "the cat sat on the mat."
    assert tok.decode(tok.encode(text)) == text
    assert tok.vocab_size <= 60
    assert len(tok.tokenize("the cat")) < len("the cat")  # merges happened
    assert tok.unknown("the zebra") == ["z", "b"]
    wrapped = tok.encode("the", bos=True, eos=True)
    assert wrapped == [2, *tok.encode("the"), 3]


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_every_tokenizer_survives_json_round_trip(kind):
    options = {"vocab_size": 50} if kind == "bpe" else {}
    tok = make_tokenizer(kind, **options).fit(CORPUS * 5)
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    for text in ["the cat sat.", "a dog ran, zebra!"]:
        assert again.encode(text) == tok.encode(text)
        assert again.decode(again.encode(text)) == tok.decode(tok.encode(text))
    assert again.vocab_size == tok.vocab_size and again.kind == kind


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_empty_corpus_is_a_clear_error(kind):
    with pytest.raises(DataError, match="the corpus is empty"):
        make_tokenizer(kind).fit(["", "  \n"])


def test_tokenizer_errors_name_the_problem():
    with pytest.raises(ConfigError, match="tokenizer must be one of char, word, bpe, got 'morse'"):
        make_tokenizer("morse")
    with pytest.raises(ConfigError, match="bad option for the char tokenizer"):
        make_tokenizer("char", vocab_size=10)
    with pytest.raises(ConfigError, match="not fitted yet"):
        CharTokenizer().encode("abc")
    with pytest.raises(DataError, match=r"text 1 is 3 \(an int\); expected a string"):
        CharTokenizer().fit(["ok", 3])
    with pytest.raises(ModelFileError, match="got 'morse'"):
        tokenizer_from_dict({"kind": "morse"})
    with pytest.raises(ModelFileError, match="a saved word tokenizer is corrupt: KeyError"):
        tokenizer_from_dict({"kind": "word"})
