"""``Seq2Seq``: text-to-text transduction with a BiLSTM encoder and an attentional LSTM decoder.

From pairs of texts (a list of ``(source, target)`` or a TSV file ``source<TAB>target``) to a
trained, evaluated, saved model::

    s2s = Seq2Seq(tokenizer="char", attention="additive", hidden_size=128)
    s2s.fit("train.tsv", val="val.tsv", max_epochs=30, seed=0)
    s2s.translate(["March 5, 2021"])                   # greedy: ["2021-03-05"]
    s2s.translate(texts, beam_size=5, length_penalty=0.6)
    s2s.evaluate("test.tsv")             # a DataFrame: exact match, BLEU, chrF (sacrebleu)
    src, out, weights = s2s.attention_weights("March 5, 2021")  # (len(out), len(src))
    s2s.save("dates-model"); s2s = Seq2Seq.load("dates-model")

The network (:mod:`lstmkit.tasks.seq2seq.net`): source embedding, bidirectional
:class:`lstmkit.nn.LSTM` run with the true lengths, a bridge from each layer's final forward and
backward states to the decoder's initial state, a stack of :class:`lstmkit.nn.LSTMCell` decoding
one token at a time with global attention (Luong et al., 2015; score function additive as in
Bahdanau et al., 2015, or multiplicative "general"), optional input feeding, and teacher forcing
(a ratio below 1 feeds the model's own previous prediction some of the time).

Source and target each have their own tokeniser (same kind unless ``target_tokenizer`` says
otherwise), fitted on the training pairs and saved with the model. Pairs files are read by
:func:`lstmkit.data.transduction.read_pairs`.
"""

from __future__ import annotations

import logging
import math
import numbers
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from lstmkit._checks import choice, described, positive_int, probability
from lstmkit.data.text_batches import pad_ids
from lstmkit.data.tokenizers import TOKENIZER_KINDS, Tokenizer, make_tokenizer, tokenizer_from_dict
from lstmkit.data.transduction import as_pairs
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.base import Task, metrics_frame
from lstmkit.tasks.lstm_options import check_lstm_options
from lstmkit.tasks.seq2seq.metrics import translation_scores
from lstmkit.tasks.seq2seq.net import (
    ATTENTIONS,
    LSTM_OPTIONS,
    Hypotheses,
    Seq2SeqNet,
    beam_search,
    greedy_search,
)
from lstmkit.train import FitResult, History, TrainConfig, fit, seed_everything

log = logging.getLogger(__name__)

# Inputs translated per forward pass in translate/evaluate (beam search multiplies this by k).
DECODE_BATCH = 256
INIT_KEYS = (
    "tokenizer",
    "target_tokenizer",
    "tokenizer_options",
    "attention",
    "hidden_size",
    "embed_size",
    "num_layers",
    "dropout",
    "attn_size",
    "input_feeding",
    "teacher_forcing",
    "val_size",
)

Pairs = Sequence[tuple[str, str]]


class Seq2Seq(Task):
    """Sequence-to-sequence model for text pairs.

    Args:
        tokenizer: ``"char"``, ``"word"`` or ``"bpe"`` for the source (and the target, unless
            ``target_tokenizer`` is given).
        target_tokenizer: the target's kind when it differs from the source's.
        tokenizer_options: passed to both tokenisers (e.g. ``{"vocab_size": 4000}`` for BPE).
        attention: ``"additive"`` (Bahdanau score), ``"multiplicative"`` (Luong "general") or
            ``"none"`` (the decoder sees the source only through its initial state).
        hidden_size: units per direction of the encoder and of the decoder.
        embed_size: source and target embedding sizes.
        num_layers: stacked layers in encoder and decoder (the bridge maps layer to layer).
        dropout: on embeddings, between layers and before the output layer.
        attn_size: hidden size of the additive score (default ``hidden_size``).
        input_feeding: feed the previous attentional vector to the decoder's input (Luong).
        teacher_forcing: probability of feeding the true previous token while training (per
            sequence and step); below 1 the model's own prediction is fed otherwise.
        val_size: share of the training pairs held out for early stopping when ``fit`` gets no
            ``val`` (0: none).
        **lstm_options: passed to the encoder's :class:`lstmkit.nn.LSTM` and to every decoder
            :class:`lstmkit.nn.LSTMCell` alike: ``peephole``, ``coupled_gates``, ``layer_norm``,
            ``forget_gate``, ``forget_bias``, ``init`` (the options both take).
    """

    TASK = "Seq2Seq"
    INIT_KEYS = INIT_KEYS

    def __init__(
        self,
        tokenizer: str = "char",
        *,
        target_tokenizer: str | None = None,
        tokenizer_options: dict[str, Any] | None = None,
        attention: str = "additive",
        hidden_size: int = 128,
        embed_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        attn_size: int | None = None,
        input_feeding: bool = True,
        teacher_forcing: float = 1.0,
        val_size: float = 0.1,
        **lstm_options: Any,
    ) -> None:
        self.tokenizer = choice("tokenizer", tokenizer, TOKENIZER_KINDS)
        self.target_tokenizer = (
            None
            if target_tokenizer is None
            else choice("target_tokenizer", target_tokenizer, TOKENIZER_KINDS)
        )
        self.attention = choice("attention", attention, ATTENTIONS)
        self.tokenizer_options = dict(tokenizer_options or {})
        make_tokenizer(tokenizer, **self.tokenizer_options)  # bad options fail now, not in fit
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.embed_size = positive_int("embed_size", embed_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.dropout = probability("dropout", dropout)
        self.attn_size = None if attn_size is None else positive_int("attn_size", attn_size)
        self.input_feeding = bool(input_feeding)
        self.teacher_forcing = probability("teacher_forcing", teacher_forcing, top_closed=True)
        self.val_size = probability("val_size", val_size)
        if "seed" in lstm_options:
            raise ConfigError("seed is a training option: pass it to fit(..., seed=...)")
        self.lstm_options = check_lstm_options(lstm_options, LSTM_OPTIONS)
        # Set by fit (or load):
        self.net: Seq2SeqNet | None = None
        self.src_tok: Tokenizer | None = None
        self.tgt_tok: Tokenizer | None = None
        self.max_target_len = 0
        self.history: History | None = None
        self.fit_result: FitResult | None = None

    def __repr__(self) -> str:
        state = "fitted" if self.net is not None else "not fitted"
        return (
            f"Seq2Seq(tokenizer={self.tokenizer!r}, attention={self.attention!r}, "
            f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, {state})"
        )

    def _is_fitted(self) -> bool:
        return self.net is not None and self.src_tok is not None and self.tgt_tok is not None

    # --- data ------------------------------------------------------------------------------

    def _encode_sources(self, texts: Sequence[str]) -> tuple[Tensor, Tensor]:
        assert self.src_tok is not None
        ids = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise DataError(f"text {i} is {described(text)}; expected a string")
            encoded = self.src_tok.encode(text)
            if not encoded:
                raise DataError(f"text {i} ({text!r}) has no tokens; a source cannot be empty")
            ids.append(encoded)
        return pad_ids(ids, self.src_tok.pad_id)

    def _tensors(self, pairs: Pairs) -> tuple[Tensor, ...]:
        """``(src, src_len, tgt_in, tgt_out)``: padded ids; ``tgt_in`` = BOS + target,
        ``tgt_out`` = target + EOS (pad 0 is ignored by the loss)."""
        assert self.tgt_tok is not None
        src, src_len = self._encode_sources([s for s, _ in pairs])
        tgt = [self.tgt_tok.encode(t) for _, t in pairs]
        bos, eos = self.tgt_tok.bos_id, self.tgt_tok.eos_id
        tgt_in, _ = pad_ids([[bos, *ids] for ids in tgt], self.tgt_tok.pad_id)
        tgt_out, _ = pad_ids([[*ids, eos] for ids in tgt], self.tgt_tok.pad_id)
        return src, src_len, tgt_in, tgt_out

    # --- training --------------------------------------------------------------------------

    def fit(
        self,
        pairs: Any,
        val: Any = None,
        *,
        config: TrainConfig | None = None,
        **train_options: Any,
    ) -> Seq2Seq:
        """Train on ``pairs`` (a list of ``(source, target)`` or a TSV path); returns ``self``.

        ``val`` (same forms) drives early stopping and the choice of the best epoch; without it,
        ``val_size`` of the pairs are held out at random. Training options are a
        :class:`~lstmkit.train.TrainConfig` and/or its fields as keywords (``max_epochs``,
        ``lr``, ``batch_size``, ``patience``, ``seed``, ``run_dir``, ...); the defaults are
        TrainConfig's but for ``lr=2e-3``. ``seed`` also draws the validation split.
        """
        base = config or TrainConfig(lr=2e-3)
        train_config = base.replace(**train_options) if train_options else base
        train_pairs = as_pairs(pairs, "pairs")
        val_pairs = None if val is None else as_pairs(val, "val")
        if val_pairs is None and self.val_size > 0 and len(train_pairs) >= 10:
            order = list(range(len(train_pairs)))
            random.Random(train_config.seed).shuffle(order)
            n_val = max(1, int(round(self.val_size * len(train_pairs))))
            val_pairs = [train_pairs[i] for i in order[:n_val]]
            train_pairs = [train_pairs[i] for i in order[n_val:]]

        target_kind = self.target_tokenizer or self.tokenizer
        self.src_tok = make_tokenizer(self.tokenizer, **self.tokenizer_options)
        self.tgt_tok = make_tokenizer(target_kind, **self.tokenizer_options)
        self.src_tok.fit([s for s, _ in train_pairs])
        self.tgt_tok.fit([t for _, t in train_pairs])
        train_t = self._tensors(train_pairs)
        val_t = self._tensors(val_pairs) if val_pairs else None
        self.max_target_len = int(train_t[3].shape[1]) - 1  # without EOS
        log.info(
            "Seq2Seq: %d training pairs, %d validation pairs, vocabularies %d -> %d",
            len(train_pairs),
            len(val_pairs or ()),
            self.src_tok.vocab_size,
            self.tgt_tok.vocab_size,
        )

        seed_everything(train_config.seed)
        self.net = self._build_net()
        pad = self.tgt_tok.pad_id

        def loss_fn(model: Seq2SeqNet, batch: tuple[Tensor, ...]) -> Tensor:
            src, src_len, tgt_in, tgt_out = batch
            # rows come padded to the longest pair overall; cut to this batch's longest
            s_max = int(src_len.max())
            t_max = int((tgt_out != pad).sum(1).max())
            logits = model(src[:, :s_max], src_len, tgt_in[:, :t_max]).float()
            return torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                tgt_out[:, :t_max].reshape(-1),
                ignore_index=pad,
            )

        return self._train_net(fit, loss_fn, train_t, val_t, train_config)

    def _build_net(self) -> Seq2SeqNet:
        assert self.src_tok is not None and self.tgt_tok is not None
        return Seq2SeqNet(
            self.src_tok.vocab_size,
            self.tgt_tok.vocab_size,
            embed_size=self.embed_size,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            attention=self.attention,
            attn_size=self.attn_size,
            input_feeding=self.input_feeding,
            teacher_forcing=self.teacher_forcing,
            pad_id=self.tgt_tok.pad_id,
            lstm_options=self.lstm_options,
        )

    # --- decoding --------------------------------------------------------------------------

    @torch.no_grad()
    def _search(
        self,
        texts: Sequence[str],
        *,
        beam_size: int,
        max_len: int | None,
        length_penalty: float,
        keep_attention: bool = False,
    ) -> Hypotheses:
        assert self.net is not None and self.tgt_tok is not None and self.src_tok is not None
        beam_size = positive_int("beam_size", beam_size)
        if max_len is not None:
            max_len = positive_int("max_len", max_len)
        if (
            isinstance(length_penalty, bool)
            or not isinstance(length_penalty, numbers.Real)
            or not 0 <= length_penalty < math.inf  # NaN fails this too
        ):
            raise ConfigError(
                f"length_penalty must be a finite number >= 0, got {length_penalty!r}"
            )
        for i, text in enumerate(texts):  # before the tokenizer sees them
            if not isinstance(text, str):
                raise DataError(f"text {i} is {text!r} ({type(text).__name__}), expected a string")
        self.net.eval()
        unknown = sorted({p for t in texts for p in self.src_tok.unknown(t)})
        if unknown:
            log.warning(
                "source pieces unseen in training map to <unk>: %s", ", ".join(map(repr, unknown))
            )
        src_all, len_all = self._encode_sources(texts)
        # decode in batches of similar source length: less padding
        order = sorted(range(len(texts)), key=lambda i: int(len_all[i]))
        result = Hypotheses([[]] * len(texts), [0.0] * len(texts), [None] * len(texts))
        bos, eos = self.tgt_tok.bos_id, self.tgt_tok.eos_id
        for start in range(0, len(order), DECODE_BATCH):
            rows = order[start : start + DECODE_BATCH]
            index = torch.tensor(rows)
            src_len = len_all[index]
            src = src_all[index][:, : int(src_len.max())]
            limit = max_len or max(self.max_target_len, 2 * int(src_len.max())) + 10
            memory, state = self.net.encode(src, src_len)
            if beam_size == 1:
                found = greedy_search(
                    self.net.step_fn(memory),
                    state,
                    len(rows),
                    bos=bos,
                    eos=eos,
                    max_len=limit,
                    keep_attention=keep_attention,
                )
            else:
                state = tuple(s.repeat_interleave(beam_size, 0) for s in state)
                found = beam_search(
                    self.net.step_fn(memory.repeat(beam_size)),
                    state,
                    len(rows),
                    bos=bos,
                    eos=eos,
                    max_len=limit,
                    beam_size=beam_size,
                    alpha=float(length_penalty),
                    keep_attention=keep_attention,
                )
            for j, i in enumerate(rows):
                result.ids[i] = found.ids[j]
                result.scores[i] = found.scores[j]
                result.attention[i] = found.attention[j]
        return result

    def translate(
        self,
        texts: str | Sequence[str],
        *,
        beam_size: int = 1,
        max_len: int | None = None,
        length_penalty: float = 0.0,
    ) -> list[str]:
        """Translate each text; a single string gives a one-element list.

        ``beam_size=1`` is greedy decoding; above 1, batched beam search whose final choice
        maximises ``log P(y) / ((5 + |y|) / 6) ** length_penalty`` (Wu et al., 2016; |y| counts
        the EOS token; 0 = plain log-probability, larger values favour longer outputs).
        ``max_len``: most output tokens; by default ``max(longest training target,
        2 * longest source in the batch) + 10``.
        """
        self._require_fitted("translate")
        assert self.tgt_tok is not None
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts:
            return []
        found = self._search(
            texts, beam_size=beam_size, max_len=max_len, length_penalty=length_penalty
        )
        return [self.tgt_tok.decode(ids) for ids in found.ids]

    predict = translate

    def attention_weights(
        self, text: str, *, max_len: int | None = None
    ) -> tuple[list[str], list[str], np.ndarray]:
        """Greedy-decode ``text``; returns ``(source tokens, output tokens, weights)`` with
        ``weights[i, j]`` the attention of output step i on source token j (rows sum to 1).
        The output tokens end with ``<eos>`` when the decoder produced it."""
        self._require_fitted("attention_weights")
        assert self.src_tok is not None and self.tgt_tok is not None
        if self.attention == "none":
            raise ConfigError("this model has no attention (attention='none'); nothing to show")
        if not isinstance(text, str):
            raise DataError(f"text must be a string, got {described(text)}")
        found = self._search(
            [text], beam_size=1, max_len=max_len, length_penalty=0.0, keep_attention=True
        )
        ids = found.ids[0]
        weights = found.attention[0]
        assert weights is not None
        out_ids = ids + ([self.tgt_tok.eos_id] if weights.shape[0] > len(ids) else [])
        out_tokens = [self.tgt_tok.decode([i], skip_special=False) for i in out_ids]
        src_tokens = self.src_tok.tokenize(text)
        return src_tokens, out_tokens, weights.double().numpy()

    # --- evaluation ------------------------------------------------------------------------

    def evaluate(
        self,
        pairs: Any,
        *,
        beam_size: int = 1,
        length_penalty: float = 0.0,
        bleu_tokenize: str | None = None,
    ) -> pd.DataFrame:
        """Exact match, corpus BLEU and chrF (both from ``sacrebleu``, 0-100) on ``pairs``: a
        one-row DataFrame (row ``"model"``, columns ``exact_match``, ``bleu``, ``chrf``).

        ``exact_match`` is the share (0-1) of outputs equal to the reference. References are
        first written as the target tokeniser would reproduce them (encoded, then decoded with
        ``<unk>`` kept): for character targets that is the reference itself; for word targets,
        lower-casing and single spaces between tokens are not counted as errors; a piece the
        tokeniser cannot represent stays ``<unk>``, which no output matches.
        ``bleu_tokenize`` is sacrebleu's tokeniser: by default ``"char"`` when the target
        tokeniser is character-level (so BLEU counts character n-grams), else ``"13a"``.
        """
        self._require_fitted("evaluate")
        data = as_pairs(pairs, "pairs")
        hyps = self.translate(
            [s for s, _ in data], beam_size=beam_size, length_penalty=length_penalty
        )
        tok = self.tgt_tok
        assert tok is not None
        refs = [tok.decode(tok.encode(t), skip_special=False) for _, t in data]
        if bleu_tokenize is None:
            target_kind = self.target_tokenizer or self.tokenizer
            bleu_tokenize = "char" if target_kind == "char" else "13a"
        return metrics_frame({"model": translation_scores(hyps, refs, bleu_tokenize=bleu_tokenize)})

    # --- saving: the Task hooks ----------------------------------------------------------------

    def _saved_config(self) -> dict[str, Any]:
        assert self.src_tok is not None and self.tgt_tok is not None
        return {
            **self.get_config(),
            "src_vocab": self.src_tok.vocab_size,
            "tgt_vocab": self.tgt_tok.vocab_size,
            "max_target_len": self.max_target_len,
        }

    def _state(self) -> dict[str, Any]:
        assert self.src_tok is not None and self.tgt_tok is not None
        return {
            "source_tokenizer": self.src_tok.to_dict(),
            "target_tokenizer": self.tgt_tok.to_dict(),
            "history": self.history.to_dict() if self.history else None,
        }

    def _restore(self, state: dict[str, Any], config: dict[str, Any]) -> None:
        # Models saved before seed became a fit option keep a "seed" in config.json, which
        # _from_config (the constructor's keys only) leaves aside.
        self.src_tok = tokenizer_from_dict(state["source_tokenizer"])
        self.tgt_tok = tokenizer_from_dict(state["target_tokenizer"])
        self.max_target_len = int(config["max_target_len"])
        for side, tok in (("src", self.src_tok), ("tgt", self.tgt_tok)):
            if tok.vocab_size != int(config[f"{side}_vocab"]):
                raise ValueError(
                    f"the saved {side} tokenizer has {tok.vocab_size} tokens, the config "
                    f"says {config[f'{side}_vocab']}"
                )
        self.history = History.from_dict(state["history"]) if state.get("history") else None
        self.net = self._build_net()

    def _weights(self) -> nn.Module:
        assert self.net is not None
        return self.net


__all__ = ["Seq2Seq"]
