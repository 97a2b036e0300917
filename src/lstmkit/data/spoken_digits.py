"""Connected digit strings from isolated spoken digits (the Free Spoken Digit Dataset layout).

The source is a folder of WAV files named ``{digit}_{speaker}_{index}.wav``, one spoken digit
each (the Free Spoken Digit Dataset, Jackson et al., CC BY-SA 4.0). A small subset ships with
lstmkit (:func:`bundled_digits_dir`: speakers george and jackson, recordings 0-1 of every digit,
with its attribution and licence beside it); read the full set from its path.

:func:`make_digit_strings` builds utterances the way connected-digit corpora sound: each one
concatenates 1-7 recordings of **one** speaker, drawn with replacement from the chosen recordings,
with a short random gap of silence between them (and a little before and after), then adds low
white noise at a fixed signal-to-noise ratio. The transcript is the digits separated by single
spaces (``"4 0 7"``). It writes real 16-bit WAV files and a transcript file::

    OUT/wav/{speaker}_{n:05d}.wav
    OUT/transcripts.tsv      header "file<TAB>transcript<TAB>speaker", one row per utterance;
                             file is relative to OUT

:func:`read_transcripts` reads such a folder back (or any ``file<TAB>transcript`` table).

Randomness: one ``numpy.random.default_rng(seed)`` draws, per utterance in order, the speaker,
the number of digits, the recordings, the gaps and the noise; the same arguments and seed give
the same files, byte for byte.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmkit._checks import int_at_least, number, positive_int
from lstmkit._files import atomic_write
from lstmkit.data.audio import read_audio, write_wav
from lstmkit.errors import ConfigError, DataError

log = logging.getLogger(__name__)

RATE = 8000
TRANSCRIPTS = "transcripts.tsv"
_NAME = re.compile(r"(\d)_([A-Za-z]+)_(\d+)\.wav")


@dataclass(frozen=True)
class Recording:
    """One isolated spoken digit."""

    path: Path
    digit: int
    speaker: str
    index: int


def bundled_digits_dir() -> Path:
    """The folder of the bundled subset (WAV files, README.md with attribution and licence)."""
    return Path(__file__).parent / "files" / "spoken_digits"


def list_recordings(
    source: str | os.PathLike[str],
    *,
    speakers: Iterable[str] | None = None,
    indices: range | None = None,
) -> list[Recording]:
    """The recordings in ``source`` named ``{digit}_{speaker}_{index}.wav``, optionally only those
    of ``speakers`` and with an index in ``indices``; sorted by speaker, digit, index."""
    folder = Path(source)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder of spoken digits")
    wanted = None if speakers is None else set(speakers)
    out = []
    for path in folder.iterdir():
        match = _NAME.fullmatch(path.name)
        if not match:
            continue
        digit, speaker, index = int(match.group(1)), match.group(2), int(match.group(3))
        if wanted is not None and speaker not in wanted:
            continue
        if indices is not None and index not in indices:
            continue
        out.append(Recording(path, digit, speaker, index))
    if not out:
        raise DataError(
            f"{folder} holds no recordings named {{digit}}_{{speaker}}_{{index}}.wav"
            + (f" of speakers {sorted(wanted)}" if wanted is not None else "")
            + (f" with index in {indices}" if indices is not None else "")
        )
    missing = sorted(set(wanted or ()) - {r.speaker for r in out})
    if missing:
        raise DataError(f"{folder} holds no recordings of speaker(s) {missing}")
    return sorted(out, key=lambda r: (r.speaker, r.digit, r.index))


def speakers_in(source: str | os.PathLike[str]) -> list[str]:
    """The speakers whose recordings are in ``source``, sorted."""
    return sorted({r.speaker for r in list_recordings(source)})


def make_digit_strings(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    n_utterances: int,
    speakers: Sequence[str] | None = None,
    indices: range | None = None,
    min_digits: int = 1,
    max_digits: int = 7,
    gap: tuple[float, float] = (0.05, 0.3),
    snr_db: float = 30.0,
    seed: int = 0,
    rate: int = RATE,
) -> Path:
    """Write ``n_utterances`` connected digit strings into ``out`` (see the module docstring);
    returns the transcript file's path.

    Args:
        source: folder of ``{digit}_{speaker}_{index}.wav`` recordings.
        out: output folder (created; existing files of the same names are replaced).
        speakers: the speakers to use (default: all in ``source``); each utterance is one
            speaker's, speakers taken in turn so each gets the same number of utterances (+-1).
        indices: only recordings with an index in this range (e.g. ``range(40)`` for training
            and ``range(40, 50)`` for evaluation of the same speakers).
        min_digits, max_digits: the number of digits per utterance is uniform in this range.
        gap: the silence between digits (and before the first and after the last), in seconds,
            uniform in ``[low, high]``.
        snr_db: white noise added at this signal-to-noise ratio (dB) over the whole utterance.
        seed: seeds every draw.
        rate: the sample rate written (the recordings are resampled to it when they differ).
    """
    n_utterances = positive_int("n_utterances", n_utterances)
    min_digits = positive_int("min_digits", min_digits)
    max_digits = int_at_least("max_digits", max_digits, min_digits)
    low, high = (number("gap", g) for g in gap)
    if high < low:
        raise ConfigError(f"gap must be (low, high) with low <= high, got {gap!r}")
    snr_db = float(snr_db)
    recordings = list_recordings(source, speakers=speakers, indices=indices)
    by_speaker: dict[str, list[Recording]] = {}
    for r in recordings:
        by_speaker.setdefault(r.speaker, []).append(r)
    order = sorted(by_speaker) if speakers is None else [s for s in speakers if s in by_speaker]
    cache: dict[Path, np.ndarray] = {}
    rng = np.random.default_rng(seed)
    out = Path(out)
    rows = []
    for n in range(n_utterances):
        speaker = order[n % len(order)]
        pool = by_speaker[speaker]
        k = int(rng.integers(min_digits, max_digits + 1))
        picks = [pool[int(i)] for i in rng.integers(0, len(pool), size=k)]
        gaps = rng.uniform(low, high, size=k + 1)
        pieces = [np.zeros(round(gaps[0] * rate), dtype=np.float32)]
        for rec, g in zip(picks, gaps[1:], strict=True):
            if rec.path not in cache:
                cache[rec.path] = read_audio(rec.path, rate)
            pieces += [cache[rec.path], np.zeros(round(g * rate), dtype=np.float32)]
        signal = np.concatenate(pieces)
        power = float(np.mean(np.square(signal)))
        noise = rng.standard_normal(signal.size) * np.sqrt(power / 10 ** (snr_db / 10))
        signal = (signal + noise).astype(np.float32)
        name = f"wav/{speaker}_{n:05d}.wav"
        write_wav(out / name, signal, rate)
        rows.append((name, " ".join(str(r.digit) for r in picks), speaker))

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter="\t", lineterminator="\n")
            writer.writerow(("file", "transcript", "speaker"))
            writer.writerows(rows)

    path = atomic_write(out / TRANSCRIPTS, write)
    log.info(
        "wrote %d utterances (%d digits) of speakers %s to %s",
        len(rows),
        sum(len(r[1].split()) for r in rows),
        order,
        out,
    )
    return path


def read_transcripts(data: str | os.PathLike[str]) -> list[tuple[Path, str]]:
    """``(audio path, transcript)`` pairs from a folder holding ``transcripts.tsv`` or from such a
    file: a header row naming ``file`` and ``transcript`` (other columns ignored), paths relative
    to the file's folder. Every malformed row is a :class:`DataError` naming the line."""
    path = Path(data)
    if path.is_dir():
        path = path / TRANSCRIPTS
    if not path.is_file():
        raise DataError(f"{path}: no transcript file (a folder must hold {TRANSCRIPTS})")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    if not rows or "file" not in rows[0] or "transcript" not in rows[0]:
        raise DataError(f"{path}: the first line must name the columns 'file' and 'transcript'")
    i_file, i_text = rows[0].index("file"), rows[0].index("transcript")
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) <= max(i_file, i_text):
            raise DataError(f"{path}, line {line}: expected tab-separated columns {rows[0]}")
        audio = path.parent / row[i_file]
        if not audio.is_file():
            raise DataError(f"{path}, line {line}: no audio file {audio}")
        out.append((audio, row[i_text]))
    if not out:
        raise DataError(f"{path} lists no utterances")
    return out


__all__ = [
    "RATE",
    "TRANSCRIPTS",
    "Recording",
    "bundled_digits_dir",
    "list_recordings",
    "make_digit_strings",
    "read_transcripts",
    "speakers_in",
]
