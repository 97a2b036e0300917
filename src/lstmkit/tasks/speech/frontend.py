"""An optional convolutional front end for :class:`~.net.SpeechNet` (CLDNN, Sainath et al. 2015;
Deep Speech 2, Amodei et al. 2016).

Two 2-D convolutions over (time, mel) of the 10 ms log-mel frames, each followed by a ReLU and a
max-pool along the mel axis only: a formant pattern a few mel channels higher or lower (a shorter
or longer vocal tract) excites the same pooled unit, the textbook remedy for speaker variation.
Measured on the spoken digits (docs/speech.md), it did not help: with the default budget the
network stays on CTC's all-blank plateau far longer than without it, so it is off by default.
There is no stride or pooling in time, so the network keeps
the frame rate that CTC needs; the net receives frames already stacked ``stack`` at a time, so the
front end unstacks them, convolves at 10 ms and stacks its outputs again.

Padding: the frames of a padded batch beyond an utterance's length are set to zero before each
convolution, so an utterance gets the same outputs in a padded batch as alone (where the
convolution's own zero padding surrounds it).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError, ShapeError

FRONTENDS = ("none", "conv")


class ConvFrontEnd(nn.Module):
    """Stacked frames ``(B, T, stack * n_mels)`` -> ``(B, T, stack * out_per_frame)``.

    Layer 1: ``channels`` kernels of 5 (time) x 5 (mel), mel max-pool 3; layer 2: ``channels``
    kernels of 3 x 3, mel max-pool 2. With 40 mels: 40 -> 13 -> 6 pooled bands per channel."""

    def __init__(self, n_mels: int, stack: int, channels: int = 16) -> None:
        super().__init__()
        if n_mels < 6:
            raise ConfigError(f"the conv front end needs at least 6 mel channels, got {n_mels}")
        self.n_mels, self.stack = n_mels, stack
        self.conv1 = nn.Conv2d(1, channels, kernel_size=5, padding=2)
        self.pool1 = nn.MaxPool2d(kernel_size=(1, 3))
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.pool2 = nn.MaxPool2d(kernel_size=(1, 2))
        self.out_per_frame = channels * ((n_mels // 3) // 2)

    @property
    def out_features(self) -> int:
        """The width of one output (stacked) frame: the LSTM's input size."""
        return self.stack * self.out_per_frame

    def forward(self, features: Tensor, lengths: Tensor) -> Tensor:
        batch, steps, width = features.shape
        if width != self.stack * self.n_mels:
            raise ShapeError(
                f"expected frames of {self.stack} x {self.n_mels} features, got width {width}"
            )
        frames = steps * self.stack
        x = features.reshape(batch, 1, frames, self.n_mels)  # stacked frames lie side by side
        # (B, 1, frames, 1): 1 where a 10 ms frame belongs to its utterance
        ends = lengths.to(x.device)[:, None] * self.stack
        mask = (torch.arange(frames, device=x.device)[None, :] < ends)[:, None, :, None].to(x.dtype)
        x = self.pool1(torch.relu(self.conv1(x * mask)) * mask)
        x = self.pool2(torch.relu(self.conv2(x)) * mask)
        # (B, C, frames, bands) -> (B, frames, C * bands) -> stacked again (B, T, stack * C * bands)
        x = x.permute(0, 2, 1, 3).reshape(batch, frames, -1)
        return x.reshape(batch, steps, self.stack * x.shape[-1])


__all__ = ["FRONTENDS", "ConvFrontEnd"]
