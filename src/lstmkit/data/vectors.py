"""Pretrained word vectors from a plain-text file (word2vec text format or GloVe).

Each line is a token followed by its numbers, separated by spaces; word2vec files start with a
``count dim`` header line, GloVe files do not (both are recognised). Only tokens of the vocabulary
are kept, so a large file costs one pass and little memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from lstmkit._table import is_number
from lstmkit.data.vocab import Vocabulary
from lstmkit.errors import DataError


def read_vectors(
    path: str | os.PathLike[str],
    vocab: Vocabulary,
    *,
    dim: int | None = None,
    seed: int = 0,
    lowercase: bool = False,
) -> tuple[Tensor, int]:
    """An embedding matrix ``(len(vocab), dim)`` float32, and how many vocabulary tokens the file
    had.

    Rows of tokens missing from the file are drawn from N(0, 0.1²) with a generator seeded by
    ``seed``; the ``<pad>`` row is zero. ``lowercase`` matches file tokens in lower case (for a
    lower-casing tokenizer). A malformed line is a DataError naming the file and line number.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"vectors file {path} does not exist")
    found: dict[int, list[float]] = {}
    with open(path, encoding="utf-8", errors="strict") as fh:
        try:
            for lineno, line in enumerate(fh, start=1):
                parts = line.rstrip("\n").rstrip().split(" ")
                if lineno == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    header_dim = int(parts[1])
                    if dim is not None and dim != header_dim:
                        raise DataError(
                            f"{path}: the header says dimension {header_dim}, expected {dim}"
                        )
                    dim = header_dim
                    continue
                if not line.strip():
                    continue
                token, numbers = parts[0], parts[1:]
                if dim is None:
                    dim = len(numbers)
                    if dim == 0:
                        raise DataError(f"{path} line {lineno}: a token with no numbers")
                if len(numbers) != dim:
                    raise DataError(
                        f"{path} line {lineno}: {len(numbers)} numbers after {token!r}, "
                        f"expected {dim}"
                    )
                if lowercase:
                    token = token.lower()
                index = vocab.index(token)
                if index == vocab.unk_id and token != "<unk>":
                    continue
                if index in found:
                    continue  # the first (most frequent, by convention) vector wins
                try:
                    found[index] = [float(x) for x in numbers]
                except ValueError:
                    bad = next(x for x in numbers if not is_number(x))
                    raise DataError(
                        f"{path} line {lineno}: {bad!r} is not a number (token {token!r})"
                    ) from None
        except UnicodeDecodeError as err:
            raise DataError(f"{path} is not UTF-8 text: {err}") from None
    if dim is None:
        raise DataError(f"vectors file {path} is empty")
    generator = torch.Generator().manual_seed(int(seed))
    weights = torch.randn(len(vocab), dim, generator=generator) * 0.1
    for index, values in found.items():
        weights[index] = torch.tensor(values, dtype=torch.float32)
    weights[vocab.pad_id] = 0.0
    return weights, len(found)
