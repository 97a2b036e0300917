import logging

import pytest

from lstmkit.data import dataset_path, load_char_text, resolve_data_path
from lstmkit.data.conll import read_conll, spans
from lstmkit.data.datasets import FILES_DIR
from lstmkit.data.speech_corpus import (
    FILE_NAMES,
    SPLIT_CHAPTERS,
    SpeechStats,
    build_speech_corpus,
    format_conll,
    main,
    split_long,
    tag_paragraphs,
    write_speech_corpus,
)
from lstmkit.errors import ConfigError, DataError

B, I, O = "B-SPEECH", "I-SPEECH", "O"


def pairs(tagged):
    tokens, tags = tagged
    return list(zip(tokens, tags, strict=True))


def test_interrupted_speech_said_she():
    (tagged,) = tag_paragraphs(['"My dear," said she, "have you\nheard?"'])
    assert pairs(tagged) == [
        ("My", B), ("dear", I), (",", I),
        ("said", O), ("she", O), (",", O),
        ("have", B), ("you", I), ("heard", I), ("?", I),
    ]  # fmt: skip


def test_multi_paragraph_quote_reopens_with_a_span_per_paragraph():
    paragraphs = [
        '"Dear Sir,--',
        '"I write in haste. Yours,',
        '"W. C."',
        "Mr. Bennet read it aloud.",
    ]
    first, second, third, fourth = tag_paragraphs(paragraphs)
    assert pairs(first) == [("Dear", B), ("Sir", I), (",", I), ("-", I), ("-", I)]
    assert pairs(second) == [
        ("I", B), ("write", I), ("in", I), ("haste", I), (".", I), ("Yours", I), (",", I),
    ]  # fmt: skip
    assert pairs(third) == [("W", B), (".", I), ("C", I), (".", I)]
    assert fourth == (["Mr", ".", "Bennet", "read", "it", "aloud", "."], [O] * 7)


def test_a_quote_opening_a_paragraph_after_a_closed_one_is_an_opening():
    # the previous paragraph closed its quote: the leading mark opens, the later one closes
    (_, second) = tag_paragraphs(['"Yes."', '"No," said he.'])
    assert pairs(second) == [("No", B), (",", I), ("said", O), ("he", O), (".", O)]


def test_nested_single_quotes_and_apostrophes_stay_inside_the_span():
    (tagged,) = tag_paragraphs(["\"He wrote, 'I don't know,' and left,\" she said."])
    assert pairs(tagged) == [
        ("He", B), ("wrote", I), (",", I), ("'", I), ("I", I), ("don", I), ("'", I), ("t", I),
        ("know", I), (",", I), ("'", I), ("and", I), ("left", I), (",", I),
        ("she", O), ("said", O), (".", O),
    ]  # fmt: skip


def test_adjacent_quotes_give_two_spans_italics_markers_go_and_empty_quotes_are_ignored():
    (tagged,) = tag_paragraphs(['The words "apology," "_Hunsford_," and "" more.'])
    assert pairs(tagged) == [
        ("The", O), ("words", O), ("apology", B), (",", I), ("Hunsford", B), (",", I),
        ("and", O), ("more", O), (".", O),
    ]  # fmt: skip
    assert spans(tagged[1]) == [("SPEECH", 2, 4), ("SPEECH", 4, 6)]


def test_unbalanced_paragraph_is_skipped_and_the_next_starts_in_narration():
    paragraphs = ['"Never closed, she said.', 'Narration "then speech."', '"Open at the end.']
    assert tag_paragraphs(paragraphs) == [
        None,
        (["Narration", "then", "speech", "."], [O, B, I, I]),
        None,  # nothing after it re-opens the passage
    ]


def test_split_long_cuts_at_sentence_ends_not_after_titles():
    tokens = ["Yes", ".", "I", "saw", "Mr", ".", "Darcy", ".", "he", "said", "."]
    tokens += ["Then", "we", "left", "."]
    tags = [B, I, I, I, I, I, I, I, O, O, O, B, I, I, I]
    chunks, dropped = split_long(tokens, tags, limit=10)
    # no cut after "Mr ." (a title) nor before lowercase "he"; "Yes ." cannot join the next
    # sentence (11 tokens); the chunk that starts inside the passage starts with B
    assert dropped == 0
    assert chunks == [
        (["Yes", "."], [B, I]),
        (["I", "saw", "Mr", ".", "Darcy", ".", "he", "said", "."], [B, I, I, I, I, I, O, O, O]),
        (["Then", "we", "left", "."], [B, I, I, I]),
    ]


def test_split_long_packs_chunks_restarts_spans_and_drops_overlong_pieces():
    tokens = ["A", "b", ".", "C", "d", ".", "E", "f", "g", "h", "i", "j", "k", "."]
    tags = [B, I, I, I, I, I, O, O, O, O, O, O, O, O]
    chunks, dropped = split_long(tokens, tags, limit=4)
    # "A b ." and "C d ." (3 tokens each) cannot share a 4-token chunk; "E ... ." (8 tokens, no
    # ';' or ':') is over the limit and dropped
    assert chunks == [(["A", "b", "."], [B, I, I]), (["C", "d", "."], [B, I, I])]
    assert dropped == 1
    chunks, dropped = split_long(tokens, tags, limit=8)
    assert chunks == [
        (["A", "b", ".", "C", "d", "."], [B, I, I, I, I, I]),
        (["E", "f", "g", "h", "i", "j", "k", "."], [O] * 8),
    ]
    assert dropped == 0
    # a long sentence is cut after ';' and ':' before anything is dropped
    tokens = ["x", "y", ";", "z", "w", ":", "v", "u", "."]
    chunks, dropped = split_long(tokens, [O] * 9, limit=4)
    assert [c[0] for c in chunks] == [["x", "y", ";"], ["z", "w", ":"], ["v", "u", "."]]
    assert dropped == 0
    # short input passes through untouched
    assert split_long(["a"], [I], limit=4) == ([(["a"], [I])], 0)


NOVEL = """TITLE

By Someone



Chapter 1


"Hello," said Ann, "how are you?"

The rain fell all day.

Chapter 2

"Fine. Thank you."

Ann smiled and left the room.

Chapter 3

"One long letter,

"continued here."
"""


def test_build_on_a_small_novel_assigns_chapters_and_samples_narration():
    splits = {"train": range(1, 2), "dev": range(2, 3), "test": range(3, 4)}
    stats = SpeechStats()
    corpus = build_speech_corpus(
        NOVEL, splits=splits, narration_rate=1.0, train_rate=1.0, stats=stats
    )
    assert corpus["train"] == [
        (["Hello", ",", "said", "Ann", ",", "how", "are", "you", "?"], [B, I, O, O, O, B, I, I, I]),
        (["The", "rain", "fell", "all", "day", "."], [O] * 6),
    ]
    assert corpus["dev"][0] == (["Fine", ".", "Thank", "you", "."], [B, I, I, I, I])
    assert corpus["test"] == [
        (["One", "long", "letter", ","], [B, I, I, I]),
        (["continued", "here", "."], [B, I, I]),
    ]
    assert stats == SpeechStats(
        paragraphs=6, quoted_paragraphs=4, unbalanced_skipped=0, long_pieces_dropped=0
    )
    # no narration-only sequences at rate 0; no training paragraphs at train rate 0
    corpus = build_speech_corpus(NOVEL, splits=splits, narration_rate=0.0, train_rate=0.0)
    assert corpus["train"] == [] and len(corpus["dev"]) == 1 and len(corpus["test"]) == 2


def test_a_passage_does_not_run_over_a_chapter_heading(caplog):
    text = 'Chapter 1\n\n"Left open.\n\nChapter 2\n\n"Closed," she said.\n'
    stats = SpeechStats()
    with caplog.at_level(logging.WARNING, logger="lstmkit.data.speech_corpus"):
        corpus = build_speech_corpus(text, splits={"all": range(1, 3)}, stats=stats)
    assert stats.unbalanced_skipped == 1
    assert "chapter 1: skipped unbalanced paragraph '\"Left open.'" in caplog.text
    assert corpus["all"] == [(["Closed", ",", "she", "said", "."], [B, I, O, O, O])]


def test_bad_arguments_name_the_value():
    with pytest.raises(ConfigError, match=r"narration_rate must be in \[0, 1\], got 1\.5"):
        build_speech_corpus(NOVEL, narration_rate=1.5)
    with pytest.raises(ConfigError, match=r"train_rate must be in \[0, 1\], got -0\.1"):
        build_speech_corpus(NOVEL, train_rate=-0.1)
    with pytest.raises(ConfigError, match=r"max_tokens must be a positive int, got 0"):
        build_speech_corpus(NOVEL, max_tokens=0)
    with pytest.raises(DataError, match=r"the text has no 'Chapter N' heading line"):
        build_speech_corpus("Just one paragraph.\n")
    with pytest.raises(ConfigError, match=r"usage: python -m lstmkit.data.speech_corpus OUT_DIR"):
        main([])


@pytest.fixture(scope="module")
def bundled():
    return {split: read_conll(FILES_DIR / name) for split, name in FILE_NAMES.items()}


def test_bundled_files_are_what_the_generator_writes(tmp_path):
    assert main([str(tmp_path)]) == 0
    for split, name in FILE_NAMES.items():
        assert (tmp_path / name).read_bytes() == (FILES_DIR / name).read_bytes(), split
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILE_NAMES.values())
    # another seed gives another training sample and narration share, but the speech
    # sequences of dev and test are all kept whatever the seed
    other = write_speech_corpus(tmp_path / "seed1", seed=1)
    assert other["train"].read_bytes() != (FILES_DIR / FILE_NAMES["train"]).read_bytes()
    for split in ("dev", "test"):

        def speech(path):
            return [s for s in read_conll(path) if set(s.tags) != {O}]

        assert speech(other[split]) == speech(FILES_DIR / FILE_NAMES[split]), split


def test_bundled_files_are_registered():
    for split, name in FILE_NAMES.items():
        assert dataset_path(f"tagged_{split}") == FILES_DIR / name
        assert resolve_data_path(f"bundled:tagged_{split}") == FILES_DIR / name
    sources = (FILES_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for needle in ("speech_train.conll", "speech_dev.conll", "speech_test.conll", "0 skipped"):
        assert needle in sources, needle


def test_bundled_counts_bio_and_size(bundled):
    counts = {
        split: (
            len(sentences),
            sum(len(s.tokens) for s in sentences),
            sum(len(spans(s.tags)) for s in sentences),
        )
        for split, sentences in bundled.items()
    }
    assert counts == {
        "train": (823, 35_860, 822),
        "dev": (235, 9_860, 255),
        "test": (311, 12_895, 321),
    }
    for sentences in bundled.values():
        for s in sentences:
            assert 1 <= len(s.tokens) <= 80
            assert set(s.tags) <= {B, I, O}
            # strict BIO: I only after B or I
            for prev, cur in zip([O, *s.tags], s.tags, strict=False):
                assert not (cur == I and prev == O)
            assert '"' not in s.tokens and all("_" not in t for t in s.tokens)
        # both narration-only and speech sequences are present
        assert any(set(s.tags) == {O} for s in sentences)
        assert any(O not in s.tags for s in sentences)
    total = sum((FILES_DIR / name).stat().st_size for name in FILE_NAMES.values())
    assert total < 700_000


def test_no_chapter_in_two_splits(bundled):
    chapters = [set(r) for r in SPLIT_CHAPTERS.values()]
    assert set().union(*chapters) == set(range(1, 62))
    assert sum(len(c) for c in chapters) == 61  # disjoint
    # every bundled sequence comes from a chapter of its own split: build each chapter alone
    per_chapter = build_speech_corpus(
        load_char_text(),
        narration_rate=1.0,
        train_rate=1.0,
        splits={str(c): range(c, c + 1) for c in range(1, 62)},
    )
    where: dict[tuple[str, ...], set[int]] = {}
    for chapter, sequences in per_chapter.items():
        for tokens, _ in sequences:
            where.setdefault(tuple(tokens), set()).add(int(chapter))
    for split, sentences in bundled.items():
        for s in sentences:
            found = where[tuple(s.tokens)]
            assert found & set(SPLIT_CHAPTERS[split]), (split, s.tokens)
            if len(s.tokens) >= 8:  # long sequences are unique to one chapter
                assert found <= set(SPLIT_CHAPTERS[split]), (split, s.tokens)


def test_format_conll_layout():
    text = format_conll([(["a", "b"], [B, I]), (["c"], [O])])
    assert text == "a\tB-SPEECH\nb\tI-SPEECH\n\nc\tO\n\n"
    assert format_conll([]) == ""
