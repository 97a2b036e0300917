"""Audio input as people have it, and the bad cases: a non-audio file, an empty file, a header
without samples, a silent file, a stereo file, a rate of 1 Hz, a transcript with characters
outside the alphabet. Each is a clear DataError naming the file, or documented handling."""

from __future__ import annotations

import logging
import wave

import numpy as np
import pytest

from lstmkit.data.audio import read_audio, resample, write_wav
from lstmkit.data.spoken_digits import bundled_digits_dir, list_recordings
from lstmkit.errors import DataError
from lstmkit.tasks import SpeechRecognizer

FIT = {"max_epochs": 1, "batch_size": 4, "enable_progress_bar": False, "seed": 0}


def _wav(path, samples, rate=8000, channels=1, width=2):
    ints = (np.asarray(samples) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(ints.tobytes())
    return path


def _tone(seconds=0.5, rate=8000, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny():
    pairs = [
        (r.path, str(r.digit))
        for r in list_recordings(bundled_digits_dir(), speakers=["george"], indices=range(1))
    ]
    model = SpeechRecognizer(hidden_size=8, num_layers=1, n_mels=16, stack=4)
    return model.fit(pairs[:4], **FIT), pairs


def test_a_written_wav_reads_back(tmp_path):
    x = _tone()
    path = write_wav(tmp_path / "a.wav", x, 8000)
    np.testing.assert_allclose(read_audio(path, 8000), x, atol=1 / 32767)


def test_a_non_audio_file_is_a_data_error(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n")
    with pytest.raises(DataError, match=r"notes\.wav is not a PCM WAV file"):
        read_audio(path)


def test_an_empty_file_and_a_header_without_samples_are_data_errors(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.wav is empty \(0 bytes\), not an audio file"):
        read_audio(tmp_path / "empty.wav")
    _wav(tmp_path / "header.wav", np.zeros(0))
    with pytest.raises(DataError, match=r"header\.wav holds no samples"):
        read_audio(tmp_path / "header.wav")


def test_a_rate_of_one_hertz_is_a_data_error(tmp_path):
    _wav(tmp_path / "slow.wav", _tone(), rate=1)
    with pytest.raises(DataError, match=r"slow\.wav has a sample rate of 1 Hz; speech needs at"):
        read_audio(tmp_path / "slow.wav")


def test_a_stereo_file_is_mixed_down_and_says_so(tmp_path, caplog):
    left, right = _tone(), np.zeros(4000, dtype=np.float32)
    _wav(tmp_path / "stereo.wav", np.stack([left, right], axis=1).reshape(-1), channels=2)
    with caplog.at_level(logging.INFO, logger="lstmkit.data.audio"):
        mono = read_audio(tmp_path / "stereo.wav")
    assert "stereo.wav has 2 channels: mixed down to mono" in caplog.text
    np.testing.assert_allclose(mono, left / 2, atol=1 / 32767)


def test_another_rate_is_resampled(tmp_path):
    _wav(tmp_path / "16k.wav", _tone(rate=16000), rate=16000)
    x = read_audio(tmp_path / "16k.wav", 8000)
    assert x.size == 4000
    np.testing.assert_allclose(x[100:-100], _tone()[100:-100], atol=2e-3)
    assert resample(np.ones(10), 8000, 8000).size == 10


def test_a_silent_file_fails_training_and_transcribes_to_nothing(tmp_path, tiny, caplog):
    model, pairs = tiny
    silent = _wav(tmp_path / "silent.wav", np.zeros(4000))
    with pytest.raises(DataError, match=r"training data: .*silent\.wav is silent"):
        SpeechRecognizer(hidden_size=4, num_layers=1).fit([(silent, "1"), *pairs[:2]], **FIT)
    with caplog.at_level(logging.WARNING):
        assert model.predict([silent, pairs[0][0]])[0] == ""
    assert "silent.wav is silent (every sample is zero): transcribed as ''" in caplog.text


def test_a_transcript_outside_the_alphabet_is_a_data_error(tiny):
    model, pairs = tiny
    with pytest.raises(DataError, match=r"has characters 'x' outside the alphabet '0123'"):
        model.evaluate([(pairs[0][0], "0x")])
    fixed = SpeechRecognizer(hidden_size=4, num_layers=1, alphabet="0123456789 ")
    with pytest.raises(DataError, match=r"\('four'\) has characters 'foru' outside the alphabet"):
        fixed.fit([(pairs[0][0], "0"), (pairs[4][0], "four")], **FIT)


def test_arrays_and_bad_items(tiny):
    model, pairs = tiny
    samples = read_audio(pairs[0][0])
    assert model.predict(samples) == model.predict(pairs[0][0])
    with pytest.raises(DataError, match=r"samples must be a non-empty 1-D array"):
        model.predict(np.zeros((2, 100), dtype=np.float32))
    with pytest.raises(DataError, match=r"item 0 must be an \(audio, transcript\) pair"):
        model.evaluate([pairs[0][0]])
