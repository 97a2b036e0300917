"""The network behind :class:`~lstmkit.tasks.Tagger` and the batches it reads.

Per token: a word embedding (optionally initialised from pretrained vectors), joined with a
character CNN over the token's characters (kernel 3, max-pooled; optional), through a
bidirectional :class:`lstmkit.nn.LSTM` run with the true ``lengths`` (no compute on padding), then
a linear layer giving one score per tag. With ``use_crf`` a linear-chain
:class:`lstmkit.nn.crf.CRF` on top scores whole tag sequences.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from lstmkit.nn.crf import CRF
from lstmkit.tasks.lstm_options import task_lstm


class TaggerNet(nn.Module):
    """Word embedding (+ char CNN) -> BiLSTM -> per-tag scores (-> CRF)."""

    def __init__(
        self,
        *,
        n_words: int,
        n_chars: int,
        n_tags: int,
        embedding_dim: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        use_crf: bool,
        char_dim: int,
        char_filters: int,
        constraints: tuple[Tensor, Tensor, Tensor] | None,
        lstm_options: dict[str, Any],
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n_words, embedding_dim, padding_idx=0)
        nn.init.normal_(self.embedding.weight, std=0.1)
        with torch.no_grad():
            self.embedding.weight[0].zero_()
        features = embedding_dim
        self.char_embedding: nn.Embedding | None = None
        self.char_conv: nn.Conv1d | None = None
        if n_chars:
            self.char_embedding = nn.Embedding(n_chars, char_dim, padding_idx=0)
            self.char_conv = nn.Conv1d(char_dim, char_filters, kernel_size=3, padding=1)
            features += char_filters
        self.dropout = nn.Dropout(dropout)
        self.lstm = task_lstm(
            features, hidden_size, num_layers, dropout, bidirectional=True, options=lstm_options
        )
        self.head = nn.Linear(2 * hidden_size, n_tags)
        self.crf = CRF(n_tags, constraints) if use_crf else None

    def _char_features(self, chars: Tensor) -> Tensor:
        assert self.char_embedding is not None and self.char_conv is not None
        b, t, w = chars.shape
        flat = chars.reshape(b * t, w)
        x = self.char_embedding(flat).transpose(1, 2)  # (B*T, C, W)
        x = self.char_conv(x)  # (B*T, F, W)
        present = (flat != 0)[:, None, :]  # (B*T, 1, W)
        # Max over the word's real characters only; an all-padding word (batch padding) gets 0.
        pooled = x.masked_fill(~present, -1.0e4).max(dim=2).values
        pooled = torch.where(present.any(dim=2), pooled, torch.zeros_like(pooled))
        return pooled.reshape(b, t, -1)

    def forward(self, words: Tensor, chars: Tensor, lengths: Tensor) -> Tensor:
        """``words (B, T)``, ``chars (B, T, W)``, ``lengths (B,)`` -> emissions ``(B, T, K)``."""
        x = self.embedding(words)
        if self.char_embedding is not None:
            x = torch.cat([x, self._char_features(chars)], dim=2)
        x = self.dropout(x)
        out, _ = self.lstm(x, lengths=lengths.cpu())
        return self.head(self.dropout(out))


class EncodedSentences(Dataset):
    """Sentences as id lists; items are indices, batches are cut by :class:`Collate`."""

    def __init__(self, words: list[list[int]], chars: list[list[list[int]]], tags: list[list[int]]):
        self.words, self.chars, self.tags = words, chars, tags

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, index: int) -> int:
        return index


def pad_batch(
    words: list[list[int]], chars: list[list[list[int]]], tags: list[list[int]] | None
) -> tuple[Tensor, ...]:
    """``(word ids (B, T), char ids (B, T, W), lengths (B,), tag ids (B, T))``, padded with 0
    (tags with -100, which the losses ignore)."""
    lengths = torch.tensor([len(w) for w in words], dtype=torch.long)
    b, t = len(words), int(lengths.max())
    word_ids = torch.zeros(b, t, dtype=torch.long)
    width = max((len(c) for sent in chars for c in sent), default=1) or 1
    char_ids = torch.zeros(b, t, width, dtype=torch.long)
    tag_ids = torch.full((b, t), -100, dtype=torch.long)
    for i, w in enumerate(words):
        word_ids[i, : len(w)] = torch.tensor(w, dtype=torch.long)
        for j, c in enumerate(chars[i]):
            if c:
                char_ids[i, j, : len(c)] = torch.tensor(c, dtype=torch.long)
        if tags is not None:
            tag_ids[i, : len(w)] = torch.tensor(tags[i], dtype=torch.long)
    return word_ids, char_ids, lengths, tag_ids


class Collate:
    """A DataLoader's ``collate_fn``: the padded batch of the sentences at the given indices."""

    def __init__(self, data: EncodedSentences) -> None:
        self.data = data

    def __call__(self, indices: list[int]) -> tuple[Tensor, ...]:
        d = self.data
        return pad_batch(
            [d.words[i] for i in indices],
            [d.chars[i] for i in indices],
            [d.tags[i] for i in indices],
        )


__all__ = ["Collate", "EncodedSentences", "TaggerNet", "pad_batch"]
