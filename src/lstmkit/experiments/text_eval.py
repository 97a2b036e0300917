"""The measurements of the text tasks, on bundled data, with fixed seeds: one command reruns them.

``lstmkit experiments text`` (or :func:`run_text_eval`) trains and scores, with the settings the
task pages in ``docs/`` quote:

* ``classifier`` — :class:`~lstmkit.tasks.SequenceClassifier` on the bundled movie-snippet
  sentiment set (train split; val split for early stopping), accuracy and macro-F1 on the test
  split, beside a TF-IDF + logistic-regression baseline fitted on the same training rows.
* ``language-model`` — a character :class:`~lstmkit.tasks.LanguageModel` on *Pride and
  Prejudice* for a fixed budget of epochs; bits per character on the held-out last 10 %, beside
  the unigram baseline; training characters per second.
* ``throughput`` — that model's training speed alone (one epoch over the first 160,000
  characters) with 1 and with 2 torch threads. Timings depend on what else the machine runs.
* ``tagger`` — the BiLSTM-CRF :class:`~lstmkit.tasks.Tagger` and the same network with a softmax
  instead of the CRF, on the direct-speech corpus (train/dev/test by chapter); span F1 on test.
* ``seq2seq`` — :class:`~lstmkit.tasks.Seq2Seq` on date normalisation with additive,
  multiplicative and no attention; exact match on 2,000 held-out dates (greedy, and beam 5).

Results go to ``<results>/text.json`` and a Markdown summary (``TEXT.md`` by default). ``quick``
shrinks every part to seconds, for the test suite; its numbers mean nothing.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from lstmkit._files import atomic_write
from lstmkit._table import format_table
from lstmkit.errors import ConfigError

log = logging.getLogger(__name__)

PARTS: tuple[str, ...] = ("classifier", "language-model", "throughput", "tagger", "seq2seq")


def _timed(run: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = run()
    return out, time.perf_counter() - start


# Every fit runs without a progress bar: the report, not the console, is the output.
_QUIET = {"enable_progress_bar": False}


# --- the parts -----------------------------------------------------------------------------------


def eval_classifier(*, seed: int, quick: bool) -> dict[str, Any]:
    from lstmkit.data import load_sentiment
    from lstmkit.tasks import SequenceClassifier
    from lstmkit.tasks.classify.metrics import bow_logistic_baseline

    frame = load_sentiment()
    if quick:
        frame = frame.groupby("split", group_keys=False).sample(n=60, random_state=seed)
    train = frame[frame["split"] == "train"]
    test = frame[frame["split"] == "test"]
    settings = {
        "tokenizer": "word (min_freq 2)",
        "hidden_size": 64,
        "pooling": "last",
        "dropout": 0.3,
        "max_epochs": 1 if quick else 5,
        "patience": 2,
        "batch_size": 64,
        "lr": 0.003,
    }
    clf = SequenceClassifier(
        "word", tokenizer_options={"min_freq": 2}, hidden_size=64, pooling="last", dropout=0.3
    )
    _, seconds = _timed(
        lambda: clf.fit_frame(
            frame,
            text_col="text",
            label_col="label",
            split_col="split",
            max_epochs=settings["max_epochs"],
            patience=2,
            batch_size=64,
            lr=0.003,
            seed=seed,
            **_QUIET,
        )
    )
    report = clf.evaluate(list(test["text"]), list(test["label"])).loc["model"]
    baseline = bow_logistic_baseline(
        list(train["text"]), list(train["label"]), list(test["text"]), list(test["label"]), seed
    )
    return {
        "settings": settings,
        "train_seconds": seconds,
        "test_rows": len(test),
        "lstm": {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"]},
        "baseline": {"accuracy": baseline["accuracy"], "macro_f1": baseline["macro_f1"]},
    }


def _char_lm() -> Any:
    from lstmkit.tasks import LanguageModel

    return LanguageModel(
        "char", embed_size=64, hidden_size=256, num_layers=1, tie_weights=False, bptt=100
    )


def eval_language_model(*, seed: int, quick: bool) -> dict[str, Any]:
    from lstmkit.data import load_char_text
    from lstmkit.data.corpus import split_tail

    text = load_char_text()
    if quick:
        text = text[:20_000]
    epochs = 1 if quick else 2
    train_text, held_out = split_tail(text, 0.1)
    lm = _char_lm()
    _, seconds = _timed(
        lambda: lm.fit(
            train_text,
            held_out,
            max_epochs=epochs,
            batch_size=32,
            lr=0.003,
            seed=seed,
            **_QUIET,
        )
    )
    scores = lm.perplexity(held_out)
    return {
        "settings": {
            "model": "char, embed 64, 1 x 256 LSTM, untied, bptt 100 (variable), dropout 0.1 x3",
            "epochs": epochs,
            "batch_size": 32,
            "lr": 0.003,
        },
        "train_characters": len(train_text),
        "held_out_characters": len(held_out),
        "train_seconds": seconds,
        "train_chars_per_second": len(train_text) * epochs / seconds,
        "bits_per_char": scores["bits_per_char"],
        "perplexity": scores["perplexity"],
        "unigram_bits_per_char": scores["unigram_bits_per_char"],
        "sample": lm.generate("It is a truth ", 200, temperature=0.8, top_p=0.95, seed=1),
    }


def eval_throughput(*, seed: int, quick: bool) -> dict[str, Any]:
    from lstmkit.data import load_char_text

    text = load_char_text()[: 20_000 if quick else 160_000]
    before = torch.get_num_threads()
    rows = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            lm = _char_lm()
            _, seconds = _timed(
                lambda lm=lm: lm.fit(
                    text,
                    val_fraction=0,
                    max_epochs=1,
                    batch_size=32,
                    lr=0.003,
                    seed=seed,
                    **_QUIET,
                )
            )
            rows.append(
                {"threads": threads, "seconds": seconds, "chars_per_second": len(text) / seconds}
            )
    finally:
        torch.set_num_threads(before)
    return {"characters": len(text), "runs": rows, "load_average": _load_average()}


def eval_tagger(*, seed: int, quick: bool) -> dict[str, Any]:
    from lstmkit.data import read_conll, resolve_data_path
    from lstmkit.tasks import Tagger

    parts = {
        name: read_conll(resolve_data_path(f"bundled:tagged_{name}"))
        for name in ("train", "dev", "test")
    }
    if quick:
        parts = {name: sentences[:40] for name, sentences in parts.items()}
    out: dict[str, Any] = {
        "sentences": {name: len(s) for name, s in parts.items()},
        "settings": {
            "max_epochs": 1 if quick else 15,
            "patience": 4,
            "batch_size": 32,
            "lr": 0.005,
        },
    }
    for name, use_crf in (("crf", True), ("softmax", False)):
        tagger = Tagger(use_crf=use_crf)
        _, seconds = _timed(
            lambda tagger=tagger: tagger.fit(
                parts["train"],
                parts["dev"],
                max_epochs=1 if quick else 15,
                patience=4,
                batch_size=32,
                lr=0.005,
                seed=seed,
                **_QUIET,
            )
        )
        scores = tagger.evaluate(parts["test"]).loc["model"]
        out[name] = {
            "train_seconds": seconds,
            "epochs": tagger.fit_result.epochs if tagger.fit_result else None,
            "precision": scores["precision"],
            "recall": scores["recall"],
            "f1": scores["f1"],
            "accuracy": scores["accuracy"],
        }
    return out


def eval_seq2seq(*, seed: int, quick: bool) -> dict[str, Any]:
    from lstmkit.data.transduction import held_out_pairs, make_pairs
    from lstmkit.tasks import Seq2Seq

    n_train, n_test = (300, 50) if quick else (10_000, 2_000)
    train = make_pairs("date", n_train, seed=seed)
    test = held_out_pairs("date", n_test, seed=seed + 1, exclude={s for s, _ in train})
    epochs = 1 if quick else 6
    out: dict[str, Any] = {
        "pairs": {"train": n_train, "test": n_test},
        "settings": {"hidden_size": 64, "embed_size": 32, "max_epochs": epochs, "batch_size": 64},
    }
    for attention in ("additive", "multiplicative", "none"):
        model = Seq2Seq("char", attention=attention, hidden_size=64, embed_size=32)
        _, seconds = _timed(
            lambda model=model: model.fit(
                train, max_epochs=epochs, batch_size=64, lr=2e-3, seed=seed, **_QUIET
            )
        )
        greedy = model.evaluate(test).loc["model"]
        beam = model.evaluate(
            test[:500] if not quick else test, beam_size=5, length_penalty=0.6
        ).loc["model"]
        out[attention] = {
            "train_seconds": seconds,
            "exact_match": greedy["exact_match"],
            "bleu": greedy["bleu"],
            "beam5_exact_match_first_500": beam["exact_match"],
        }
    return out


_RUNNERS: dict[str, Callable[..., dict[str, Any]]] = {
    "classifier": eval_classifier,
    "language-model": eval_language_model,
    "throughput": eval_throughput,
    "tagger": eval_tagger,
    "seq2seq": eval_seq2seq,
}


# --- running and reporting -----------------------------------------------------------------------


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run_text_eval(
    parts: Sequence[str] = PARTS,
    *,
    seed: int = 0,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the chosen parts; returns ``{"environment": ..., "<part>": {...}, ...}``."""
    unknown = [p for p in parts if p not in _RUNNERS]
    if unknown or not parts:
        raise ConfigError(f"text evaluation parts must be among {', '.join(PARTS)}, got {unknown}")
    say = progress or (lambda message: None)
    result: dict[str, Any] = {
        "environment": {
            "torch": torch.__version__,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "seed": seed,
            "quick": quick,
        }
    }
    for part in parts:
        say(f"{part} ...")
        started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        load_start, threads = _load_average(), torch.get_num_threads()
        result[part], seconds = _timed(lambda part=part: _RUNNERS[part](seed=seed, quick=quick))
        result[part]["run"] = {
            "started": started,
            "wall_seconds": seconds,
            "torch_threads": threads,
            "load_average_start": load_start,
            "load_average_end": _load_average(),
        }
        say(f"{part} done in {seconds:.0f} s")
    return result


def merge_results(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` plus the parts of ``old`` it did not rerun, when both used the same seed and mode
    (so a report can be completed part by part, e.g. the throughput on a quiet machine)."""
    same = all(
        old.get("environment", {}).get(key) == new["environment"][key] for key in ("seed", "quick")
    )
    if not same:
        return new
    merged = {part: old[part] for part in PARTS if part in old and part not in new}
    merged.update(new)
    return {key: merged[key] for key in ["environment", *PARTS] if key in merged}


def format_report(result: dict[str, Any]) -> str:
    """The results as Markdown tables (the sections present in ``result``)."""
    env = result["environment"]
    lines = [
        "# Text tasks: measured",
        "",
        "Generated by `lstmkit experiments text"
        + (" --quick" if env["quick"] else "")
        + f" --seed {env['seed']}` (every setting is in `lstmkit.experiments.text_eval`), with "
        f"torch {env['torch']} on {env['cpus']} CPUs. Under each table: when the part ran, its "
        "torch threads and the machine's load average (1, 5, 15 min) before and after. Scores "
        "do not depend on the load; times do.",
        "",
    ]
    if env["quick"]:
        lines += ["**Quick mode: tiny data and budgets; the numbers mean nothing.**", ""]

    def table(header: list[str], rows: list[list[str]]) -> None:
        lines.extend(["```", format_table(header, rows), "```", ""])

    def ran(part: str) -> None:
        run = result[part].get("run")
        if run:
            lines.extend(
                [
                    f"Ran {run['started']}, {run['wall_seconds']:.0f} s wall, "
                    + (
                        ""
                        if part == "throughput"  # sets its own threads (the table's first column)
                        else f"{run['torch_threads']} torch thread(s), "
                    )
                    + "load average "
                    f"{run['load_average_start']} -> {run['load_average_end']}.",
                    "",
                ]
            )

    if "classifier" in result:
        r = result["classifier"]
        lines += [
            f"## Sentiment classification (bundled movie snippets, {r['test_rows']} test rows)",
            "",
        ]
        table(
            ["model", "accuracy", "macro-F1", "train s"],
            [
                [
                    "BiLSTM, last pooling",
                    f"{r['lstm']['accuracy']:.4f}",
                    f"{r['lstm']['macro_f1']:.4f}",
                    f"{r['train_seconds']:.0f}",
                ],
                [
                    "TF-IDF 1-2-grams + logistic regression",
                    f"{r['baseline']['accuracy']:.4f}",
                    f"{r['baseline']['macro_f1']:.4f}",
                    "-",
                ],
            ],
        )
        ran("classifier")
    if "language-model" in result:
        r = result["language-model"]
        lines += [
            "## Character language model (Pride and Prejudice, last 10 % held out: "
            f"{r['held_out_characters']:,} characters)",
            "",
        ]
        table(
            ["model", "bits/char", "train s", "train chars/s"],
            [
                [
                    f"LSTM, {r['settings']['epochs']} epochs",
                    f"{r['bits_per_char']:.3f}",
                    f"{r['train_seconds']:.0f}",
                    f"{r['train_chars_per_second']:,.0f}",
                ],
                ["unigram frequencies", f"{r['unigram_bits_per_char']:.3f}", "-", "-"],
            ],
        )
        lines += ["Sample (`It is a truth `, temperature 0.8, top-p 0.95, seed 1):", ""]
        lines += ["```", r["sample"], "```", ""]
        ran("language-model")
    if "throughput" in result:
        r = result["throughput"]
        lines += [
            f"## Training throughput (same model, one epoch over {r['characters']:,} characters)",
            "",
        ]
        table(
            ["torch threads", "seconds", "characters/s"],
            [
                [str(row["threads"]), f"{row['seconds']:.1f}", f"{row['chars_per_second']:,.0f}"]
                for row in r["runs"]
            ],
        )
        ran("throughput")
    if "tagger" in result:
        r = result["tagger"]
        n = r["sentences"]
        lines += [
            "## Direct-speech tagging (bundled corpus; "
            f"{n['train']}/{n['dev']}/{n['test']} train/dev/test sequences)",
            "",
        ]
        table(
            ["model", "span P", "span R", "span F1", "token acc.", "epochs", "train s"],
            [
                [
                    name,
                    f"{r[key]['precision']:.4f}",
                    f"{r[key]['recall']:.4f}",
                    f"{r[key]['f1']:.4f}",
                    f"{r[key]['accuracy']:.4f}",
                    str(r[key]["epochs"]),
                    f"{r[key]['train_seconds']:.0f}",
                ]
                for name, key in (("BiLSTM-CRF", "crf"), ("BiLSTM + softmax", "softmax"))
            ],
        )
        ran("tagger")
    if "seq2seq" in result:
        r = result["seq2seq"]
        lines += [
            "## Date normalisation (seq2seq; "
            f"{r['pairs']['train']:,} training pairs, {r['pairs']['test']:,} held-out test dates)",
            "",
        ]
        table(
            [
                "attention",
                "exact match (greedy)",
                "BLEU",
                "exact match (beam 5, first 500)",
                "train s",
            ],
            [
                [
                    name,
                    f"{r[name]['exact_match']:.2%}",
                    f"{r[name]['bleu']:.2f}",
                    f"{r[name]['beam5_exact_match_first_500']:.2%}",
                    f"{r[name]['train_seconds']:.0f}",
                ]
                for name in ("additive", "multiplicative", "none")
            ],
        )
        ran("seq2seq")
    return "\n".join(lines)


def write_outputs(result: dict[str, Any], json_path: Path, report_path: Path | None) -> list[Path]:
    """Write the JSON (and the Markdown report) atomically; returns the paths written."""
    import json

    from lstmkit.tasks.persistence import json_safe

    if json_path.is_file():
        try:
            result = merge_results(json.loads(json_path.read_text(encoding="utf-8")), result)
        except (OSError, ValueError) as err:
            log.warning("not merging with %s (%s); overwriting it", json_path, err)
    written = [
        atomic_write(
            json_path,
            lambda tmp: tmp.write_text(
                json.dumps(json_safe(result), indent=2) + "\n", encoding="utf-8"
            ),
        )
    ]
    if report_path is not None:
        text = format_report(result) + "\n"
        written.append(
            atomic_write(report_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        )
    return written
