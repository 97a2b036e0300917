"""The connected-digit recipe: seeded, one speaker per utterance, real WAV files, transcripts
that match the recordings; the bundled subset with its licence."""

from __future__ import annotations

import pytest

from lstmkit.data.audio import read_audio
from lstmkit.data.spoken_digits import (
    bundled_digits_dir,
    list_recordings,
    make_digit_strings,
    read_transcripts,
    speakers_in,
)
from lstmkit.errors import DataError


def test_the_bundled_subset_is_small_and_carries_its_licence():
    folder = bundled_digits_dir()
    recordings = list_recordings(folder)
    assert len(recordings) == 40
    assert speakers_in(folder) == ["george", "jackson"]
    assert sum(r.path.stat().st_size for r in recordings) < 400_000
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "Free Spoken Digit Dataset" in readme and "CC BY-SA 4.0" in readme


def test_strings_are_seeded_one_speaker_each_and_read_back(tmp_path):
    kwargs = {"n_utterances": 6, "max_digits": 4, "seed": 3}
    path = make_digit_strings(bundled_digits_dir(), tmp_path / "a", **kwargs)
    make_digit_strings(bundled_digits_dir(), tmp_path / "b", **kwargs)
    lines = path.read_text().splitlines()
    assert lines[0] == "file\ttranscript\tspeaker"
    assert lines == (tmp_path / "b" / "transcripts.tsv").read_text().splitlines()
    assert (tmp_path / "a" / "wav" / "george_00000.wav").read_bytes() == (
        tmp_path / "b" / "wav" / "george_00000.wav"
    ).read_bytes()
    speakers = [line.split("\t")[2] for line in lines[1:]]
    assert speakers == ["george", "jackson"] * 3
    for audio, text in read_transcripts(tmp_path / "a"):
        digits = text.split(" ")
        assert 1 <= len(digits) <= 4 and all(d in "0123456789" for d in digits)
        assert read_audio(audio).size > 0.2 * 8000 * len(digits)  # real audio, not silence


def test_index_ranges_and_speakers_select_recordings(tmp_path):
    chosen = list_recordings(bundled_digits_dir(), speakers=["jackson"], indices=range(1, 2))
    assert {(r.speaker, r.index) for r in chosen} == {("jackson", 1)}
    assert [r.digit for r in chosen] == list(range(10))
    with pytest.raises(DataError, match=r"holds no recordings of speaker\(s\) \['nobody'\]"):
        list_recordings(bundled_digits_dir(), speakers=["jackson", "nobody"])


def test_malformed_transcript_files_name_the_line(tmp_path):
    (tmp_path / "transcripts.tsv").write_text("file\ttranscript\nmissing.wav\t4 0\n")
    with pytest.raises(DataError, match=r"transcripts\.tsv, line 2: no audio file"):
        read_transcripts(tmp_path)
    (tmp_path / "transcripts.tsv").write_text("path\ttext\n")
    with pytest.raises(DataError, match="must name the columns 'file' and 'transcript'"):
        read_transcripts(tmp_path)
    with pytest.raises(DataError, match="no transcript file"):
        read_transcripts(tmp_path / "nowhere")
