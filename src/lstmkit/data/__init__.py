"""Turning files into tensors: reading tables, missing values, scaling, windows, splits, padding;
and for text: vocabularies, tokenizers, padded id batches, word-vector files, CoNLL files.

Depends on numpy, pandas and torch (pyarrow for Parquet files only).

Typical forecasting flow::

    table = read_table("sales.csv", time_col="date", targets="sales", missing="interpolate")
    values = torch.tensor(table.frame[table.value_columns].to_numpy(), dtype=torch.float32)
    split = temporal_split(len(values), lookback=24, horizon=6)
    scaler = make_scaler("minmax").fit(values[split.fit_rows()])   # train rows only
    parts = split_windows(scaler.transform(values), split)          # {"train": (x, y), ...}
"""

from lstmkit.data.conll import read_conll, spans, write_conll
from lstmkit.data.datasets import (
    dataset_path,
    list_datasets,
    load_char_text,
    load_elnino,
    load_sentiment,
    load_us_macro,
    resolve_data_path,
)
from lstmkit.data.padding import BucketBatchSampler, collate_padded, pad_sequences
from lstmkit.data.readers import SeriesTable, read_table
from lstmkit.data.scalers import (
    MinMaxScaler,
    NotFittedError,
    StandardScaler,
    make_scaler,
    scaler_from_dict,
)
from lstmkit.data.splits import TemporalSplit, split_window_starts, split_windows, temporal_split
from lstmkit.data.synthetic_anomalies import SyntheticAnomalies, make_anomaly_series
from lstmkit.data.text_batches import TokenDataset, collate_tokens, pad_ids
from lstmkit.data.tokenizers import (
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    WordTokenizer,
    make_tokenizer,
    tokenizer_from_dict,
)
from lstmkit.data.transduction import make_pairs, read_pairs, write_pairs
from lstmkit.data.vectors import read_vectors
from lstmkit.data.vocab import Vocabulary
from lstmkit.data.windows import n_windows, sliding_windows, window_starts

__all__ = [
    "BPETokenizer",
    "CharTokenizer",
    "TokenDataset",
    "Tokenizer",
    "Vocabulary",
    "WordTokenizer",
    "collate_tokens",
    "make_tokenizer",
    "pad_ids",
    "read_conll",
    "read_vectors",
    "spans",
    "tokenizer_from_dict",
    "write_conll",
    "BucketBatchSampler",
    "MinMaxScaler",
    "NotFittedError",
    "SeriesTable",
    "StandardScaler",
    "SyntheticAnomalies",
    "TemporalSplit",
    "collate_padded",
    "dataset_path",
    "list_datasets",
    "load_char_text",
    "load_elnino",
    "load_sentiment",
    "load_us_macro",
    "make_anomaly_series",
    "make_pairs",
    "make_scaler",
    "n_windows",
    "pad_sequences",
    "read_pairs",
    "read_table",
    "resolve_data_path",
    "scaler_from_dict",
    "sliding_windows",
    "split_window_starts",
    "split_windows",
    "temporal_split",
    "window_starts",
    "write_pairs",
]
