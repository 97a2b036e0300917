"""The text-task evaluation: the quick run completes and reports every part; merging by part."""

from __future__ import annotations

import json

import pytest

from lstmkit.cli import main
from lstmkit.errors import ConfigError
from lstmkit.experiments.text_eval import PARTS, format_report, merge_results, run_text_eval


def test_unknown_part_is_a_clear_error():
    with pytest.raises(ConfigError, match="parts must be among classifier, .* got \\['poetry'\\]"):
        run_text_eval(["poetry"], quick=True)


def _env(seed=0, quick=True):
    return {"environment": {"seed": seed, "quick": quick}}


def test_merge_keeps_parts_not_rerun_only_for_the_same_seed_and_mode():
    old = {**_env(), "tagger": {"x": 1}, "classifier": {"x": 1}}
    new = {**_env(), "classifier": {"x": 2}}
    assert merge_results(old, new) == {**_env(), "classifier": {"x": 2}, "tagger": {"x": 1}}
    assert merge_results({**_env(seed=1), "tagger": {}}, new) == new
    assert merge_results({**_env(quick=False), "tagger": {}}, new) == new


@pytest.mark.slow
def test_quick_run_writes_json_and_a_report_with_every_part(tmp_path):
    report = tmp_path / "TEXT.md"
    code = main(
        ["experiments", "text", "--quick", "--results", str(tmp_path), "--report", str(report)]
    )
    assert code == 0
    data = json.loads((tmp_path / "text-quick.json").read_text())
    assert set(PARTS) <= set(data)
    assert 0 <= data["classifier"]["lstm"]["accuracy"] <= 1
    assert data["language-model"]["bits_per_char"] > 0
    assert [r["threads"] for r in data["throughput"]["runs"]] == [1, 2]
    assert 0 <= data["tagger"]["crf"]["f1"] <= 1
    assert set(data["seq2seq"]) >= {"additive", "multiplicative", "none"}
    text = report.read_text()
    assert text == format_report(data) + "\n"
    assert "Quick mode" in text and text.count("\nRan ") == len(PARTS)
