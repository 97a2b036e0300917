"""Log-mel features from torch's own STFT and a mel filterbank built here (no torchaudio, no
librosa), normalised per utterance.

Per utterance: a Hann-windowed STFT (``win`` samples, ``hop`` apart, ``n_fft`` points, centred
with reflection padding, as :func:`torch.stft` does), the power spectrum through ``n_mels``
triangular filters equally spaced on the HTK mel scale ``2595 log10(1 + f / 700)`` between
``f_min`` and ``f_max`` (each filter's peak is 1: "HTK" normalisation, what
``librosa.filters.mel(htk=True, norm=None)`` gives), ``log(energy + 1e-6)``, then each mel channel
shifted and scaled to mean 0 and standard deviation 1 over the utterance's frames (cepstral mean
and variance normalisation: it removes the channel and the loudness, which differ between
recordings and speakers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor

from lstmkit._checks import number, positive_int
from lstmkit.errors import ConfigError, DataError

_FLOOR = 1e-6


def hz_to_mel(f: Tensor | float) -> Tensor:
    return 2595.0 * torch.log10(1.0 + torch.as_tensor(f, dtype=torch.float64) / 700.0)


def mel_to_hz(m: Tensor | float) -> Tensor:
    return 700.0 * (10.0 ** (torch.as_tensor(m, dtype=torch.float64) / 2595.0) - 1.0)


def mel_filterbank(n_mels: int, n_fft: int, rate: int, f_min: float, f_max: float) -> Tensor:
    """``(n_mels, n_fft // 2 + 1)`` triangular filters on the HTK mel scale, peaks of 1."""
    freqs = torch.linspace(0.0, rate / 2.0, n_fft // 2 + 1, dtype=torch.float64)
    edges = mel_to_hz(torch.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / (centre - lower)
    falling = (upper - freqs[None, :]) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


@dataclass(frozen=True)
class FeatureConfig:
    """How samples become features; kept in the model's config so a loaded model reads audio
    exactly as it was trained."""

    rate: int = 8000
    n_fft: int = 256
    win: int = 200  # 25 ms at 8 kHz
    hop: int = 80  # 10 ms at 8 kHz
    n_mels: int = 40
    f_min: float = 20.0
    f_max: float | None = None  # None: rate / 2

    def __post_init__(self) -> None:
        for name in ("rate", "n_fft", "win", "hop", "n_mels"):
            positive_int(name, getattr(self, name))
        if self.win > self.n_fft:
            raise ConfigError(f"win must be <= n_fft, got win={self.win}, n_fft={self.n_fft}")
        top = self.rate / 2 if self.f_max is None else number("f_max", self.f_max, positive=True)
        if not 0 <= number("f_min", self.f_min) < top <= self.rate / 2:
            raise ConfigError(
                f"need 0 <= f_min < f_max <= rate / 2, got f_min={self.f_min}, f_max={top}, "
                f"rate={self.rate}"
            )

    def to_dict(self) -> dict:
        return asdict(self)


class LogMel:
    """Callable: mono samples (1-D numpy or tensor) -> normalised log-mel ``(frames, n_mels)``."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        c = config
        f_max = c.rate / 2 if c.f_max is None else c.f_max
        self.filters = mel_filterbank(c.n_mels, c.n_fft, c.rate, c.f_min, f_max)
        self.window = torch.hann_window(c.win)

    def log_mel(self, samples: np.ndarray | Tensor) -> Tensor:
        """Log mel energies ``(frames, n_mels)``, before normalisation."""
        x = torch.as_tensor(np.asarray(samples, dtype=np.float32))
        if x.dim() != 1:
            raise DataError(
                f"features take mono samples (one dimension), got shape {tuple(x.shape)}"
            )
        c = self.config
        if x.numel() < c.win:
            raise DataError(
                f"an utterance of {x.numel()} samples is shorter than one analysis window "
                f"({c.win} samples, {1000 * c.win / c.rate:.0f} ms)"
            )
        pad_mode = "reflect" if x.numel() > c.n_fft // 2 else "constant"
        spec = torch.stft(
            x,
            c.n_fft,
            hop_length=c.hop,
            win_length=c.win,
            window=self.window,
            center=True,
            pad_mode=pad_mode,
            return_complex=True,
        )
        power = spec.real.square() + spec.imag.square()  # (freq, frames)
        return torch.log(self.filters @ power + _FLOOR).T.contiguous()

    def __call__(self, samples: np.ndarray | Tensor) -> Tensor:
        return normalise(self.log_mel(samples))


def normalise(features: Tensor) -> Tensor:
    """Each channel to mean 0, standard deviation 1 over the frames (a constant channel, as in
    silence, becomes 0)."""
    centred = features - features.mean(dim=0, keepdim=True)
    std = centred.std(dim=0, keepdim=True, unbiased=False)
    return torch.where(std > 1e-3, centred / std.clamp(min=1e-3), torch.zeros_like(centred))


def stack_frames(features: Tensor, stack: int) -> Tensor:
    """``(frames, F)`` -> ``(ceil(frames / stack), stack * F)``: each output frame is ``stack``
    consecutive frames side by side (the last padded by repeating the final frame). Fewer, wider
    frames make the BiLSTM ``stack`` times cheaper; CTC still has enough frames for digits."""
    if stack == 1:
        return features
    frames = features.shape[0]
    extra = (-frames) % stack
    if extra:
        features = torch.cat([features, features[-1:].expand(extra, -1)])
    return features.reshape(-1, stack * features.shape[1])


__all__ = ["FeatureConfig", "LogMel", "mel_filterbank", "normalise", "stack_frames"]
