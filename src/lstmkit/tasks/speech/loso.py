"""Leave-one-speaker-out evaluation on isolated spoken digits: a recogniser that only knows its
training voices is not a recogniser.

For each speaker in turn (and each seed): connected digit strings of the **other** speakers are
built from their recordings ``0 .. val_index - 1`` for training and from the rest for validation
(early stopping), strings of the held-out speaker from all of their recordings for the test; a
:class:`SpeechRecognizer` is trained and scored on the held-out speaker. The strings of a fold are
the same for every seed (their seed is fixed), so the spread over seeds is the training's alone.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lstmkit._checks import positive_int
from lstmkit.data.spoken_digits import make_digit_strings, speakers_in
from lstmkit.errors import ConfigError
from lstmkit.tasks.speech.task import SpeechRecognizer

log = logging.getLogger(__name__)

#: Data per fold, the defaults of :func:`leave_one_speaker_out` (utterances of 1-7 digits).
N_TRAIN, N_VAL, N_TEST = 600, 100, 200
VAL_INDEX = 45  # recordings 0-44 of each training speaker for training, 45-49 for validation
#: Training defaults for the folds: what ``lstmkit speech loso`` runs.
FIT_DEFAULTS: dict[str, Any] = {
    "max_epochs": 20,
    "patience": 10,  # CTC can sit on its all-blank plateau for 5 epochs before the loss falls
    "lr": 3e-3,
    "batch_size": 32,
    "enable_progress_bar": False,
}


def make_fold_data(
    source: str | os.PathLike[str],
    work: str | os.PathLike[str],
    held_out: str,
    speakers: Sequence[str],
    *,
    n_train: int = N_TRAIN,
    n_val: int = N_VAL,
    n_test: int = N_TEST,
    val_index: int = VAL_INDEX,
) -> dict[str, Path]:
    """Write the train, val and test strings of one fold under ``work/held_out/``; returns
    split -> folder."""
    others = [s for s in speakers if s != held_out]
    base = Path(work) / held_out
    make_digit_strings(
        source, base / "train", n_utterances=n_train, speakers=others, indices=range(val_index)
    )
    make_digit_strings(
        source,
        base / "val",
        n_utterances=n_val,
        speakers=others,
        indices=range(val_index, 1 << 30),
        seed=1,
    )
    make_digit_strings(source, base / "test", n_utterances=n_test, speakers=[held_out], seed=2)
    return {split: base / split for split in ("train", "val", "test")}


def leave_one_speaker_out(
    source: str | os.PathLike[str],
    work: str | os.PathLike[str],
    *,
    speakers: Sequence[str] | None = None,
    held_out: Sequence[str] | None = None,
    seeds: Sequence[int] = (0,),
    n_train: int = N_TRAIN,
    n_val: int = N_VAL,
    n_test: int = N_TEST,
    val_index: int = VAL_INDEX,
    model_options: dict[str, Any] | None = None,
    fit_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per (held-out speaker, seed): ``cer``, ``wer`` (digit error rate),
    ``string_accuracy`` on the held-out speaker's strings, the epochs trained and the seconds the
    fold took (data, training and scoring). ``work`` holds each fold's WAV files.

    ``speakers``: the speakers of the study (default: all in ``source``); each fold trains on all
    of them but the one held out. ``held_out``: the folds to run (default: every speaker), to
    split a long study into shorter runs. ``val_index``: the first recording index of the
    training speakers kept for validation strings."""
    speakers = list(speakers or speakers_in(source))
    if len(speakers) < 2:
        raise ConfigError(f"leave-one-speaker-out needs at least two speakers, got {speakers}")
    folds = list(held_out or speakers)
    unknown = sorted(set(folds) - set(speakers))
    if unknown:
        raise ConfigError(f"held_out speakers {unknown} are not among the speakers {speakers}")
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        positive_int(name, value)
    fit_kwargs = {**FIT_DEFAULTS, **(fit_options or {})}
    rows = []
    for speaker in folds:
        start = time.perf_counter()
        data = make_fold_data(
            source,
            work,
            speaker,
            speakers,
            n_train=n_train,
            n_val=n_val,
            n_test=n_test,
            val_index=val_index,
        )
        data_seconds = time.perf_counter() - start
        for seed in seeds:
            start = time.perf_counter()
            model = SpeechRecognizer(**(model_options or {}))
            model.fit(data["train"], data["val"], **{**fit_kwargs, "seed": seed})
            scores = model.evaluate(data["test"]).loc["model"].to_dict()
            assert model.fit_result is not None
            row = {
                "held_out": speaker,
                "seed": seed,
                **scores,
                "epochs": model.fit_result.epochs,
                "seconds": data_seconds + time.perf_counter() - start,
            }
            log.info("fold %s", row)
            rows.append(row)
    return pd.DataFrame(rows)


def summarise(folds: pd.DataFrame) -> pd.DataFrame:
    """Per held-out speaker, the mean and the min-max over seeds of each score, then a ``mean``
    row over the speakers."""
    metrics = ["cer", "wer", "string_accuracy"]
    grouped = folds.groupby("held_out", sort=False)
    table = grouped[metrics].mean()
    table["wer_min"] = grouped["wer"].min()
    table["wer_max"] = grouped["wer"].max()
    table["seeds"] = grouped["seed"].count()
    table["seconds"] = grouped["seconds"].sum()
    mean = table.mean(numeric_only=True)
    mean["seeds"], mean["seconds"] = table["seeds"].min(), table["seconds"].sum()
    table.loc["mean"] = mean
    return table


__all__ = ["FIT_DEFAULTS", "leave_one_speaker_out", "make_fold_data", "summarise"]
