"""Plain-text corpora: read a text (a string or a UTF-8 file) and hold out its end.

The language model's readers (:class:`lstmkit.tasks.LanguageModel` and ``lstmkit text``)::

    text = read_text(Path("corpus.txt"), "the training corpus")
    train, held_out = split_tail(text, 0.1)     # cut at a line break near 90%
"""

from __future__ import annotations

import os
from pathlib import Path

from lstmkit.errors import DataError


def read_text(source: str | os.PathLike[str], what: str = "the corpus") -> str:
    """A string is the text itself; a ``Path`` (os.PathLike) is read as UTF-8. DataError if the
    file cannot be read or the text is empty (whitespace only)."""
    if isinstance(source, os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"{what}: no file at {path}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise DataError(f"{what}: {path} is not UTF-8 text ({err})") from None
        except OSError as err:
            raise DataError(f"{what}: cannot read {path}: {err}") from None
        where = f" ({path})"
    elif isinstance(source, str):
        text, where = source, ""
    else:
        raise DataError(f"{what} must be a string or a path, got {type(source).__name__}")
    if not text.strip():
        raise DataError(f"{what} is empty{where}: there is no text to read")
    return text


def split_tail(text: str, fraction: float) -> tuple[str, str]:
    """``(head, tail)`` with about ``fraction`` of the characters in the tail; the cut moves back
    to the last line break if one lies in the final fifth of the head."""
    if fraction <= 0:
        return text, ""
    cut = int(round(len(text) * (1.0 - fraction)))
    newline = text.rfind("\n", 0, cut)
    if newline >= 0 and newline + 1 >= cut * 0.8:
        cut = newline + 1
    return text[:cut], text[cut:]


__all__ = ["read_text", "split_tail"]
