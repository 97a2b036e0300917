"""``SpeechRecognizer``: speech to text with a stacked BiLSTM trained by CTC (Graves et al. 2006).

From audio files and their transcripts to a trained, evaluated, saved recogniser::

    from lstmkit.data.spoken_digits import bundled_digits_dir, make_digit_strings
    make_digit_strings(bundled_digits_dir(), "digits", n_utterances=200, seed=0)
    asr = SpeechRecognizer(hidden_size=96, num_layers=2)
    asr.fit("digits", max_epochs=30, seed=0)      # a folder with transcripts.tsv, or pairs
    asr.predict(["a.wav", "b.wav"])               # ["4 0 7", "1"]
    asr.evaluate("test-digits")                   # a DataFrame: cer, wer, string_accuracy
    asr.save("asr-model"); asr = SpeechRecognizer.load("asr-model")

Audio (:func:`lstmkit.data.audio.read_audio`): PCM WAV with the standard library, other formats
with ``soundfile`` (``lstmkit[audio]``), mixed to mono, resampled to ``rate``. Features
(:mod:`lstmkit.tasks.speech.features`): ``n_mels`` log-mel energies per 10 ms frame (25 ms
window) from torch's STFT, normalised per utterance, then ``stack`` consecutive frames joined into
one (fewer, wider frames: ``stack`` times less LSTM work). Network (:mod:`.net`): a stacked
BiLSTM (any :class:`lstmkit.nn.LSTM` variant through ``**lstm_options``) and a linear layer
giving per-frame posteriors over the output tokens and the CTC blank. Output tokens are the
characters of the training transcripts (or ``alphabet``), so the task is not tied to digits.
Decoding (:mod:`.decoding`): ``"greedy"`` (best path) or ``"beam"`` (prefix beam search).

Input handling: a file that is not audio, has no samples or a rate below 1 kHz is a
:class:`DataError` naming it; a stereo file is mixed down (logged). A silent utterance (every
sample zero) is a :class:`DataError` in training data (nothing to learn a transcript from) and
transcribes to ``""`` with a warning in :meth:`predict`. A transcript with characters outside the
alphabet is a :class:`DataError` naming the utterance and the characters.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from lstmkit._checks import choice, number, positive_int, probability
from lstmkit.data.audio import is_silent, read_audio
from lstmkit.data.padding import BucketBatchSampler
from lstmkit.data.spoken_digits import read_transcripts
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.base import Task, metrics_frame
from lstmkit.tasks.lstm_options import check_lstm_options
from lstmkit.tasks.speech.decoding import beam_decode, greedy_decode
from lstmkit.tasks.speech.features import FeatureConfig, LogMel, stack_frames
from lstmkit.tasks.speech.frontend import FRONTENDS, ConvFrontEnd
from lstmkit.tasks.speech.metrics import SCALAR_METRICS, transcript_scores, word_confusions
from lstmkit.tasks.speech.net import (
    Collate,
    SpeechNet,
    Utterances,
    ctc_loss,
    min_frames,
    pad_batch,
)
from lstmkit.train import FitResult, History, TrainConfig, fit, seed_everything

log = logging.getLogger(__name__)

DECODERS = ("greedy", "beam")
SPEEDS = (0.9, 1.0, 1.1)  # speed perturbation factors (Kaldi's)
INIT_KEYS = (
    "hidden_size",
    "num_layers",
    "dropout",
    "rate",
    "n_mels",
    "stack",
    "alphabet",
    "spec_augment",
    "speed_perturb",
    "vtlp",
    "frontend",
    "decoder",
    "beam_width",
)

# one utterance: a name for messages, the samples, the transcript (None when predicting)
Item = tuple[str, np.ndarray, str | None]


def feature_config(rate: int, n_mels: int) -> FeatureConfig:
    """25 ms windows every 10 ms, the FFT the next power of two, mels up to half the rate."""
    win, hop = round(0.025 * rate), round(0.010 * rate)
    return FeatureConfig(
        rate=rate, n_fft=1 << (win - 1).bit_length(), win=win, hop=hop, n_mels=n_mels
    )


class SpeechRecognizer(Task):
    """Stacked BiLSTM + CTC speech recogniser over characters.

    Args:
        hidden_size: LSTM units per direction.
        num_layers: stacked BiLSTM layers.
        dropout: between LSTM layers and before the output layer.
        rate: the sample rate (Hz) audio is resampled to before the features.
        n_mels: mel channels per frame.
        stack: consecutive 10 ms frames joined into one network step (3: 30 ms steps).
        alphabet: the output characters (a string); ``None``: those of the training transcripts.
        spec_augment: mask random time spans and mel bands of training utterances (SpecAugment,
            Park et al. 2019, without time warping).
        speed_perturb: play each training utterance, each epoch, at a speed drawn from 0.9, 1.0
            and 1.1 (Ko et al. 2015): tempo and pitch change together, as between speakers.
        vtlp: vocal-tract-length perturbation (Jaitly & Hinton 2013): the mel axis of each
            training utterance, each epoch, stretched by a factor drawn from ``1 +- vtlp``, so
            formants move as between speakers with shorter or longer vocal tracts; 0: off.
        frontend: ``"none"`` (the features go straight into the BiLSTM) or ``"conv"``: two
            convolutions over (time, mel) with max-pooling along the mel axis before it
            (:class:`~.frontend.ConvFrontEnd`, CLDNN-style; needs ``n_mels >= 6``).
        decoder: ``"beam"`` (prefix beam search, default) or ``"greedy"``.
        beam_width: prefixes kept by the beam search.
        **lstm_options: passed to :class:`lstmkit.nn.LSTM` (``peephole``, ``layer_norm``,
            ``proj_size``, ``zoneout``, ``impl``, ...).
    """

    TASK = "SpeechRecognizer"
    INIT_KEYS = INIT_KEYS
    ADDED_KEYS = {"vtlp": 0.0, "frontend": "none"}

    def __init__(
        self,
        *,
        hidden_size: int = 96,
        num_layers: int = 2,
        dropout: float = 0.2,
        rate: int = 8000,
        n_mels: int = 40,
        stack: int = 3,
        alphabet: str | None = None,
        spec_augment: bool = True,
        speed_perturb: bool = True,
        vtlp: float = 0.0,
        frontend: str = "none",
        decoder: str = "beam",
        beam_width: int = 8,
        **lstm_options: Any,
    ) -> None:
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.dropout = probability("dropout", dropout)
        self.rate = positive_int("rate", rate)
        self.n_mels = positive_int("n_mels", n_mels)
        self.stack = positive_int("stack", stack)
        if alphabet is not None and (not isinstance(alphabet, str) or not alphabet):
            raise ConfigError(f"alphabet must be a non-empty string or None, got {alphabet!r}")
        if alphabet is not None and len(set(alphabet)) != len(alphabet):
            raise ConfigError(f"alphabet must not repeat a character, got {alphabet!r}")
        self.alphabet = alphabet
        self.spec_augment = bool(spec_augment)
        self.speed_perturb = bool(speed_perturb)
        self.vtlp = number("vtlp", vtlp)
        if not 0 <= self.vtlp < 0.5:
            raise ConfigError(f"vtlp must be a number in [0, 0.5), got {vtlp!r}")
        self.frontend = choice("frontend", frontend, FRONTENDS)
        if self.frontend == "conv" and self.n_mels < 6:
            raise ConfigError(
                f"frontend 'conv' pools the mel axis by 6 and needs n_mels >= 6, got {n_mels!r}"
            )
        self.decoder = choice("decoder", decoder, DECODERS)
        self.beam_width = positive_int("beam_width", beam_width)
        self.lstm_options = check_lstm_options(lstm_options, hidden_size=self.hidden_size)
        self.features = LogMel(feature_config(self.rate, self.n_mels))
        # Set by fit (or load):
        self.net: SpeechNet | None = None
        self.tokens: list[str] | None = None  # output characters; id = position + 1 (0: blank)
        self.history: History | None = None
        self.fit_result: FitResult | None = None

    def __repr__(self) -> str:
        state = f"tokens {''.join(self.tokens)!r}" if self.tokens else "not fitted"
        return (
            f"SpeechRecognizer(hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
            f"rate={self.rate}, decoder={self.decoder!r}, {state})"
        )

    def _is_fitted(self) -> bool:
        return self.net is not None and self.tokens is not None

    # --- reading ---------------------------------------------------------------------------------

    def _samples(self, audio: Any, name: str) -> np.ndarray:
        if isinstance(audio, (str, os.PathLike)):
            return read_audio(audio, self.rate)
        if isinstance(audio, (np.ndarray, Tensor)):
            samples = np.asarray(audio, dtype=np.float32)
            if samples.ndim != 1 or samples.size == 0:
                raise DataError(
                    f"{name}: samples must be a non-empty 1-D array (mono, at the model's rate "
                    f"{self.rate} Hz), got shape {samples.shape}"
                )
            return samples
        raise DataError(
            f"{name}: expected an audio file path or a 1-D array of samples, got "
            f"{type(audio).__name__}"
        )

    def read_items(self, data: Any, what: str, *, transcripts: bool) -> list[Item]:
        """Utterances from a folder with ``transcripts.tsv``, such a file, ``(audio, transcript)``
        pairs or (without transcripts) audio files / arrays; audio is a path or 1-D samples."""
        if isinstance(data, (str, os.PathLike)) and (
            transcripts or Path(data).is_dir() or Path(data).suffix == ".tsv"
        ):
            pairs: Sequence[Any] = read_transcripts(data)
        elif isinstance(data, (str, os.PathLike, np.ndarray, Tensor)):
            pairs = [data]
        else:
            pairs = list(data)
        if not pairs:
            raise DataError(f"{what} holds no utterances")
        items = []
        for i, pair in enumerate(pairs):
            if transcripts:
                if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                    raise DataError(f"{what}: item {i} must be an (audio, transcript) pair")
                audio, text = pair
                if not isinstance(text, str):
                    raise DataError(f"{what}: item {i} has transcript {text!r}, not a string")
            else:
                audio, text = (pair[0] if isinstance(pair, (tuple, list)) else pair), None
            name = str(audio) if isinstance(audio, (str, os.PathLike)) else f"{what} item {i}"
            items.append((name, self._samples(audio, name), text))
        return items

    def _encode(self, items: list[Item], what: str) -> list[list[int]]:
        assert self.tokens is not None
        index = {c: k + 1 for k, c in enumerate(self.tokens)}
        out = []
        for name, _, text in items:
            assert text is not None
            unknown = sorted({c for c in text if c not in index})
            if unknown:
                raise DataError(
                    f"{what}: the transcript of {name} ({text!r}) has characters "
                    f"{''.join(unknown)!r} outside the alphabet {''.join(self.tokens)!r}"
                )
            out.append([index[c] for c in text])
        return out

    def _features(self, items: list[Item], what: str, *, training: bool) -> list[Tensor]:
        feats = []
        for name, samples, _ in items:
            if training and is_silent(samples):
                raise DataError(f"{what}: {name} is silent (every sample is zero)")
            try:
                feats.append(self.features(samples))
            except DataError as err:
                raise DataError(f"{name}: {err}") from None
        return feats

    # --- training --------------------------------------------------------------------------------

    def fit(
        self, train: Any, val: Any = None, *, config: TrainConfig | None = None, **options: Any
    ) -> SpeechRecognizer:
        """Train on ``train`` (a folder with ``transcripts.tsv``, such a file, or ``(audio,
        transcript)`` pairs). ``val`` (same forms) drives early stopping and the choice of the
        best epoch. Training options are a :class:`~lstmkit.train.TrainConfig` and/or its fields
        as keywords (``max_epochs``, ``lr``, ``batch_size``, ``patience``, ``seed``, ...)."""
        base = config or TrainConfig()
        train_config = base.replace(**options) if options else base
        train_items = self.read_items(train, "training data", transcripts=True)
        val_items = (
            self.read_items(val, "validation data", transcripts=True) if val is not None else None
        )
        self.tokens = (
            list(self.alphabet)
            if self.alphabet is not None
            else sorted({c for _, _, text in train_items for c in text or ""})
        )
        if not self.tokens:
            raise DataError(
                "training data: every transcript is empty, so there is nothing to learn"
            )
        bs, seed = train_config.batch_size, train_config.seed
        train_loader = self._loader(train_items, "training data", bs, train=True, seed=seed)
        val_loader = (
            self._loader(val_items, "validation data", bs, train=False, seed=seed)
            if val_items is not None
            else None
        )
        log.info(
            "speech data: %d training utterances, %d validation, tokens %r",
            len(train_items),
            len(val_items or ()),
            "".join(self.tokens),
        )
        seed_everything(seed)
        self.net = self._build_net()

        def loss_fn(model: SpeechNet, batch: tuple[Tensor, ...]) -> Tensor:
            feats, lengths, targets, target_lengths = batch
            return ctc_loss(model(feats, lengths), lengths, targets, target_lengths)

        return self._train_net(fit, loss_fn, train_loader, val_loader, train_config)

    def _loader(
        self, items: list[Item], what: str, batch_size: int, *, train: bool, seed: int
    ) -> DataLoader:
        targets = self._encode(items, what)
        feats = self._features(items, what, training=True)
        frames = [-(-f.shape[0] // self.stack) for f in feats]
        short = [items[i][0] for i, t in enumerate(targets) if frames[i] < min_frames(t)]
        if short:
            log.warning(
                "%s: %d utterance(s) have fewer frames than their transcript needs (CTC gives "
                "them no loss): %s",
                what,
                len(short),
                short[:5],
            )
        perturb = train and self.speed_perturb
        data = Utterances(
            feats,
            targets,
            samples=[samples for _, samples, _ in items] if perturb else None,
            featurize=self.features,
        )
        sampler = BucketBatchSampler(frames, batch_size, shuffle=train, seed=seed)
        collate = Collate(
            data,
            stack=self.stack,
            augment=train and self.spec_augment,
            speeds=SPEEDS if perturb else (1.0,),
            warp=self.vtlp if train else 0.0,
            seed=seed,
        )
        return DataLoader(data, batch_sampler=sampler, collate_fn=collate)

    def _build_net(self) -> SpeechNet:
        assert self.tokens is not None
        return SpeechNet(
            n_features=self.n_mels * self.stack,
            n_tokens=len(self.tokens),
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            lstm_options=self.lstm_options,
            frontend=(ConvFrontEnd(self.n_mels, self.stack) if self.frontend == "conv" else None),
        )

    # --- prediction ------------------------------------------------------------------------------

    def posteriors(self, audio: Any, *, batch_size: int = 32) -> list[np.ndarray]:
        """Per-frame log-probabilities ``(frames, 1 + len(tokens))`` (column 0: the blank) of
        each utterance (paths or arrays, as :meth:`predict` takes them)."""
        self._require_fitted("posteriors")
        return self._posteriors(self.read_items(audio, "audio", transcripts=False), batch_size)

    def _posteriors(self, items: list[Item], batch_size: int) -> list[np.ndarray]:
        assert self.net is not None
        batch_size = positive_int("batch_size", batch_size)
        feats = [
            stack_frames(f, self.stack) for f in self._features(items, "audio", training=False)
        ]
        order = sorted(range(len(feats)), key=lambda i: feats[i].shape[0])
        out: list[np.ndarray] = [np.empty(0)] * len(feats)
        self.net.eval()
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                padded, lengths = pad_batch([feats[i] for i in rows])
                log_probs = self.net(padded, lengths)
                for row, i in enumerate(rows):
                    out[i] = log_probs[row, : int(lengths[row])].numpy()
        return out

    def _decode(self, log_probs: np.ndarray, decoder: str, beam_width: int) -> str:
        assert self.tokens is not None
        if decoder == "greedy":
            ids = greedy_decode(log_probs)
        else:
            ids = beam_decode(log_probs, beam_width)
        return "".join(self.tokens[k - 1] for k in ids)

    def predict(
        self,
        audio: Any,
        *,
        decoder: str | None = None,
        beam_width: int | None = None,
        batch_size: int = 32,
    ) -> list[str]:
        """One transcript per utterance: ``audio`` is a file path, a 1-D array of samples at
        ``rate``, or a list of them (or a transcript folder, whose transcripts are ignored).
        ``decoder`` and ``beam_width`` default to the model's."""
        self._require_fitted("predict")
        return self._transcribe(
            self.read_items(audio, "audio", transcripts=False), decoder, beam_width, batch_size
        )

    def _transcribe(
        self, items: list[Item], decoder: str | None, beam_width: int | None, batch_size: int
    ) -> list[str]:
        decoder = choice("decoder", decoder or self.decoder, DECODERS)
        beam_width = positive_int("beam_width", beam_width or self.beam_width)
        out = []
        for (name, samples, _), log_probs in zip(
            items, self._posteriors(items, batch_size), strict=True
        ):
            if is_silent(samples):
                log.warning("%s is silent (every sample is zero): transcribed as ''", name)
                out.append("")
            else:
                out.append(self._decode(log_probs, decoder, beam_width))
        return out

    # --- evaluation ------------------------------------------------------------------------------

    def compare(self, data: Any, *, decoder: str | None = None) -> list[tuple[str, str, str]]:
        """``(utterance, reference, transcript)`` for each utterance of transcribed ``data``."""
        self._require_fitted("compare")
        items = self.read_items(data, "evaluation data", transcripts=True)
        self._encode(items, "evaluation data")  # characters outside the alphabet: a DataError
        hyps = self._transcribe(items, decoder, None, 32)
        return [(name, text or "", hyp) for (name, _, text), hyp in zip(items, hyps, strict=True)]

    def report(self, data: Any, *, decoder: str | None = None) -> dict[str, Any]:
        """Every score on ``data``: :func:`~.metrics.transcript_scores`, the word (digit)
        confusion counts as ``{"ref -> hyp": n}``, and the per-utterance transcripts."""
        rows = self.compare(data, decoder=decoder)
        refs, hyps = [r for _, r, _ in rows], [h for _, _, h in rows]
        confusions = word_confusions(refs, hyps)
        return {
            **transcript_scores(refs, hyps),
            "confusions": {f"{r} -> {h}": n for (r, h), n in sorted(confusions.items())},
            "transcripts": [{"file": f, "reference": r, "transcript": h} for f, r, h in rows],
        }

    def evaluate(self, data: Any, *, decoder: str | None = None) -> pd.DataFrame:
        """Character error rate, word error rate (the digit error rate on digit strings) and
        string accuracy on ``data``: a one-row DataFrame (row ``"model"``)."""
        self._require_fitted("evaluate")
        scores = self.report(data, decoder=decoder)
        return metrics_frame({"model": {k: float(scores[k]) for k in SCALAR_METRICS}})

    # --- saving: the Task hooks ------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {
            "tokens": list(self.tokens or []),
            "history": self.history.to_dict() if self.history else None,
        }

    def _restore(self, state: dict[str, Any], config: dict[str, Any]) -> None:
        tokens = state["tokens"]
        if (
            not isinstance(tokens, list)
            or not tokens
            or not all(isinstance(t, str) and len(t) == 1 for t in tokens)
        ):
            raise ValueError(f"'tokens' must be a non-empty list of characters, got {tokens!r:.80}")
        self.tokens = tokens
        self.history = History.from_dict(state["history"]) if state.get("history") else None
        self.net = self._build_net()

    def _weights(self) -> nn.Module:
        assert self.net is not None
        return self.net


__all__ = ["DECODERS", "SpeechRecognizer"]
