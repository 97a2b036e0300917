"""End to end: ``lstmkit speech make-data|train|transcribe|evaluate`` on the bundled recordings."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from lstmkit.cli import speech as speech_cli
from lstmkit.errors import LstmkitError

SMALL = ["--hidden-size", "16", "--num-layers", "1", "--epochs", "2", "--batch-size", "8"]


def main(argv: list[str]) -> int:
    """``lstmkit.cli.main`` restricted to the speech command (independent of COMMANDS)."""
    from lstmkit import cli

    if "speech" in cli.COMMANDS:
        return cli.main(argv)
    parser = argparse.ArgumentParser(prog="lstmkit")
    speech_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LstmkitError as err:
        import sys

        print(f"lstmkit: error: {err}", file=sys.stderr)
        return 2


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("speech")
    before = torch.get_num_threads()
    try:
        assert main(["speech", "make-data", "--out", str(root / "train"), "-n", "24"]) == 0
        assert (
            main(["speech", "make-data", "--out", str(root / "val"), "-n", "6", "--seed", "1"]) == 0
        )
        code = main(
            [
                "speech", "train", "--data", str(root / "train"), "--val", str(root / "val"),
                "--out", str(root / "out"), *SMALL,
            ]
        )  # fmt: skip
    finally:
        torch.set_num_threads(before)
    assert code == 0
    return root


def test_train_writes_the_model_metrics_and_loss_plot(trained):
    out = trained / "out"
    assert (out / "model" / "config.json").is_file()
    assert (out / "loss.png").read_bytes().startswith(b"\x89PNG")
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["validation"]) == {"cer", "wer", "string_accuracy"}


def test_transcribe_prints_one_line_per_file_from_the_train_out_dir(trained, capsys):
    wavs = sorted(str(p) for p in (trained / "val" / "wav").glob("*.wav"))[:3]
    capsys.readouterr()
    assert main(["speech", "transcribe", "--model", str(trained / "out"), *wavs]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == wavs
    assert all(set(line.split("\t")[1]) <= set("0123456789 ") for line in lines)


def test_evaluate_prints_scores_and_confusions_and_plots(trained, tmp_path, capsys):
    capsys.readouterr()
    code = main(
        [
            "speech", "evaluate", "--model", str(trained / "out"), "--data", str(trained / "val"),
            "--json", str(tmp_path / "scores.json"), "--plot", str(tmp_path / "post.png"),
            "--decoder", "greedy",
        ]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "6 utterances" in out and "digit (word) error rate" in out
    assert "digit confusions (rows: said" in out
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert len(scores["transcripts"]) == 6
    assert (tmp_path / "post.png").read_bytes().startswith(b"\x89PNG")


def test_a_bad_audio_file_is_one_error_line(trained, tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    code = main(["speech", "transcribe", "--model", str(trained / "out"), str(bad)])
    assert code != 0
    assert "bad.wav is not a PCM WAV file" in capsys.readouterr().err
