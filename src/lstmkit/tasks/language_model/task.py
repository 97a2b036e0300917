"""``LanguageModel``: an LSTM language model over characters, words or BPE subwords.

From a text to a trained, evaluated, saved model that writes text::

    lm = LanguageModel(tokenizer="char", embed_size=64, hidden_size=256, num_layers=2)
    lm.fit(text, max_epochs=10, seed=0)       # the last 10% of the text is held out
    lm.evaluate(held_out)                     # DataFrame: rows model, unigram; cross_entropy,
                                              #   perplexity, bits_per_token, bits_per_char
    lm.perplexity(held_out)                   # the same as a dict, with token/character counts
    lm.generate("The ", 200, temperature=0.8, top_p=0.9, seed=0)
    lm.save("char-lm")
    lm = LanguageModel.load("char-lm")

The network (:mod:`lstmkit.tasks.language_model.net`) is the AWD-LSTM recipe (Merity, Keskar &
Socher, 2018) on lstmkit's LSTM, with the regularisers as options, all off unless asked for except
light locked dropout:

* ``embed_dropout`` — drops whole word types from the embedding matrix;
* ``input_dropout``, ``hidden_dropout``, ``output_dropout`` — locked (variational) dropout on the
  embeddings, between layers, and on the last layer's output;
* ``weight_drop`` — DropConnect on the recurrent matrices ``weight_hh`` (one mask per batch);
* ``ar``, ``tar`` — activation regularisation on the dropped last-layer outputs and temporal
  activation regularisation on the step-to-step change of the undropped ones;
* the LSTM's own options (``recurrent_dropout``, ``zoneout``, ``layer_norm``, ...) as
  ``**lstm_options``, passed to every layer.

Training reads the corpus as one stream (a ``<bos>`` first; for word and BPE models an ``<eos>``
ends every line), cut into ``batch_size`` parallel streams and read in windows of ``bptt`` tokens
with the state carried from window to window (:mod:`lstmkit.train.tbptt`); ``variable_bptt``
varies the window length per epoch as AWD-LSTM does.

Evaluation reads the text as one stream (``batch_size=1`` by default: every token is predicted with
the full history before it), so the loss is exactly the mean negative log-likelihood of every token
of the text (:mod:`lstmkit.tasks.language_model.metrics`).
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any, ClassVar

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit._checks import described, int_at_least, number, positive_int, probability
from lstmkit.data.corpus import read_text, split_tail
from lstmkit.data.tokenizers import TOKENIZER_KINDS, Tokenizer, make_tokenizer, tokenizer_from_dict
from lstmkit.errors import ConfigError, DataError
from lstmkit.nn.regularization import activation_regularization, temporal_activation_regularization
from lstmkit.tasks.base import Task, metrics_frame
from lstmkit.tasks.language_model.metrics import metric_rows, text_scores, unigram_nll
from lstmkit.tasks.language_model.net import LMNet
from lstmkit.tasks.language_model.sampling import check_sampling, sample_next
from lstmkit.tasks.lstm_options import LSTM_OPTIONS, check_lstm_options
from lstmkit.train import FitResult, History, TrainConfig, fit, seed_everything
from lstmkit.train.tbptt import CarriedState, batchify, stream_loader

log = logging.getLogger(__name__)

TASK = "LanguageModel"
# Training defaults that suit a language model better than TrainConfig's generic ones.
TRAIN_DEFAULTS: dict[str, Any] = {
    "batch_size": 32,
    "max_epochs": 20,
    "lr": 2e-3,
    "patience": 5,
    "gradient_clip": 1.0,
}
_PROBS = ("embed_dropout", "input_dropout", "hidden_dropout", "output_dropout", "weight_drop")
# The constructor's arguments that config.json keeps (besides lstm_options).
_INIT_KEYS = (
    "tokenizer",
    "tokenizer_options",
    "embed_size",
    "hidden_size",
    "num_layers",
    "tie_weights",
    *_PROBS,
    "ar",
    "tar",
    "bptt",
    "variable_bptt",
)
# The network sets proj_size itself (a tied single layer projects down to the embedding).
_LSTM_OPTIONS = tuple(o for o in LSTM_OPTIONS if o != "proj_size")


class LanguageModel(Task):
    """An LSTM language model (AWD-LSTM style) with truncated BPTT, evaluation and sampling.

    Args:
        tokenizer: ``"char"``, ``"word"`` or ``"bpe"``; ``tokenizer_options`` go to its class
            (e.g. ``{"lowercase": True}``, ``{"vocab_size": 4000}``), see
            :mod:`lstmkit.data.tokenizers`. The fitted tokenizer is ``tokenizer_``.
        embed_size, hidden_size, num_layers: the network. With ``tie_weights`` the decoder shares
            the embedding matrix and the last layer has ``embed_size`` units (a single layer
            wider than the embedding projects down to it instead).
        embed_dropout, input_dropout, hidden_dropout, output_dropout, weight_drop, ar, tar: the
            regularisers (see the module docstring).
        bptt: tokens per TBPTT window; ``variable_bptt`` draws window lengths around it per epoch.
        **lstm_options: passed to every :class:`lstmkit.nn.LSTM` layer (``recurrent_dropout``,
            ``zoneout``, ``layer_norm``, ``peephole``, ``impl``, ...; not ``proj_size``, which
            weight tying sets), checked here.
    """

    TASK: ClassVar[str] = TASK
    INIT_KEYS: ClassVar[tuple[str, ...]] = _INIT_KEYS

    def __init__(
        self,
        tokenizer: str = "char",
        *,
        tokenizer_options: dict[str, Any] | None = None,
        embed_size: int = 64,
        hidden_size: int = 256,
        num_layers: int = 2,
        tie_weights: bool = True,
        embed_dropout: float = 0.0,
        input_dropout: float = 0.1,
        hidden_dropout: float = 0.1,
        output_dropout: float = 0.1,
        weight_drop: float = 0.0,
        ar: float = 0.0,
        tar: float = 0.0,
        bptt: int = 100,
        variable_bptt: bool = True,
        **lstm_options: Any,
    ) -> None:
        if tokenizer not in TOKENIZER_KINDS:
            raise ConfigError(
                f"tokenizer must be one of {', '.join(map(repr, TOKENIZER_KINDS))}, "
                f"got {tokenizer!r}"
            )
        self.tokenizer = tokenizer
        self.tokenizer_options = dict(tokenizer_options or {})
        make_tokenizer(tokenizer, **self.tokenizer_options)  # check the options now
        self.embed_size = positive_int("embed_size", embed_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.tie_weights = bool(tie_weights)
        if self.tie_weights and self.num_layers == 1 and self.hidden_size < self.embed_size:
            raise ConfigError(
                f"tie_weights with one layer needs hidden_size >= embed_size (the layer's output "
                f"is projected to embed_size={self.embed_size}), got hidden_size="
                f"{self.hidden_size}; use tie_weights=False or a larger hidden_size"
            )
        self.embed_dropout = probability("embed_dropout", embed_dropout)
        self.input_dropout = probability("input_dropout", input_dropout)
        self.hidden_dropout = probability("hidden_dropout", hidden_dropout)
        self.output_dropout = probability("output_dropout", output_dropout)
        self.weight_drop = probability("weight_drop", weight_drop)
        self.ar = number("ar", ar)
        self.tar = number("tar", tar)
        self.bptt = positive_int("bptt", bptt)
        self.variable_bptt = bool(variable_bptt)
        self.lstm_options = check_lstm_options(
            lstm_options, _LSTM_OPTIONS, hidden_size=self.hidden_size
        )
        # Set by fit (or load):
        self.tokenizer_: Tokenizer | None = None
        self.net: LMNet | None = None
        self.history: History | None = None
        self.fit_result: FitResult | None = None
        self.unigram_counts: list[int] | None = None
        # Set by fit only (not saved): how the text was split.
        self.train_characters: int | None = None
        self.held_out: str | None = None

    def __repr__(self) -> str:
        state = "fitted" if self._is_fitted() else "not fitted"
        return (
            f"LanguageModel(tokenizer={self.tokenizer!r}, embed_size={self.embed_size}, "
            f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, {state})"
        )

    def _is_fitted(self) -> bool:
        return self.net is not None and self.tokenizer_ is not None

    def _fitted(self, what: str) -> tuple[Tokenizer, LMNet]:
        self._require_fitted(what)
        assert self.tokenizer_ is not None and self.net is not None
        return self.tokenizer_, self.net

    # --- text to ids --------------------------------------------------------------------------

    def _encode_stream(self, text: str, tokenizer: Tokenizer) -> list[int]:
        """``<bos>`` + the text's ids; word/BPE models end every line with ``<eos>``."""
        ids = [tokenizer.bos_id]
        if tokenizer.kind == "char":
            return ids + tokenizer.encode(text)
        for line in text.splitlines():
            ids += tokenizer.encode(line) + [tokenizer.eos_id]
        return ids

    def _decode_stream(self, ids: list[int], tokenizer: Tokenizer) -> str:
        """Ids back to text; ``<eos>`` becomes a line break for word/BPE models."""
        if tokenizer.kind == "char":
            return tokenizer.decode(ids)
        lines: list[list[int]] = [[]]
        for i in ids:
            if i == tokenizer.eos_id:
                lines.append([])
            else:
                lines[-1].append(i)
        return "\n".join(tokenizer.decode(line) for line in lines)

    # --- training -----------------------------------------------------------------------------

    def fit(
        self,
        text: str | os.PathLike[str],
        val_text: str | os.PathLike[str] | None = None,
        *,
        val_fraction: float = 0.1,
        seed: int | None = None,
        config: TrainConfig | None = None,
        **train_options: Any,
    ) -> LanguageModel:
        """Train on ``text`` (a string, or a ``Path`` to a UTF-8 file); returns ``self``.

        Without ``val_text`` the last ``val_fraction`` of the text (cut at a line break where
        there is one near, :func:`lstmkit.data.corpus.split_tail`) is held out for validation and
        early stopping; the held-out text is then ``self.held_out`` and the training part's length
        ``self.train_characters``. ``seed`` (default 0) seeds weight initialisation, window layout
        and the training loop. Training options are a :class:`~lstmkit.train.TrainConfig` and/or
        its fields as keywords; ``batch_size`` is the number of parallel streams. Defaults:
        :data:`TRAIN_DEFAULTS`.
        """
        text = read_text(text, "the training corpus")
        if val_text is not None:
            val = read_text(val_text, "the validation text")
            train = text
        else:
            train, val = split_tail(text, probability("val_fraction", val_fraction))
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
                raise ConfigError(f"seed must be an int in [0, 2**32), got {seed!r}")
            train_options["seed"] = seed
        base = config or TrainConfig(**TRAIN_DEFAULTS, seed=0)
        train_config = base.replace(**train_options) if train_options else base

        tokenizer = make_tokenizer(self.tokenizer, **self.tokenizer_options).fit([train])
        train_ids = self._encode_stream(train, tokenizer)
        streams = train_config.batch_size
        if len(train_ids) // streams < 2:
            raise DataError(
                f"the training text has {len(train_ids)} tokens, too few for batch_size={streams} "
                "parallel streams of at least 2 tokens; use more text or a smaller batch_size"
            )
        train_loader = stream_loader(
            train_ids,
            batch_size=streams,
            bptt=self.bptt,
            variable=self.variable_bptt,
            seed=train_config.seed,
        )
        val_loader = None
        val_ids = self._encode_stream(val, tokenizer) if val and val.strip() else []
        if len(val_ids) >= 3:
            val_streams = max(1, min(streams, len(val_ids) // (2 * self.bptt)))
            val_loader = stream_loader(val_ids, batch_size=val_streams, bptt=self.bptt)
        else:
            log.warning("no validation text: early stopping and best-epoch choice use train loss")

        counts = torch.bincount(torch.tensor(train_ids[1:]), minlength=tokenizer.vocab_size)
        seed_everything(train_config.seed)
        net = self._build_net(tokenizer.vocab_size)
        carry = CarriedState()
        vocab, ar, tar = tokenizer.vocab_size, self.ar, self.tar

        def loss_fn(model: LMNet, batch: tuple[Tensor, Tensor, Tensor]) -> Tensor:
            inputs, targets, first = batch
            state = carry.get(model.training, reset=bool(first))
            logits, state, raw, dropped = model(inputs, state)
            carry.put(model.training, state)
            loss = F.cross_entropy(logits.float().reshape(-1, vocab), targets.reshape(-1))
            if model.training and (ar > 0 or tar > 0):
                loss = loss + activation_regularization(dropped, ar)
                loss = loss + temporal_activation_regularization(raw, tar)
            return loss

        self.fit_result = fit(net, loss_fn, train_loader, val_loader, train_config)
        self.tokenizer_, self.net = tokenizer, net
        self.history = self.fit_result.history
        self.unigram_counts = [int(c) for c in counts.tolist()]
        self.train_characters = len(train)
        self.held_out = val if val and val.strip() else None
        net.eval()
        return self

    def _build_net(self, vocab_size: int) -> LMNet:
        return LMNet(
            vocab_size,
            embed_size=self.embed_size,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            tie_weights=self.tie_weights,
            embed_dropout=self.embed_dropout,
            input_dropout=self.input_dropout,
            hidden_dropout=self.hidden_dropout,
            output_dropout=self.output_dropout,
            weight_drop=self.weight_drop,
            lstm_options=self.lstm_options,
        )

    # --- evaluation ---------------------------------------------------------------------------

    @torch.no_grad()
    def perplexity(
        self, text: str | os.PathLike[str], *, batch_size: int = 1, bptt: int | None = None
    ) -> dict[str, float]:
        """Score ``text``: mean loss per token (nats), perplexity, bits per character.

        Returns ``loss``, ``perplexity``, ``bits_per_token``, ``bits_per_char`` (the total over
        the text's characters), ``tokens`` and ``characters`` (counts), and the same for the
        training text's unigram frequencies (add-one smoothed) as ``unigram_bits_per_char`` and
        ``unigram_perplexity`` — the baseline an LSTM must beat. ``batch_size`` > 1 reads the text
        as that many parallel streams (faster; each starts from a zero state, and the first token
        of each stream and up to ``batch_size - 1`` final tokens are not scored).
        """
        tokenizer, net = self._fitted("perplexity")
        text = read_text(text, "the text to score")
        batch_size = positive_int("batch_size", batch_size)
        window = positive_int("bptt", bptt if bptt is not None else max(self.bptt, 256))
        ids = self._encode_stream(text, tokenizer)
        if len(ids) < 2:
            raise DataError("the text to score has no tokens")
        streams = batchify(ids, min(batch_size, len(ids) // 2))
        net.eval()
        total, count, state = 0.0, 0, None
        length = streams.shape[1]
        for start in range(0, length - 1, window):
            stop = min(start + window, length - 1)
            logits, state, _, _ = net(streams[:, start:stop], state)
            targets = streams[:, start + 1 : stop + 1]
            total += float(
                F.cross_entropy(
                    logits.double().reshape(-1, logits.shape[-1]),
                    targets.reshape(-1),
                    reduction="sum",
                )
            )
            count += targets.numel()
        uni_total = unigram_nll(self.unigram_counts, streams[:, 1:].reshape(-1))
        return text_scores(total, count, len(text), uni_total)

    def evaluate(
        self, text: str | os.PathLike[str], *, batch_size: int = 1, bptt: int | None = None
    ) -> pd.DataFrame:
        """Score ``text`` beside the unigram baseline: a DataFrame with rows ``model`` and
        ``unigram`` and columns ``cross_entropy`` (nats per token), ``perplexity``,
        ``bits_per_token`` and ``bits_per_char`` (see :meth:`perplexity` for the options, and
        for the same scores with the token and character counts)."""
        self._require_fitted("evaluate")
        return metrics_frame(metric_rows(self.perplexity(text, batch_size=batch_size, bptt=bptt)))

    # --- generation ---------------------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        prompt: str,
        length: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int = 0,
    ) -> str:
        """Continue ``prompt`` by ``length`` tokens (characters for a char model); returns the
        continuation only (for word models it starts with the space that separates it).

        Sampling: see :func:`lstmkit.tasks.language_model.sampling.sample_next`
        (``temperature=0`` is greedy). The same ``seed`` gives the same text. Pieces of the
        prompt that are not in the vocabulary become ``<unk>``, with a warning naming them; an
        empty prompt starts from ``<bos>`` (the start of a text). ``<pad>``, ``<bos>`` and
        ``<unk>`` are never generated (nor ``<eos>`` by a char model); a word/BPE model's
        ``<eos>`` is a line break.
        """
        tokenizer, net = self._fitted("generate")
        if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
            raise ConfigError(f"length must be a positive number of tokens, got {length!r}")
        temperature, top_k, top_p = check_sampling(temperature, top_k, top_p)
        if not isinstance(prompt, str):
            raise ConfigError(f"prompt must be a string, got {described(prompt)}")
        unknown = tokenizer.unknown(prompt) if prompt else []
        if unknown:
            shown = ", ".join(repr(p) for p in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
            warnings.warn(
                f"the prompt has {len(unknown)} piece(s) not in the model's vocabulary, read as "
                f"<unk>: {shown}",
                stacklevel=3,  # the caller, past torch.no_grad's wrapper
            )
        prompt_ids = self._encode_stream(prompt, tokenizer)
        if (
            tokenizer.kind != "char"
            and prompt_ids[-1] == tokenizer.eos_id
            and not (prompt.endswith(("\n", "\r")))
        ):
            prompt_ids = prompt_ids[:-1]  # the prompt's last line goes on; it is not ended
        banned = [tokenizer.pad_id, tokenizer.bos_id, tokenizer.unk_id]
        if tokenizer.kind == "char":
            banned.append(tokenizer.eos_id)
        generator = torch.Generator().manual_seed(int_at_least("seed", seed, 0))
        net.eval()
        logits, state, _, _ = net(torch.tensor([prompt_ids]), None)
        last = logits[0, -1].double()
        out: list[int] = []
        for _ in range(length):
            last[banned] = float("-inf")
            token = int(
                sample_next(
                    last, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator
                )
            )
            out.append(token)
            logits, state, _, _ = net(torch.tensor([[token]]), state)
            last = logits[0, -1].double()
        before = self._decode_stream(prompt_ids[1:], tokenizer)
        full = self._decode_stream(prompt_ids[1:] + out, tokenizer)
        if full.startswith(before):
            return full[len(before) :]
        return self._decode_stream(out, tokenizer)

    # --- saving -------------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        tokenizer, _ = self._fitted("save")
        return {
            "tokenizer": tokenizer.to_dict(),
            "vocab_size": tokenizer.vocab_size,
            "unigram_counts": self.unigram_counts,
            "history": self.history.to_dict() if self.history else None,
        }

    def _weights(self) -> nn.Module:
        # a tied network's state_dict holds the shared matrix once (see LMNet)
        _, net = self._fitted("save")
        return net

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> LanguageModel:
        if "lstm_options" in config:
            options = dict(config["lstm_options"] or {})
        else:
            # Saved before lstm_options (lstmkit 0.1): seed, impl and recurrent_dropout were
            # constructor arguments; the seed only mattered for training.
            options = {}
            if config.get("recurrent_dropout"):
                options["recurrent_dropout"] = config["recurrent_dropout"]
            if config.get("impl", "auto") != "auto":
                options["impl"] = config["impl"]
        return cls(**{k: config[k] for k in _INIT_KEYS}, **options)

    def _restore(self, state: dict[str, Any], config: dict[str, Any]) -> None:
        tokenizer = tokenizer_from_dict(state["tokenizer"])
        counts = state.get("unigram_counts")
        self.unigram_counts = None if counts is None else [int(c) for c in counts]
        self.history = History.from_dict(state["history"]) if state.get("history") else None
        self.net = self._build_net(int(tokenizer.vocab_size))
        self.tokenizer_ = tokenizer


__all__ = ["TRAIN_DEFAULTS", "LanguageModel"]
