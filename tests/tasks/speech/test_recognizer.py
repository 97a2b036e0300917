"""The recogniser end to end on the bundled recordings, its options, and saving."""

from __future__ import annotations

import json

import pytest

from lstmkit.data.spoken_digits import bundled_digits_dir, make_digit_strings, read_transcripts
from lstmkit.errors import ConfigError
from lstmkit.tasks import SpeechRecognizer


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="decoder must be one of 'greedy', 'beam'"):
        SpeechRecognizer(decoder="viterbi")
    with pytest.raises(ConfigError, match="alphabet must not repeat a character"):
        SpeechRecognizer(alphabet="0123 3")
    with pytest.raises(ConfigError, match="hidden_size must be a positive int"):
        SpeechRecognizer(hidden_size=0)
    with pytest.raises(ConfigError, match=r"vtlp must be a number in \[0, 0.5\), got 0.7"):
        SpeechRecognizer(vtlp=0.7)


@pytest.mark.slow
def test_connected_digits_of_bundled_speakers_are_learned_and_survive_saving(tmp_path):
    # Seen speakers, unseen strings of the same recordings: a check of the pipeline (features,
    # CTC, decoding, saving), not of speaker independence (docs/speech.md measures that).
    make_digit_strings(bundled_digits_dir(), tmp_path / "train", n_utterances=160, max_digits=4)
    make_digit_strings(
        bundled_digits_dir(), tmp_path / "test", n_utterances=30, max_digits=4, seed=1
    )
    model = SpeechRecognizer(hidden_size=64, num_layers=1, spec_augment=False, speed_perturb=False)
    model.fit(tmp_path / "train", max_epochs=20, lr=5e-3, batch_size=8, enable_progress_bar=False)
    scores = model.evaluate(tmp_path / "test").loc["model"]
    assert scores["wer"] <= 0.1 and scores["cer"] <= 0.1
    greedy = model.evaluate(tmp_path / "test", decoder="greedy").loc["model"]
    assert greedy["wer"] <= 0.15

    model.save(tmp_path / "model")
    loaded = SpeechRecognizer.load(tmp_path / "model")
    wavs = [path for path, _ in read_transcripts(tmp_path / "test")][:8]
    assert loaded.predict(wavs) == model.predict(wavs)
    assert loaded.tokens == list(" 0123456789")
    assert "tokens ' 0123456789'" in repr(loaded)
    # a model saved before the vtlp option loads with it off, as it was trained
    config_path = tmp_path / "model" / "config.json"
    saved = json.loads(config_path.read_text())
    del saved["config"]["vtlp"]
    config_path.write_text(json.dumps(saved))
    old = SpeechRecognizer.load(tmp_path / "model")
    assert old.vtlp == 0.0 and old.predict(wavs) == model.predict(wavs)


def test_leave_one_speaker_out_trains_on_the_others_and_tests_the_one(tmp_path):
    from lstmkit.tasks.speech.loso import leave_one_speaker_out, summarise

    folds = leave_one_speaker_out(
        bundled_digits_dir(),
        tmp_path,
        held_out=["jackson"],
        n_train=6,
        n_val=2,
        n_test=3,
        val_index=1,
        model_options={"hidden_size": 4, "num_layers": 1, "n_mels": 16},
        fit_options={"max_epochs": 1},
    )
    assert folds["held_out"].tolist() == ["jackson"]
    train = (tmp_path / "jackson" / "train" / "transcripts.tsv").read_text()
    test = (tmp_path / "jackson" / "test" / "transcripts.tsv").read_text()
    assert "george" in train and "jackson" not in train
    assert "jackson" in test and "george" not in test
    table = summarise(folds)
    assert list(table.index) == ["jackson", "mean"]
    with pytest.raises(ConfigError, match=r"held_out speakers \['nobody'\] are not among"):
        leave_one_speaker_out(bundled_digits_dir(), tmp_path, held_out=["nobody"])
