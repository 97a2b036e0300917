"""The labels file reader shared by ``AnomalyDetector.evaluate`` and ``lstmkit detect score``."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.data.interval_labels import labels_to_rows, read_labels
from lstmkit.errors import DataError


def test_a_labels_file_is_read_and_turned_into_rows(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("start,end,note\n2,4,spike\n7,100,drift\n", encoding="utf-8")
    assert list(read_labels(path).columns) == ["start", "end", "note"]
    assert labels_to_rows(str(path), np.arange(10)) == [(2, 4), (7, 9)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "labels file {path} does not exist"),
        (b"", "labels file {path} is not a CSV with columns start,end: No columns to parse"),
        (
            b"start,end\n\xff\xfe,1\n",
            "labels file {path} is not a CSV with columns start,end: not UTF-8 text (a binary "
            "file?)",
        ),
        (b"begin,end\n1,2\n", "labels file {path} lacks the column(s) ['start']; it has"),
    ],
)
def test_a_bad_labels_file_is_named_with_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "labels.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_labels(path)
    assert str(err.value).startswith(message.format(path=path))
