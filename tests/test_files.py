"""atomic_write: the target appears whole or not at all."""

from __future__ import annotations

import pytest

from lstmkit._files import atomic_write


def test_writes_through_a_temporary_file(tmp_path):
    path = atomic_write(tmp_path / "sub" / "a.txt", lambda tmp: tmp.write_text("hello"))
    assert path.read_text() == "hello"
    assert [p.name for p in path.parent.iterdir()] == ["a.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")

    def half(tmp):
        tmp.write_text("ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
