"""The optional convolutional front end: shapes, stacking, padding, options and saving."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lstmkit.data.spoken_digits import bundled_digits_dir, list_recordings
from lstmkit.errors import ConfigError
from lstmkit.tasks import SpeechRecognizer
from lstmkit.tasks.speech.features import stack_frames
from lstmkit.tasks.speech.frontend import ConvFrontEnd
from lstmkit.tasks.speech.net import SpeechNet, pad_batch

PAIRS = [
    (r.path, str(r.digit))
    for r in list_recordings(bundled_digits_dir(), speakers=["george"], indices=range(1))
]
FIT = {"max_epochs": 2, "batch_size": 5, "lr": 0.01, "enable_progress_bar": False, "seed": 0}


def _front(n_mels: int = 40, stack: int = 3) -> ConvFrontEnd:
    torch.manual_seed(0)
    return ConvFrontEnd(n_mels, stack).double()


def test_shapes_pool_the_mel_axis_and_keep_every_step():
    front = _front()
    x = torch.randn(2, 7, 3 * 40, dtype=torch.float64)
    out = front(x, torch.tensor([7, 4]))
    # 40 mels -> 13 after pooling by 3 -> 6 after pooling by 2; 16 channels; 3 frames per step
    assert out.shape == (2, 7, 3 * 16 * 6) and front.out_features == 288
    assert _front(16, 4).out_features == 4 * 16 * 2
    with pytest.raises(ValueError, match="expected frames of 3 x 40 features, got width 100"):
        front(torch.zeros(1, 2, 100, dtype=torch.float64), torch.tensor([2]))


def test_stacking_does_not_change_the_convolution():
    # the front end convolves 10 ms frames: stacking its input, or stacking the outputs of the
    # same convolution on unstacked frames, gives the same numbers
    front3 = _front(stack=3)
    front1 = ConvFrontEnd(40, 1).double()
    front1.load_state_dict(front3.state_dict())
    frames = torch.randn(12, 40, dtype=torch.float64)
    stacked = front3(stack_frames(frames, 3)[None], torch.tensor([4]))[0]
    single = front1(frames[None], torch.tensor([12]))[0]
    torch.testing.assert_close(stacked, stack_frames(single, 3), rtol=0, atol=1e-12)


def test_a_padded_batch_gives_each_utterance_its_outputs_alone():
    front = _front()
    net = SpeechNet(
        n_features=120,
        n_tokens=11,
        hidden_size=8,
        num_layers=2,
        dropout=0.0,
        lstm_options={},
        frontend=front,
    ).double()
    net.eval()
    feats = [torch.randn(n, 120, dtype=torch.float64) for n in (9, 2, 5)]
    padded, lengths = pad_batch(feats)
    padded[1, 2:] = 7.0  # whatever lies in the padding must not reach the utterance
    with torch.no_grad():
        together = net(padded, lengths)
        for i, f in enumerate(feats):
            alone = net(f[None], torch.tensor([f.shape[0]]))[0]
            torch.testing.assert_close(together[i, : f.shape[0]], alone, rtol=0, atol=1e-6)


def test_bad_frontend_options_are_config_errors():
    with pytest.raises(ConfigError, match="frontend must be one of 'none', 'conv', got 'cnn'"):
        SpeechRecognizer(frontend="cnn")
    with pytest.raises(ConfigError, match="frontend 'conv' .* needs n_mels >= 6, got 4"):
        SpeechRecognizer(frontend="conv", n_mels=4)


def _posteriors(model: SpeechRecognizer) -> list[np.ndarray]:
    return model.posteriors([p for p, _ in PAIRS[:3]])


def test_a_conv_model_survives_saving(tmp_path):
    model = SpeechRecognizer(hidden_size=8, num_layers=1, n_mels=16, stack=4, frontend="conv")
    model.fit(PAIRS, **FIT)
    assert model.net is not None and model.net.frontend is not None
    model.save(tmp_path / "model")
    assert json.loads((tmp_path / "model" / "config.json").read_text())["config"]["frontend"] == (
        "conv"
    )
    loaded = SpeechRecognizer.load(tmp_path / "model")
    assert loaded.frontend == "conv"
    for a, b in zip(_posteriors(model), _posteriors(loaded), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_model_saved_before_the_option_loads_without_a_front_end(tmp_path):
    model = SpeechRecognizer(hidden_size=8, num_layers=1, n_mels=16, stack=4)
    model.fit(PAIRS, **FIT)
    model.save(tmp_path / "model")
    config_path = tmp_path / "model" / "config.json"
    saved = json.loads(config_path.read_text())
    del saved["config"]["frontend"]
    config_path.write_text(json.dumps(saved))
    old = SpeechRecognizer.load(tmp_path / "model")
    assert old.frontend == "none" and old.net is not None and old.net.frontend is None
    for a, b in zip(_posteriors(model), _posteriors(old), strict=True):
        np.testing.assert_array_equal(a, b)
