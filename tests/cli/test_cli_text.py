"""``lstmkit text train|generate|evaluate`` end to end on a tiny corpus."""

from __future__ import annotations

import json

import pytest

import lstmkit.cli as cli
from lstmkit.cli import main

CORPUS = "".join(f"{w} sat on the mat.\n" for w in ["the cat", "a dog", "the cow", "my hen"] * 40)


@pytest.fixture(autouse=True)
def _text_command(monkeypatch):
    if "text" not in cli.COMMANDS:  # until the command is registered in lstmkit.cli
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "text"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    corpus = root / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    out = root / "out"
    saved = cli.COMMANDS
    cli.COMMANDS = (*saved, "text") if "text" not in saved else saved
    try:
        args = ["text", "train", "--corpus", str(corpus), "--out", str(out), "--epochs", "2"]
        args += ["--embed-size", "16", "--hidden-size", "24", "--num-layers", "2"]
        args += ["--batch-size", "4", "--bptt", "20", "--lr", "0.01", "--weight-drop", "0.2"]
        assert main(args) == 0
    finally:
        cli.COMMANDS = saved
    return root, corpus, out


@pytest.mark.slow
def test_train_writes_model_metrics_and_plot(trained, capsys):
    _, _, out = trained
    assert (out / "model" / "weights.safetensors").is_file()
    assert (out / "loss.png").is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 2
    held = metrics["held_out"]
    assert held["bits_per_char"] < held["unigram_bits_per_char"]


@pytest.mark.slow
def test_generate_is_seeded_and_prints_prompt_and_continuation(trained, capsys):
    _, _, out = trained
    args = ["text", "generate", "--model", str(out / "model"), "--prompt", "the ", "--length", "30"]
    assert main([*args, "--seed", "3", "--top-k", "5"]) == 0
    first = capsys.readouterr().out
    assert main([*args, "--seed", "3", "--top-k", "5"]) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("the ") and len(first.rstrip("\n")) >= 34 - 1


@pytest.mark.slow
def test_evaluate_prints_scores_and_baseline(trained, capsys):
    _, corpus, out = trained
    assert main(["text", "evaluate", "--model", str(out / "model"), "--corpus", str(corpus)]) == 0
    printed = capsys.readouterr().out
    assert "bits/char" in printed and "unigram" in printed and "LSTM" in printed


@pytest.mark.slow
def test_bad_inputs(trained, capsys, tmp_path):
    _, _, out = trained
    model = str(out / "model")
    assert main(["text", "generate", "--model", model, "--prompt", "x", "--length", "0"]) == 2
    assert "length must be a positive number of tokens, got 0" in capsys.readouterr().err
    with pytest.warns(UserWarning, match=r"not in the model's vocabulary.*'Q'"):
        assert main(["text", "generate", "--model", model, "--prompt", "Q", "--length", "3"]) == 0
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    assert main(["text", "train", "--corpus", str(empty), "--out", str(tmp_path / "o")]) == 1
    assert "the training corpus is empty" in capsys.readouterr().err
    assert main(["text", "evaluate", "--model", model, "--corpus", "bundled:nope"]) == 2
    assert "unknown bundled dataset 'nope'" in capsys.readouterr().err
    assert main(["text", "generate", "--model", str(tmp_path), "--length", "3"]) == 1
    assert "not an lstmkit model directory" in capsys.readouterr().err
