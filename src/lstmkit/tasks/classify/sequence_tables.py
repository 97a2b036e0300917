"""Numeric sequences from files for :class:`~lstmkit.tasks.classify.task.SequenceClassifier`: train
on a ``.ts`` file or a long table (one row per time step) and keep the table's column names
(:attr:`columns`), so that a model trained from Python saves what the command line's does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from lstmkit.errors import ConfigError, DataError
from lstmkit.train import TrainConfig

T = TypeVar("T", bound="SequenceTables")


class SequenceTables:
    """The file method of the numeric classifier (a mixin: it calls the task's ``fit`` and reads
    ``numeric`` and ``columns``)."""

    numeric: bool
    columns: dict[str, Any] | None

    def fit_sequences(
        self: T,
        data: Any,
        *,
        series_col: str | None = None,
        time_col: str | None = None,
        label_col: str | None = None,
        columns: Sequence[str] | None = None,
        config: TrainConfig | None = None,
        **train_options: Any,
    ) -> T:
        """Train on labelled numeric sequences: a :class:`~lstmkit.data.long_sequences.Sequences`
        already read, or what :func:`~lstmkit.data.long_sequences.read_sequences` reads (a
        ``.ts`` file, or a long table with ``series_col``, ``time_col``, ``label_col`` and the
        feature ``columns``). Training options as :meth:`fit` takes them.

        From a long table the model keeps its column names (:attr:`columns`: ``series_col``,
        ``time_col``, ``label_col`` and the feature ``columns``, saved with the model) for reading
        the next table; from a ``.ts`` file :attr:`columns` is None. Returns ``self``.
        """
        from lstmkit.data.long_sequences import Sequences, read_sequences

        if not self.numeric:
            raise ConfigError("fit_sequences reads numeric sequences; texts go to fit_frame")
        if isinstance(data, Sequences):
            given = [
                name
                for name, value in (
                    ("series_col", series_col),
                    ("time_col", time_col),
                    ("label_col", label_col),
                    ("columns", columns),
                )
                if value is not None
            ]
            if given:
                raise ConfigError(
                    f"{', '.join(given)} name the columns of a table to read; these sequences "
                    "are already read"
                )
            seqs = data
        else:
            seqs = read_sequences(
                data, series_col=series_col, time_col=time_col, label_col=label_col, columns=columns
            )
        if seqs.labels is None:
            raise DataError(
                f"{seqs.source}: training needs labels, and it has none (a .ts file needs "
                "'@classLabel true ...' and a label after each series; a table needs label_col)"
            )
        self.fit(seqs.series, seqs.labels, times=seqs.times, config=config, **train_options)  # type: ignore[attr-defined]
        self.columns = None if seqs.table_columns is None else dict(seqs.table_columns)
        return self
