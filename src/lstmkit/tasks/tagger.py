"""``Tagger``: sequence labelling (named entities, chunks, part of speech) with a BiLSTM and a CRF.

From CoNLL files (or lists of ``(tokens, tags)``) to a trained, evaluated, saved tagger::

    tagger = Tagger(hidden_size=100, use_crf=True)
    tagger.fit("train.conll", val="dev.conll", max_epochs=30, seed=0)
    tagger.predict([["Peter", "Blackburn", "visited", "Berlin"]])   # [["B-PER", "I-PER", "O", ...]]
    tagger.evaluate("test.conll")      # span precision/recall/F1 (micro and per type), accuracy
    tagger.save("ner-model")           # config.json + weights.safetensors + state.json
    tagger = Tagger.load("ner-model")

The network, per token: a word embedding (optionally initialised from pretrained vectors), joined
with a character CNN over the token's characters (kernel 3, max-pooled; optional), through a
bidirectional :class:`lstmkit.nn.LSTM` run with the true ``lengths`` (no compute on padding), then
a linear layer giving one score per tag. With ``use_crf`` (default) a linear-chain
:class:`lstmkit.nn.crf.CRF` on top scores whole tag sequences: training minimises its negative
log-likelihood and prediction is Viterbi decoding; without it each token's tag is the argmax of a
softmax trained with cross-entropy. Both losses are divided by the number of tokens in the batch.

Tag schemes: with ``constraints="auto"`` and training tags that are valid BIO (IOB2) or IOBES,
the CRF forbids the transitions the scheme forbids (e.g. ``O`` -> ``I-PER``), so predictions are
always well formed. Spans for evaluation are read by conlleval's rules
(:func:`lstmkit.data.conll.spans`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from lstmkit.data.conll import Sentence, detect_scheme, read_conll, read_text_sentences
from lstmkit.data.padding import BucketBatchSampler
from lstmkit.data.vocab import Vocabulary
from lstmkit.errors import ConfigError, DataError
from lstmkit.nn import LSTM
from lstmkit.nn.crf import CRF, SCHEMES, transition_constraints
from lstmkit.tasks import persistence
from lstmkit.tasks.lstm_options import LSTM_OPTIONS, check_lstm_options
from lstmkit.tasks.span_metrics import span_scores
from lstmkit.train import FitResult, History, TrainConfig, fit, seed_everything

log = logging.getLogger(__name__)

TASK = "Tagger"
CONSTRAINTS = ("auto", "none", *SCHEMES)
# The tagging head reads 2 x hidden_size features per token, which a projection would change.
_LSTM_OPTIONS = tuple(o for o in LSTM_OPTIONS if o != "proj_size")
_INIT_KEYS = (
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


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


class TaggerNet(nn.Module):
    """Word embedding (+ char CNN) -> BiLSTM -> per-tag scores (-> CRF)."""

    def __init__(
        self,
        *,
        n_words: int,
        n_chars: int,
        n_tags: int,
        embedding_dim: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        use_crf: bool,
        char_dim: int,
        char_filters: int,
        constraints: tuple[Tensor, Tensor, Tensor] | None,
        lstm_options: dict[str, Any],
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n_words, embedding_dim, padding_idx=0)
        nn.init.normal_(self.embedding.weight, std=0.1)
        with torch.no_grad():
            self.embedding.weight[0].zero_()
        features = embedding_dim
        self.char_embedding: nn.Embedding | None = None
        self.char_conv: nn.Conv1d | None = None
        if n_chars:
            self.char_embedding = nn.Embedding(n_chars, char_dim, padding_idx=0)
            self.char_conv = nn.Conv1d(char_dim, char_filters, kernel_size=3, padding=1)
            features += char_filters
        self.dropout = nn.Dropout(dropout)
        self.lstm = LSTM(
            features,
            hidden_size,
            num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
            **lstm_options,
        )
        self.head = nn.Linear(2 * hidden_size, n_tags)
        self.crf = CRF(n_tags, constraints) if use_crf else None

    def _char_features(self, chars: Tensor) -> Tensor:
        assert self.char_embedding is not None and self.char_conv is not None
        b, t, w = chars.shape
        flat = chars.reshape(b * t, w)
        x = self.char_embedding(flat).transpose(1, 2)  # (B*T, C, W)
        x = self.char_conv(x)  # (B*T, F, W)
        present = (flat != 0)[:, None, :]  # (B*T, 1, W)
        # Max over the word's real characters only; an all-padding word (batch padding) gets 0.
        pooled = x.masked_fill(~present, -1.0e4).max(dim=2).values
        pooled = torch.where(present.any(dim=2), pooled, torch.zeros_like(pooled))
        return pooled.reshape(b, t, -1)

    def forward(self, words: Tensor, chars: Tensor, lengths: Tensor) -> Tensor:
        """``words (B, T)``, ``chars (B, T, W)``, ``lengths (B,)`` -> emissions ``(B, T, K)``."""
        x = self.embedding(words)
        if self.char_embedding is not None:
            x = torch.cat([x, self._char_features(chars)], dim=2)
        x = self.dropout(x)
        out, _ = self.lstm(x, lengths=lengths.cpu())
        return self.head(self.dropout(out))


class _Encoded(Dataset):
    """Sentences as id lists; items are indices, batches are cut by :func:`_collate`."""

    def __init__(self, words: list[list[int]], chars: list[list[list[int]]], tags: list[list[int]]):
        self.words, self.chars, self.tags = words, chars, tags

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, index: int) -> int:
        return index


def _pad_batch(
    words: list[list[int]], chars: list[list[list[int]]], tags: list[list[int]] | None
) -> tuple[Tensor, ...]:
    lengths = torch.tensor([len(w) for w in words], dtype=torch.long)
    b, t = len(words), int(lengths.max())
    word_ids = torch.zeros(b, t, dtype=torch.long)
    width = max((len(c) for sent in chars for c in sent), default=1) or 1
    char_ids = torch.zeros(b, t, width, dtype=torch.long)
    tag_ids = torch.full((b, t), -100, dtype=torch.long)
    for i, w in enumerate(words):
        word_ids[i, : len(w)] = torch.tensor(w, dtype=torch.long)
        for j, c in enumerate(chars[i]):
            if c:
                char_ids[i, j, : len(c)] = torch.tensor(c, dtype=torch.long)
        if tags is not None:
            tag_ids[i, : len(w)] = torch.tensor(tags[i], dtype=torch.long)
    return word_ids, char_ids, lengths, tag_ids


class _Collate:
    def __init__(self, data: _Encoded) -> None:
        self.data = data

    def __call__(self, indices: list[int]) -> tuple[Tensor, ...]:
        d = self.data
        return _pad_batch(
            [d.words[i] for i in indices],
            [d.chars[i] for i in indices],
            [d.tags[i] for i in indices],
        )


def _as_sentences(data: Any, what: str, *, token_col: int, tag_col: int) -> list[Sentence]:
    """Tagged sentences from a CoNLL path or a sequence of ``(tokens, tags)`` pairs."""
    if isinstance(data, str | os.PathLike):
        return read_conll(resolve_path(data), token_col=token_col, tag_col=tag_col)
    try:
        items = list(data)
    except TypeError:
        raise DataError(
            f"{what} must be a CoNLL file path or a list of (tokens, tags) pairs, got "
            f"{type(data).__name__}"
        ) from None
    out = []
    for i, item in enumerate(items):
        try:
            tokens, tags = item
            tokens, tags = list(tokens), list(tags)
        except (TypeError, ValueError):
            raise DataError(
                f"{what}: item {i} is not a (tokens, tags) pair of lists: {item!r:.80}"
            ) from None
        _check_tokens(tokens, f"{what}: sentence {i}")
        if len(tokens) != len(tags) or not all(isinstance(t, str) and t for t in tags):
            raise DataError(
                f"{what}: sentence {i} has {len(tokens)} tokens and {len(tags)} tags; every token "
                "needs one non-empty string tag"
            )
        if tokens:
            out.append(Sentence(tokens, tags))
    if not out:
        raise DataError(f"{what} holds no (non-empty) sentences")
    return out


def _check_tokens(tokens: list[Any], where: str) -> None:
    bad = [t for t in tokens if not isinstance(t, str) or not t]
    if bad:
        raise DataError(f"{where}: tokens must be non-empty strings, got {bad[0]!r}")


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """A file path, or the bundled dataset a ``bundled:NAME`` argument names."""
    from lstmkit.data.datasets import resolve_data_path

    return Path(resolve_data_path(path))


class Tagger:
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
            ``recurrent_dropout``, ``zoneout``, ``init``, ``impl``, ...).
    """

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
        self.embedding_dim = _positive("embedding_dim", embedding_dim)
        self.hidden_size = _positive("hidden_size", hidden_size)
        self.num_layers = _positive("num_layers", num_layers)
        self.dropout = _probability("dropout", dropout)
        self.use_crf = bool(use_crf)
        self.char_features = bool(char_features)
        self.char_dim = _positive("char_dim", char_dim)
        self.char_filters = _positive("char_filters", char_filters)
        self.max_word_length = _positive("max_word_length", max_word_length)
        self.lowercase = bool(lowercase)
        self.min_freq = _positive("min_freq", min_freq)
        self.word_dropout = _probability("word_dropout", word_dropout)
        if constraints not in CONSTRAINTS:
            raise ConfigError(
                f"constraints must be one of {', '.join(map(repr, CONSTRAINTS))}, "
                f"got {constraints!r}"
            )
        self.constraints = constraints
        for name, value in (("token_col", token_col), ("tag_col", tag_col)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be an int column index, got {value!r}")
        self.token_col, self.tag_col = token_col, tag_col
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

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (with ``embedding_dim`` as fitted)."""
        config = {k: getattr(self, k) for k in _INIT_KEYS}
        config["lstm_options"] = dict(self.lstm_options)
        return config

    def __repr__(self) -> str:
        state = f"{len(self.tags)} tags" if self.tags else "not fitted"
        return (
            f"Tagger(hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
            f"use_crf={self.use_crf}, char_features={self.char_features}, {state})"
        )

    def _require_fitted(self, what: str) -> None:
        if self.net is None or self.words is None or self.tags is None:
            raise ConfigError(f"Tagger.{what} needs a trained model: call fit() or load() first")

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
        data = _Encoded(
            self._encode_words(tokens),
            self._encode_chars(tokens),
            self._encode_tags(sentences, what),
        )
        sampler = BucketBatchSampler(
            [len(t) for t in tokens], batch_size, shuffle=shuffle, seed=seed
        )
        return DataLoader(data, batch_sampler=sampler, collate_fn=_Collate(data))

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
        train_s = _as_sentences(train, "training data", **cols)
        val_s = _as_sentences(val, "validation data", **cols) if val is not None else None

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

        self.fit_result = fit(self.net, loss_fn, train_loader, val_loader, train_config)
        self.history = self.fit_result.history
        self.net.eval()
        return self

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
        batch_size = _positive("batch_size", batch_size)
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
                words, chars, lengths, _ = _pad_batch(
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
        ``.txt`` file (one sentence per line) or a CoNLL file (the model's token column)."""
        if isinstance(sentences, str | os.PathLike):
            path = resolve_path(sentences)
            if path.suffix.lower() == ".txt":
                return read_text_sentences(path)
            return [s.tokens for s in read_conll(path, token_col=self.token_col, tag_col=None)]
        if isinstance(sentences, Sentence):
            raise DataError("predict takes a list of sentences; wrap a single one in a list")
        lists = []
        for i, s in enumerate(sentences):
            if isinstance(s, str):
                raise DataError(
                    f"sentence {i} is a string {s[:40]!r}; pass a list of tokens per sentence "
                    "(e.g. text.split())"
                )
            tokens = list(s)
            _check_tokens(tokens, f"sentence {i}")
            lists.append(tokens)
        return lists

    # --- evaluation ------------------------------------------------------------------------------

    def evaluate(self, data: Any, *, batch_size: int = 256) -> dict[str, Any]:
        """Span precision, recall and F1 (micro and per type) and token accuracy on ``data`` (a
        CoNLL path, ``bundled:NAME``, or ``(tokens, tags)`` pairs); see
        :func:`lstmkit.tasks.span_metrics.span_scores` for the keys."""
        self._require_fitted("evaluate")
        sentences = _as_sentences(
            data, "evaluation data", token_col=self.token_col, tag_col=self.tag_col
        )
        predicted = self.predict([s.tokens for s in sentences], batch_size=batch_size)
        return span_scores([s.tags or [] for s in sentences], predicted)

    # --- saving ----------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to directory ``path`` (config.json, weights.safetensors, state.json), atomically."""
        self._require_fitted("save")
        assert self.net is not None and self.words is not None
        state = {
            "words": self.words.to_dict(),
            "chars": self.chars.to_dict() if self.chars is not None else None,
            "tags": list(self.tags or []),
            "scheme": self.scheme,
            "history": self.history.to_dict() if self.history else None,
        }
        return persistence.save_model_dir(
            path,
            task=TASK,
            config=self.get_config(),
            tensors=self.net.state_dict(),
            state=state,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Tagger:
        """Load a tagger saved by :meth:`save` (on the CPU; no pickles are read)."""
        config, tensors, state = persistence.load_model_dir(path, task=TASK)
        with persistence.config_errors(path):
            init = {k: config[k] for k in _INIT_KEYS}
            model = cls(**init, **dict(config.get("lstm_options") or {}))
            model.words = Vocabulary.from_dict(state["words"])
            model.chars = Vocabulary.from_dict(state["chars"]) if state.get("chars") else None
            tags = state["tags"]
            if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
                raise ValueError(f"'tags' must be a non-empty list of strings, got {tags!r:.80}")
            model.tags = tags
            scheme = state.get("scheme")
            if scheme is not None and scheme not in SCHEMES:
                raise ValueError(f"unknown tag scheme {scheme!r}")
            model.scheme = scheme
            model.history = History.from_dict(state["history"]) if state.get("history") else None
            if model.char_features != (model.chars is not None):
                raise ValueError("char_features does not match the saved character vocabulary")
            model.net = model._build_net()
        persistence.load_weights(model.net, tensors, path)
        model.net.eval()
        return model


__all__ = ["Tagger", "TaggerNet", "resolve_path"]
