"""The UCR/UEA archive's ``.ts`` format, read by our own parser (no aeon/sktime dependency).

A ``.ts`` file is plain text: ``#`` comment lines, header lines starting with ``@``
(``@problemName``, ``@univariate``, ``@equalLength``, ``@seriesLength``, ``@missing``,
``@timeStamps``, ``@classLabel true 1 2 3``), then ``@data`` and one series per line::

    1.0,2.0,3.5:0.1,0.2,0.3:walk       <- two channels (split by ':'), values by ',', label last

Univariate and multivariate, equal and unequal length are read; a missing value is ``?`` (or
``NaN``) and becomes NaN. A series of unequal length is kept at its own length: trailing steps that
are missing in every channel are padding (the archive pads some unequal-length sets with NaN) and
are cut. Every error is a :class:`~lstmkit.errors.DataError` naming the file and the line.
Time-stamped files (``@timeStamps true``) are not supported and say so. A gzip-compressed file
(``NAME.ts.gz``, as the bundled UCR sets are stored) is read the same way.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.errors import DataError

MISSING_TOKENS = frozenset({"?", "nan", "NaN", "NAN"})
TS_SUFFIXES = (".ts", ".ts.gz")


def is_ts_path(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` names a ``.ts`` file by its name: ``NAME.ts`` or ``NAME.ts.gz``."""
    return Path(path).name.lower().endswith(TS_SUFFIXES)


@dataclass
class TsData:
    """What :func:`read_ts` read: the series ``(T_i, C)`` float64 (NaN where missing), their
    labels (strings; None when the file has no labels), the header's class labels and the rest of
    the header (lower-cased keys, raw string values)."""

    path: Path
    series: list[np.ndarray]
    labels: list[str] | None
    class_labels: list[str] | None
    header: dict[str, str] = field(default_factory=dict)

    @property
    def n_channels(self) -> int:
        return int(self.series[0].shape[1])

    @property
    def ids(self) -> list[str]:
        """Series ids: their 0-based position in the file, as strings."""
        return [str(i) for i in range(len(self.series))]


def _flag(value: str, key: str, where: str) -> bool:
    word = value.split()[0].lower() if value.split() else ""
    if word not in ("true", "false"):
        raise DataError(f"{where}: @{key} must be true or false, got {value!r}")
    return word == "true"


def _values(text: str, where: str, channel: int) -> np.ndarray:
    out = []
    for token in text.split(","):
        token = token.strip()
        if not token:
            continue  # a trailing comma
        if token in MISSING_TOKENS:
            out.append(np.nan)
            continue
        try:
            out.append(float(token))
        except ValueError:
            raise DataError(
                f"{where}: channel {channel + 1} holds {token!r}, which is not a number "
                "(a missing value is written ?)"
            ) from None
    return np.asarray(out, dtype=np.float64)


def _series(fields: list[str], where: str) -> np.ndarray:
    channels = [_values(text, where, c) for c, text in enumerate(fields)]
    empty = [c + 1 for c, v in enumerate(channels) if v.size == 0 or np.isnan(v).all()]
    if empty:
        raise DataError(f"{where}: channel(s) {empty} of this series are empty (no values)")
    steps = max(v.size for v in channels)
    out = np.full((steps, len(channels)), np.nan)
    for c, v in enumerate(channels):
        out[: v.size, c] = v
    observed = ~np.isnan(out).all(axis=1)
    last = int(np.nonzero(observed)[0][-1]) + 1  # cut the all-missing tail (padding)
    return out[:last]


def read_ts(path: str | os.PathLike[str]) -> TsData:
    """Read a ``.ts`` file (see the module docstring); DataError naming the file and line for a
    missing file, no ``@data`` line, mixed channel counts, a label outside ``@classLabel``, an
    empty series or a value that is not a number."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist (expected a .ts file)")
    try:
        if path.name.lower().endswith(".gz"):
            lines = gzip.decompress(path.read_bytes()).decode("utf-8-sig").splitlines()
        else:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise DataError(f"could not read {path}: {err}") from None
    header: dict[str, str] = {}
    data_start = None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise DataError(
                f"{path}, line {number}: data before the @data line (the header lines start "
                "with @, then @data, then one series per line)"
            )
        key, _, value = line[1:].partition(" ")
        key = key.lower()
        if key == "data":
            data_start = number
            break
        header[key] = value.strip()
    if data_start is None:
        raise DataError(f"{path}: no @data line; is this a .ts file (UCR/UEA archive format)?")
    where_header = f"{path} (header)"
    if "timestamps" in header and _flag(header["timestamps"], "timeStamps", where_header):
        raise DataError(f"{path}: time-stamped .ts files (@timeStamps true) are not supported")
    class_labels: list[str] | None = None
    has_labels = False
    if "classlabel" in header:
        flag, _, rest = header["classlabel"].partition(" ")
        has_labels = _flag(flag, "classLabel", where_header)
        if has_labels:
            class_labels = rest.split()
            if not class_labels:
                raise DataError(f"{where_header}: @classLabel true lists no labels")
    series: list[np.ndarray] = []
    labels: list[str] = []
    n_channels = None
    first_line = 0
    for number in range(data_start + 1, len(lines) + 1):
        line = lines[number - 1].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}, line {number}"
        fields = line.split(":")
        if has_labels:
            if len(fields) < 2:
                raise DataError(f"{where}: no label (the file's header says @classLabel true)")
            label = fields.pop().strip()
            if class_labels is not None and label not in class_labels:
                raise DataError(
                    f"{where}: label {label!r} is not one of the @classLabel labels {class_labels}"
                )
            labels.append(label)
        if n_channels is None:
            n_channels, first_line = len(fields), number
        elif len(fields) != n_channels:
            raise DataError(
                f"{where}: {len(fields)} channel(s), but the series on line {first_line} has "
                f"{n_channels}; every series needs the same channels"
            )
        series.append(_series(fields, where))
    if not series:
        raise DataError(f"{path}: no series after the @data line")
    return TsData(path, series, labels if has_labels else None, class_labels, header)


def write_ts(
    path: str | os.PathLike[str],
    series: list[Any],
    labels: list[Any] | None = None,
    *,
    problem_name: str = "data",
) -> Path:
    """Write series ``(T_i, C)`` (or ``(T_i,)``) and labels as a ``.ts`` file (NaN as ``?``)."""
    arrays = [np.asarray(x, dtype=np.float64).reshape(len(x), -1) for x in series]
    classes = sorted({str(v) for v in labels}) if labels is not None else None
    lengths = {len(x) for x in arrays}
    head = [
        f"@problemName {problem_name}",
        "@timeStamps false",
        f"@missing {str(any(np.isnan(x).any() for x in arrays)).lower()}",
        f"@univariate {str(arrays[0].shape[1] == 1).lower()}",
        f"@equalLength {str(len(lengths) == 1).lower()}",
        f"@classLabel true {' '.join(classes)}" if classes else "@classLabel false",
        "@data",
    ]
    if len(lengths) == 1:
        head.insert(5, f"@seriesLength {lengths.pop()}")
    rows = []
    for i, x in enumerate(arrays):
        channels = [",".join("?" if np.isnan(v) else repr(float(v)) for v in col) for col in x.T]
        rows.append(":".join(channels) + (f":{labels[i]}" if labels is not None else ""))
    path = Path(path)
    path.write_text("\n".join(head + rows) + "\n", encoding="utf-8")
    return path


__all__ = ["TsData", "is_ts_path", "read_ts", "write_ts"]
