"""``Tagger``: sequence labelling (named entities, chunks, part of speech) with a BiLSTM and a CRF.

From CoNLL files (or lists of ``(tokens, tags)``) to a trained, evaluated, saved tagger::

    tagger = Tagger(hidden_size=100, use_crf=True)
    tagger.fit("train.conll", val="dev.conll", max_epochs=30, seed=0)
    tagger.predict([["Peter", "Blackburn", "visited", "Berlin"]])   # [["B-PER", "I-PER", "O", ...]]
    tagger.evaluate("test.conll")      # a DataFrame: span precision/recall/F1 and token accuracy
    tagger.span_report("test.conll")   # the same scores, per type, and the span counts (a dict)
    tagger.save("ner-model")           # config.json + weights.safetensors + state.json
    tagger = Tagger.load("ner-model")

The network (:mod:`lstmkit.tasks.tagging.net`), per token: a word embedding (optionally
initialised from pretrained vectors), joined with a character CNN over the token's characters
(kernel 3, max-pooled; optional), through a bidirectional :class:`lstmkit.nn.LSTM` run with the
true ``lengths`` (no compute on padding), then a linear layer giving one score per tag. With
``use_crf`` (default) a linear-chain :class:`lstmkit.nn.crf.CRF` on top scores whole tag
sequences: training minimises its negative log-likelihood and prediction is Viterbi decoding;
without it each token's tag is the argmax of a softmax trained with cross-entropy. Both losses are
divided by the number of tokens in the batch.

Tag schemes: with ``constraints="auto"`` and training tags that are valid BIO (IOB2) or IOBES,
the CRF forbids the transitions the scheme forbids (e.g. ``O`` -> ``I-PER``), so predictions are
always well formed. Spans for evaluation are read by conlleval's rules
(:func:`lstmkit.data.conll.spans`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from lstmkit._checks import choice, positive_int, probability
from lstmkit.data.conll import Sentence, detect_scheme, tagged_sentences, token_lists
from lstmkit.data.padding import BucketBatchSampler
from lstmkit.data.vocab import Vocabulary
from lstmkit.errors import ConfigError, DataError
from lstmkit.nn.crf import SCHEMES, transition_constraints
from lstmkit.tasks.base import Task, metrics_frame
from lstmkit.tasks.lstm_options import LSTM_OPTIONS, check_lstm_options
from lstmkit.tasks.tagging.metrics import SCALAR_METRICS, span_scores
from lstmkit.tasks.tagging.net import Collate, EncodedSentences, TaggerNet, pad_batch
from lstmkit.train import FitResult, History, TrainConfig, fit, seed_everything

log = logging.getLogger(__name__)

CONSTRAINTS = ("auto", "none", *SCHEMES)
# The tagging head reads 2 x hidden_size features per token, which a projection would change.
_LSTM_OPTIONS = tuple(o for o in LSTM_OPTIONS if o != "proj_size")
INIT_KEYS = (
    "embedding_dim",
    "hidden_size",
    "num_layers",
    "dropout",
    "use_crf",
    "char_features",
    "char_dim",
    "char_filters",
    "max_word_length",
    "lowercase",
    "min_freq",
    "word_dropout",
    "constraints",
    "token_col",
    "tag_col",
    "freeze_embeddings",
)


def _column_index(name: str, value: Any) -> int:
    """A CoNLL column index (negative counts from the end), refused unless an int."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an int column index, got {value!r}")
    return value


class Tagger(Task):
    """BiLSTM(-CRF) sequence tagger over whitespace tokens.

    Args:
        embedding_dim: word embedding size (replaced by the vectors' size when ``vectors`` are
            given to :meth:`fit`).
        hidden_size: LSTM units per direction.
        num_layers: stacked BiLSTM layers.
        dropout: on the embeddings, between layers and before the tag scores.
        use_crf: a CRF over the tag scores (Viterbi decoding); ``False``: per-token softmax.
        char_features: add a character CNN word encoder (helps with unseen words).
        char_dim, char_filters: its character embedding size and number of filters.
        max_word_length: characters per word the CNN reads (longer words are cut).
        lowercase: lower-case words before the word vocabulary (the characters keep their case).
        min_freq: words seen fewer times in training map to ``<unk>``.
        word_dropout: probability of replacing a word by ``<unk>`` in training, so the model
            learns what to do with unknown words.
        constraints: ``"auto"`` (BIO or IOBES constraints when the training tags are valid in
            that scheme), ``"BIO"``, ``"IOBES"`` or ``"none"``; used with the CRF only.
        token_col, tag_col: the CoNLL columns read for tokens and tags.
        freeze_embeddings: keep pretrained word vectors fixed during training.
        **lstm_options: passed to :class:`lstmkit.nn.LSTM` (``peephole``, ``layer_norm``,
            ``recurrent_dropout``, ``zoneout``, ``init``, ``impl``, ...; not ``proj_size``).
    """

    TASK = "Tagger"
    INIT_KEYS = INIT_KEYS

    def __init__(
        self,
        *,
        embedding_dim: int = 100,
        hidden_size: int = 100,
        num_layers: int = 1,
        dropout: float = 0.5,
        use_crf: bool = True,
        char_features: bool = True,
        char_dim: int = 25,
        char_filters: int = 50,
        max_word_length: int = 20,
        lowercase: bool = False,
        min_freq: int = 1,
        word_dropout: float = 0.05,
        constraints: str = "auto",
        token_col: int = 0,
        tag_col: int = -1,
        freeze_embeddings: bool = False,
        **lstm_options: Any,
    ) -> None:
        self.embedding_dim = positive_int("embedding_dim", embedding_dim)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.dropout = probability("dropout", dropout)
        self.use_crf = bool(use_crf)
        self.char_features = bool(char_features)
        self.char_dim = positive_int("char_dim", char_dim)
        self.char_filters = positive_int("char_filters", char_filters)
        self.max_word_length = positive_int("max_word_length", max_word_length)
        self.lowercase = bool(lowercase)
        self.min_freq = positive_int("min_freq", min_freq)
        self.word_dropout = probability("word_dropout", word_dropout)
        self.constraints = choice("constraints", constraints, CONSTRAINTS)
        self.token_col = _column_index("token_col", token_col)
        self.tag_col = _column_index("tag_col", tag_col)
        self.freeze_embeddings = bool(freeze_embeddings)
        self.lstm_options = check_lstm_options(lstm_options, _LSTM_OPTIONS)
        # Set by fit (or load):
        self.net: TaggerNet | None = None
        self.words: Vocabulary | None = None
        self.chars: Vocabulary | None = None
        self.tags: list[str] | None = None
        self.scheme: str | None = None  # the scheme whose constraints the CRF applies
        self.history: History | None = None
        self.fit_result: FitResult | None = None

    def __repr__(self) -> str:
        state = f"{len(self.tags)} tags" if self.tags else "not fitted"
        return (
            f"Tagger(hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
            f"use_crf={self.use_crf}, char_features={self.char_features}, {state})"
        )

    def _is_fitted(self) -> bool:
        return self.net is not None and self.words is not None and self.tags is not None

    # --- encoding --------------------------------------------------------------------------------

    def _word_form(self, token: str) -> str:
        return token.lower() if self.lowercase else token

    def _encode_words(self, sentences: Sequence[Sequence[str]]) -> list[list[int]]:
        assert self.words is not None
        return [self.words.encode([self._word_form(t) for t in s]) for s in sentences]

    def _encode_chars(self, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
        if self.chars is None:
            return [[[] for _ in s] for s in sentences]
        n = self.max_word_length
        return [[self.chars.encode(t[:n]) for t in s] for s in sentences]

    def _encode_tags(self, sentences: list[Sentence], what: str) -> list[list[int]]:
        assert self.tags is not None
        index = {t: i for i, t in enumerate(self.tags)}
        out = []
        for i, s in enumerate(sentences):
            assert s.tags is not None
            try:
                out.append([index[t] for t in s.tags])
            except KeyError as err:
                raise DataError(
                    f"{what}: sentence {i} has tag {err.args[0]!r}, which the training data "
                    f"never uses; the known tags are {self.tags}"
                ) from None
        return out

    def _loader(
        self, sentences: list[Sentence], what: str, batch_size: int, *, shuffle: bool, seed: int
    ) -> DataLoader:
        tokens = [s.tokens for s in sentences]
        data = EncodedSentences(
            self._encode_words(tokens),
            self._encode_chars(tokens),
            self._encode_tags(sentences, what),
        )
        sampler = BucketBatchSampler(
            [len(t) for t in tokens], batch_size, shuffle=shuffle, seed=seed
        )
        return DataLoader(data, batch_sampler=sampler, collate_fn=Collate(data))

    # --- training --------------------------------------------------------------------------------

    def fit(
        self,
        train: Any,
        val: Any = None,
        *,
        vectors: str | os.PathLike[str] | None = None,
        config: TrainConfig | None = None,
        **train_options: Any,
    ) -> Tagger:
        """Train on ``train`` (a CoNLL path, ``bundled:NAME``, or ``(tokens, tags)`` pairs).

        ``val`` (same forms) drives early stopping and the choice of the best epoch.
        ``vectors``: a word2vec/GloVe text file to initialise the word embeddings (its size
        replaces ``embedding_dim``). Training options are a :class:`~lstmkit.train.TrainConfig`
        and/or its fields as keywords (``max_epochs``, ``lr``, ``batch_size``, ``patience``,
        ``seed``, ``run_dir``, ...). Returns ``self``.
        """
        base = config or TrainConfig()
        train_config = base.replace(**train_options) if train_options else base
        cols = {"token_col": self.token_col, "tag_col": self.tag_col}
        train_s = tagged_sentences(train, "training data", **cols)
        val_s = tagged_sentences(val, "validation data", **cols) if val is not None else None

        self.words = Vocabulary.build(
            ([self._word_form(t) for t in s.tokens] for s in train_s), min_freq=self.min_freq
        )
        self.chars = (
            Vocabulary.build(list(t[: self.max_word_length]) for s in train_s for t in s.tokens)
            if self.char_features
            else None
        )
        self.tags = sorted({t for s in train_s for t in s.tags or ()})
        self.scheme = self._choose_scheme([s.tags or [] for s in train_s])
        log.info(
            "tagger data: %d training sentences, %d words in the vocabulary, %d tags %s%s",
            len(train_s),
            len(self.words),
            len(self.tags),
            self.tags[:12],
            f", {self.scheme} constraints" if self.scheme else "",
        )

        seed_everything(train_config.seed)
        pretrained = None
        if vectors is not None:
            from lstmkit.data.vectors import read_vectors

            pretrained, found = read_vectors(
                vectors, self.words, seed=train_config.seed, lowercase=self.lowercase
            )
            self.embedding_dim = int(pretrained.shape[1])
            log.info(
                "pretrained vectors: %d of %d vocabulary words found in %s",
                found,
                len(self.words) - 4,
                vectors,
            )
        self.net = self._build_net()
        if pretrained is not None:
            with torch.no_grad():
                self.net.embedding.weight.copy_(pretrained)
            self.net.embedding.weight.requires_grad_(not self.freeze_embeddings)

        bs, seed = train_config.batch_size, train_config.seed
        train_loader = self._loader(train_s, "training data", bs, shuffle=True, seed=seed)
        val_loader = (
            self._loader(val_s, "validation data", bs, shuffle=False, seed=seed)
            if val_s is not None
            else None
        )
        use_crf, p_drop, unk = self.use_crf, self.word_dropout, Vocabulary.unk_id

        def loss_fn(model: TaggerNet, batch: tuple[Tensor, ...]) -> Tensor:
            words, chars, lengths, tags = batch
            if model.training and p_drop > 0:
                drop = (torch.rand(words.shape, device=words.device) < p_drop) & (words != 0)
                words = words.masked_fill(drop, unk)
            emissions = model(words, chars, lengths).float()  # fp32 under autocast
            n_tokens = lengths.sum().clamp(min=1)
            if use_crf:
                assert model.crf is not None
                return model.crf.nll(emissions, tags, lengths).sum() / n_tokens
            return (
                nn.functional.cross_entropy(
                    emissions.reshape(-1, emissions.shape[-1]),
                    tags.reshape(-1),
                    ignore_index=-100,
                    reduction="sum",
                )
                / n_tokens
            )

        return self._train_net(fit, loss_fn, train_loader, val_loader, train_config)

    def _choose_scheme(self, tag_lists: list[list[str]]) -> str | None:
        if not self.use_crf or self.constraints == "none":
            return None
        if self.constraints == "auto":
            return detect_scheme(tag_lists)
        assert self.tags is not None
        transition_constraints(self.tags, self.constraints)  # ConfigError if the tags do not fit
        if detect_scheme(tag_lists, (self.constraints,)) is None:
            log.warning(
                "some training sentences break the %s scheme (e.g. I-X after O); the CRF forbids "
                "those transitions, so their loss is large",
                self.constraints,
            )
        return self.constraints

    def _build_net(self) -> TaggerNet:
        assert self.words is not None and self.tags is not None
        constraints = (
            transition_constraints(self.tags, self.scheme) if self.scheme is not None else None
        )
        return TaggerNet(
            n_words=len(self.words),
            n_chars=len(self.chars) if self.chars is not None else 0,
            n_tags=len(self.tags),
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            use_crf=self.use_crf,
            char_dim=self.char_dim,
            char_filters=self.char_filters,
            constraints=constraints,
            lstm_options=self.lstm_options,
        )

    # --- prediction ------------------------------------------------------------------------------

    def predict(self, sentences: Any, *, batch_size: int = 256) -> list[list[str]]:
        """Tags for each sentence: ``sentences`` is a list of token lists, or a file path (a
        ``.txt`` file: one sentence per line, whitespace tokens; anything else is read as CoNLL,
        tokens only). An empty sentence gets an empty list."""
        self._require_fitted("predict")
        assert self.net is not None and self.tags is not None
        batch_size = positive_int("batch_size", batch_size)
        token_lists = self.read_tokens(sentences)
        out: list[list[str]] = [[] for _ in token_lists]
        order = sorted(
            (i for i, s in enumerate(token_lists) if s), key=lambda i: len(token_lists[i])
        )
        self.net.eval()
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = [token_lists[i] for i in rows]
                words, chars, lengths, _ = pad_batch(
                    self._encode_words(batch), self._encode_chars(batch), None
                )
                emissions = self.net(words, chars, lengths).float()
                if self.net.crf is not None:
                    paths = self.net.crf.decode(emissions, lengths)
                else:
                    best = emissions.argmax(dim=2).tolist()
                    paths = [p[:n] for p, n in zip(best, lengths.tolist(), strict=True)]
                for i, path in zip(rows, paths, strict=True):
                    out[i] = [self.tags[k] for k in path]
        return out

    def read_tokens(self, sentences: Any) -> list[list[str]]:
        """The token lists :meth:`predict` would tag: from a list of token lists (checked), a
        ``.txt`` file (one sentence per line) or a CoNLL file (the model's token column); see
        :func:`lstmkit.data.conll.token_lists`."""
        return token_lists(sentences, token_col=self.token_col)

    # --- evaluation ------------------------------------------------------------------------------

    def compare(
        self,
        data: Any,
        *,
        batch_size: int = 256,
        token_col: int | None = None,
        tag_col: int | None = None,
    ) -> list[tuple[list[str], list[str], list[str]]]:
        """``(tokens, gold tags, predicted tags)`` for each sentence of tagged ``data`` (a CoNLL
        path read with ``token_col`` and ``tag_col``, by default the model's, ``bundled:NAME``,
        or ``(tokens, tags)`` pairs): conlleval's three columns."""
        self._require_fitted("compare")
        token_col = self.token_col if token_col is None else _column_index("token_col", token_col)
        tag_col = self.tag_col if tag_col is None else _column_index("tag_col", tag_col)
        sentences = tagged_sentences(data, "evaluation data", token_col=token_col, tag_col=tag_col)
        predicted = self.predict([s.tokens for s in sentences], batch_size=batch_size)
        return [(s.tokens, s.tags or [], p) for s, p in zip(sentences, predicted, strict=True)]

    def span_report(self, data: Any, *, batch_size: int = 256) -> dict[str, Any]:
        """Every score of :func:`lstmkit.tasks.tagging.metrics.span_scores` on ``data`` (as
        :meth:`compare` reads it): the micro-averaged span scores and token accuracy, the span and
        token counts, and ``"per_type"``, the scores of each span type."""
        self._require_fitted("span_report")
        rows = self.compare(data, batch_size=batch_size)
        return span_scores([gold for _, gold, _ in rows], [pred for _, _, pred in rows])

    def evaluate(self, data: Any, *, batch_size: int = 256) -> pd.DataFrame:
        """Span precision, recall and F1 (micro-averaged) and token accuracy on ``data`` (as
        :meth:`compare` reads it): a one-row DataFrame (row ``"model"``, one column per metric).
        The scores per span type and the counts are in :meth:`span_report`."""
        self._require_fitted("evaluate")
        scores = self.span_report(data, batch_size=batch_size)
        return metrics_frame({"model": {k: float(scores[k]) for k in SCALAR_METRICS}})

    # --- saving: the Task hooks ------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        assert self.words is not None
        return {
            "words": self.words.to_dict(),
            "chars": self.chars.to_dict() if self.chars is not None else None,
            "tags": list(self.tags or []),
            "scheme": self.scheme,
            "history": self.history.to_dict() if self.history else None,
        }

    def _restore(self, state: dict[str, Any], config: dict[str, Any]) -> None:
        self.words = Vocabulary.from_dict(state["words"])
        self.chars = Vocabulary.from_dict(state["chars"]) if state.get("chars") else None
        tags = state["tags"]
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
            raise ValueError(f"'tags' must be a non-empty list of strings, got {tags!r:.80}")
        self.tags = tags
        scheme = state.get("scheme")
        if scheme is not None and scheme not in SCHEMES:
            raise ValueError(f"unknown tag scheme {scheme!r}")
        self.scheme = scheme
        self.history = History.from_dict(state["history"]) if state.get("history") else None
        if self.char_features != (self.chars is not None):
            raise ValueError("char_features does not match the saved character vocabulary")
        self.net = self._build_net()

    def _weights(self) -> nn.Module:
        assert self.net is not None
        return self.net


__all__ = ["Tagger"]
