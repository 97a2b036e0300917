"""A tagged corpus with exact labels: direct speech in *Pride and Prejudice*.

The bundled novel (``char_text``, public domain) marks every quoted passage with straight double
quotes ``"``. This module removes the quote marks and tags each remaining token ``B-SPEECH`` /
``I-SPEECH`` (inside a quoted passage) or ``O`` (narration), so a sequence tagger must recover
where speech starts and ends from the words alone (``said she``, commas, capitals). The gold
labels are the author's punctuation, not a model's output. The bundled files
``speech_train.conll``, ``speech_dev.conll``, ``speech_test.conll`` (names ``tagged_train``,
``tagged_dev``, ``tagged_test`` in :mod:`lstmkit.data.datasets`) are exactly what
:func:`write_speech_corpus` writes; regenerate them with
``python -m lstmkit.data.speech_corpus OUT_DIR``.

How the text becomes sequences (the constants below hold the numbers):

* **Paragraphs.** The text is split at blank lines. Everything before ``Chapter 1`` (title,
  author) and the ``Chapter N`` heading lines are dropped; every other paragraph belongs to the
  chapter whose heading precedes it.
* **Quotes.** Only ``"`` delimits a passage; ``'`` is left alone because it is also the
  apostrophe (``don't``), so the single quotes of nested speech stay in the token stream as
  ``'`` tokens, tagged as part of the enclosing passage. Following the typographic convention, a
  passage still open at the end of a paragraph continues in the next paragraph if that one
  begins with ``"`` (that mark re-opens, it does not toggle); each paragraph of a multi-paragraph
  passage (long speeches and the letters read out in the novel) is a span of its own. A passage
  open at a paragraph end with no re-opening mark next (or at the end of a chapter) is an
  unbalanced paragraph: it is skipped whole, logged and counted, and the next paragraph starts
  in narration. The bundled novel has none.
* **Spans.** Each quoted stretch that holds at least one token is one span, also when two
  passages touch with only whitespace between (``"Yes." "No."``: two spans, as the author closed
  and re-opened the quote). Quote marks with nothing inside are ignored.
* **Tokens.** The Gutenberg italics markers ``_`` are deleted first (``_You_`` reads ``You``);
  then tokens are the regex ``\\w+|[^\\w\\s]`` of :class:`lstmkit.data.tokenizers.WordTokenizer`
  with case kept, so ``don't`` is ``don ' t`` and ``--`` is ``- -``.
* **Length.** A paragraph of more than :data:`MAX_TOKENS` tokens is cut at sentence ends into
  greedy chunks of at most :data:`MAX_TOKENS` tokens. A sentence ends after ``.``, ``!`` or
  ``?`` when the next token starts with a capital letter or a digit and the token before the
  mark is not a title (``Mr``, ``Mrs``, ...); the rule reads the tokens only, never the quote
  marks, so a cut does not give away a span boundary. A single sentence longer than
  :data:`MAX_TOKENS` is cut again after ``;`` or ``:``, and a piece still too long is dropped
  (counted). A chunk that starts inside a passage starts with ``B-SPEECH``.
* **Which sequences.** Every chunk of a paragraph with a quote mark is kept. Of the chunks of
  narration-only paragraphs a seeded share :data:`NARRATION_RATE` is kept, so that
  narration-only sequences exist without drowning the speech.
* **Splits by chapter** (no chapter in two splits): :data:`SPLIT_CHAPTERS`, chapters 1-48
  train, 49-53 dev, 54-61 test (the last chapters, so test holds over 300 spans). The training split
  keeps a seeded share :data:`TRAIN_RATE` of its paragraphs (all chunks of a kept paragraph) so
  the three files stay small; the dev and test splits are not subsampled.

Randomness: one ``numpy.random.default_rng(seed)`` draws, in text order, one number per
paragraph (training-split subsampling) and then one per chunk of it (narration subsampling),
for every paragraph whether or not it is used; the bundled files use ``seed=0``.

The bundled files (seed 0): train 823 sequences / 35,860 tokens / 822 spans, dev 235 / 9,860 /
255, test 311 / 12,895 / 321; no paragraph of the novel is unbalanced, and 12 over-long pieces
(sentences of more than 80 tokens without a ``;``/``:`` cut) are dropped.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmkit._checks import positive_int
from lstmkit._files import atomic_write
from lstmkit.errors import ConfigError, DataError

log = logging.getLogger(__name__)

QUOTE = '"'
SPEECH = "SPEECH"
B_TAG, I_TAG, O_TAG = f"B-{SPEECH}", f"I-{SPEECH}", "O"
MAX_TOKENS = 80
NARRATION_RATE = 0.25
TRAIN_RATE = 0.5
SEED = 0
SPLIT_CHAPTERS: dict[str, range] = {
    "train": range(1, 49),
    "dev": range(49, 54),
    "test": range(54, 62),
}
FILE_NAMES = {split: f"speech_{split}.conll" for split in SPLIT_CHAPTERS}

# the same token rule as WordTokenizer, case kept
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_CHAPTER = re.compile(r"Chapter (\d+)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = frozenset(".!?")
_CLAUSE_END = frozenset(";:")
# a full stop after these is part of a name, not a sentence end ("Mr. Darcy")
_TITLES = frozenset({"Mr", "Mrs", "Dr", "St", "Messrs", "Esq", "Col"})

# one sequence: (tokens, tags)
Tagged = tuple[list[str], list[str]]


@dataclass
class SpeechStats:
    """What :func:`build_speech_corpus` kept and dropped (logged, and read by the tests)."""

    paragraphs: int = 0
    quoted_paragraphs: int = 0
    unbalanced_skipped: int = 0
    long_pieces_dropped: int = 0


def tokenize(text: str) -> list[str]:
    """Tokens of a stretch of text: italics markers ``_`` removed, then ``\\w+|[^\\w\\s]``."""
    return _TOKEN.findall(text.replace("_", ""))


def _quote_states(paragraphs: Sequence[str]) -> list[tuple[bool, bool] | None]:
    """For each paragraph, (opens inside a passage, ends inside one); None for an unbalanced
    paragraph: it ends inside a passage and the next paragraph does not re-open it."""
    states: list[tuple[bool, bool] | None] = []
    carried = False
    for i, paragraph in enumerate(paragraphs):
        # carried is only True when this paragraph begins with the re-opening mark
        marks = paragraph.count(QUOTE) - (1 if carried else 0)
        ends_inside = carried != (marks % 2 == 1)
        following = paragraphs[i + 1] if i + 1 < len(paragraphs) else ""
        if ends_inside and not following.startswith(QUOTE):
            states.append(None)
            carried = False  # the next paragraph starts in narration
        else:
            states.append((carried, ends_inside))
            carried = ends_inside
    return states


def _tag_one(paragraph: str, starts_inside: bool) -> Tagged:
    text = paragraph[1:] if starts_inside else paragraph
    tokens: list[str] = []
    tags: list[str] = []
    inside = starts_inside
    for piece in text.split(QUOTE):
        words = tokenize(piece)
        if inside:
            tags.extend([B_TAG] + [I_TAG] * (len(words) - 1) if words else [])
        else:
            tags.extend([O_TAG] * len(words))
        tokens.extend(words)
        inside = not inside
    return tokens, tags


def tag_paragraphs(paragraphs: Sequence[str]) -> list[Tagged | None]:
    """Tokens and BIO tags of consecutive paragraphs (quote state carries from one to the
    next); None for a paragraph skipped as unbalanced. Paragraphs are stripped of surrounding
    whitespace first. Long paragraphs are not split here (see :func:`split_long`)."""
    stripped = [p.strip() for p in paragraphs]
    out: list[Tagged | None] = []
    for paragraph, state in zip(stripped, _quote_states(stripped), strict=True):
        out.append(None if state is None else _tag_one(paragraph, state[0]))
    return out


def _cut_points(tokens: Sequence[str], ends: frozenset[str], start: int, stop: int) -> list[int]:
    """Indices just after each boundary mark in tokens[start:stop], stop always last."""
    cuts = []
    for i in range(start, stop - 1):
        if tokens[i] not in ends:
            continue
        if tokens[i] == "." and i > 0 and tokens[i - 1] in _TITLES:
            continue
        nxt = tokens[i + 1]
        if ends is _SENTENCE_END and not (nxt[0].isupper() or nxt[0].isdigit()):
            continue
        cuts.append(i + 1)
    cuts.append(stop)
    return cuts


def _pack(bounds: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Greedily join consecutive [start, stop) pieces into chunks of at most ``limit`` tokens;
    a piece longer than ``limit`` stays alone."""
    chunks: list[tuple[int, int]] = []
    for start, stop in bounds:
        if chunks and stop - chunks[-1][0] <= limit:
            chunks[-1] = (chunks[-1][0], stop)
        else:
            chunks.append((start, stop))
    return chunks


def split_long(
    tokens: list[str], tags: list[str], limit: int = MAX_TOKENS
) -> tuple[list[Tagged], int]:
    """Cut a tagged paragraph longer than ``limit`` at sentence ends (then ``;``/``:``) into
    chunks of at most ``limit`` tokens; returns the chunks and how many over-long pieces were
    dropped. A chunk that begins inside a span begins with ``B-SPEECH``."""
    if len(tokens) <= limit:
        return [(list(tokens), list(tags))], 0

    def bounds(ends: frozenset[str], start: int, stop: int) -> list[tuple[int, int]]:
        cuts = _cut_points(tokens, ends, start, stop)
        return list(zip([start, *cuts[:-1]], cuts, strict=True))

    pieces: list[tuple[int, int]] = []
    dropped = 0
    for start, stop in bounds(_SENTENCE_END, 0, len(tokens)):
        if stop - start <= limit:
            pieces.append((start, stop))
            continue
        for sub in _pack(bounds(_CLAUSE_END, start, stop), limit):
            if sub[1] - sub[0] <= limit:
                pieces.append(sub)
            else:
                dropped += 1
    chunks = []
    for start, stop in _pack(pieces, limit):
        if stop - start > limit:  # only a dropped piece could be this long; never packed
            continue
        chunk_tags = list(tags[start:stop])
        if chunk_tags[0] == I_TAG:
            chunk_tags[0] = B_TAG
        chunks.append((list(tokens[start:stop]), chunk_tags))
    return chunks, dropped


def chapter_paragraphs(text: str) -> list[tuple[int, str]]:
    """(chapter number, paragraph) for each paragraph of the novel's chapters, in order;
    front matter and ``Chapter N`` headings left out."""
    out = []
    chapter = 0
    for block in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")):
        block = block.strip()
        if not block:
            continue
        match = _CHAPTER.fullmatch(block)
        if match:
            chapter = int(match.group(1))
            continue
        if chapter:
            out.append((chapter, block))
    if not out:
        raise DataError("the text has no 'Chapter N' heading line, so no chapters to tag")
    return out


def _split_of(chapter: int, splits: dict[str, range]) -> str | None:
    for name, chapters in splits.items():
        if chapter in chapters:
            return name
    return None


def build_speech_corpus(
    text: str,
    *,
    seed: int = SEED,
    max_tokens: int = MAX_TOKENS,
    narration_rate: float = NARRATION_RATE,
    train_rate: float = TRAIN_RATE,
    splits: dict[str, range] | None = None,
    stats: SpeechStats | None = None,
) -> dict[str, list[Tagged]]:
    """The speech-tagging sequences of a novel, per split (see the module docstring).

    Args:
        text: the whole novel, ``Chapter N`` heading lines marking chapters.
        seed: seeds the narration and training-split subsampling.
        max_tokens: the longest sequence kept.
        narration_rate: share of narration-only chunks kept, in [0, 1].
        train_rate: share of the ``"train"`` split's paragraphs kept, in [0, 1].
        splits: split name -> chapters; default :data:`SPLIT_CHAPTERS`. Chapters in no split
            are left out.
        stats: filled with what was kept and dropped.

    Returns:
        split name -> list of ``(tokens, tags)``, in text order.
    """
    for name, rate in (("narration_rate", narration_rate), ("train_rate", train_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ConfigError(f"{name} must be in [0, 1], got {rate!r}")
    positive_int("max_tokens", max_tokens)
    splits = dict(SPLIT_CHAPTERS if splits is None else splits)
    stats = SpeechStats() if stats is None else stats
    rng = np.random.default_rng(seed)
    numbered = chapter_paragraphs(text)
    out: dict[str, list[Tagged]] = {name: [] for name in splits}
    # paragraphs are tagged chapter by chapter: a passage cannot run over a chapter heading
    by_chapter: dict[int, list[str]] = {}
    for chapter, paragraph in numbered:
        by_chapter.setdefault(chapter, []).append(paragraph)
    for chapter, paragraphs in by_chapter.items():
        split = _split_of(chapter, splits)
        for paragraph, tagged in zip(paragraphs, tag_paragraphs(paragraphs), strict=True):
            stats.paragraphs += 1
            quoted = QUOTE in paragraph
            stats.quoted_paragraphs += quoted
            if tagged is None:
                stats.unbalanced_skipped += 1
                log.warning("chapter %d: skipped unbalanced paragraph %r", chapter, paragraph[:60])
                continue
            chunks, dropped = split_long(*tagged, limit=max_tokens)
            stats.long_pieces_dropped += dropped
            # draw for every paragraph and chunk, kept or not, so one split's choice does not
            # shift another's
            keep_paragraph = rng.random() < train_rate
            narration_draws = [rng.random() < narration_rate for _ in chunks]
            if split is None or (split == "train" and not keep_paragraph):
                continue
            for chunk, keep in zip(chunks, narration_draws, strict=True):
                if quoted or keep:
                    out[split].append(chunk)
    log.info(
        "speech corpus: %d paragraphs (%d with quotes), %d unbalanced skipped, %d over-long "
        "pieces dropped; %s",
        stats.paragraphs,
        stats.quoted_paragraphs,
        stats.unbalanced_skipped,
        stats.long_pieces_dropped,
        ", ".join(f"{k} {len(v)} sequences" for k, v in out.items()),
    )
    return out


def format_conll(sequences: Sequence[Tagged]) -> str:
    """Two-column CoNLL text: ``token<TAB>tag`` lines, a blank line after each sequence."""
    lines = []
    for tokens, tags in sequences:
        lines.extend(f"{token}\t{tag}" for token, tag in zip(tokens, tags, strict=True))
        lines.append("")
    return "\n".join(lines) + ("\n" if lines else "")


def write_speech_corpus(
    out_dir: str | os.PathLike[str], *, text: str | None = None, seed: int = SEED
) -> dict[str, Path]:
    """Build the corpus from ``text`` (default: the bundled novel) and write one CoNLL file per
    split into ``out_dir`` atomically (names :data:`FILE_NAMES`); returns split -> path."""
    if text is None:
        from lstmkit.data.datasets import load_char_text

        text = load_char_text()
    corpus = build_speech_corpus(text, seed=seed)
    paths = {}
    for split, sequences in corpus.items():
        content = format_conll(sequences).encode("utf-8")

        def write(tmp: Path, content: bytes = content) -> None:
            tmp.write_bytes(content)

        paths[split] = atomic_write(Path(out_dir) / FILE_NAMES[split], write)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lstmkit.data.speech_corpus OUT_DIR``: write the three CoNLL files."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        raise ConfigError(
            f"usage: python -m lstmkit.data.speech_corpus OUT_DIR (got arguments {args!r})"
        )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for split, path in write_speech_corpus(args[0]).items():
        log.info("wrote %s split to %s", split, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
