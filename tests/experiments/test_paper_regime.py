"""The 1997 paper's training regime, the paper's initialisation and loss, and the input-to-output
connections with the memory added later (issue 19), on tiny budgets."""

from __future__ import annotations

import pytest
import torch

from lstmkit.errors import ConfigError
from lstmkit.experiments.models import SequenceModel, build_model, init_uniform
from lstmkit.experiments.runner import train_one
from lstmkit.experiments.settings import PAPER_SETTINGS, config_command, make_config
from lstmkit.experiments.tasks import TASKS, make_task


def test_every_task_has_paper_settings_and_they_apply():
    assert set(PAPER_SETTINGS) == set(TASKS)
    c = make_config("adding", regime="paper")
    assert (c.regime, c.batch_size, c.lr, c.clip) == ("paper", 1, 0.5, 0.0)
    assert (c.init_interval, c.input_gate_bias) == (0.1, (-3.0, -6.0))
    assert c.result_id == "adding-T100-paper" or c.result_id.endswith("-paper")
    # explicit overrides win over the regime's settings
    assert make_config("long-lag", regime="paper", lr=0.25).lr == 0.25
    assert "--regime paper" in config_command(c)
    assert "--regime" not in config_command(make_config("adding"))


def test_bad_regime_and_memory_settings_name_the_value():
    with pytest.raises(ConfigError, match=r"regime must be one of modern, paper, got 'fast'"):
        make_config("adding", regime="fast")
    with pytest.raises(ConfigError, match=r"memory_after must be >= 0 and needs direct=True"):
        make_config("long-lag", memory_after=100)
    with pytest.raises(ConfigError, match=r"init_interval must be > 0, got -0.1"):
        make_config("adding", init_interval=-0.1)


def test_uniform_init_and_gate_biases_cycle_over_units():
    torch.manual_seed(0)
    model = SequenceModel("lstm-nofg", 3, 4, 2, "last")
    init_uniform(model, 0.1, input_gate_bias=(-3.0, -6.0), output_gate_bias=(-1.0,))
    rnn = model.rnn
    h = 4
    # gate blocks without a forget gate: i, g, o
    assert rnn.bias_ih_l0[:h].tolist() == [-3.0, -6.0, -3.0, -6.0]
    assert rnn.bias_ih_l0[2 * h :].tolist() == [-1.0] * h
    assert rnn.bias_hh_l0[:h].abs().max() == 0 and rnn.bias_hh_l0[2 * h :].abs().max() == 0
    assert rnn.bias_ih_l0[h : 2 * h].abs().max() <= 0.1  # g: uniform
    assert rnn.weight_hh_l0.abs().max() <= 0.1 and model.head.weight.abs().max() <= 0.1
    gru = init_uniform(SequenceModel("gru", 3, 4, 2, "last"), 0.2, (-3.0,))
    assert max(p.abs().max().item() for p in gru.parameters()) <= 0.2
    with pytest.raises(ConfigError, match=r"interval must be > 0, got 0"):
        init_uniform(gru, 0)


def test_squared_error_matches_a_float64_reference():
    task = make_task("long-lag", p=5)
    batch = task.sample(3, torch.Generator().manual_seed(0))
    outputs = torch.randn(3, 5, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    expected = 0.0
    for n in range(3):
        for t in range(5):
            for k in range(6):
                target = 1.0 if int(batch.targets[n, t]) == k else 0.0
                y = 1.0 / (1.0 + torch.exp(-outputs[n, t, k]).item())
                expected += (y - target) ** 2
    got = task.squared_error(outputs, batch)
    assert got.dtype == torch.float64
    assert got.item() == pytest.approx(expected / 3, rel=1e-12)
    adding = make_task("adding", T=20)
    b = adding.sample(4, torch.Generator().manual_seed(0))
    out = torch.rand(4, 1, dtype=torch.float64)
    want = sum((out[i, 0].item() - b.targets[i].item()) ** 2 for i in range(4)) / 4
    assert adding.squared_error(out, b).item() == pytest.approx(want, rel=1e-6)


def test_direct_connections_and_adding_the_memory_keeps_the_outputs():
    torch.manual_seed(0)
    model = SequenceModel("lstm-nofg", 6, 4, 6, "every", direct=True)
    x = torch.randn(2, 5, 6)
    model.memory_on = False
    before = model(x)
    assert torch.equal(before, model.direct(x))
    model.add_memory()
    assert model.memory_on
    torch.testing.assert_close(model(x), before)
    assert build_model(model.config).direct is not None


def test_paper_regime_trains_on_a_tiny_budget():
    config = make_config(
        "long-lag", quick=True, regime="paper", models=("lstm-nofg",), budget_sequences=12
    )
    run = train_one(config, "lstm-nofg", 0)
    assert (run.sequences_seen, run.steps) == (12, 12)  # online: one sequence per update
    direct = make_config(
        "long-lag", quick=True, direct=True, memory_after=8, budget_sequences=16, batch_size=4
    )
    run = train_one(direct, "lstm", 0)
    assert run.sequences_seen == 16 and run.steps == 4


def test_cli_runs_the_paper_regime(tmp_path, capsys):
    from lstmkit.cli import main

    code = main(
        [
            "experiments",
            "run",
            "long-lag",
            "--quick",
            "--regime",
            "paper",
            "--models",
            "lstm-nofg",
            "--results",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert (tmp_path / "long-lag-p10-paper-quick.json").is_file()
    assert "long-lag-p10-paper-quick" in capsys.readouterr().out
