"""End to end: ``lstmkit tag train|predict|evaluate``."""

from __future__ import annotations

import argparse
import json
import random

import pytest
import torch

from lstmkit.cli import tag as tag_cli
from lstmkit.data.conll import read_conll, write_conll
from lstmkit.errors import LstmkitError


def make_sentences(n: int, seed: int) -> list[tuple[list[str], list[str]]]:
    """Two-token PER names and one-token LOC cities among filler words."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        tokens, tags = [], []
        for _ in range(rng.randint(2, 7)):
            r = rng.random()
            if r < 0.2:
                tokens += [rng.choice(["John", "Mary", "Anna", "Li"]), "smith"]
                tags += ["B-PER", "I-PER"]
            elif r < 0.35:
                tokens.append(rng.choice(["Paris", "Berlin", "Rome", "Oslo"]))
                tags.append("B-LOC")
            else:
                tokens.append(rng.choice(["the", "a", "went", "to", "saw", "in", "and"]))
                tags.append("O")
        out.append((tokens, tags))
    return out


SMALL = [
    "--hidden-size",
    "16",
    "--embedding-dim",
    "16",
    "--dropout",
    "0",
    "--epochs",
    "6",
    "--batch-size",
    "16",
    "--lr",
    "0.02",
    "--threads",
    "1",
]


def main(argv: list[str]) -> int:
    """``lstmkit.cli.main`` restricted to the tag command (independent of COMMANDS)."""
    from lstmkit import cli

    if "tag" in cli.COMMANDS:
        return cli.main(argv)
    parser = argparse.ArgumentParser(prog="lstmkit")
    tag_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LstmkitError as err:
        import sys

        print(f"lstmkit: error: {err}", file=sys.stderr)
        return 2


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("tag")
    paths = {}
    for name, n, seed in (("train", 120, 0), ("dev", 20, 1), ("test", 30, 2)):
        paths[name] = write_conll(root / f"{name}.conll", make_sentences(n, seed))
    return root, paths


@pytest.fixture(scope="module")
def trained(files):
    root, paths = files
    out = root / "out"
    before = torch.get_num_threads()
    try:
        code = main(
            [
                "tag",
                "train",
                "--data",
                str(paths["train"]),
                "--val",
                str(paths["dev"]),
                "--test",
                str(paths["test"]),
                "--out",
                str(out),
                "--seed",
                "0",
                *SMALL,
            ]
        )
    finally:
        torch.set_num_threads(before)
    assert code == 0
    return out


def test_train_writes_model_and_metrics(trained, files, capsys):
    assert (trained / "model" / "config.json").is_file()
    assert (trained / "loss.png").read_bytes().startswith(b"\x89PNG")
    metrics = json.loads((trained / "metrics.json").read_text())
    assert set(metrics) == {"validation", "test"}
    assert metrics["test"]["f1"] > 0.9
    assert set(metrics["test"]["per_type"]) == {"LOC", "PER"}


def test_predict_text_and_conll(trained, tmp_path, capsys):
    text = tmp_path / "in.txt"
    text.write_text("Anna smith went to Rome\n\nthe Paris\n")
    out = tmp_path / "pred.conll"
    code = main(
        [
            "tag",
            "predict",
            "--model",
            str(trained / "model"),
            "--data",
            str(text),
            "--out",
            str(out),
            "--threads",
            "1",
        ]
    )
    assert code == 0
    got = read_conll(out)
    assert [s.tokens for s in got] == [["Anna", "smith", "went", "to", "Rome"], ["the", "Paris"]]
    assert got[0].tags == ["B-PER", "I-PER", "O", "O", "B-LOC"]
    assert "tagged 2 sentences, 7 tokens" in capsys.readouterr().out


def test_evaluate_table_and_json(trained, files, tmp_path, capsys):
    _, paths = files
    model = str(trained / "model")
    assert main(["tag", "evaluate", "--model", model, "--data", str(paths["test"])]) == 0
    table = capsys.readouterr().out
    assert "all (micro)" in table and "PER" in table and "token accuracy" in table
    pred = tmp_path / "pred.conll"
    assert (
        main(
            [
                "tag",
                "evaluate",
                "--model",
                model,
                "--data",
                str(paths["test"]),
                "--json",
                "--predictions",
                str(pred),
            ]
        )
        == 0
    )
    scores = json.loads(capsys.readouterr().out)
    metrics = json.loads((trained / "metrics.json").read_text())
    assert scores["f1"] == pytest.approx(metrics["test"]["f1"])
    assert read_conll(pred, tag_col=1)[0].tags == read_conll(paths["test"])[0].tags


def test_malformed_conll_is_a_clear_error(trained, tmp_path, capsys):
    bad = tmp_path / "bad.conll"
    bad.write_text("EU B-ORG\nrejects O\n\nGerman\n")
    code = main(["tag", "evaluate", "--model", str(trained / "model"), "--data", str(bad)])
    assert code == 1
    err = capsys.readouterr().err
    assert "bad.conll, line 4: expected 2 whitespace-separated columns like line 1, got 1" in err
    assert "Traceback" not in err
    code = main(["tag", "train", "--data", str(bad), "--out", str(tmp_path / "o"), *SMALL])
    assert code == 1
    assert "line 4" in capsys.readouterr().err


def test_missing_model_and_unknown_bundled(tmp_path, capsys):
    code = main(
        [
            "tag",
            "predict",
            "--model",
            str(tmp_path / "none"),
            "--data",
            "x.txt",
            "--out",
            str(tmp_path / "o.conll"),
        ]
    )
    assert code == 1
    assert "does not exist" in capsys.readouterr().err
    code = main(["tag", "train", "--data", "bundled:nope", "--out", str(tmp_path / "o"), *SMALL])
    assert code == 2
    assert "unknown bundled dataset 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_bundled_corpus_end_to_end(tmp_path, capsys):
    """Train briefly on the bundled dev split, evaluate on the bundled test split."""
    out = tmp_path / "out"
    code = main(
        [
            "tag",
            "train",
            "--data",
            "bundled:tagged_dev",
            "--out",
            str(out),
            "--epochs",
            "2",
            "--hidden-size",
            "16",
            "--embedding-dim",
            "16",
            "--threads",
            "1",
        ]
    )
    assert code == 0
    capsys.readouterr()
    code = main(
        [
            "tag",
            "evaluate",
            "--model",
            str(out / "model"),
            "--data",
            "bundled:tagged_test",
            "--json",
            str(tmp_path / "scores.json"),
            "--threads",
            "1",
        ]
    )
    assert code == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["n_gold"] == 321 and scores["n_sentences"] == 311
    assert "SPEECH" in capsys.readouterr().out
