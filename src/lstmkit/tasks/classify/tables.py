"""Texts in tables for :class:`~lstmkit.tasks.classify.task.SequenceClassifier`: train from a
CSV/TSV/Parquet file or DataFrame with text, label and split columns, and score or predict its rows
by the column names the model kept (:attr:`columns`)."""

from __future__ import annotations

from typing import Any, TypeVar

import pandas as pd

from lstmkit.data.text_table import column_labels, column_texts, read_frame, split_rows
from lstmkit.errors import ConfigError
from lstmkit.train import TrainConfig

VAL_SPLITS = ("val", "valid", "validation", "dev")

T = TypeVar("T", bound="TextTables")


class TextTables:
    """The table methods of the text classifier (a mixin: it calls the task's ``fit``,
    ``evaluate``, ``report``, ``predict_proba`` and reads ``numeric``, ``columns`` and
    ``classes``)."""

    numeric: bool
    columns: dict[str, Any] | None
    classes: list[Any] | None

    def fit_frame(
        self: T,
        data: Any,
        text_col: str,
        label_col: str,
        split_col: str | None = None,
        *,
        val: Any = None,
        config: TrainConfig | None = None,
        **train_options: Any,
    ) -> T:
        """Train from a table (a DataFrame, or a CSV/TSV/Parquet path, or ``bundled:NAME``).

        With ``split_col``, rows whose split is "train" train the model, rows with "val" (or
        "valid", "validation", "dev") are the validation data and all other rows (e.g. "test")
        are left out; without it every row trains (``val_size`` are held out). ``val``: a
        separate validation table with the same text and label columns (it replaces any val
        rows). The model keeps the column names (:attr:`columns`) as the defaults of the other
        table methods.
        """
        if self.numeric:
            raise ConfigError("fit_frame reads texts; numeric sequences go to fit() as arrays")
        frame = read_frame(data, {"text": text_col, "label": label_col, "split": split_col})
        validation = None
        if val is not None:
            part = read_frame(val, {"text": text_col, "label": label_col})
            validation = (column_texts(part, text_col), column_labels(part, label_col))
        if split_col is not None:
            train_rows = split_rows(frame, split_col, ("train",))
            val_rows = frame.index[
                frame[split_col].astype(str).str.strip().str.lower().isin(VAL_SPLITS)
            ]
            if val is None and len(val_rows):
                part = frame.loc[val_rows]
                validation = (column_texts(part, text_col), column_labels(part, label_col))
            frame = frame.loc[train_rows]
        self.fit(
            column_texts(frame, text_col),
            column_labels(frame, label_col),
            validation,
            config=config,
            **train_options,
        )
        self.columns = {"text_col": text_col, "label_col": label_col, "split_col": split_col}
        return self

    def _frame_columns(self, text_col: str | None, label_col: str | None) -> tuple[str, str | None]:
        cols = self.columns or {}
        text_col = text_col or cols.get("text_col")
        if text_col is None:
            raise ConfigError(
                "name the text column (text_col): this model was not fitted on a table"
            )
        return text_col, label_col or cols.get("label_col")

    def select_rows(
        self,
        data: Any,
        *,
        text_col: str | None = None,
        label_col: str | None = None,
        split: str | None = None,
        split_col: str | None = None,
        need_labels: bool = True,
    ) -> pd.DataFrame:
        """The rows of a table to score: all, or those whose ``split_col`` (default: the model's)
        is ``split``. Checks that the text (and label) columns exist."""
        text_col, label_col = self._frame_columns(text_col, label_col)
        if need_labels and label_col is None:
            raise ConfigError(
                "name the label column (label_col): this model was not fitted on a table"
            )
        needed = {"text": text_col, "label": label_col if need_labels else None}
        if split is not None:
            split_col = split_col or (self.columns or {}).get("split_col")
            if split_col is None:
                raise ConfigError(
                    f"split={split!r} needs a split column (split_col): this model was not "
                    "fitted with one"
                )
            needed["split"] = split_col
        frame = read_frame(data, needed)
        if split is not None:
            frame = frame.loc[split_rows(frame, split_col, (split.lower(),))]  # type: ignore[arg-type]
        return frame

    def read_examples(
        self,
        data: Any,
        *,
        text_col: str | None = None,
        label_col: str | None = None,
        split: str | None = None,
        split_col: str | None = None,
    ) -> tuple[list[str], list[Any]]:
        """``(texts, labels)`` of a table's rows (those of :meth:`select_rows`), ready for
        :meth:`evaluate`, :meth:`report` or a baseline. Column names default to the model's."""
        frame = self.select_rows(
            data, text_col=text_col, label_col=label_col, split=split, split_col=split_col
        )
        text_col, label_col = self._frame_columns(text_col, label_col)
        return column_texts(frame, text_col), column_labels(frame, label_col)  # type: ignore[arg-type]

    def report_frame(self, data: Any, **columns: Any) -> dict[str, Any]:
        """:meth:`report` on a table's rows; ``columns`` (``text_col``, ``label_col``,
        ``split``, ``split_col``) as :meth:`read_examples` takes them."""
        self._require_fitted("report_frame")
        return self.report(*self.read_examples(data, **columns))

    def evaluate_frame(
        self, data: Any, *, baseline_train: Any = None, baseline_seed: int = 0, **columns: Any
    ) -> pd.DataFrame:
        """:meth:`evaluate` on a table's rows; ``columns`` (``text_col``, ``label_col``,
        ``split``, ``split_col``) as :meth:`read_examples` takes them. ``baseline_train``: a table
        whose rows (all of them, with the same column names) train the "bow-logreg" baseline."""
        self._require_fitted("evaluate_frame")
        baseline = None
        if baseline_train is not None:
            names = {k: v for k, v in columns.items() if k in ("text_col", "label_col")}
            baseline = self.read_examples(baseline_train, **names)
        return self.evaluate(
            *self.read_examples(data, **columns), baseline=baseline, baseline_seed=baseline_seed
        )

    def predict_frame(
        self, data: Any, *, text_col: str | None = None, proba: bool = True
    ) -> pd.DataFrame:
        """The table with a ``prediction`` column (and ``p_<label>`` probability columns)."""
        self._require_fitted("predict_frame")
        text_col, _ = self._frame_columns(text_col, None)
        frame = read_frame(data, {"text": text_col})
        probabilities = self.predict_proba(column_texts(frame, text_col))
        out = frame.copy()
        out["prediction"] = [self.classes[k] for k in probabilities.argmax(axis=1)]  # type: ignore[index]
        if proba:
            for k, label in enumerate(self.classes):  # type: ignore[arg-type]
                out[f"p_{label}"] = probabilities[:, k]
        return out
