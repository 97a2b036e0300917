"""``lstmkit translate``: make-data, train, run, evaluate and the errors they report."""

from __future__ import annotations

import pytest
import torch

import lstmkit.cli as cli
from lstmkit.data.transduction import read_pairs


@pytest.fixture(scope="module", autouse=True)
def _registered():
    # the lead registers the command in COMMANDS; until then, register it for these tests
    with pytest.MonkeyPatch.context() as patch:
        if "translate" not in cli.COMMANDS:
            patch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "translate"))
        yield


@pytest.fixture(scope="module")
def trained(tmp_path_factory, _registered):
    root = tmp_path_factory.mktemp("translate")
    data = root / "pairs.tsv"
    assert cli.main(["translate", "make-data", "--task", "reverse", "--n", "200", "--seed", "0",
                     "--out", str(data)]) == 0  # fmt: skip
    threads = torch.get_num_threads()
    try:
        code = cli.main(
            ["translate", "train", "--pairs", str(data), "--test", str(data), "--out",
             str(root / "run"), "--hidden-size", "16", "--embed-size", "8", "--epochs", "2",
             "--batch-size", "64", "--threads", "1"]
        )  # fmt: skip
    finally:
        torch.set_num_threads(threads)  # --threads set it for the whole process
    assert code == 0
    return root


def test_make_data_writes_readable_pairs(tmp_path, capsys):
    out = tmp_path / "dates.tsv"
    assert cli.main(["translate", "make-data", "--task", "dates", "--n", "5", "--seed", "3",
                     "--out", str(out)]) == 0  # fmt: skip
    pairs = read_pairs(out)
    assert len(pairs) == 5
    assert all(len(t) == 10 and t[4] == "-" and t[7] == "-" for _, t in pairs)  # YYYY-MM-DD
    assert f"wrote 5 date pairs (seed 3) to {out}" in capsys.readouterr().out


def test_make_data_can_exclude_sources(tmp_path):
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    args = ["translate", "make-data", "--task", "reverse", "--n", "300", "--seed", "0"]
    assert cli.main([*args, "--out", str(first)]) == 0
    # the same seed would give the same pairs: every one is excluded, so new draws fill the file
    assert cli.main([*args, "--exclude", str(first), "--out", str(second)]) == 0
    taken = {s for s, _ in read_pairs(first)}
    fresh = read_pairs(second)
    assert len(fresh) == 300 and not taken & {s for s, _ in fresh}


def test_train_writes_model_and_reports(trained):
    assert (trained / "run" / "model" / "config.json").is_file()
    assert (trained / "run" / "model" / "weights.safetensors").is_file()
    assert (trained / "run" / "loss.png").is_file()


def test_run_prints_translations_and_plots(trained, tmp_path, capsys):
    model = str(trained / "run" / "model")
    plot = tmp_path / "attn.png"
    code = cli.main(["translate", "run", "--model", model, "--text", "abc", "--text", "xyzw",
                     "--beam", "3", "--plot", str(plot)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) >= 3  # two translations, then the written plot
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert str(plot) in out[-1]


def test_evaluate_prints_scores(trained, capsys):
    code = cli.main(["translate", "evaluate", "--model", str(trained / "run" / "model"),
                     "--pairs", str(trained / "pairs.tsv")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "(greedy): exact match" in out and "200 pairs" in out and "BLEU" in out


def test_bad_pairs_file_names_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("abc\tcba\nno tab\n", encoding="utf-8")
    code = cli.main(["translate", "train", "--pairs", str(bad), "--out", str(tmp_path / "o")])
    assert code == 1
    err = capsys.readouterr().err
    assert f"{bad} line 2: expected source<TAB>target (one tab), found no tab" in err
    bad.write_text("abc\t\n", encoding="utf-8")
    assert cli.main(["translate", "evaluate", "--model", str(tmp_path), "--pairs", str(bad)]) == 1
    assert "is not an lstmkit model directory" in capsys.readouterr().err


def test_bad_options_are_rejected(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["translate", "run", "--model", "m", "--text", "a", "--beam", "0"])
    assert "expected a positive integer, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["translate", "make-data", "--task", "copy", "--n", "3", "--out", "x.tsv"])
    assert "invalid choice: 'copy'" in capsys.readouterr().err
