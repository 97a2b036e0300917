"""CoNLL reading/writing and span extraction."""

from __future__ import annotations

import pytest

from lstmkit.data.conll import (
    Sentence,
    Span,
    detect_scheme,
    read_conll,
    read_text_sentences,
    spans,
    write_conll,
)
from lstmkit.errors import ConfigError, DataError

SAMPLE = """-DOCSTART- -X- O O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER


"""


def _write(tmp_path, text, name="x.conll"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_default_columns(tmp_path):
    got = read_conll(_write(tmp_path, SAMPLE))
    assert got == [
        Sentence(["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"]),
        Sentence(["Peter", "Blackburn"], ["B-PER", "I-PER"]),
    ]


def test_read_other_columns_and_tokens_only(tmp_path):
    path = _write(tmp_path, SAMPLE)
    chunks = read_conll(path, tag_col=2)
    assert chunks[0].tags == ["B-NP", "B-VP", "B-NP"]
    tokens = read_conll(path, tag_col=None)
    assert tokens[1] == Sentence(["Peter", "Blackburn"], None)
    pos = read_conll(path, token_col=1, tag_col=3)
    assert pos[0].tokens == ["NNP", "VBZ", "JJ"]


def test_comments_and_bom(tmp_path):
    text = "\ufeff# sent_id = 1\nHello O\n# mid\nworld O\n"
    assert read_conll(_write(tmp_path, text), comments=True) == [
        Sentence(["Hello", "world"], ["O", "O"])
    ]
    # without comments=True the '#' line is a token line with the wrong column count
    with pytest.raises(DataError, match=r"line 2: expected 2 .*like line 1, got 4.*comments=True"):
        read_conll(_write(tmp_path, "Hello O\n# sent_id = 1\n"))


def test_malformed_line_names_file_and_line(tmp_path):
    path = _write(tmp_path, "EU NNP B-ORG\nrejects VBZ O\n\nPeter B-PER\n")
    with pytest.raises(DataError) as err:
        read_conll(path)
    message = str(err.value)
    assert str(path) in message
    assert "line 4: expected 3 whitespace-separated columns like line 1, got 2" in message
    assert "'Peter B-PER'" in message


def test_missing_tag_column(tmp_path):
    path = _write(tmp_path, "\nEU\nrejects\n")
    with pytest.raises(DataError, match=r"line 2: expected a tag column beside the token column"):
        read_conll(path)
    assert read_conll(path, tag_col=None) == [Sentence(["EU", "rejects"], None)]
    with pytest.raises(DataError, match=r"line 2: token column 3 does not exist"):
        read_conll(path, token_col=3, tag_col=None)


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(DataError, match=r"empty\.conll holds no sentences"):
        read_conll(_write(tmp_path, "\n\n-DOCSTART- O\n\n", "empty.conll"))
    with pytest.raises(DataError, match=r"nope\.conll does not exist"):
        read_conll(tmp_path / "nope.conll")
    with pytest.raises(ConfigError, match="tag_col must be an int column index, got '1'"):
        read_conll(tmp_path / "nope.conll", tag_col="1")  # type: ignore[arg-type]


def test_bad_encoding_names_line(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_bytes(b"EU B-ORG\nM\xfcller B-PER\n")
    with pytest.raises(DataError, match=r"bad\.conll, line 2: not valid utf-8 text"):
        read_conll(path)
    assert read_conll(path, encoding="latin-1")[0].tokens == ["EU", "Müller"]


def test_write_round_trip(tmp_path):
    sentences = [(["a", "b"], ["B-X", "I-X"]), (["c"], ["O"])]
    out = write_conll(tmp_path / "sub" / "out.conll", sentences)
    assert out.read_text() == "a\tB-X\nb\tI-X\n\nc\tO\n\n"
    assert read_conll(out) == [Sentence(*s) for s in sentences]
    three = write_conll(tmp_path / "three.conll", [(["a"], ["O"], ["B-X"])])
    assert read_conll(three, tag_col=1)[0].tags == ["O"]


def test_write_rejects_whitespace_and_ragged(tmp_path):
    with pytest.raises(DataError, match=r"sentence 0: cannot write 'New York'"):
        write_conll(tmp_path / "o.conll", [(["New York"], ["B-LOC"])])
    with pytest.raises(DataError, match=r"sentence 1: its columns have different lengths \[2, 1\]"):
        write_conll(tmp_path / "o.conll", [(["a"], ["O"]), (["a", "b"], ["O"])])
    assert not (tmp_path / "o.conll").exists()


def test_text_sentences(tmp_path):
    path = _write(tmp_path, "EU rejects  German call\n\n  Peter  Blackburn \n", "in.txt")
    assert read_text_sentences(path) == [
        ["EU", "rejects", "German", "call"],
        ["Peter", "Blackburn"],
    ]
    with pytest.raises(DataError, match=r"e\.txt holds no sentences"):
        read_text_sentences(_write(tmp_path, "\n \n", "e.txt"))


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
        # I- after O starts a span (conlleval)
        (["O", "I-LOC", "I-LOC", "O"], [("LOC", 1, 3)]),
        # type change inside: I-ORG after I-PER starts a new span
        (["B-PER", "I-ORG"], [("PER", 0, 1), ("ORG", 1, 2)]),
        # adjacent B-: two spans
        (["B-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 3)]),
        # IOB1: B- separates two adjacent spans of one type
        (["I-PER", "I-PER", "B-PER", "O"], [("PER", 0, 2), ("PER", 2, 3)]),
        # IOBES
        (
            ["S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"],
            [("PER", 0, 1), ("LOC", 1, 4), ("LOC", 4, 5)],
        ),
        (["B-LOC", "E-LOC", "E-LOC"], [("LOC", 0, 2), ("LOC", 2, 3)]),
        # span running to the end, and tags without a prefix
        (["O", "B-X", "I-X"], [("X", 1, 3)]),
        (["NN", "NN", "VB"], [("NN", 0, 1), ("NN", 1, 2), ("VB", 2, 3)]),
        ([], []),
        (["O", "O"], []),
    ],
)
def test_spans(tags, expected):
    assert spans(tags) == [Span(*e) for e in expected]


def test_detect_scheme():
    assert detect_scheme([["O", "B-X", "I-X"], ["B-Y"]]) == "BIO"
    assert detect_scheme([["O", "I-X"]]) is None  # I- after O is not valid IOB2
    assert detect_scheme([["S-X", "B-Y", "E-Y"]]) == "IOBES"
    assert detect_scheme([["NN", "VB"]]) is None
