"""The .ts reader: univariate and multivariate, equal and unequal length, missing values, the
header; and each malformed file gets a DataError naming the file and the line."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.data.ts_format import is_ts_path, read_ts, write_ts
from lstmkit.errors import DataError

HEADER = """# a comment
@problemName toy
@timeStamps false
@missing true
@univariate {uni}
@equalLength false
@classLabel true a b
@data
"""


def write(tmp_path, body: str, uni: str = "true", header: str | None = None):
    path = tmp_path / "toy.ts"
    path.write_text((HEADER.format(uni=uni) if header is None else header) + body)
    return path


def test_univariate_unequal_with_missing(tmp_path):
    data = read_ts(write(tmp_path, "1,2,3:a\n4,?,6,7,8:b\n\n0.5,NaN:a\n"))
    assert [x.shape for x in data.series] == [(3, 1), (5, 1), (1, 1)]  # trailing NaN cut
    assert np.isnan(data.series[1][1, 0]) and data.series[1][4, 0] == 8
    assert data.labels == ["a", "b", "a"] and data.class_labels == ["a", "b"]
    assert data.header["problemname"] == "toy" and data.ids == ["0", "1", "2"]


def test_multivariate_channels_of_unequal_length(tmp_path):
    data = read_ts(write(tmp_path, "1,2,3:4,5:b\n1,2:3,4:a\n", uni="false"))
    assert data.n_channels == 2
    first = data.series[0]
    assert first.shape == (3, 2) and np.isnan(first[2, 1]) and first[1, 1] == 5


def test_no_labels(tmp_path):
    header = "@problemName p\n@classLabel false\n@data\n"
    data = read_ts(write(tmp_path, "1,2,3\n4,5\n", header=header))
    assert data.labels is None and len(data.series) == 2


def test_round_trip(tmp_path):
    series = [np.arange(6.0).reshape(3, 2), np.array([[1.0, np.nan], [2.0, 3.0]])]
    path = write_ts(tmp_path / "r.ts", series, ["x", "y"])
    back = read_ts(path)
    assert back.labels == ["x", "y"]
    np.testing.assert_array_equal(back.series[0], series[0])
    np.testing.assert_array_equal(back.series[1], series[1])


@pytest.mark.parametrize(
    ("body", "header", "message"),
    [
        ("1,2:3,4:a\n1,2:b\n", None, r"line 10: 1 channel\(s\), but the series on line 9 has 2"),
        ("1,2,3:c\n", None, r"line 9: label 'c' is not one of the @classLabel labels \['a', 'b'\]"),
        ("?,?:a\n", None, r"line 9: channel\(s\) \[1\] of this series are empty"),
        (":a\n", None, r"line 9: channel\(s\) \[1\] of this series are empty"),
        ("1,x,3:a\n", None, r"line 9: channel 1 holds 'x', which is not a number"),
        ("1,2,3\n", None, r"line 9: no label"),
        ("", "@problemName p\n@classLabel true a\n", "no @data line"),
        ("1,2,3:a\n", "@problemName p\n", "line 2: data before the @data line"),
        ("", None, "no series after the @data line"),
        ("1,2:a\n", "@timeStamps true\n@data\n", "time-stamped"),
        ("1,2:a\n", "1,2,3\n@data\n", "line 1: data before the @data line"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, body, header, message):
    path = write(tmp_path, body, header=header)
    with pytest.raises(DataError, match=message) as info:
        read_ts(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_ts(tmp_path / "nope.ts")


def test_a_gzipped_ts_file_reads_as_the_plain_one(tmp_path):
    import gzip

    plain = write_ts(tmp_path / "g.ts", [np.arange(3.0), np.ones(2)], ["a", "b"])
    packed = tmp_path / "g.ts.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    want, got = read_ts(plain), read_ts(packed)
    assert got.labels == want.labels == ["a", "b"]
    for a, b in zip(got.series, want.series, strict=True):
        np.testing.assert_array_equal(a, b)
    assert is_ts_path(packed) and is_ts_path(plain) and not is_ts_path(tmp_path / "g.csv")


def test_a_corrupt_gzipped_ts_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.ts.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(DataError, match=r"could not read .*bad\.ts\.gz"):
        read_ts(bad)
