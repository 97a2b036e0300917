"""The shared training loop: learning, early stopping, resume, seeds, options and their errors."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from lstmkit.errors import ConfigError, ModelFileError
from lstmkit.train import TensorRows, TrainConfig, fit, make_loader, seed_everything

QUIET = {"enable_progress_bar": False}


def _linear_data(n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(123)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [2.0], [-1.0]]) + 0.5
    return x, y


def _mse(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    x, y = batch[0], batch[1]
    return nn.functional.mse_loss(model(x), y)


def _train(seed: int = 0, **options) -> tuple[nn.Module, object]:
    seed_everything(seed)
    model = nn.Linear(3, 1)
    x, y = _linear_data()
    config = TrainConfig(**{"lr": 0.05, "max_epochs": 20, "seed": seed, **QUIET, **options})
    result = fit(model, _mse, (x[:200], y[:200]), (x[200:], y[200:]), config)
    return model, result


def test_tiny_model_learns_a_linear_map():
    model, result = _train(max_epochs=40)
    assert result.history.train_loss[0] > 1.0
    assert result.history.val_loss[-1] < 1e-3
    assert torch.allclose(model.weight.detach(), torch.tensor([[1.0, 2.0, -1.0]]), atol=0.05)
    assert len(result.history) == 40 and result.history.epoch == list(range(40))


def test_same_seed_gives_identical_weights_and_other_seed_differs():
    a, _ = _train(seed=0, max_epochs=3)
    b, _ = _train(seed=0, max_epochs=3)
    c, _ = _train(seed=1, max_epochs=3)
    for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q)
    assert not torch.equal(a.weight, c.weight)


def _constant_val_loss(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    x, y, is_val = batch
    if bool(is_val[0]):
        return sum(p.sum() for p in model.parameters()) * 0.0 + 1.0
    return nn.functional.mse_loss(model(x), y)


def test_early_stopping_stops_when_validation_does_not_improve():
    seed_everything(0)
    model = nn.Linear(3, 1)
    x, y = _linear_data()
    train = (x[:200], y[:200], torch.zeros(200))
    val = (x[200:], y[200:], torch.ones(56))
    result = fit(
        model, _constant_val_loss, train, val, TrainConfig(max_epochs=50, patience=3, **QUIET)
    )
    assert result.stopped_early
    assert result.epochs == 4  # the first epoch sets the best, then 3 without improvement
    assert result.best_epoch == 0


def test_best_weights_are_restored():
    seed_everything(0)
    model = nn.Linear(3, 1)
    x, y = _linear_data()
    # validation wants the opposite map, so its loss is best early and worsens as training goes
    result = fit(
        model,
        _mse,
        (x[:200], y[:200]),
        (x[200:], -y[200:]),
        TrainConfig(max_epochs=8, patience=None, lr=0.05, **QUIET),
    )
    assert result.best_epoch is not None and result.best_epoch < 7
    val_losses = result.history.val_loss
    with torch.no_grad():
        now = nn.functional.mse_loss(model(x[200:]), -y[200:]).item()
    assert now == pytest.approx(min(val_losses), rel=1e-4)


def test_resume_continues_from_the_checkpoint_epoch(tmp_path):
    _, first = _train(max_epochs=3, run_dir=tmp_path)
    assert first.last_checkpoint == tmp_path / "checkpoints" / "last.ckpt"
    assert first.best_checkpoint == tmp_path / "checkpoints" / "best.ckpt"
    assert (first.log_dir / "metrics.csv").is_file()
    _, resumed = _train(max_epochs=5, run_dir=tmp_path, resume=True)
    assert resumed.history.epoch == [0, 1, 2, 3, 4]
    assert resumed.history.train_loss[:3] == first.history.train_loss
    assert resumed.epochs == 5


def test_resume_refuses_checkpoints_outside_the_run_directory(tmp_path):
    outside = tmp_path / "elsewhere.ckpt"
    outside.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="outside this run's checkpoint folder"):
        _train(max_epochs=2, run_dir=tmp_path / "run", resume=outside)
    with pytest.raises(ModelFileError, match="no checkpoint at"):
        _train(max_epochs=2, run_dir=tmp_path / "run", resume=True)
    with pytest.raises(ConfigError, match="resume needs run_dir"):
        TrainConfig(resume=True)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "rmsprop", "sgd"])
def test_every_optimizer_trains(optimizer):
    _, result = _train(max_epochs=4, optimizer=optimizer, lr=0.01)
    assert result.history.train_loss[-1] < result.history.train_loss[0]


def test_schedules_change_the_learning_rate():
    _, cosine = _train(max_epochs=4, schedule="cosine")
    assert cosine.history.lr[0] == pytest.approx(0.05)
    assert cosine.history.lr[-1] < cosine.history.lr[0]
    _, step = _train(max_epochs=4, schedule="step", step_size=2, gamma=0.5)
    assert step.history.lr == pytest.approx([0.05, 0.05, 0.025, 0.025])
    _, plateau = _train(max_epochs=3, schedule="plateau")
    assert plateau.history.lr == pytest.approx([0.05] * 3)


def test_training_without_validation_monitors_the_training_loss():
    seed_everything(0)
    model = nn.Linear(3, 1)
    x, y = _linear_data()
    result = fit(model, _mse, (x, y), None, TrainConfig(max_epochs=3, **QUIET))
    assert result.monitor == "train_loss"
    assert result.history.val_loss == [None, None, None]


def test_mixed_precision_without_cuda_falls_back_to_32_bit_with_a_warning():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.warns(UserWarning, match="needs a CUDA GPU"):
        _, result = _train(max_epochs=1, precision="mixed")
    assert len(result.history) == 1


def test_gradient_clipping_is_on_by_default():
    assert TrainConfig().gradient_clip == 5.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"optimizer": "adamax"}, "optimizer must be one of 'adam', 'adamw', 'rmsprop', 'sgd'"),
        ({"schedule": "linear"}, "schedule must be one of"),
        ({"lr": 0}, "lr must be > 0"),
        ({"batch_size": 0}, "batch_size must be a positive int, got 0"),
        ({"patience": 0}, "patience"),
        ({"precision": "8"}, "precision must be one of"),
        ({"seed": -1}, "seed must be in"),
        ({"gradient_clip": -1.0}, "gradient_clip must be > 0"),
    ],
)
def test_bad_config_values_are_named(options, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**options)


def test_replace_rejects_unknown_options():
    with pytest.raises(ConfigError, match="unknown training option.*epochs"):
        TrainConfig().replace(epochs=3)


def test_tensor_rows_batches_by_gathering_and_keeps_seeded_order():
    x = torch.arange(10.0).unsqueeze(1)
    y = torch.arange(10.0)
    first = [b[1].tolist() for b in make_loader((x, y), batch_size=4, shuffle=True, seed=3)]
    again = [b[1].tolist() for b in make_loader((x, y), batch_size=4, shuffle=True, seed=3)]
    assert first == again
    assert sorted(v for batch in first for v in batch) == list(range(10))
    assert [len(b) for b in first] == [4, 4, 2]
    with pytest.raises(Exception, match="same first dimension"):
        TensorRows(x, y[:5])


def test_lightning_info_banners_are_quiet(capfd):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        _train(max_epochs=1)
    captured = capfd.readouterr()
    assert "GPU available" not in captured.out + captured.err
    assert "LOCAL_RANK" not in captured.out + captured.err
