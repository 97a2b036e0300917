"""Real data bundled with lstmkit (see ``files/SOURCES.md`` for each file's origin and licence).

Names (``list_datasets()``, ``dataset_path(name)``, and ``bundled:NAME`` wherever a data file
is accepted, through :func:`resolve_data_path`):

========================  ===================================  ==================================
name                      file                                 what
========================  ===================================  ==================================
``elnino_sst_monthly``    ``elnino_sst_monthly.csv``           monthly sea-surface temperature
``us_macro_quarterly``    ``us_macro_quarterly.csv``           US quarterly macro series
``air_passengers``        ``air_passengers_monthly.csv``       airline passengers, 1949-1960:
                                                               trend, multiplicative season
``australia_residents``   ``australia_residents_quarterly.csv``  Australian residents, 1971-1993:
                                                               a smooth trend
``heart_rate``            ``heart_rate_half_second.csv``       one heart rate every 0.5 s, 150
                                                               rows: falls and stays down at
                                                               the end
``char_text``             ``pride_and_prejudice.txt``          one novel, plain UTF-8 text, for
                                                               character-level language models
``sentiment``             ``sentiment_movie_snippets.csv``     movie-review sentences, columns
                                                               ``text,label,split`` (labels
                                                               ``positive``/``negative``, splits
                                                               ``train``/``val``/``test``)
``tagged_train``          ``speech_train.conll``               direct speech in the novel, CoNLL
                                                               ``token<TAB>tag``, BIO tags
                                                               ``B-SPEECH``/``I-SPEECH``/``O``:
                                                               chapters 1-48 (half the
                                                               paragraphs)
``tagged_dev``            ``speech_dev.conll``                 the same, chapters 49-53
``tagged_test``           ``speech_test.conll``                the same, chapters 54-61
``italy_power_train``     ``italy_power_demand_TRAIN.ts.gz``   ItalyPowerDemand (UCR archive),
                                                               ``.ts``: 67 daily load curves of
                                                               24 hours, 2 classes (winter or
                                                               summer half-year)
``italy_power_test``      ``italy_power_demand_TEST.ts.gz``    its 1,029 test curves
``gun_point_train``       ``gun_point_TRAIN.ts.gz``            GunPoint (UCR archive), ``.ts``:
                                                               50 hand trajectories of 150
                                                               steps, 2 classes (gun or point)
``gun_point_test``        ``gun_point_TEST.ts.gz``             its 150 test trajectories
========================  ===================================  ==================================

A synthetic transduction task (date-format conversion, string reversal) is generated rather than
bundled: see :mod:`lstmkit.data.transduction`. The ``tagged_*`` files are derived from the novel
(quote marks removed, the quoted tokens tagged) by :mod:`lstmkit.data.speech_corpus`, which
regenerates them exactly.
"""

from __future__ import annotations

import os
import pathlib

import pandas as pd

from lstmkit.errors import ConfigError, DataError

FILES_DIR = pathlib.Path(__file__).resolve().parent / "files"
BUNDLED_PREFIX = "bundled:"

# name -> (file name, one-line description)
_FILES = {
    "elnino_sst_monthly": (
        "elnino_sst_monthly.csv",
        "Monthly sea-surface temperature (deg C), Nino 1+2 region, 1950-2010",
    ),
    "us_macro_quarterly": (
        "us_macro_quarterly.csv",
        "US macroeconomic series (GDP, consumption, ...), 1959Q1-2009Q3",
    ),
    # three of the forecasting dev series, for the forecaster's quality test in CI
    "air_passengers": (
        "air_passengers_monthly.csv",
        "International airline passengers (thousands), monthly, 1949-1960 (Box & Jenkins)",
    ),
    "australia_residents": (
        "australia_residents_quarterly.csv",
        "Australian residents (thousands), quarterly, 1971Q2-1993Q2",
    ),
    "heart_rate": (
        "heart_rate_half_second.csv",
        "Heart rate (bpm) of one subject every 0.5 s, 150 rows (MIT-BIH via Goldberger et al.)",
    ),
    "char_text": (
        "pride_and_prejudice.txt",
        "Jane Austen, Pride and Prejudice (1813): 684,768 characters of plain English text",
    ),
    "sentiment": (
        "sentiment_movie_snippets.csv",
        "10,070 movie-review sentences labelled positive/negative, split train/val/test",
    ),
    # direct-speech tagging derived from char_text by lstmkit.data.speech_corpus
    "tagged_train": (
        "speech_train.conll",
        "Direct speech in Pride and Prejudice, CoNLL BIO (B-SPEECH/I-SPEECH/O), chapters 1-48: "
        "823 sequences, 35,860 tokens, 822 spans",
    ),
    "tagged_dev": (
        "speech_dev.conll",
        "Direct speech in Pride and Prejudice, CoNLL BIO, chapters 49-53: 235 sequences, "
        "9,860 tokens, 255 spans",
    ),
    "tagged_test": (
        "speech_test.conll",
        "Direct speech in Pride and Prejudice, CoNLL BIO, chapters 54-61: 311 sequences, "
        "12,895 tokens, 321 spans",
    ),
    # numeric sequence classification (UCR archive, .ts): tests, the README and docs example
    "italy_power_train": (
        "italy_power_demand_TRAIN.ts.gz",
        "ItalyPowerDemand (UCR archive), .ts: 67 daily electricity-demand curves of 24 hours, "
        "label 1 (October-March) or 2 (April-September)",
    ),
    "italy_power_test": (
        "italy_power_demand_TEST.ts.gz",
        "ItalyPowerDemand (UCR archive), .ts: the 1,029 test curves",
    ),
    "gun_point_train": (
        "gun_point_TRAIN.ts.gz",
        "GunPoint (UCR archive), .ts: 50 hand x-positions over 150 frames, label 1 (drawing a "
        "gun) or 2 (pointing)",
    ),
    "gun_point_test": ("gun_point_TEST.ts.gz", "GunPoint (UCR archive), .ts: the 150 test series"),
}
DATASETS = {name: description for name, (_, description) in _FILES.items()}


def list_datasets() -> dict[str, str]:
    """Bundled dataset names and a one-line description of each."""
    return dict(DATASETS)


def dataset_path(name: str) -> pathlib.Path:
    """Path of a bundled file, by name (see the module docstring); a CSV's name may carry its
    ``.csv`` suffix (``"elnino_sst_monthly.csv"``). DataError for an unknown name."""
    stem = name[:-4] if isinstance(name, str) and name.endswith(".csv") else name
    if stem not in _FILES or (stem != name and not _FILES[stem][0].endswith(".csv")):
        raise DataError(f"unknown dataset {name!r}; the bundled datasets are {sorted(_FILES)}")
    path = FILES_DIR / _FILES[stem][0]
    if not path.is_file():
        raise DataError(f"bundled dataset file {path} is missing: the installation is incomplete")
    return path


def resolve_data_path(arg: str | os.PathLike[str]) -> pathlib.Path:
    """The file a data argument names: ``"bundled:NAME"`` is the bundled dataset NAME's path
    (ConfigError naming NAME and listing the known names if there is none); anything else is
    returned as a Path, unchecked (the reader reports a missing file)."""
    text = os.fspath(arg)
    if not text.startswith(BUNDLED_PREFIX):
        return pathlib.Path(text)
    name = text[len(BUNDLED_PREFIX) :]
    if name not in _FILES:
        raise ConfigError(
            f"unknown bundled dataset {name!r} in {text!r}; expected bundled:NAME with NAME one "
            f"of {sorted(_FILES)}"
        )
    return dataset_path(name)


def _load(name: str) -> pd.DataFrame:
    frame = pd.read_csv(dataset_path(name))
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    return frame


def load_elnino() -> pd.DataFrame:
    """Monthly sea-surface temperature, 732 rows: ``date`` (month start), ``sst`` (deg C)."""
    return _load("elnino_sst_monthly")


def load_us_macro() -> pd.DataFrame:
    """US quarterly macro data, 203 rows: ``date`` (quarter start), ``realgdp``, ``realcons``,
    ``realinv``, ``cpi``, ``unemp``, ``infl``."""
    return _load("us_macro_quarterly")


def load_char_text() -> str:
    """The bundled novel (Pride and Prejudice) as one string, ``\\n`` line ends, 684,768
    characters, for character-level language modelling."""
    return dataset_path("char_text").read_text(encoding="utf-8")


def load_sentiment() -> pd.DataFrame:
    """The bundled sentiment set, 10,070 rows of strings: ``text``, ``label`` (``positive`` or
    ``negative``), ``split`` (``train`` 8,056 / ``val`` 1,008 / ``test`` 1,006 rows)."""
    # every column as text, and no NA guessing: a review reading "NA" or "null" stays text
    return pd.read_csv(dataset_path("sentiment"), dtype=str, keep_default_na=False)
