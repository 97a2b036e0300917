"""CoNLL-style tagged text: reading, writing, and spans from BIO/IOBES tags.

The format, one token per line::

    -DOCSTART- -X- O O          <- skipped (a document boundary)

    EU NNP B-NP B-ORG           <- columns separated by whitespace
    rejects VBZ B-VP O
    German JJ B-NP B-MISC
                                <- a blank line ends a sentence
    Peter NNP B-NP B-PER

The token is column ``token_col`` (default 0), the tag column ``tag_col`` (default -1, the last).
Every token line must have as many columns as the file's first token line. Lines starting with
``#`` are comments when ``comments=True`` (CoNLL-U style ``# sent_id = 1``); by default they are
token lines, since ``#`` is a real token in some corpora.

Spans (:func:`spans`) are read from the tags following the rules of the ``conlleval`` script,
which cover IOB2/BIO (``B-X`` opens a span, ``I-X`` continues it), IOB1 (``I-X`` opens one, ``B-X``
only separates two adjacent spans of one type) and IOBES (``E-X`` ends, ``S-X`` is a one-token
span): an ``I-X`` after ``O`` or after a span of another type starts a new span rather than being
an error.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from lstmkit._files import atomic_write
from lstmkit.errors import ConfigError, DataError

log = logging.getLogger(__name__)

DOCSTART = "-DOCSTART-"


class Sentence(NamedTuple):
    """One sentence: its tokens and their tags (``None`` when read without tags)."""

    tokens: list[str]
    tags: list[str] | None


class Span(NamedTuple):
    """A labelled span of tokens ``[start, end)``."""

    type: str
    start: int
    end: int


def _column(index: int, n_columns: int) -> int | None:
    """A column index (negative counts from the end) resolved against ``n_columns``."""
    resolved = index + n_columns if index < 0 else index
    return resolved if 0 <= resolved < n_columns else None


def _check_index(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an int column index, got {value!r}")
    return value


def read_conll(
    path: str | os.PathLike[str],
    *,
    token_col: int = 0,
    tag_col: int | None = -1,
    comments: bool = False,
    encoding: str = "utf-8",
) -> list[Sentence]:
    """Read the sentences of a CoNLL file.

    Args:
        path: the file.
        token_col: the column holding the token (negative counts from the end).
        tag_col: the column holding the tag; ``None`` reads tokens only (tags are ``None``). The
            tag column must differ from the token column.
        comments: skip lines starting with ``#``.
        encoding: the file's text encoding.

    Raises:
        DataError: naming the file and line for a line with a different number of columns than
            the first token line, a file whose lines lack the tag column, undecodable text, or a
            file with no sentences at all.
    """
    token_col = _check_index("token_col", token_col)
    if tag_col is not None:
        tag_col = _check_index("tag_col", tag_col)
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"CoNLL file {path} does not exist") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a directory, expected a CoNLL file") from None
    except OSError as err:
        raise DataError(f"cannot read CoNLL file {path}: {err}") from None

    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    n_columns: int | None = None
    first_line = 0
    cols: tuple[int, int | None] = (0, None)

    def close() -> None:
        if tokens:
            sentences.append(Sentence(list(tokens), list(tags) if tag_col is not None else None))
            tokens.clear()
            tags.clear()

    for number, line_bytes in enumerate(raw.splitlines(), start=1):
        try:
            line = line_bytes.decode(encoding)
        except UnicodeDecodeError as err:
            raise DataError(
                f"{path}, line {number}: not valid {encoding} text ({err.reason} at byte offset "
                f"{err.start} of the line)"
            ) from None
        if number == 1:
            line = line.lstrip("\ufeff")  # a byte-order mark is not part of the first token
        fields = line.split()
        if not fields:
            close()
            continue
        if comments and line.lstrip().startswith("#"):
            continue
        if fields[0] == DOCSTART:
            close()
            continue
        if n_columns is None:
            n_columns, first_line = len(fields), number
            tok = _column(token_col, n_columns)
            if tok is None:
                raise DataError(
                    f"{path}, line {number}: token column {token_col} does not exist; the line "
                    f"has {n_columns} column(s): {line.strip()!r}"
                )
            tag = None
            if tag_col is not None:
                tag = _column(tag_col, n_columns)
                if tag is None or tag == tok:
                    what = "a tag column" if n_columns == 1 else f"tag column {tag_col}"
                    raise DataError(
                        f"{path}, line {number}: expected {what} beside the token column, but "
                        f"the line has {n_columns} column(s): {line.strip()!r}"
                    )
            cols = (tok, tag)
        elif len(fields) != n_columns:
            hint = ""
            if line.lstrip().startswith("#") and not comments:
                hint = " (if lines starting with '#' are comments, read with comments=True)"
            raise DataError(
                f"{path}, line {number}: expected {n_columns} whitespace-separated columns like "
                f"line {first_line}, got {len(fields)}: {line.strip()!r}{hint}"
            )
        tokens.append(fields[cols[0]])
        if cols[1] is not None:
            tags.append(fields[cols[1]])
    close()
    if not sentences:
        raise DataError(f"CoNLL file {path} holds no sentences (it is empty or only comments)")
    log.debug("read %d sentences from %s", len(sentences), path)
    return sentences


def read_text_sentences(
    path: str | os.PathLike[str], *, encoding: str = "utf-8"
) -> list[list[str]]:
    """One sentence per line, tokens separated by whitespace; blank lines are skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise DataError(f"text file {path} does not exist") from None
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise DataError(f"{path}, line {line}: not valid {encoding} text ({err.reason})") from None
    except OSError as err:
        raise DataError(f"cannot read text file {path}: {err}") from None
    sentences = [line.split() for line in text.splitlines() if line.strip()]
    if not sentences:
        raise DataError(f"text file {path} holds no sentences (it is empty)")
    return sentences


def tagged_sentences(
    data: object, what: str = "data", *, token_col: int = 0, tag_col: int = -1
) -> list[Sentence]:
    """Tagged sentences from a CoNLL path (or ``bundled:NAME``) or a sequence of
    ``(tokens, tags)`` pairs; DataError, naming ``what`` and the sentence, for anything else.
    Empty pairs are skipped; there must be at least one non-empty sentence."""
    if isinstance(data, str | os.PathLike):
        return read_conll(_resolve(data), token_col=token_col, tag_col=tag_col)
    try:
        items = list(data)  # type: ignore[call-overload]
    except TypeError:
        raise DataError(
            f"{what} must be a CoNLL file path or a list of (tokens, tags) pairs, got "
            f"{type(data).__name__}"
        ) from None
    out = []
    for i, item in enumerate(items):
        try:
            tokens, tags = item
            tokens, tags = list(tokens), list(tags)
        except (TypeError, ValueError):
            raise DataError(
                f"{what}: item {i} is not a (tokens, tags) pair of lists: {item!r:.80}"
            ) from None
        check_tokens(tokens, f"{what}: sentence {i}")
        if len(tokens) != len(tags) or not all(isinstance(t, str) and t for t in tags):
            raise DataError(
                f"{what}: sentence {i} has {len(tokens)} tokens and {len(tags)} tags; every token "
                "needs one non-empty string tag"
            )
        if tokens:
            out.append(Sentence(tokens, tags))
    if not out:
        raise DataError(f"{what} holds no (non-empty) sentences")
    return out


def token_lists(sentences: object, *, token_col: int = 0) -> list[list[str]]:
    """Sentences to tag, as token lists: from a list of token lists (checked), a ``.txt`` file
    (one sentence per line, whitespace tokens) or a CoNLL file (column ``token_col`` only); a
    path may be ``bundled:NAME``."""
    if isinstance(sentences, str | os.PathLike):
        path = _resolve(sentences)
        if path.suffix.lower() == ".txt":
            return read_text_sentences(path)
        return [s.tokens for s in read_conll(path, token_col=token_col, tag_col=None)]
    if isinstance(sentences, Sentence):
        raise DataError("predict takes a list of sentences; wrap a single one in a list")
    if not isinstance(sentences, Iterable):
        raise DataError(
            f"sentences must be a list of token lists or a file path, got {sentences!r} "
            f"({type(sentences).__name__})"
        )
    lists = []
    for i, s in enumerate(sentences):
        if isinstance(s, str):
            raise DataError(
                f"sentence {i} is a string {s[:40]!r}; pass a list of tokens per sentence "
                "(e.g. text.split())"
            )
        if not isinstance(s, Iterable):
            raise DataError(f"sentence {i} must be a list of tokens, got {s!r}")
        tokens = list(s)
        check_tokens(tokens, f"sentence {i}")
        lists.append(tokens)
    return lists


def check_tokens(tokens: list[object], where: str) -> None:
    """DataError naming ``where`` unless every token is a non-empty string."""
    bad = [t for t in tokens if not isinstance(t, str) or not t]
    if bad:
        raise DataError(f"{where}: tokens must be non-empty strings, got {bad[0]!r}")


def _resolve(path: str | os.PathLike[str]) -> Path:
    """A file path, or the bundled dataset a ``bundled:NAME`` argument names."""
    from lstmkit.data.datasets import resolve_data_path

    return Path(resolve_data_path(path))


def write_conll(
    path: str | os.PathLike[str],
    sentences: Iterable[Sequence[Sequence[str]]],
    *,
    separator: str = "\t",
) -> Path:
    """Write sentences as CoNLL, atomically: one token per line, a blank line after each sentence.

    Each sentence is a sequence of equally long columns, e.g. ``(tokens, tags)`` or
    ``(tokens, gold, predicted)``; a :class:`Sentence` read without tags writes its tokens only.

    Raises:
        DataError: for columns of different lengths, or a value that is empty or holds whitespace
            (it would split into two columns when read back).
    """
    lines: list[str] = []
    for index, sentence in enumerate(sentences):
        columns = [list(c) for c in sentence if c is not None]
        if not columns:
            raise DataError(f"sentence {index} has no columns to write")
        sizes = {len(c) for c in columns}
        if len(sizes) != 1:
            raise DataError(
                f"sentence {index}: its columns have different lengths {[len(c) for c in columns]}"
            )
        for row in zip(*columns, strict=True):
            for value in row:
                if not isinstance(value, str) or not value or len(value.split()) != 1:
                    raise DataError(
                        f"sentence {index}: cannot write {value!r} to a CoNLL column (values "
                        "must be non-empty strings without whitespace)"
                    )
            lines.append(separator.join(row))
        lines.append("")

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("\n".join(lines) + ("\n" if lines else ""))

    return atomic_write(path, write)


# --- spans -------------------------------------------------------------------------------------


def _parts(tag: str) -> tuple[str, str]:
    """(prefix, type): ``B-PER`` -> (B, PER); ``O`` -> (O, ""); ``NN`` -> (S, NN)."""
    if tag == "O":
        return "O", ""
    prefix, sep, kind = tag.partition("-")
    if sep and kind and prefix in ("B", "I", "E", "S"):
        return prefix, kind
    return "S", tag  # a tag without a scheme prefix is a one-token span of its own type


def _ends(prev: str, prev_type: str, cur: str, cur_type: str) -> bool:
    """Whether a span open at the previous token ends before the current one (conlleval)."""
    if prev in ("E", "S"):
        return True
    if prev in ("B", "I") and cur in ("B", "S", "O"):
        return True
    return prev != "O" and prev_type != cur_type


def _starts(prev: str, prev_type: str, cur: str, cur_type: str) -> bool:
    """Whether a span starts at the current token (conlleval)."""
    if cur in ("B", "S"):
        return True
    if cur in ("I", "E") and prev in ("E", "S", "O"):
        return True
    return cur != "O" and prev_type != cur_type


def spans(tags: Sequence[str]) -> list[Span]:
    """The labelled spans of a tag sequence (BIO/IOB2, IOB1 or IOBES, by conlleval's rules).

    ``["B-PER", "I-PER", "O", "I-LOC"]`` -> ``[Span("PER", 0, 2), Span("LOC", 3, 4)]``: the
    ``I-LOC`` after ``O`` starts a span. A tag other than ``O`` without a ``B-``/``I-``/``E-``/
    ``S-`` prefix (e.g. a POS tag) is a one-token span of its own type.
    """
    out: list[Span] = []
    prev, prev_type = "O", ""
    start: int | None = None
    for i, tag in enumerate(tags):
        cur, cur_type = _parts(tag)
        if start is not None and _ends(prev, prev_type, cur, cur_type):
            out.append(Span(prev_type, start, i))
            start = None
        if _starts(prev, prev_type, cur, cur_type):
            start = i
        prev, prev_type = cur, cur_type
    if start is not None:
        out.append(Span(prev_type, start, len(tags)))
    return out


def detect_scheme(
    tag_lists: Iterable[Sequence[str]], schemes: Sequence[str] = ("BIO", "IOBES")
) -> str | None:
    """The first of ``schemes`` the tags are valid in, else ``None``: ``"BIO"`` if every tag is
    ``O``/``B-X``/``I-X`` and no ``I-X`` follows anything but ``B-X``/``I-X`` (valid IOB2),
    ``"IOBES"`` likewise for valid IOBES."""
    from lstmkit.nn.crf import transition_constraints

    lists = [list(t) for t in tag_lists]
    names = sorted({t for tags in lists for t in tags})
    for scheme in schemes:
        try:
            allowed, start, end = transition_constraints(names, scheme)
        except ConfigError:
            continue
        index = {t: i for i, t in enumerate(names)}
        valid = True
        for tags in lists:
            ids = [index[t] for t in tags]
            if ids and (not start[ids[0]] or not end[ids[-1]]):
                valid = False
                break
            if any(not allowed[a, b] for a, b in zip(ids, ids[1:], strict=False)):
                valid = False
                break
        if valid:
            return scheme
    return None


__all__ = [
    "DOCSTART",
    "Sentence",
    "Span",
    "check_tokens",
    "detect_scheme",
    "read_conll",
    "read_text_sentences",
    "spans",
    "tagged_sentences",
    "token_lists",
    "write_conll",
]
