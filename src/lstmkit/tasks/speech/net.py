"""The network behind :class:`~lstmkit.tasks.SpeechRecognizer`, its batches and its loss.

Per frame of (stacked) log-mel features: optionally a convolutional front end
(:mod:`.frontend`), then a stacked bidirectional :class:`lstmkit.nn.LSTM` run
with the true ``lengths`` (no compute on padding), dropout, and a linear layer giving one score
per output token plus the CTC blank (index 0). Training minimises :class:`torch.nn.CTCLoss` over
the log-softmax of those scores: the negative log of the summed probability of every frame-level
alignment of the transcript, with no frame labels needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from lstmkit.data.audio import resample
from lstmkit.tasks.lstm_options import task_lstm
from lstmkit.tasks.speech.features import stack_frames
from lstmkit.tasks.speech.frontend import ConvFrontEnd

BLANK = 0


class SpeechNet(nn.Module):
    """Features ``(B, T, F)`` -> per-frame log-probabilities ``(B, T, n_tokens + 1)``."""

    def __init__(
        self,
        *,
        n_features: int,
        n_tokens: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        lstm_options: dict[str, Any],
        frontend: ConvFrontEnd | None = None,
    ) -> None:
        super().__init__()
        self.frontend = frontend  # None: the features go straight into the LSTM
        lstm_in = self.frontend.out_features if self.frontend is not None else n_features
        self.lstm = task_lstm(
            lstm_in, hidden_size, num_layers, dropout, bidirectional=True, options=lstm_options
        )
        self.dropout = nn.Dropout(dropout)
        out = self.lstm.proj_size or hidden_size
        self.head = nn.Linear(2 * out, n_tokens + 1)

    def forward(self, features: Tensor, lengths: Tensor) -> Tensor:
        if self.frontend is not None:
            features = self.frontend(features, lengths)
        out, _ = self.lstm(features, lengths=lengths.cpu())
        return torch.log_softmax(self.head(self.dropout(out)).float(), dim=-1)


def ctc_loss(log_probs: Tensor, lengths: Tensor, targets: Tensor, target_lengths: Tensor) -> Tensor:
    """CTC loss summed over the batch and divided by its number of target tokens.

    ``log_probs (B, T, K)`` batch first, ``targets`` the targets of the batch concatenated (ids
    >= 1). An utterance too short for its transcript has infinite loss; it is zeroed
    (``zero_infinity``) rather than poisoning the batch, and :meth:`SpeechRecognizer.fit` warns
    about such utterances before training."""
    loss = nn.functional.ctc_loss(
        log_probs.transpose(0, 1),
        targets,
        lengths,
        target_lengths,
        blank=BLANK,
        reduction="sum",
        zero_infinity=True,
    )
    return loss / target_lengths.sum().clamp(min=1)


def min_frames(target: list[int]) -> int:
    """The fewest frames CTC needs for ``target``: one per token, plus a blank between repeats."""
    return len(target) + sum(a == b for a, b in zip(target[:-1], target[1:], strict=True))


class Utterances(Dataset):
    """Normalised log-mel tensors ``(frames, n_mels)`` and target id lists; items are indices,
    batches are cut by :class:`Collate`. With ``samples`` (and the ``features`` function that
    made the tensors), :class:`Collate` can recompute features of speed-perturbed audio."""

    def __init__(
        self,
        features: list[Tensor],
        targets: list[list[int]],
        samples: list[np.ndarray] | None = None,
        featurize: Callable[[np.ndarray], Tensor] | None = None,
    ) -> None:
        self.features, self.targets = features, targets
        self.samples, self.featurize = samples, featurize

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> int:
        return index


def pad_batch(features: list[Tensor], targets: list[list[int]] | None = None) -> tuple[Tensor, ...]:
    """``(features (B, T, F) zero-padded, lengths (B,), targets concatenated, target lengths)``."""
    lengths = torch.tensor([f.shape[0] for f in features], dtype=torch.long)
    padded = nn.utils.rnn.pad_sequence(features, batch_first=True)
    if targets is None:
        return padded, lengths
    flat = torch.tensor([k for t in targets for k in t], dtype=torch.long)
    return padded, lengths, flat, torch.tensor([len(t) for t in targets], dtype=torch.long)


class Collate:
    """A DataLoader's ``collate_fn`` for :class:`Utterances`: frames stacked ``stack`` at a time,
    with optional SpecAugment-style masking of training batches before stacking (``time_masks``
    spans of up to ``time_width`` frames and ``freq_masks`` bands of up to ``freq_width`` mel
    channels set to 0, the normalised mean), and speed perturbation (Ko et al. 2015): each
    training utterance resampled by a factor drawn from ``speeds`` (1.1: 10 % faster and
    higher), which needs the dataset's samples; and a vocal-tract-length warp (after Jaitly &
    Hinton 2013: the mel axis of each training utterance stretched by a factor drawn from
    ``1 +- warp``)."""

    def __init__(
        self,
        data: Utterances,
        *,
        stack: int = 1,
        augment: bool = False,
        speeds: tuple[float, ...] = (1.0,),
        time_masks: int = 2,
        time_width: int = 6,
        freq_masks: int = 2,
        freq_width: int = 8,
        warp: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.data, self.stack, self.augment = data, stack, augment
        self.warp = float(warp)
        self.speeds = tuple(speeds)
        if self.speeds != (1.0,) and (data.samples is None or data.featurize is None):
            raise ValueError("speed perturbation needs the utterances' samples")
        self.masks = (time_masks, time_width, freq_masks, freq_width)
        self.generator = torch.Generator().manual_seed(seed)

    def _masked(self, x: Tensor) -> Tensor:
        x = x.clone()
        time_masks, time_width, freq_masks, freq_width = self.masks
        g = self.generator
        frames, n_features = x.shape
        for _ in range(time_masks):
            width = int(torch.randint(0, time_width + 1, (1,), generator=g))
            start = int(torch.randint(0, max(frames - width, 0) + 1, (1,), generator=g))
            x[start : start + width] = 0.0
        for _ in range(freq_masks):
            width = int(torch.randint(0, freq_width + 1, (1,), generator=g))
            start = int(torch.randint(0, max(n_features - width, 0) + 1, (1,), generator=g))
            x[:, start : start + width] = 0.0
        return x

    def _warped(self, x: Tensor) -> Tensor:
        """The mel axis stretched by a factor ``alpha`` drawn from ``1 +- warp``: channel ``j``
        takes the value at ``j / alpha`` (linear interpolation, clamped at the edges), so formants
        move up (``alpha > 1``) or down as between shorter and longer vocal tracts."""
        g = self.generator
        alpha = 1.0 + self.warp * (2 * float(torch.rand((), generator=g)) - 1)
        n = x.shape[1]
        source = (torch.arange(n, dtype=torch.float32) / alpha).clamp(0, n - 1)
        low = source.floor().long()
        high = (low + 1).clamp(max=n - 1)
        frac = source - low
        return x[:, low] * (1 - frac) + x[:, high] * frac

    def _speed(self, index: int) -> Tensor:
        if len(self.speeds) == 1 and self.speeds[0] == 1.0:
            return self.data.features[index]
        pick = int(torch.randint(0, len(self.speeds), (1,), generator=self.generator))
        speed = self.speeds[pick]
        if speed == 1.0:
            return self.data.features[index]
        assert self.data.samples is not None and self.data.featurize is not None
        # played `speed` times faster: len / speed samples at the same rate
        return self.data.featurize(resample(self.data.samples[index], round(1000 * speed), 1000))

    def __call__(self, indices: list[int]) -> tuple[Tensor, ...]:
        feats = [self._speed(i) for i in indices]
        if self.warp > 0:
            feats = [self._warped(f) for f in feats]
        if self.augment:
            feats = [self._masked(f) for f in feats]
        feats = [stack_frames(f, self.stack) for f in feats]
        return pad_batch(feats, [self.data.targets[i] for i in indices])


__all__ = ["BLANK", "Collate", "SpeechNet", "Utterances", "ctc_loss", "min_frames", "pad_batch"]
