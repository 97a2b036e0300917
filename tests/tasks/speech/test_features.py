"""Log-mel features: the filterbank's shape, the frame count, per-utterance normalisation and
frame stacking."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.speech.features import (
    FeatureConfig,
    LogMel,
    mel_filterbank,
    normalise,
    stack_frames,
)
from lstmkit.tasks.speech.task import feature_config


def test_the_filterbank_is_triangles_with_peaks_of_one_covering_the_band():
    fb = mel_filterbank(40, 256, 8000, 20.0, 4000.0)
    assert fb.shape == (40, 129)
    assert (fb >= 0).all() and fb.max() <= 1.0
    # the peaks fall between FFT bins (31 Hz apart), but every filter sees at least two bins
    assert (fb.max(dim=1).values > 0.5).all()
    assert ((fb > 0).sum(dim=1) >= 2).all()
    centres = fb.argmax(dim=1)
    assert (centres[1:] >= centres[:-1]).all()  # ordered low to high
    assert fb[:, 0].sum() == 0  # 0 Hz is below f_min


def test_feature_shapes_follow_the_hop_and_the_mel_count():
    cfg = feature_config(8000, 40)
    assert (cfg.win, cfg.hop, cfg.n_fft) == (200, 80, 256)
    features = LogMel(cfg)
    x = np.random.default_rng(0).standard_normal(8000).astype(np.float32)  # 1 s
    out = features(x)
    assert out.shape == (8000 // 80 + 1, 40)  # centred frames: 1 + samples // hop
    assert torch.allclose(out.mean(dim=0), torch.zeros(40), atol=1e-4)
    assert torch.allclose(out.std(dim=0, unbiased=False), torch.ones(40), atol=1e-3)
    assert feature_config(16000, 80).n_fft == 512


def test_a_tone_lights_the_mel_channel_of_its_frequency():
    cfg = FeatureConfig()
    t = np.arange(8000) / 8000
    energy = LogMel(cfg).log_mel(np.sin(2 * np.pi * 1000 * t)).mean(dim=0)
    fb = mel_filterbank(40, 256, 8000, 20.0, 4000.0)
    one_khz_bin = round(1000 / (8000 / 256))
    assert int(energy.argmax()) == int(fb[:, one_khz_bin].argmax())


def test_normalisation_leaves_silence_at_zero_and_removes_loudness():
    torch.testing.assert_close(normalise(torch.full((10, 4), -13.8)), torch.zeros(10, 4))
    features = LogMel(FeatureConfig())
    x = np.random.default_rng(1).standard_normal(4000).astype(np.float32)
    torch.testing.assert_close(features(x), features(10 * x), atol=1e-3, rtol=1e-3)


def test_stacking_joins_frames_and_pads_the_last():
    x = torch.arange(14.0).reshape(7, 2)
    out = stack_frames(x, 3)
    assert out.shape == (3, 6)
    assert out[0].tolist() == [0, 1, 2, 3, 4, 5]
    assert out[2].tolist() == [12, 13, 12, 13, 12, 13]
    assert stack_frames(x, 1) is x


def test_bad_feature_settings_and_short_input():
    with pytest.raises(ConfigError, match="win must be <= n_fft"):
        FeatureConfig(win=300, n_fft=256)
    with pytest.raises(ConfigError, match="need 0 <= f_min < f_max <= rate / 2"):
        FeatureConfig(f_max=5000.0)
    with pytest.raises(DataError, match="shorter than one analysis window"):
        LogMel(FeatureConfig())(np.zeros(50, dtype=np.float32))


def test_speed_perturbation_resamples_and_masking_zeroes_spans():
    from lstmkit.tasks.speech.net import Collate, Utterances

    features = LogMel(FeatureConfig())
    x = np.random.default_rng(2).standard_normal(8000).astype(np.float32)
    data = Utterances([features(x)], [[1]], samples=[x], featurize=features)
    faster = Collate(data, speeds=(1.1,))([0])
    assert faster[1].tolist() == [round(8000 / 1.1) // 80 + 1]  # frames of the shorter audio
    assert Collate(data)([0])[1].tolist() == [101]
    masked = Collate(data, augment=True, time_masks=1, time_width=20, freq_masks=0, seed=1)([0])
    assert (masked[0][0] == 0).all(dim=1).sum() <= 20
    with pytest.raises(ValueError, match="speed perturbation needs the utterances' samples"):
        Collate(Utterances([features(x)], [[1]]), speeds=(0.9, 1.1))


def test_vocal_tract_warp_stretches_the_mel_axis():
    from lstmkit.tasks.speech.net import Collate, Utterances

    feats = torch.arange(40, dtype=torch.float32).repeat(5, 1)  # channel j holds j
    data = Utterances([feats], [[1]])
    collate = Collate(data, warp=0.2, seed=3)
    g = torch.Generator().manual_seed(3)
    alpha = 1.0 + 0.2 * (2 * float(torch.rand((), generator=g)) - 1)
    warped = collate([0])[0][0, :5]  # (frames, channels), unpadded
    expected = (torch.arange(40, dtype=torch.float64) / alpha).clamp(0, 39)
    torch.testing.assert_close(warped[0].double(), expected, rtol=0, atol=1e-5)
    assert (warped == warped[0]).all()  # the same warp for every frame of an utterance
    assert torch.equal(Collate(data)([0])[0][0, :5], feats)  # no warp by default
