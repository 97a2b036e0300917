"""Audio files in and out: PCM WAV with the standard library, other formats with ``soundfile``.

``read_audio(path, rate=8000)`` returns mono float32 samples in [-1, 1] at ``rate``:

* **Formats.** PCM WAV (8-bit unsigned, 16-, 24- and 32-bit signed integer) is read with Python's
  own :mod:`wave` module, so the core needs no audio library. Anything else (FLAC, OGG, float WAV)
  is read with `soundfile <https://python-soundfile.readthedocs.io>`_ when it is installed
  (``pip install lstmkit[audio]``); without it such a file is a :class:`DataError` that says so.
* **Channels.** A file with several channels is mixed down to mono (the mean of the channels);
  this is logged at INFO level, never silent.
* **Rate.** A file at another rate is resampled to ``rate`` (band-limited, by the FFT of the whole
  file: exact for the short utterances speech recognition reads). Rates below :data:`MIN_RATE` Hz
  cannot hold speech and are a :class:`DataError`.
* **Errors.** A file that is not audio, has no samples, or a rate below :data:`MIN_RATE` is a
  :class:`DataError` naming the file. A silent file (every sample zero) is read as it is; what a
  silent utterance means is the caller's decision (see :func:`is_silent`).

``write_wav(path, samples, rate)`` writes 16-bit PCM mono, atomically.
"""

from __future__ import annotations

import logging
import os
import wave
from pathlib import Path

import numpy as np

from lstmkit._checks import positive_int
from lstmkit._files import atomic_write
from lstmkit.errors import DataError

log = logging.getLogger(__name__)

#: The lowest sample rate read (Hz): below it there is no speech band to recognise.
MIN_RATE = 1000


def _pcm_to_float(raw: bytes, width: int, channels: int) -> np.ndarray:
    """Interleaved PCM bytes -> float32 array (frames, channels) in [-1, 1]."""
    if width == 1:  # 8-bit WAV is unsigned
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        data = ints.astype(np.float32) / float(1 << 23)
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.float32) / float(1 << 31)
    else:
        raise ValueError(f"{8 * width}-bit samples")
    return data.reshape(-1, channels)


def _read_wave(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as f:
        channels, width, rate, n = (
            f.getnchannels(),
            f.getsampwidth(),
            f.getframerate(),
            f.getnframes(),
        )
        raw = f.readframes(n)
    return _pcm_to_float(raw, width, channels), rate


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    import soundfile  # optional: lstmkit[audio]

    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return data, int(rate)


def _soundfile_available() -> bool:
    try:
        import soundfile  # noqa: F401
    except (ImportError, OSError):  # OSError: the wheel is there but libsndfile is not
        return False
    return True


def read_audio(path: str | os.PathLike[str], rate: int = 8000) -> np.ndarray:
    """Mono float32 samples of the audio file ``path`` at ``rate`` Hz (see the module docstring
    for formats, channels, resampling and errors)."""
    rate = positive_int("rate", rate)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such audio file")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes), not an audio file")
    try:
        data, file_rate = _read_wave(path)
    except (wave.Error, EOFError, ValueError) as wave_err:
        if not _soundfile_available():
            raise DataError(
                f"{path} is not a PCM WAV file ({wave_err}); other formats (FLAC, OGG, float "
                "WAV) need the soundfile package: pip install 'lstmkit[audio]'"
            ) from None
        try:
            data, file_rate = _read_soundfile(path)
        except Exception as err:  # soundfile raises its own LibsndfileError and RuntimeError
            raise DataError(f"{path} is not an audio file soundfile can read ({err})") from None
    if file_rate < MIN_RATE:
        raise DataError(
            f"{path} has a sample rate of {file_rate} Hz; speech needs at least {MIN_RATE} Hz "
            f"(the model reads {rate} Hz)"
        )
    if data.shape[0] == 0:
        raise DataError(f"{path} holds no samples (a header without audio)")
    if data.shape[1] > 1:
        log.info("%s has %d channels: mixed down to mono", path, data.shape[1])
    mono = data.mean(axis=1, dtype=np.float32)
    if file_rate != rate:
        mono = resample(mono, file_rate, rate)
    return mono


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """``samples`` at ``from_rate`` resampled to ``to_rate``: band-limited, by truncating or
    zero-padding the FFT of the whole signal (what ``scipy.signal.resample`` does)."""
    from_rate, to_rate = positive_int("from_rate", from_rate), positive_int("to_rate", to_rate)
    x = np.asarray(samples, dtype=np.float64)
    if from_rate == to_rate or x.size == 0:
        return x.astype(np.float32)
    n_out = max(1, round(x.size * to_rate / from_rate))
    spectrum = np.fft.rfft(x)
    keep = min(spectrum.size, n_out // 2 + 1)
    out_spectrum = np.zeros(n_out // 2 + 1, dtype=complex)
    out_spectrum[:keep] = spectrum[:keep]
    y = np.fft.irfft(out_spectrum, n=n_out) * (n_out / x.size)
    return y.astype(np.float32)


def is_silent(samples: np.ndarray, threshold: float = 1e-4) -> bool:
    """True if no sample's magnitude exceeds ``threshold`` (digital silence, by default)."""
    return samples.size == 0 or float(np.max(np.abs(samples))) <= threshold


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate: int) -> Path:
    """Write mono float samples (clipped to [-1, 1]) as 16-bit PCM WAV, atomically."""
    rate = positive_int("rate", rate)
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise DataError(f"write_wav takes mono samples (one dimension), got shape {x.shape}")
    pcm = (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2")

    def write(tmp: Path) -> None:
        with wave.open(str(tmp), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(rate)
            f.writeframes(pcm.tobytes())

    return atomic_write(path, write)


__all__ = ["MIN_RATE", "is_silent", "read_audio", "resample", "write_wav"]
