"""Synthetic transduction tasks (text in, text out) for sequence-to-sequence demos and tests.

Tasks (:data:`TASKS`):

``"date"``
    A date written in one of several English formats (:data:`DATE_FORMATS`, drawn uniformly) to
    its ISO form ``YYYY-MM-DD``: ``"March 3, 2021"``, ``"3 Mar 2021"``, ``"03/03/2021"`` (US
    order, month first), ``"Wednesday 3 March 2021"``, ... -> ``"2021-03-03"``. Dates are drawn
    uniformly from ``start`` to ``end`` inclusive (options; default 1900-01-01 to 2099-12-31).
``"reverse"``
    A random string over ``alphabet`` (default ``a``-``z``) of length drawn uniformly from
    ``min_len`` to ``max_len`` (default 3 to 12) to the same string reversed.

``make_pairs(task, n, seed=...)`` gives the same pairs for the same arguments on every platform
(month and day names come from this module, never from the locale). ``write_pairs`` writes the
TSV that :func:`read_pairs` (and so ``Seq2Seq`` and the ``translate`` command) read.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import string
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from lstmkit._checks import int_at_least, positive_int
from lstmkit._files import atomic_write
from lstmkit.errors import ConfigError, DataError

TASKS = ("date", "reverse")

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# The source formats, as the strptime pattern that reads each back (English names, as in the C
# locale). Day numbers without a leading zero are still read by %d.
DATE_FORMATS = (
    "%B %d, %Y",  # March 3, 2021
    "%d %b %Y",  # 3 Mar 2021
    "%m/%d/%Y",  # 03/03/2021 (month first)
    "%A %d %B %Y",  # Wednesday 3 March 2021
    "%d %B %Y",  # 3 March 2021
    "%b %d %Y",  # Mar 3 2021
    "%A, %B %d, %Y",  # Wednesday, March 3, 2021
    "%d.%m.%Y",  # 03.03.2021 (day first)
)
ISO_FORMAT = "%Y-%m-%d"

_DATE_DEFAULTS = {"start": dt.date(1900, 1, 1), "end": dt.date(2099, 12, 31)}
_REVERSE_DEFAULTS = {"min_len": 3, "max_len": 12, "alphabet": string.ascii_lowercase}


def format_date(day: dt.date, fmt: str) -> str:
    """``day`` written in ``fmt`` (one of :data:`DATE_FORMATS`), with English names whatever the
    locale and no leading zero on a day written next to a month name."""
    if fmt not in DATE_FORMATS:
        raise ConfigError(f"unknown date format {fmt!r}; expected one of {list(DATE_FORMATS)}")
    month, weekday = MONTHS[day.month - 1], WEEKDAYS[day.weekday()]
    fields = {
        "%B": month,
        "%b": month[:3],
        "%A": weekday,
        "%Y": f"{day.year:04d}",
        # numeric formats keep two digits; beside a month name the day is written as spoken
        "%m": f"{day.month:02d}",
        "%d": f"{day.day:02d}" if "%m" in fmt else str(day.day),
    }
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            out.append(fields[fmt[i : i + 2]])
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _options(task: str, given: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {unknown} for task {task!r}; its options are {sorted(defaults)}"
        )
    return {**defaults, **given}


def _date_pairs(n: int, rng: random.Random, options: dict[str, Any]) -> list[tuple[str, str]]:
    start, end = options["start"], options["end"]
    for key, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise ConfigError(f"date option {key} must be a datetime.date, got {value!r}")
    if end < start:
        raise ConfigError(f"date option end {end} is before start {start}")
    if start.year < 1000:
        raise ConfigError(f"date option start {start} must be in year 1000 or later (4 digits)")
    lo, hi = start.toordinal(), end.toordinal()
    pairs = []
    for _ in range(n):
        day = dt.date.fromordinal(rng.randint(lo, hi))
        fmt = DATE_FORMATS[rng.randrange(len(DATE_FORMATS))]
        pairs.append((format_date(day, fmt), day.strftime(ISO_FORMAT)))
    return pairs


def _reverse_pairs(n: int, rng: random.Random, options: dict[str, Any]) -> list[tuple[str, str]]:
    lo, hi, alphabet = options["min_len"], options["max_len"], options["alphabet"]
    for key, value in (("min_len", lo), ("max_len", hi)):
        positive_int(f"reverse option {key}", value)
    if hi < lo:
        raise ConfigError(f"reverse option max_len {hi} is below min_len {lo}")
    if not isinstance(alphabet, str) or not alphabet:
        raise ConfigError(f"reverse option alphabet must be a non-empty string, got {alphabet!r}")
    bad = [c for c in alphabet if c in "\t\r\n" or c.isspace()]
    if bad:
        raise ConfigError(
            f"reverse option alphabet must not contain whitespace (the TSV separates on tabs and "
            f"strips lines), got {bad[0]!r}"
        )
    symbols = sorted(set(alphabet))  # order-independent: the same set gives the same pairs
    pairs = []
    for _ in range(n):
        text = "".join(rng.choice(symbols) for _ in range(rng.randint(lo, hi)))
        pairs.append((text, text[::-1]))
    return pairs


def make_pairs(task: str, n: int, *, seed: int, **options: Any) -> list[tuple[str, str]]:
    """``n`` (source, target) pairs of a synthetic task, ``"date"`` or ``"reverse"`` (see the
    module docstring for each task's options); the same arguments give the same pairs."""
    if task not in TASKS:
        raise ConfigError(f"unknown transduction task {task!r}; expected one of {list(TASKS)}")
    int_at_least("n (the number of pairs)", n, 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"seed must be an integer, got {seed!r}")
    rng = random.Random(seed)
    if task == "date":
        return _date_pairs(n, rng, _options(task, options, _DATE_DEFAULTS))
    return _reverse_pairs(n, rng, _options(task, options, _REVERSE_DEFAULTS))


def held_out_pairs(
    task: str, n: int, *, seed: int, exclude: Iterable[str], **options: Any
) -> list[tuple[str, str]]:
    """``n`` pairs of ``task`` none of whose sources is in ``exclude`` (a test set disjoint from
    a training set): the first ``n`` survivors of one seeded draw, grown until enough survive."""
    seen = set(exclude)
    draws = max(n, 1)
    while True:
        pairs = [p for p in make_pairs(task, draws, seed=seed, **options) if p[0] not in seen]
        if len(pairs) >= n:
            return pairs[:n]
        if draws > 100 * n + 10_000:
            raise DataError(
                f"could not find {n} {task} pairs whose source is not excluded "
                f"(found {len(pairs)} in {draws} draws)"
            )
        draws *= 2


def read_pairs(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Read a pairs file: one ``source<TAB>target`` per line, UTF-8. Blank lines are skipped.

    A line without exactly one tab, or with an empty (all-space) side, is a DataError naming the
    file and the line number. ``bundled:NAME`` names a dataset shipped with lstmkit.
    :func:`write_pairs` writes this format.
    """
    source = str(path)
    if source.startswith("bundled:"):
        from lstmkit.data.datasets import resolve_data_path

        path = resolve_data_path(source)
    file = Path(path)
    if not file.is_file():
        raise DataError(f"pairs file {file} does not exist (expected a TSV: source<TAB>target)")
    pairs = []
    try:
        with open(file, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                parts = line.split("\t")
                if len(parts) != 2:
                    what = "no tab" if len(parts) == 1 else f"{len(parts) - 1} tabs"
                    raise DataError(
                        f"{file} line {number}: expected source<TAB>target (one tab), found {what}"
                    )
                src, tgt = parts
                if not src.strip() or not tgt.strip():
                    side = "source" if not src.strip() else "target"
                    raise DataError(f"{file} line {number}: the {side} side is empty")
                pairs.append((src, tgt))
    except UnicodeDecodeError as err:
        raise DataError(f"{file} is not UTF-8 text: {err}") from None
    if not pairs:
        raise DataError(f"{file} holds no pairs (expected lines source<TAB>target)")
    return pairs


def as_pairs(data: Any, what: str = "pairs") -> list[tuple[str, str]]:
    """``(source, target)`` pairs from a pairs file (:func:`read_pairs`; ``bundled:NAME`` too) or
    a sequence of pairs, checked: DataError, naming ``what`` and the item, unless every pair is
    two strings with a non-blank side each and there is at least one."""
    if isinstance(data, str | os.PathLike):
        return read_pairs(data)
    try:
        items = list(data)
        pairs = [tuple(p) for p in items]
    except TypeError:
        raise DataError(
            f"{what} must be a path to a TSV file or a list of (source, target) pairs, "
            f"got {type(data).__name__}"
        ) from None
    if not pairs:
        raise DataError(f"{what} holds no pairs")
    for i, pair in enumerate(pairs):
        if len(pair) != 2 or not all(isinstance(s, str) for s in pair):
            raise DataError(
                f"{what} item {i} must be a (source, target) pair of strings, got {items[i]!r}"
            )
        if not pair[0].strip() or not pair[1].strip():
            side = "source" if not pair[0].strip() else "target"
            raise DataError(f"{what} item {i}: the {side} side is empty")
    return pairs  # type: ignore[return-value]


def write_pairs(path: str | os.PathLike[str], pairs: Iterable[Sequence[str]]) -> Path:
    """Write pairs as UTF-8 TSV, one ``source<TAB>target`` line each, atomically; returns the
    path. DataError (naming the pair's index) for a pair that is not two non-blank strings free of
    tabs and line breaks, since the file could not be read back as the same pairs."""
    lines = []
    for index, pair in enumerate(pairs):
        if isinstance(pair, str) or len(pair) != 2:
            raise DataError(f"pair {index} must be (source, target), got {pair!r}")
        for side, text in zip(("source", "target"), pair, strict=True):
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"pair {index}: {side} must be a non-blank string, got {text!r}")
            if any(c in text for c in "\t\r\n"):
                raise DataError(
                    f"pair {index}: {side} {text!r} contains a tab or line break, which the TSV "
                    f"format cannot hold"
                )
        lines.append(f"{pair[0]}\t{pair[1]}\n")

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(lines)

    return atomic_write(path, write)
