"""``LanguageModel``: an LSTM language model over characters, words or BPE subwords.

From a text to a trained, evaluated, saved model that writes text::

    lm = LanguageModel(tokenizer="char", embed_size=64, hidden_size=256, num_layers=2)
    lm.fit(text, max_epochs=10)               # the last 10% of the text is held out
    lm.perplexity(held_out)                   # {"loss", "perplexity", "bits_per_char", ...}
    lm.generate("The ", 200, temperature=0.8, top_p=0.9, seed=0)
    lm.save("char-lm")
    lm = LanguageModel.load("char-lm")

The network is the AWD-LSTM recipe (Merity, Keskar & Socher, 2018) on lstmkit's LSTM: an
embedding, stacked single-layer LSTMs (so each layer can have its own size), a linear decoder whose
weight is the embedding matrix when ``tie_weights`` (the last layer's hidden size is then the
embedding size), and the regularisers as options, all off unless asked for except light
locked dropout:

* ``embed_dropout`` — drops whole word types from the embedding matrix;
* ``input_dropout``, ``hidden_dropout``, ``output_dropout`` — locked (variational) dropout on the
  embeddings, between layers, and on the last layer's output;
* ``recurrent_dropout`` — the layer's variational dropout on ``h_{t-1}``;
* ``weight_drop`` — DropConnect on the recurrent matrices ``weight_hh`` (one mask per batch);
* ``ar``, ``tar`` — activation regularisation on the dropped last-layer outputs and temporal
  activation regularisation on the step-to-step change of the undropped ones.

Training reads the corpus as one stream (a ``<bos>`` first; for word and BPE models an ``<eos>``
ends every line), cut into ``batch_size`` parallel streams and read in windows of ``bptt`` tokens
with the state carried from window to window (:mod:`lstmkit.train.tbptt`); ``variable_bptt``
varies the window length per epoch as AWD-LSTM does.

Evaluation reads the text as one stream (``batch_size=1`` by default: every token is predicted with
the full history before it), so the loss is exactly the mean negative log-likelihood of every token
of the text. Bits per character divide the total by the number of characters of the text, so they
compare across tokenisers (``<unk>`` pieces make a word model look better than it is).
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.data.tokenizers import TOKENIZER_KINDS, Tokenizer, make_tokenizer, tokenizer_from_dict
from lstmkit.errors import ConfigError, DataError
from lstmkit.nn import LSTM
from lstmkit.nn.regularization import (
    LockedDropout,
    WeightDrop,
    activation_regularization,
    embedding_dropout,
    temporal_activation_regularization,
)
from lstmkit.tasks import persistence
from lstmkit.tasks.sampling import check_sampling, sample_next
from lstmkit.train import FitResult, History, TrainConfig, fit, seed_everything
from lstmkit.train.tbptt import CarriedState, batchify, stream_loader

log = logging.getLogger(__name__)

TASK = "LanguageModel"
LN2 = math.log(2.0)
# Training defaults that suit a language model better than TrainConfig's generic ones.
TRAIN_DEFAULTS: dict[str, Any] = {
    "batch_size": 32,
    "max_epochs": 20,
    "lr": 2e-3,
    "patience": 5,
    "gradient_clip": 1.0,
}
_PROBS = (
    "embed_dropout",
    "input_dropout",
    "hidden_dropout",
    "output_dropout",
    "recurrent_dropout",
    "weight_drop",
)

State = list[tuple[Tensor, Tensor]]


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive int, got {value!r}")
    return value


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


class LMNet(nn.Module):
    """Embedding -> stacked LSTM layers -> linear decoder (tied to the embedding if asked).

    ``forward(ids (B, T), state)`` returns ``(logits (B, T, V), state, raw, dropped)``: the new
    state (one ``(h, c)`` per layer, each ``(1, B, size)``) and the last layer's output before and
    after the output dropout (for TAR and AR).
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        embed_size: int,
        hidden_size: int,
        num_layers: int,
        tie_weights: bool,
        embed_dropout: float,
        input_dropout: float,
        hidden_dropout: float,
        output_dropout: float,
        recurrent_dropout: float,
        weight_drop: float,
        impl: str,
    ) -> None:
        super().__init__()
        self.tie_weights = tie_weights
        self.embed_dropout = embed_dropout
        self.embedding = nn.Embedding(vocab_size, embed_size)
        layers = []
        for k in range(num_layers):
            last = k == num_layers - 1
            in_size = embed_size if k == 0 else hidden_size
            size, proj = hidden_size, 0
            if last and tie_weights:
                # The decoder reads the last layer's output with the embedding matrix: as in
                # AWD-LSTM that layer has embed_size units, or one layer projects down to it.
                if num_layers == 1 and hidden_size > embed_size:
                    proj = embed_size
                else:
                    size = embed_size
            lstm: nn.Module = LSTM(
                in_size,
                size,
                batch_first=True,
                proj_size=proj,
                recurrent_dropout=recurrent_dropout,
                impl=impl,
            )
            if weight_drop > 0:
                lstm = WeightDrop(lstm, weight_drop)
            layers.append(lstm)
        self.layers = nn.ModuleList(layers)
        self.input_drop = LockedDropout(input_dropout)
        self.hidden_drop = LockedDropout(hidden_dropout)
        self.output_drop = LockedDropout(output_dropout)
        out_size = embed_size if tie_weights else hidden_size
        self.decoder = nn.Linear(out_size, vocab_size)
        # AWD-LSTM's initialisation: a small uniform embedding (it is also the tied decoder,
        # where N(0, 1) rows would give huge initial logits) and a zero decoder bias.
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if tie_weights:
            self.decoder.weight = self.embedding.weight
        else:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(
        self, ids: Tensor, state: State | None = None
    ) -> tuple[Tensor, State, Tensor, Tensor]:
        x = embedding_dropout(self.embedding, ids, self.embed_dropout, self.training)
        x = self.input_drop(x)  # (B, T, E)
        new_state: State = []
        for k, layer in enumerate(self.layers):
            x, (h, c) = layer(x, None if state is None else state[k])
            new_state.append((h, c))
            if k < len(self.layers) - 1:
                x = self.hidden_drop(x)
        raw = x
        dropped = self.output_drop(x)
        return self.decoder(dropped), new_state, raw, dropped


class LanguageModel:
    """An LSTM language model (AWD-LSTM style) with truncated BPTT, evaluation and sampling.

    Args:
        tokenizer: ``"char"``, ``"word"`` or ``"bpe"``; ``tokenizer_options`` go to its class
            (e.g. ``{"lowercase": True}``, ``{"vocab_size": 4000}``), see
            :mod:`lstmkit.data.tokenizers`.
        embed_size, hidden_size, num_layers: the network. With ``tie_weights`` the decoder shares
            the embedding matrix and the last layer has ``embed_size`` units (a single layer
            wider than the embedding projects down to it instead).
        embed_dropout, input_dropout, hidden_dropout, output_dropout, recurrent_dropout,
        weight_drop, ar, tar: the regularisers (see the module docstring).
        bptt: tokens per TBPTT window; ``variable_bptt`` draws window lengths around it per epoch.
        seed: seeds weight initialisation, window layout and the training loop (``fit(seed=...)``
            overrides it).
        impl: the LSTM engine (``"auto"``, ``"reference"``, ``"fused"``, ``"native"``).
    """

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
        recurrent_dropout: float = 0.0,
        weight_drop: float = 0.0,
        ar: float = 0.0,
        tar: float = 0.0,
        bptt: int = 100,
        variable_bptt: bool = True,
        seed: int = 0,
        impl: str = "auto",
    ) -> None:
        if tokenizer not in TOKENIZER_KINDS:
            raise ConfigError(
                f"tokenizer must be one of {', '.join(map(repr, TOKENIZER_KINDS))}, "
                f"got {tokenizer!r}"
            )
        self.tokenizer_kind = tokenizer
        self.tokenizer_options = dict(tokenizer_options or {})
        make_tokenizer(tokenizer, **self.tokenizer_options)  # check the options now
        self.embed_size = _positive_int("embed_size", embed_size)
        self.hidden_size = _positive_int("hidden_size", hidden_size)
        self.num_layers = _positive_int("num_layers", num_layers)
        self.tie_weights = bool(tie_weights)
        if self.tie_weights and self.num_layers == 1 and self.hidden_size < self.embed_size:
            raise ConfigError(
                f"tie_weights with one layer needs hidden_size >= embed_size (the layer's output "
                f"is projected to embed_size={self.embed_size}), got hidden_size="
                f"{self.hidden_size}; use tie_weights=False or a larger hidden_size"
            )
        values = {
            "embed_dropout": embed_dropout,
            "input_dropout": input_dropout,
            "hidden_dropout": hidden_dropout,
            "output_dropout": output_dropout,
            "recurrent_dropout": recurrent_dropout,
            "weight_drop": weight_drop,
        }
        self.dropouts = {name: _probability(name, values[name]) for name in _PROBS}
        self.ar = _non_negative("ar", ar)
        self.tar = _non_negative("tar", tar)
        self.bptt = _positive_int("bptt", bptt)
        self.variable_bptt = bool(variable_bptt)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise ConfigError(f"seed must be an int in [0, 2**32), got {seed!r}")
        self.seed = seed
        LSTM(1, 1, impl=impl)  # checks impl
        self.impl = impl
        # Set by fit (or load):
        self.tokenizer: Tokenizer | None = None
        self.net: LMNet | None = None
        self.history: History | None = None
        self.fit_result: FitResult | None = None
        self.unigram_counts: list[int] | None = None

    # --- configuration ----------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return {
            "tokenizer": self.tokenizer_kind,
            "tokenizer_options": dict(self.tokenizer_options),
            "embed_size": self.embed_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "tie_weights": self.tie_weights,
            **self.dropouts,
            "ar": self.ar,
            "tar": self.tar,
            "bptt": self.bptt,
            "variable_bptt": self.variable_bptt,
            "seed": self.seed,
            "impl": self.impl,
        }

    def __repr__(self) -> str:
        state = "fitted" if self.net is not None else "not fitted"
        return (
            f"LanguageModel(tokenizer={self.tokenizer_kind!r}, embed_size={self.embed_size}, "
            f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, {state})"
        )

    def _require_fitted(self, what: str) -> tuple[Tokenizer, LMNet]:
        if self.net is None or self.tokenizer is None:
            raise ConfigError(
                f"LanguageModel.{what} needs a trained model: call fit() or load() first"
            )
        return self.tokenizer, self.net

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
        config: TrainConfig | None = None,
        **train_options: Any,
    ) -> LanguageModel:
        """Train on ``text`` (a string, or a ``Path`` to a UTF-8 file); returns ``self``.

        Without ``val_text`` the last ``val_fraction`` of the text (cut at a line break where
        there is one near) is held out for validation and early stopping. Training options are a
        :class:`~lstmkit.train.TrainConfig` and/or its fields as keywords; ``batch_size`` is the
        number of parallel streams. Defaults: :data:`TRAIN_DEFAULTS`.
        """
        text = read_text(text, "the training corpus")
        if val_text is not None:
            val = read_text(val_text, "the validation text")
            train = text
        else:
            if isinstance(val_fraction, bool) or not isinstance(val_fraction, int | float):
                raise ConfigError(f"val_fraction must be a number in [0, 1), got {val_fraction!r}")
            if not 0 <= val_fraction < 1:
                raise ConfigError(f"val_fraction must be a number in [0, 1), got {val_fraction!r}")
            train, val = split_tail(text, val_fraction)
        base = config or TrainConfig(**TRAIN_DEFAULTS, seed=self.seed)
        train_config = base.replace(**train_options) if train_options else base

        tokenizer = make_tokenizer(self.tokenizer_kind, **self.tokenizer_options).fit([train])
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
        self.tokenizer, self.net = tokenizer, net
        self.history = self.fit_result.history
        self.unigram_counts = [int(c) for c in counts.tolist()]
        net.eval()
        return self

    def _build_net(self, vocab_size: int) -> LMNet:
        return LMNet(
            vocab_size,
            embed_size=self.embed_size,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            tie_weights=self.tie_weights,
            impl=self.impl,
            **self.dropouts,
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
        tokenizer, net = self._require_fitted("perplexity")
        text = read_text(text, "the text to score")
        batch_size = _positive_int("batch_size", batch_size)
        window = _positive_int("bptt", bptt if bptt is not None else max(self.bptt, 256))
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
        scored = streams[:, 1:].reshape(-1)
        uni_total = self._unigram_nll(scored)
        characters = max(1, len(text))
        loss = total / count
        return {
            "loss": loss,
            "perplexity": math.exp(loss),
            "bits_per_token": loss / LN2,
            "bits_per_char": total / characters / LN2,
            "tokens": float(count),
            "characters": float(len(text)),
            "unigram_perplexity": math.exp(uni_total / count),
            "unigram_bits_per_char": uni_total / characters / LN2,
        }

    evaluate = perplexity

    def _unigram_nll(self, targets: Tensor) -> float:
        """Total NLL (nats) of ``targets`` under the training unigram frequencies, add-one."""
        counts = torch.tensor(self.unigram_counts or [], dtype=torch.float64)
        if counts.numel() == 0:
            return float("nan")
        probs = (counts + 1.0) / (counts.sum() + counts.numel())
        return float(-torch.log(probs[targets]).sum())

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

        Sampling: see :func:`lstmkit.tasks.sampling.sample_next` (``temperature=0`` is greedy).
        The same ``seed`` gives the same text. Pieces of the prompt that are not in the
        vocabulary become ``<unk>``, with a warning naming them; an empty prompt starts from
        ``<bos>`` (the start of a text). ``<pad>``, ``<bos>`` and ``<unk>`` are never generated
        (nor ``<eos>`` by a char model); a word/BPE model's ``<eos>`` is a line break.
        """
        tokenizer, net = self._require_fitted("generate")
        if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
            raise ConfigError(f"length must be a positive number of tokens, got {length!r}")
        temperature, top_k, top_p = check_sampling(temperature, top_k, top_p)
        if not isinstance(prompt, str):
            raise ConfigError(f"prompt must be a string, got {type(prompt).__name__}")
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
        generator = torch.Generator().manual_seed(int(seed))
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

    def _tensors(self) -> dict[str, Tensor]:
        assert self.net is not None
        tensors = dict(self.net.state_dict())
        if self.tie_weights:
            # one copy of the shared matrix (safetensors refuses tensors that share memory)
            tensors.pop("decoder.weight", None)
        return tensors

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to directory ``path`` (config.json, weights.safetensors, state.json), atomically."""
        tokenizer, _ = self._require_fitted("save")
        state = {
            "tokenizer": tokenizer.to_dict(),
            "vocab_size": tokenizer.vocab_size,
            "unigram_counts": self.unigram_counts,
            "history": self.history.to_dict() if self.history else None,
        }
        return persistence.save_model_dir(
            path,
            task=TASK,
            config=self.get_config(),
            tensors=self._tensors(),
            state=state,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LanguageModel:
        """Load a model saved by :meth:`save` (on the CPU; no pickles are read)."""
        config, tensors, state = persistence.load_model_dir(path, task=TASK)
        with persistence.config_errors(path):
            model = cls(**config)
            tokenizer = tokenizer_from_dict(state["tokenizer"])
            vocab_size = int(tokenizer.vocab_size)
            counts = state.get("unigram_counts")
            model.unigram_counts = None if counts is None else [int(c) for c in counts]
            model.history = History.from_dict(state["history"]) if state.get("history") else None
            net = model._build_net(vocab_size)
        if model.tie_weights and "embedding.weight" in tensors:
            tensors = {**tensors, "decoder.weight": tensors["embedding.weight"]}
        persistence.load_weights(net, tensors, path)
        net.eval()
        model.tokenizer, model.net = tokenizer, net
        return model


def read_text(source: str | os.PathLike[str], what: str = "the corpus") -> str:
    """A string is the text itself; a ``Path`` (os.PathLike) is read as UTF-8. DataError if the
    file cannot be read or the text is empty (whitespace only)."""
    if isinstance(source, os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"{what}: no file at {path}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise DataError(f"{what}: {path} is not UTF-8 text ({err})") from None
        except OSError as err:
            raise DataError(f"{what}: cannot read {path}: {err}") from None
        where = f" ({path})"
    elif isinstance(source, str):
        text, where = source, ""
    else:
        raise DataError(f"{what} must be a string or a path, got {type(source).__name__}")
    if not text.strip():
        raise DataError(f"{what} is empty{where}: there is no text to read")
    return text


def split_tail(text: str, fraction: float) -> tuple[str, str]:
    """``(head, tail)`` with about ``fraction`` of the characters in the tail; the cut moves back
    to the last line break if one lies in the final fifth of the head."""
    if fraction <= 0:
        return text, ""
    cut = int(round(len(text) * (1.0 - fraction)))
    newline = text.rfind("\n", 0, cut)
    if newline >= 0 and newline + 1 >= cut * 0.8:
        cut = newline + 1
    return text[:cut], text[cut:]
