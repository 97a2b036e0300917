import datetime as dt

import pytest

from lstmkit.data import make_pairs, read_pairs, write_pairs
from lstmkit.data.transduction import (
    DATE_FORMATS,
    ISO_FORMAT,
    TASKS,
    WEEKDAYS,
    as_pairs,
    format_date,
)
from lstmkit.errors import ConfigError, DataError


def _parse_source(text):
    """Every format that reads ``text``, with the date it gives (the weekday, where written,
    must agree with the date)."""
    found = {}
    for fmt in DATE_FORMATS:
        try:
            day = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if "%A" in fmt:
            assert text.startswith(WEEKDAYS[day.weekday()]), text
        found[fmt] = day
    return found


def test_tasks():
    assert TASKS == ("date", "reverse")


def test_format_date_examples():
    day = dt.date(2021, 3, 3)
    written = [format_date(day, fmt) for fmt in DATE_FORMATS]
    assert written == [
        "March 3, 2021",
        "3 Mar 2021",
        "03/03/2021",
        "Wednesday 3 March 2021",
        "3 March 2021",
        "Mar 3 2021",
        "Wednesday, March 3, 2021",
        "03.03.2021",
    ]
    assert format_date(dt.date(1999, 12, 25), "%A, %B %d, %Y") == "Saturday, December 25, 1999"
    with pytest.raises(ConfigError, match=r"unknown date format '%Y'; expected one of"):
        format_date(day, "%Y")


def test_date_targets_parse_back_to_the_source_date():
    pairs = make_pairs("date", 2000, seed=3)
    assert len(pairs) == 2000
    used = set()
    for source, target in pairs:
        day = dt.datetime.strptime(target, ISO_FORMAT).date()
        assert target == day.isoformat() and dt.date(1900, 1, 1) <= day <= dt.date(2099, 12, 31)
        found = _parse_source(source)
        assert found, source
        # month-first 03/04/2021 vs day-first 03.04.2021 are told apart by the separator, so
        # every format that reads the source gives the same date
        assert set(found.values()) == {day}, (source, target, found)
        used.update(found)
    assert used == set(DATE_FORMATS)


def test_date_range_option():
    start, end = dt.date(2020, 2, 28), dt.date(2020, 3, 1)
    pairs = make_pairs("date", 200, seed=0, start=start, end=end)
    assert {t for _, t in pairs} == {"2020-02-28", "2020-02-29", "2020-03-01"}
    with pytest.raises(ConfigError, match=r"date option end 2020-02-28 is before start 2020-03-01"):
        make_pairs("date", 1, seed=0, start=end, end=start)
    with pytest.raises(ConfigError, match=r"date option start must be a datetime.date, got '2020'"):
        make_pairs("date", 1, seed=0, start="2020")


def test_reverse_is_exact():
    pairs = make_pairs("reverse", 500, seed=1)
    lengths = set()
    for source, target in pairs:
        assert target == source[::-1] and set(source) <= set("abcdefghijklmnopqrstuvwxyz")
        lengths.add(len(source))
    assert lengths == set(range(3, 13))
    short = make_pairs("reverse", 50, seed=1, min_len=2, max_len=2, alphabet="ab")
    assert {s for s, _ in short} <= {"aa", "ab", "ba", "bb"}
    assert all(t == s[::-1] for s, t in short)


def test_seeds_reproduce_and_differ():
    for task in TASKS:
        assert make_pairs(task, 50, seed=7) == make_pairs(task, 50, seed=7)
        assert make_pairs(task, 50, seed=7) != make_pairs(task, 50, seed=8)
        # a prefix: n only says how many are drawn
        assert make_pairs(task, 20, seed=7) == make_pairs(task, 50, seed=7)[:20]
    assert make_pairs("date", 0, seed=0) == []


def test_fixed_output_for_seed_zero():
    # pins the generator: a change here changes every demo's data
    assert make_pairs("date", 3, seed=0) == [
        ("Thursday, April 1, 2038", "2038-04-01"),
        ("13 July 1914", "1914-07-13"),
        ("23.06.2083", "2083-06-23"),
    ]
    assert make_pairs("reverse", 2, seed=0) == [
        ("ynbiqpmzj", "jzmpqibny"),
        ("lsgqejeydt", "tdyejeqgsl"),
    ]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("copy", 3), {"seed": 0}, r"unknown transduction task 'copy'; expected one of \['date', "),
        (("date", -1), {"seed": 0}, r"n \(the number of pairs\) must be an int >= 0, got -1"),
        (("date", 2.0), {"seed": 0}, r"n \(the number of pairs\) must be an int >= 0, got 2.0"),
        (("date", 2), {"seed": "1"}, r"seed must be an integer, got '1'"),
        (("date", 2), {"seed": 0, "min_len": 3}, r"unknown option\(s\) \['min_len'\] for task "),
        (("reverse", 2), {"seed": 0, "min_len": 0}, r"min_len must be a positive int, got 0"),
        (("reverse", 2), {"seed": 0, "min_len": 5, "max_len": 4}, r"max_len 4 is below min_len 5"),
        (("reverse", 2), {"seed": 0, "alphabet": "a b"}, r"must not contain whitespace .* ' '"),
    ],
)
def test_bad_arguments(args, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_pairs(*args, **kwargs)


def test_write_pairs_tsv(tmp_path):
    pairs = make_pairs("date", 30, seed=2) + make_pairs("reverse", 30, seed=2)
    path = write_pairs(tmp_path / "sub" / "pairs.tsv", pairs)
    assert path == tmp_path / "sub" / "pairs.tsv"
    lines = path.read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == "" and [tuple(line.split("\t")) for line in lines[:-1]] == pairs
    assert [p.name for p in path.parent.iterdir()] == ["pairs.tsv"]  # no temporary left


def test_write_pairs_reads_back(tmp_path):
    pairs = make_pairs("date", 20, seed=4)
    assert read_pairs(write_pairs(tmp_path / "p.tsv", pairs)) == pairs


def test_read_pairs_skips_blank_lines(tmp_path):
    pairs = [("a b", "x"), ("ça", "ünï")]
    path = write_pairs(tmp_path / "p.tsv", pairs)
    path.write_text(path.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    assert read_pairs(path) == pairs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\tb\nno tab here\n", r"line 2: expected source<TAB>target \(one tab\), found no tab"),
        ("a\tb\nc\td\te\n", r"line 2: expected source<TAB>target \(one tab\), found 2 tabs"),
        ("a\tb\n\n \tb\n", "line 3: the source side is empty"),
        ("a\t \n", "line 1: the target side is empty"),
        ("\n\n", "holds no pairs"),
    ],
)
def test_bad_pairs_files(tmp_path, text, message):
    path = tmp_path / "bad.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_pairs(path)


def test_missing_pairs_file(tmp_path):
    with pytest.raises(DataError, match="pairs file .*nope.tsv does not exist"):
        read_pairs(tmp_path / "nope.tsv")


def test_as_pairs_reads_files_and_checks_lists(tmp_path):
    pairs = [("ab", "ba"), ("c", "c")]
    assert as_pairs(write_pairs(tmp_path / "p.tsv", pairs)) == pairs
    assert as_pairs([list(p) for p in pairs]) == pairs
    with pytest.raises(DataError, match=r"val item 0 must be a \(source, target\) pair"):
        as_pairs([("abc",)], "val")
    with pytest.raises(DataError, match="pairs item 1: the target side is empty"):
        as_pairs([("a", "b"), ("c", " ")])
    with pytest.raises(DataError, match="pairs holds no pairs"):
        as_pairs([])
    with pytest.raises(DataError, match="must be a path to a TSV file or a list"):
        as_pairs(3)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("a", "b"), ("a\tb", "c")], r"pair 1: source 'a\\tb' contains a tab or line break"),
        ([("a", "b\n")], r"pair 0: target 'b\\n' contains a tab or line break"),
        ([("a", " ")], r"pair 0: target must be a non-blank string, got ' '"),
        ([("a", "b", "c")], r"pair 0 must be \(source, target\), got \('a', 'b', 'c'\)"),
        ([("a", 3)], r"pair 0: target must be a non-blank string, got 3"),
    ],
)
def test_write_pairs_rejects_unwritable_pairs(tmp_path, pairs, message):
    path = tmp_path / "p.tsv"
    path.write_text("old\tcontent\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        write_pairs(path, pairs)
    assert path.read_text(encoding="utf-8") == "old\tcontent\n"  # left as it was


def test_held_out_pairs_avoid_the_excluded_sources_and_are_seeded():
    from lstmkit.data.transduction import held_out_pairs

    train = make_pairs("date", 200, seed=0)
    seen = {src for src, _ in train}
    test = held_out_pairs("date", 100, seed=1, exclude=seen)
    assert len(test) == 100 and not seen & {src for src, _ in test}
    assert test == held_out_pairs("date", 100, seed=1, exclude=seen)
    everything = {
        src for src, _ in make_pairs("reverse", 50, seed=0, alphabet="ab", min_len=1, max_len=2)
    }
    with pytest.raises(DataError, match="could not find 10 reverse pairs whose source is not"):
        held_out_pairs(
            "reverse", 10, seed=0, exclude=everything, alphabet="ab", min_len=1, max_len=2
        )
