"""Scoring CSV text one line at a time: what ``lstmkit detect stream`` does with stdin, as an API.

:func:`score_csv_lines` reads the header line (it must name the detector's columns; the time
column is optional), then scores each data row with the detector's
:class:`~lstmkit.tasks.anomaly.streaming.AnomalyStream` as it arrives, yielding a
:class:`ScoredRow` per good row and a :class:`BadRow` per row it cannot read: a wrong number of
fields, a value that is not a plain decimal number, an empty time field, a line that is not UTF-8.
A bad row is skipped without touching the stream's state, so the rows after it score as if it were
not there; whether to go on is the caller's choice. Blank lines are skipped and still counted, so
``row`` is the line's number after the header.

Lines may be text or bytes (a binary stdin): bytes are decoded as UTF-8 one line at a time, so one
bad line does not end the stream.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from lstmkit.errors import DataError

# A plain decimal number (what a CSV writer emits): float() alone would also take '1_000', '١٢'
# (other scripts' digits), 'nan' and 'infinity', which are garbage in a data row.
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


@dataclass(frozen=True)
class ScoredRow:
    """A data row scored: its number (1 = the first line after the header), the time column's
    text (None when the header has no time column), the anomaly score and the flag."""

    row: int
    time: str | None
    score: float
    is_anomaly: bool


@dataclass(frozen=True)
class BadRow:
    """A data row that could not be read, and why (e.g. "expected 3 fields, got 2")."""

    row: int
    problem: str


def _decoded(lines: Iterable[str | bytes]) -> Iterator[tuple[str | None, str | None]]:
    """``(line, None)`` per line, or ``(None, why)`` for bytes that are not UTF-8."""
    for data in lines:
        if isinstance(data, str):
            yield data, None
            continue
        try:
            yield data.decode("utf-8"), None
        except UnicodeDecodeError as err:
            yield None, f"not UTF-8 text (byte {data[err.start]:#04x} at byte {err.start + 1})"


def _split(line: str) -> list[str]:
    """The fields of one CSV line (quotes handled by the csv module; one record per line)."""
    return next(csv.reader([line.rstrip("\r\n")]), [])


class CsvScores:
    """The rows of CSV lines scored one at a time (see the module docstring); made by
    :func:`score_csv_lines`, which has read the header. Iterate it once."""

    def __init__(self, detector: Any, lines: Iterable[str | bytes], source: str) -> None:
        self._stream = detector.stream()  # refuses a detector that cannot stream, first
        self._lines = _decoded(lines)
        header_line, undecodable = next(self._lines, (None, None))
        if undecodable:
            raise DataError(f"the header line is {undecodable}")
        if not header_line:
            raise DataError(f"{source} is empty: expected a CSV header line naming the columns")
        # a byte-order mark is no part of the first column's name
        self.header = [name.strip() for name in _split(header_line.lstrip("\ufeff"))]
        absent = [c for c in detector.channels if c not in self.header]
        if absent:
            raise DataError(
                f"the header line lacks the model's column(s) {absent}; it has {self.header}"
            )
        self._index = [self.header.index(c) for c in detector.channels]
        time_col = detector.columns["time_col"]
        #: The detector's time column when the header has it (its text is each row's ``time``).
        self.time_col: str | None = time_col if time_col in self.header else None
        self._time_at = None if self.time_col is None else self.header.index(time_col)

    def _values(self, line: str) -> tuple[list[str], list[float]] | str:
        """The fields and the detector's values of one data line, or what is wrong with it."""
        fields = _split(line)
        if len(fields) != len(self.header):
            return f"expected {len(self.header)} fields, got {len(fields)}"
        values = [fields[i].strip() for i in self._index]
        bad_field = next((v for v in values if not NUMBER.fullmatch(v)), None)
        if bad_field is not None:
            return f"non-numeric value {bad_field!r}"
        if self._time_at is not None and not fields[self._time_at].strip():
            return f"empty {self.time_col!r} field"
        x = [float(v) for v in values]
        if not all(math.isfinite(v) for v in x):
            return "missing or infinite value"
        return fields, x

    def __iter__(self) -> Iterator[ScoredRow | BadRow]:
        for row, (line, undecodable) in enumerate(self._lines, start=1):
            if undecodable is not None:
                yield BadRow(row, undecodable)
                continue
            line = line.rstrip("\r\n")  # type: ignore[union-attr]
            if not line.strip():
                continue
            read = self._values(line)
            if isinstance(read, str):
                yield BadRow(row, read)
                continue
            fields, x = read
            score, flag = self._stream.update(x)
            stamp = None if self._time_at is None else fields[self._time_at].strip()
            yield ScoredRow(row, stamp, float(score), bool(flag))


def score_csv_lines(
    detector: Any, lines: Iterable[str | bytes], *, source: str = "the input"
) -> CsvScores:
    """Score CSV ``lines`` (a header line, then one data row per line; text or bytes) with fitted
    ``detector``'s stream, one row at a time as they arrive: iterate the result for a
    :class:`ScoredRow` or :class:`BadRow` per data row. The header is read here: a DataError
    names what is wrong with it (``source`` names the input in the message for none at all), and
    a detector that cannot stream is a ConfigError (see
    :meth:`~lstmkit.tasks.anomaly.task.AnomalyDetector.stream`)."""
    return CsvScores(detector, lines, source)


__all__ = ["NUMBER", "BadRow", "CsvScores", "ScoredRow", "score_csv_lines"]
