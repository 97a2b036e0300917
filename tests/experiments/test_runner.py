"""The runner, the models it compares, saving, the report and the CLI, in quick mode (seconds)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from lstmkit.cli import build_parser, main
from lstmkit.cli.experiments import _overrides
from lstmkit.errors import ConfigError, ModelFileError
from lstmkit.experiments.models import (
    MODELS,
    SAVED_TASK,
    SequenceModel,
    load_model,
    save_model,
)
from lstmkit.experiments.report import build_report, heading_recipe
from lstmkit.experiments.runner import ExperimentResult, read_results, run_experiment, write_result
from lstmkit.experiments.settings import RunConfig, config_command, make_config, plan
from lstmkit.experiments.tasks import TASKS, make_task
from lstmkit.nn import LSTM, engine

PNG = b"\x89PNG\r\n\x1a\n"


# --- models ---------------------------------------------------------------------------------------


def test_no_forget_model_is_the_core_lstm_without_a_forget_gate():
    model = SequenceModel("lstm-nofg", 2, 5, 1, "last")
    assert type(model.rnn) is LSTM and model.rnn.forget_gate is False
    assert model.rnn.options.gate_names == ("i", "g", "o")
    assert engine.resolve(model.rnn.impl, model.rnn).NAME == "fused"


def test_no_forget_lstm_lengths_and_trace():
    torch.manual_seed(1)
    layer = SequenceModel("lstm-nofg", 2, 5, 1, "last").rnn.double()
    x = torch.randn(3, 9, 2, dtype=torch.float64)
    lengths = torch.tensor([9, 4, 6])
    out, (h_n, c_n), trace = layer(x, lengths=lengths, return_trace=True)
    for b, n in enumerate(lengths.tolist()):
        alone, (h_b, _) = layer(x[b : b + 1, :n])
        torch.testing.assert_close(out[b, :n], alone[0])
        torch.testing.assert_close(h_n[0, b], h_b[0, 0])
        assert float(out[b, n:].detach().abs().sum()) == 0.0
    assert set(trace) == {"i", "f", "g", "o", "c", "h"} and trace["i"].shape == (1, 1, 3, 9, 5)
    for b, n in enumerate(lengths.tolist()):  # f ≡ 1 inside each sequence, zeros past its end
        assert bool((trace["f"][0, 0, b, :n] == 1).all())


def test_a_no_forget_model_saved_by_the_old_experiment_cell_still_loads(tmp_path):
    """Models saved when ``lstm-nofg`` was an experiment-side copy of the cell (NoForgetLSTM).

    That class registered exactly these tensors (three gate blocks, rows i, g, o); the weights
    are written here by hand and the loaded model is checked against the 1997 equations.
    """
    from lstmkit.tasks import persistence

    torch.manual_seed(4)
    d, h, out_size = 2, 3, 1
    f64 = torch.float64
    tensors = {
        "rnn.weight_ih_l0": torch.randn(3 * h, d, dtype=f64),
        "rnn.weight_hh_l0": torch.randn(3 * h, h, dtype=f64),
        "rnn.bias_ih_l0": torch.randn(3 * h, dtype=f64),
        "rnn.bias_hh_l0": torch.randn(3 * h, dtype=f64),
        "head.weight": torch.randn(out_size, h, dtype=f64),
        "head.bias": torch.randn(out_size, dtype=f64),
    }
    config = {
        "model": "lstm-nofg",
        "input_size": d,
        "hidden_size": h,
        "output_size": out_size,
        "readout": "last",
        "forget_bias": 1.0,
    }
    path = persistence.save_model_dir(
        tmp_path / "old", task=SAVED_TASK, config=config, tensors=tensors
    )
    model, _ = load_model(path)
    x = torch.randn(2, 4, d, dtype=f64)
    with torch.no_grad():
        got = model.double()(x)
    w_ih, w_hh, b_ih, b_hh = (
        tensors[f"rnn.{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )
    h_t = c_t = torch.zeros(2, h, dtype=f64)
    for t in range(x.shape[1]):
        z = x[:, t] @ w_ih.T + b_ih + h_t @ w_hh.T + b_hh
        i, g, o = torch.sigmoid(z[:, :h]), torch.tanh(z[:, h : 2 * h]), torch.sigmoid(z[:, 2 * h :])
        c_t = c_t + i * g
        h_t = o * torch.tanh(c_t)
    torch.testing.assert_close(got, h_t @ tensors["head.weight"].T + tensors["head.bias"])


@pytest.mark.parametrize("kind", MODELS)
def test_last_readout_is_each_sequence_at_its_own_end(kind):
    torch.manual_seed(2)
    model = SequenceModel(kind, 2, 6, 1, "last").double().eval()
    x = torch.randn(3, 12, 2, dtype=torch.float64)
    lengths = torch.tensor([12, 5, 8])
    x = x * (torch.arange(12)[None, :, None] < lengths[:, None, None])
    out = model(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(out[b], model(x[b : b + 1, :n])[0])


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(3)
    model = SequenceModel("lstm-peephole", 7, 8, 7, "every")
    path = save_model(model, tmp_path / "m", {"experiment": "reber", "task_params": {}, "seed": 3})
    loaded, config = load_model(path)
    x = torch.randn(2, 5, 7)
    torch.testing.assert_close(loaded(x), model.eval()(x))
    assert config["experiment"] == "reber" and config["model"] == "lstm-peephole"
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json",
        "state.json",
        "weights.safetensors",
    ]
    with pytest.raises(ModelFileError, match="no model at"):
        load_model(tmp_path / "missing")


def test_unknown_model_message():
    with pytest.raises(ConfigError, match="unknown model 'lstmx'; expected one of lstm"):
        SequenceModel("lstmx", 2, 4, 1, "last")


# --- runner -------------------------------------------------------------------------------------


def test_config_errors_name_the_bad_value():
    with pytest.raises(ConfigError, match="unknown model\\(s\\) 'cnn'; expected some of lstm"):
        make_config("adding", models=("lstm", "cnn"))
    with pytest.raises(ConfigError, match="give a budget"):
        RunConfig("adding", budget_sequences=None, budget_seconds=None).check()
    with pytest.raises(ConfigError, match="unknown experiment 'parity'"):
        make_config("parity")
    with pytest.raises(ConfigError, match="hidden_size must be a positive int, got 0"):
        make_config("reber", hidden_size=0)


def test_same_seed_same_run_and_same_data_for_every_model():
    config = make_config("adding", quick=True, models=("lstm", "rnn"))
    a, b = run_experiment(config), run_experiment(config)
    for ra, rb in zip(a.runs, b.runs, strict=True):
        assert ra.test_error == rb.test_error and ra.sequences_seen == rb.sequences_seen
        assert [p.error for p in ra.curve] == [p.error for p in rb.curve]
    assert {r.sequences_seen for r in a.runs} == {config.budget_sequences}


def test_stops_at_the_criterion_and_records_it():
    # long-lag with p = 2 is learned within a few hundred sequences
    config = make_config(
        "long-lag",
        task_params={"p": 2},
        models=("lstm",),
        seeds=(0,),
        batch_size=16,
        budget_sequences=20_000,
        budget_seconds=120.0,
        eval_every=160,
        validation_size=16,
        test_size=16,
        lr=0.05,
        hidden_size=8,
    )
    run = run_experiment(config).runs[0]
    assert run.solved and run.sequences_to_criterion is not None
    assert run.sequences_to_criterion < run.sequences_seen < 20_000
    # it stops at the second check in a row that meets the criterion
    assert [p.share_correct for p in run.curve[-2:]] == [1.0, 1.0]
    assert run.curve[-1].sequences == run.sequences_seen


@pytest.mark.slow
def test_every_quick_experiment_runs_and_reports(tmp_path):
    results = []
    for config in plan(quick=True):
        result = run_experiment(config)
        assert [r.model for r in result.runs] == list(MODELS)
        json_path, png = write_result(result, tmp_path / "results")
        assert png.read_bytes()[:8] == PNG
        data = json.loads(json_path.read_text())
        assert data["format"] == "lstmkit-experiment-result"
        assert ExperimentResult.from_dict(data).runs[0].test_error == result.runs[0].test_error
        results.append(result)
    assert {r.config.experiment for r in results} == set(TASKS)
    back = read_results(tmp_path / "results")
    report = build_report(
        back, output=tmp_path / "EXPERIMENTS.md", results_dir=tmp_path / "results"
    )
    text = report.read_text()
    for config in plan(quick=True):
        task = make_task(config.experiment, **config.task_params)
        assert f"`{task.describe()}`" in text
    assert "Table 7 (Section 5.4)" in text and "| LSTM (no forget gate) |" in text
    assert "](results/adding-T20-quick.png)" in text


def test_config_command_reproduces_the_config():
    config = make_config("copy", quick=True, models=("lstm", "gru"), seeds=(1, 2))
    cmd = config_command(config)
    assert cmd.startswith("lstmkit experiments run copy --K 3 --T 5 --quick --models lstm,gru")
    ns = build_parser().parse_args(cmd.split()[1:])
    assert ns.models == ("lstm", "gru") and ns.seeds == (1, 2) and ns.T == 5 and ns.K == 3


def test_config_command_carries_validation_size_and_the_direct_recipe():
    config = make_config(
        "long-lag",
        task_params={"p": 100},
        direct=True,
        memory_after=2000,
        validation_size=256,
    )
    assert config.result_id == "long-lag-p100-direct-mem2000-val256"
    cmd = config_command(config)
    assert "--validation-size 256 --direct --memory-after 2000" in cmd
    ns = build_parser().parse_args(cmd.split()[1:])
    assert _overrides(ns)["validation_size"] == 256
    again = make_config("long-lag", task_params={"p": ns.p}, **_overrides(ns))
    assert again.result_id == config.result_id
    # the default validation size is left out of the command and the name
    plain = make_config("adding")
    assert "--validation-size" not in config_command(plain) and "val" not in plain.result_id


# --- CLI ------------------------------------------------------------------------------------------


def test_cli_run_report_and_inspect(tmp_path, capsys):
    results = tmp_path / "res"
    models = tmp_path / "models"
    code = main(
        [
            "experiments",
            "run",
            "adding",
            "--quick",
            "--models",
            "lstm,rnn",
            "--seeds",
            "0",
            "--results",
            str(results),
            "--save-models",
            str(models),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "| LSTM | 0/1 |" in out or "| LSTM | 1/1 |" in out
    assert (results / "adding-T20-quick.json").is_file()
    assert (results / "adding-T20-quick.png").read_bytes()[:8] == PNG
    saved = models / "adding-T20-quick" / "lstm-seed0"
    assert (saved / "config.json").is_file() and (saved / "weights.safetensors").is_file()

    report = tmp_path / "EXP.md"
    assert (
        main(
            ["experiments", "report", "--quick", "--results", str(results), "--output", str(report)]
        )
        == 0
    )
    assert "Adding problem: `adding(T=20)`, modern regime (quick mode)" in report.read_text()

    out_dir = tmp_path / "inspect"
    assert main(["inspect", "--model", str(saved), "--out", str(out_dir)]) == 0
    for name in ("gates.png", "gradient_flow.png"):
        assert (out_dir / name).read_bytes()[:8] == PNG


def test_cli_errors(tmp_path, capsys):
    assert main(["experiments", "run", "parity", "--quick", "--results", str(tmp_path)]) == 2
    assert "unknown experiment 'parity'" in capsys.readouterr().err
    assert main(["experiments", "run", "reber", "--T", "10", "--results", str(tmp_path)]) == 2
    assert "experiment 'reber' takes no parameter T" in capsys.readouterr().err
    assert main(["inspect", "--model", str(tmp_path / "nothing")]) == 1
    assert "no model at" in capsys.readouterr().err


def test_cli_inspect_fresh_and_data_file(tmp_path, capsys):
    assert (
        main(["inspect", "--fresh", "--T", "30", "--hidden-size", "8", "--out", str(tmp_path)]) == 0
    )
    assert (tmp_path / "gradient_flow.png").read_bytes()[:8] == PNG
    model = SequenceModel("gru", 2, 4, 1, "last")
    saved = save_model(model, tmp_path / "gru")
    data = tmp_path / "seq.csv"
    data.write_text("a,b\n" + "\n".join(f"{i / 10},{(-1) ** i}" for i in range(15)) + "\n")
    assert (
        main(["inspect", "--model", str(saved), "--data", str(data), "--out", str(tmp_path / "o")])
        == 0
    )
    assert (tmp_path / "o" / "gates.png").is_file()
    bad = tmp_path / "bad.csv"
    bad.write_text("a\n1\n2\n")
    assert main(["inspect", "--model", str(saved), "--data", str(bad)]) == 1
    assert "expected a (time, 2) array for this model, got shape (2, 1)" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_inspect_reads_a_saved_forecaster(tmp_path):
    from lstmkit.data.datasets import dataset_path
    from lstmkit.tasks import Forecaster

    data = dataset_path("elnino_sst_monthly")
    forecaster = Forecaster(horizon=3, hidden_size=8, lookback=12)
    forecaster.fit(data, time_col="date", targets="sst", max_epochs=1, run_dir=tmp_path / "run")
    forecaster.save(tmp_path / "fc")
    out = tmp_path / "inspect"
    assert (
        main(["inspect", "--model", str(tmp_path / "fc"), "--data", str(data), "--out", str(out)])
        == 0
    )
    for name in ("gates.png", "gradient_flow.png"):
        assert (out / name).read_bytes()[:8] == PNG
    assert main(["inspect", "--model", str(tmp_path / "fc")]) == 2


def test_results_of_other_models_and_seeds_merge(tmp_path):
    first = run_experiment(make_config("long-lag", quick=True, models=("lstm",), seeds=(0,)))
    second = run_experiment(make_config("long-lag", quick=True, models=("rnn", "lstm"), seeds=(1,)))
    write_result(first, tmp_path)
    path, _ = write_result(second, tmp_path)
    merged = read_results(tmp_path)[0]
    assert [(r.model, r.seed) for r in merged.runs] == [("lstm", 0), ("lstm", 1), ("rnn", 1)]
    assert merged.config.models == ("lstm", "rnn") and merged.config.seeds == (0, 1)
    assert "--models lstm --seeds 0" in merged.command and "--seeds 1" in merged.command
    # another recipe gets its own file; nothing measured is replaced
    other = run_experiment(make_config("long-lag", quick=True, models=("gru",), hidden_size=4))
    assert write_result(other, tmp_path)[0].name == "long-lag-p10-h4-quick.json"
    assert [[r.model for r in res.runs] for res in read_results(tmp_path)] == [
        ["gru"],
        ["lstm", "lstm", "rnn"],
    ]
    # another budget under the same name: refused unless replacing on purpose
    longer = replace(first, config=replace(first.config, budget_sequences=64))
    with pytest.raises(
        ConfigError,
        match=r"long-lag-p10-quick.json holds runs with other "
        r"settings \(budget_sequences 32 there, 64 here\); not replaced",
    ):
        write_result(longer, tmp_path)
    assert len(read_results(tmp_path)[1].runs) == 3
    write_result(longer, tmp_path, replace_other=True)
    assert len(read_results(tmp_path)[1].runs) == 1


def test_result_names_and_report_headings_name_regime_and_recipe(tmp_path):
    assert make_config("adding", task_params={"T": 100}).result_id == "adding-T100"
    assert make_config("adding", task_params={"T": 100}, regime="paper").result_id == (
        "adding-T100-paper"
    )
    assert make_config("adding", task_params={"T": 100}, hidden_size=64, lr=1e-3).result_id == (
        "adding-T100-h64-lr0.001"
    )
    recipe = make_config(
        "long-lag", task_params={"p": 100}, direct=True, memory_after=2000, lr=0.03
    )
    assert recipe.result_id == "long-lag-p100-lr0.03-direct-mem2000"
    final = make_config("long-lag", task_params={"p": 1000, "targets": "final"})
    assert final.result_id == "long-lag-p1000-targetsfinal"
    assert "--p 1000 --targets final" in config_command(final)
    # the same task in both regimes: two sections whose headings say which is which
    results = []
    for regime in ("modern", "paper"):
        config = make_config("adding", quick=True, regime=regime, models=("lstm",))
        results.append(run_experiment(config))
        write_result(results[-1], tmp_path / "res")
    text = build_report(
        read_results(tmp_path / "res"),
        output=tmp_path / "E.md",
        results_dir=tmp_path / "res",
        inside=False,
    ).read_text()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Adding problem: `adding(T=20)`, paper regime (quick mode)",
        "## Adding problem: `adding(T=20)`, modern regime (quick mode)",
    ]
    assert heading_recipe(make_config("adding", hidden_size=64, clip=0.0)) == (
        "modern regime, hidden 64, clip 0"
    )


def test_cli_run_refuses_to_replace_other_settings_before_training(tmp_path, capsys):
    args = ["experiments", "run", "long-lag", "--quick", "--models", "lstm", "--results"]
    assert main([*args, str(tmp_path)]) == 0
    before = (tmp_path / "long-lag-p10-quick.json").read_bytes()
    assert main([*args, str(tmp_path), "--budget-sequences", "16"]) == 2
    err = capsys.readouterr().err
    assert "holds runs with other settings (budget_sequences 32 there, 16 here)" in err
    assert "pass --replace" in err and (tmp_path / "long-lag-p10-quick.json").read_bytes() == before
    assert main([*args, str(tmp_path), "--budget-sequences", "16", "--replace"]) == 0
    assert main([*args, str(tmp_path), "--targets", "final"]) == 0
    assert (tmp_path / "long-lag-p10-targetsfinal-quick.json").is_file()
