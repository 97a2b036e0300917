"""``SequenceClassifier``: one label per sequence (a text, or a numeric sequence) with a BiLSTM.

From texts and labels (lists, a DataFrame or a CSV/TSV/Parquet file) to a trained, evaluated,
saved model::

    clf = SequenceClassifier(tokenizer="word", pooling="attention", class_weights="balanced")
    clf.fit_frame("reviews.csv", text_col="text", label_col="label", split_col="split")
    clf.evaluate_frame("reviews.csv", split="test")   # a DataFrame: accuracy, macro-F1, n
    clf.report_frame("reviews.csv", split="test")     # ... plus per class and the confusion matrix
    clf.predict(["a fine film", "dull"])              # ["pos", "neg"]
    clf.save("sentiment-model")
    clf = SequenceClassifier.load("sentiment-model")

Numeric sequences (``tokenizer=None``): each example is an array ``(T_i, F)`` (or ``(T_i,)`` for one
feature) of any length; features are standardised with a scaler fitted on the training examples.
``fit_sequences`` trains from a ``.ts`` file or a long table (one row per time step) and keeps the
table's column names, as ``fit_frame`` does for texts.

Data handling, stated once:

* The tokenizer (and the numeric scaler) is fitted on the training examples only.
* A text with no tokens is read as a single ``<unk>`` token, so every text gets a prediction.
* ``max_length`` keeps the first tokens of longer texts (None keeps everything).
* Without explicit validation data, ``val_size`` of the training examples (stratified by label,
  drawn with the seed) are held out for early stopping; ``val_size=0`` trains on everything;
  "auto" (numeric default) holds out 0.1 from 1,000 examples on, and below trains on all of
  them with a cosine learning-rate schedule (a hold-out of 4 examples stops at noise).
* Numeric sequences may hold NaN (a value not observed) and may come with time stamps
  (``times=``, one strictly increasing array per sequence); ``missing`` says what the network
  sees then (:mod:`lstmkit.tasks.classify.missing`). Data with no NaN and evenly spaced (or no)
  time stamps trains exactly as it would without this option.
* Batches group examples of similar length (:class:`~lstmkit.data.BucketBatchSampler`) and the
  LSTM gets the true lengths, so padding costs no recurrent compute; pooling ignores padding.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from lstmkit._checks import positive_int, probability
from lstmkit.data import BucketBatchSampler, StandardScaler, collate_padded, pad_sequences
from lstmkit.data.text_batches import TokenDataset, collate_tokens, pad_ids
from lstmkit.data.tokenizers import TOKENIZER_KINDS, Tokenizer, make_tokenizer, tokenizer_from_dict
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.base import Task
from lstmkit.tasks.classify.ensemble import (
    check_ensemble,
    ensemble_size,
    mean_arrays,
    member_seed,
    members_module,
)
from lstmkit.tasks.classify.inputs import (
    check_array,
    check_class_weights,
    check_inputs,
    check_known_labels,
    check_labels,
    check_val_size,
    class_weight_tensor,
    class_weights_from_json,
    class_weights_to_json,
    holdout_fraction,
    small_data_schedule,
    stratified_holdout,
)
from lstmkit.tasks.classify.metrics import (
    bow_logistic_baseline,
    classification_report,
    scores_frame,
    sorted_labels,
)
from lstmkit.tasks.classify.missing import (
    DEFAULT_METHOD,
    check_missing,
    check_times,
    features,
    gap_scale,
    irregular,
    width,
)
from lstmkit.tasks.classify.net import POOLINGS, ClassifierNet
from lstmkit.tasks.classify.sequence_tables import SequenceTables
from lstmkit.tasks.classify.tables import TextTables
from lstmkit.tasks.lstm_options import check_lstm_options
from lstmkit.train import FitResult, History, TrainConfig, fit, seed_everything

log = logging.getLogger(__name__)

TASK = "SequenceClassifier"


class SequenceClassifier(TextTables, SequenceTables, Task):
    """Sequence classification: (bi)LSTM over token embeddings or numeric features, pooled, and a
    linear head trained with (optionally class-weighted) cross-entropy.

    Args:
        tokenizer: "word", "char" or "bpe" for texts (see :mod:`lstmkit.data.tokenizers`), or
            ``None`` for numeric sequences (arrays ``(T_i, F)``).
        tokenizer_options: passed to the tokenizer (``lowercase``, ``min_freq``, ``max_size``;
            ``vocab_size`` for BPE).
        embed_size: embedding size (default 100, or the dimension of ``vectors``).
        hidden_size, num_layers, bidirectional: the LSTM.
        pooling: "last" (final states: forward final + backward final when bidirectional),
            "mean", "max" or "attention" (additive attention over the outputs); padding is
            ignored exactly by all four.
        dropout: on the embeddings, between stacked layers and before the head.
        class_weights: None, "balanced" (``n / (n_classes * count)`` per class, from the training
            labels) or a dict label -> weight (missing labels weigh 1).
        vectors: path of a word2vec/GloVe *text* file to initialise the embeddings of the word or
            char vocabulary (tokens not in the file start random).
        freeze_embeddings: keep the embeddings fixed during training (with ``vectors``).
        max_length: keep at most this many tokens (or steps) per example; None keeps all.
        val_size: fraction of the training examples held out for early stopping when no
            validation data is given (stratified; 0 = none), or "auto" (the default for
            numeric sequences; texts: 0.1): 0.1 from
            ``AUTO_HOLDOUT_MIN`` (1,000) training examples on; below that no hold-out (a few
            examples decide nothing but noise) and a cosine learning-rate schedule over
            ``max_epochs`` unless the training options name a schedule.
        conv_branch: numeric sequences only (their default: True): a convolutional branch (three
            Conv1d blocks with squeeze-and-excitation, global average pooling) beside the LSTM,
            as in LSTM-FCN (Karim et al. 2018); see :class:`~lstmkit.tasks.classify.net.ConvBranch`.
        missing: numeric sequences with gaps (NaN) or irregular time stamps: "mask" (the value
            carried forward, an observed mask and the time since the last observation), "decay"
            (the same, the carried value decaying toward the mean at a learned rate, GRU-D's
            input decay), "grud" (as "decay", and the LSTM's hidden state decays too, GRU-D),
            "interpolate" (the same, the value interpolated linearly in time instead of carried
            forward), "linear" (the interpolated value alone), "mean" (mean imputation) or
            "ffill" (forward fill); see
            :mod:`lstmkit.tasks.classify.missing`. "auto" (default): "linear" (measured best
            with values missing at random) when the training data holds NaN or irregular time
            stamps, otherwise none of these (the values as they are).
        ensemble: how many networks a fit trains (member ``k`` with seed ``seed + 10007 k``, on the
            same preprocessing; predictions average their probabilities): an int >= 1, or
            "auto" (default): 5 for numeric sequences in the small-data regime (fewer than
            ``AUTO_HOLDOUT_MIN`` examples and no ``val``), where one network's accuracy moves
            by 10+ points from seed to seed; otherwise 1. A fit costs K times one network's.
        **lstm_options: passed to :class:`lstmkit.nn.LSTM` (``impl``, ``layer_norm``,
            ``peephole``, ``recurrent_dropout``, ``zoneout``, ``init``, ...).

    The random seed is a training option: ``fit(..., seed=0)``.
    """

    TASK: ClassVar[str] = TASK
    INIT_KEYS: ClassVar[tuple[str, ...]] = (
        "tokenizer",
        "tokenizer_options",
        "embed_size",
        "hidden_size",
        "num_layers",
        "bidirectional",
        "pooling",
        "dropout",
        "class_weights",
        "vectors",
        "freeze_embeddings",
        "max_length",
        "val_size",
        "conv_branch",
        "missing",
        "ensemble",
    )
    ADDED_KEYS: ClassVar[dict[str, Any]] = {"ensemble": 1}  # saved before ensembles: one net

    def __init__(
        self,
        tokenizer: str | None = "word",
        *,
        tokenizer_options: dict[str, Any] | None = None,
        embed_size: int | None = None,
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = True,
        pooling: str = "last",
        dropout: float = 0.0,
        class_weights: None | str | dict[Any, float] = None,
        vectors: str | os.PathLike[str] | None = None,
        freeze_embeddings: bool = False,
        max_length: int | None = None,
        val_size: float | str | None = None,
        conv_branch: bool | None = None,
        missing: str = "auto",
        ensemble: int | str = "auto",
        **lstm_options: Any,
    ) -> None:
        if tokenizer is not None and tokenizer not in TOKENIZER_KINDS:
            raise ConfigError(
                f"tokenizer must be one of {', '.join(map(repr, TOKENIZER_KINDS))} or None "
                f"(numeric sequences), got {tokenizer!r}"
            )
        self.tokenizer_kind = tokenizer
        self.tokenizer_options = dict(tokenizer_options or {})
        if tokenizer is not None:
            make_tokenizer(tokenizer, **self.tokenizer_options)  # check the options now
        elif self.tokenizer_options:
            raise ConfigError("tokenizer_options need a tokenizer; numeric inputs have none")
        self.embed_size = None if embed_size is None else positive_int("embed_size", embed_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.bidirectional = bool(bidirectional)
        if pooling not in POOLINGS:
            raise ConfigError(
                f"pooling must be one of {', '.join(map(repr, POOLINGS))}, got {pooling!r}"
            )
        self.pooling = pooling
        self.dropout = probability("dropout", dropout)
        self.class_weights = check_class_weights(class_weights)
        if vectors is not None:
            if tokenizer not in ("word", "char"):
                raise ConfigError(
                    f"vectors initialise a word or char vocabulary; tokenizer={tokenizer!r} "
                    "has none to match them against"
                )
            if not Path(vectors).is_file():
                raise DataError(f"vectors file {vectors} does not exist")
        self.vectors = None if vectors is None else str(vectors)
        self.freeze_embeddings = bool(freeze_embeddings)
        if self.freeze_embeddings and tokenizer is None:
            raise ConfigError(
                "freeze_embeddings needs a tokenizer: numeric inputs have no embedding"
            )
        self.max_length = None if max_length is None else positive_int("max_length", max_length)
        numeric_default = tokenizer is None  # numeric defaults chosen by the benchmark
        self.val_size = check_val_size(
            ("auto" if numeric_default else 0.1) if val_size is None else val_size
        )
        if conv_branch and tokenizer is not None:
            raise ConfigError("conv_branch reads numeric sequences (tokenizer=None), not texts")
        self.conv_branch = numeric_default if conv_branch is None else bool(conv_branch)
        self.missing = check_missing(missing)
        if self.missing != "auto" and tokenizer is not None:
            raise ConfigError(f"missing={missing!r} is for numeric sequences (tokenizer=None)")
        self.ensemble = check_ensemble(ensemble)
        self.lstm_options = check_lstm_options(lstm_options, hidden_size=self.hidden_size)
        # Set by fit (or load): the members, and member 0 as ``net`` (history is member 0's).
        self.nets: list[ClassifierNet] = []
        self.net: ClassifierNet | None = None
        self.tokenizer: Tokenizer | None = None
        self.scaler: StandardScaler | None = None
        self.classes: list[Any] | None = None
        self.n_features: int | None = None
        self.columns: dict[str, Any] | None = None
        self.history: History | None = None
        self.fit_result: FitResult | None = None
        self.vectors_found: int | None = None
        self.missing_method: str | None = None  # what fit chose for missing (None: no gaps)
        self.gap_scale = 1.0  # the training data's typical time between observations

    # --- configuration ----------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (``embed_size`` as fitted)."""
        config = super().get_config()
        config["tokenizer"] = self.tokenizer_kind  # self.tokenizer is the fitted tokenizer
        config["tokenizer_options"] = dict(self.tokenizer_options)
        if isinstance(self.class_weights, dict):
            config["class_weights"] = dict(self.class_weights)
        return config

    def __repr__(self) -> str:
        state = f"{len(self.classes)} classes" if self.classes else "not fitted"
        return (
            f"SequenceClassifier(tokenizer={self.tokenizer_kind!r}, pooling={self.pooling!r}, "
            f"hidden_size={self.hidden_size}, bidirectional={self.bidirectional}, {state})"
        )

    @property
    def numeric(self) -> bool:
        return self.tokenizer_kind is None

    def _is_fitted(self) -> bool:
        return self.net is not None and bool(self.nets) and self.classes is not None

    # --- inputs -----------------------------------------------------------------------------

    def _check_inputs(self, inputs: Any, what: str) -> list[Any]:
        return check_inputs(inputs, what, numeric=self.numeric, n_features=self.n_features)

    def _check_times(
        self, times: Any, items: list[Any], what: str, *, fitting: bool = False
    ) -> list[Any] | None:
        """The time stamps (None: none given); a model fitted without the missing-value
        inputs refuses NaN and irregular times (it would not know what they mean)."""
        if times is not None and not self.numeric:
            raise ConfigError("times are for numeric sequences (tokenizer=None), not texts")
        checked = check_times(times, [len(x) for x in items], what)
        if self.numeric and not fitting and self.missing_method is None:
            gaps = [i for i, x in enumerate(items) if np.isnan(x).any()]
            if gaps or irregular(checked):
                found = f"sequence {gaps[0]} holds NaN" if gaps else "the times are irregular"
                raise DataError(
                    f"{what}: {found}, but this model was trained on complete, evenly spaced "
                    "data; refit with missing='mask' (or 'decay', 'mean', 'ffill') to predict "
                    "on sequences with gaps"
                )
        return checked

    def _encode(self, items: list[Any], times: list[Any] | None = None) -> list[Any]:
        """Token id lists (texts) or float32 tensors ``(T, width)`` (numeric: scaled, and the
        missing-value inputs when fitted with them), truncated."""
        cut = self.max_length
        if self.numeric:
            assert self.scaler is not None
            out = []
            for k, x in enumerate(items):
                x = self.scaler.transform(x[:cut] if cut else x)
                if self.missing_method is not None:
                    s = None if times is None else times[k][:cut] if cut else times[k]
                    x = features(x, s, self.missing_method, self.gap_scale)
                out.append(torch.as_tensor(x, dtype=torch.float32))
            return out
        assert self.tokenizer is not None
        unk = self.tokenizer.unk_id
        out = []
        for text in items:
            ids = self.tokenizer.encode(text)
            out.append((ids[:cut] if cut else ids) or [unk])  # an empty text is one <unk>
        return out

    def _loader(
        self, encoded: list[Any], targets: list[int], batch_size: int, shuffle: bool, seed: int
    ) -> DataLoader:
        lengths = [len(x) for x in encoded]
        sampler = BucketBatchSampler(lengths, batch_size, shuffle=shuffle, seed=seed)
        if self.numeric:
            pairs = list(zip(encoded, targets, strict=True))
            return DataLoader(pairs, batch_sampler=sampler, collate_fn=collate_padded)
        dataset = TokenDataset(encoded, targets)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_tokens(0))

    # --- training ---------------------------------------------------------------------------

    def fit(
        self,
        inputs: Any,
        labels: Any,
        val: tuple[Any, ...] | None = None,
        *,
        times: Any = None,
        config: TrainConfig | None = None,
        **train_options: Any,
    ) -> SequenceClassifier:
        """Train on ``inputs`` (texts, or numeric arrays ``(T_i, F)``, NaN where a value is
        missing) and their ``labels``; ``times``: numeric only, one array of strictly increasing
        time stamps per sequence (None: evenly spaced steps).

        ``val``: ``(inputs, labels)`` (or ``(inputs, labels, times)``) for early stopping; by
        default ``val_size`` of the training examples are held out. Training options are a
        :class:`~lstmkit.train.TrainConfig` and/or its fields as keywords (``max_epochs``,
        ``lr``, ``batch_size``, ``patience``, ``seed``, ``run_dir``, ...); ``seed`` (default 0)
        fixes the hold-out, the initial weights and the batch order. Returns ``self``.
        """
        base = config or TrainConfig()
        train_config = base.replace(**train_options) if train_options else base
        if small_data_schedule(self.val_size, val, inputs, config, train_options):
            train_config = train_config.replace(schedule="cosine")
        seed = train_config.seed
        self.n_features = None  # a refit may change the inputs
        self.nets = []  # a refit that fails leaves no model
        self.columns = None  # fit_frame and fit_sequences set them after fitting
        self.missing_method, self.gap_scale = None, 1.0
        items = self._check_inputs(inputs, "training data")
        targets = check_labels(labels, len(items), "training data")
        item_times = self._check_times(times, items, "training data", fitting=True)
        val_times = None
        if val is not None:
            if not isinstance(val, tuple | list) or len(val) not in (2, 3):
                raise ConfigError("val must be a pair (inputs, labels) or (inputs, labels, times)")
            val_items = self._check_inputs(val[0], "validation data")
            val_targets = check_labels(val[1], len(val_items), "validation data")
            if len(val) == 3:
                val_times = self._check_times(val[2], val_items, "validation data", fitting=True)
        elif holdout_fraction(self.val_size, len(items)) > 0:
            fraction = holdout_fraction(self.val_size, len(items))
            train_idx, val_idx = stratified_holdout(targets, fraction, seed)
            val_items = [items[i] for i in val_idx]
            val_targets = [targets[i] for i in val_idx]
            if item_times is not None:
                val_times = [item_times[i] for i in val_idx]
                item_times = [item_times[i] for i in train_idx]
            items = [items[i] for i in train_idx]
            targets = [targets[i] for i in train_idx]
        else:
            val_items, val_targets = [], []
        classes = sorted_labels(targets)
        if len(classes) < 2:
            raise DataError(
                f"training data: a classifier needs at least 2 classes, the labels hold only "
                f"{classes!r}"
            )
        check_known_labels(val_targets, classes, "validation data")
        weights = class_weight_tensor(self.class_weights, targets, classes)

        # Preprocessing, fitted on the training examples only.
        self.tokenizer, self.scaler = None, None
        if self.numeric:
            if len({x.shape[1] for x in items}) != 1:
                raise DataError(
                    "training data: every sequence must have the same number of features, got "
                    f"{sorted({x.shape[1] for x in items})}"
                )
            self.n_features = int(items[0].shape[1])
            for i, x in enumerate(val_items):
                check_array(x, i, "validation data", self.n_features)
            gaps = any(np.isnan(x).any() for x in items)
            if self.missing != "auto":
                self.missing_method = self.missing
            elif gaps or irregular(item_times):
                self.missing_method = DEFAULT_METHOD
            if gaps:  # the observed values' mean and std (a channel is observed somewhere)
                values = np.concatenate(items)
                self.scaler = StandardScaler.from_dict(
                    {"kind": "standard", "mean": np.nanmean(values, axis=0).tolist(),
                     "std": np.nanstd(values, axis=0).tolist()}
                )  # fmt: skip
            else:
                self.scaler = StandardScaler().fit(np.concatenate(items))
            if self.missing_method is not None:
                cut = self.max_length
                self.gap_scale = gap_scale(
                    [x[:cut] if cut else x for x in items],
                    None if item_times is None else [s[:cut] if cut else s for s in item_times],
                )
        else:
            self.tokenizer = make_tokenizer(self.tokenizer_kind, **self.tokenizer_options)  # type: ignore[arg-type]
            self.tokenizer.fit(items)
        self.classes = classes
        index = {label: k for k, label in enumerate(classes)}
        train_x, val_x = self._encode(items, item_times), self._encode(val_items, val_times)

        bs = train_config.batch_size
        val_loader = (
            self._loader(val_x, [index[v] for v in val_targets], bs, False, seed) if val_x else None
        )

        def loss_fn(model: ClassifierNet, batch: tuple[Tensor, Tensor, Tensor]) -> Tensor:
            x, lengths, y = batch
            logits = model(x, lengths).float()  # fp32 under autocast
            w = weights.to(logits.device) if weights is not None else None
            return torch.nn.functional.cross_entropy(logits, y.to(logits.device), weight=w)

        log.info(
            "training a %s classifier on %d examples (%d for validation), %d classes",
            self.pooling,
            len(train_x),
            len(val_x),
            len(classes),
        )
        size = ensemble_size(
            self.ensemble, numeric=self.numeric, has_val=val is not None, n_train=len(items)
        )
        members, first = [], None
        for k in range(size):  # member 0 is exactly the model a fit of one trains
            k_seed = member_seed(seed, k)
            member = train_config.replace(seed=k_seed)
            if k and member.run_dir is not None:
                member = member.replace(run_dir=Path(member.run_dir) / f"member-{k}")
            if size > 1:
                log.info("ensemble member %d of %d (seed %d)", k + 1, size, k_seed)
            seed_everything(k_seed)
            self.net = self._build_net(k_seed, with_vectors=True)
            train_loader = self._loader(train_x, [index[v] for v in targets], bs, True, k_seed)
            self._train_net(fit, loss_fn, train_loader, val_loader, member)
            members.append(self.net)
            first = first or (self.fit_result, self.history)
        self.nets, self.net = members, members[0]
        self.fit_result, self.history = first
        return self

    def _build_net(self, seed: int = 0, *, with_vectors: bool = False) -> ClassifierNet:
        """A new net for the fitted preprocessing; ``with_vectors`` initialises the embeddings
        from the vectors file (training; a loaded model gets its saved weights instead)."""
        assert self.classes is not None
        embedding = None
        if with_vectors and not self.numeric and self.vectors is not None:
            embedding = self._read_vectors(seed)
            self.embed_size = int(embedding.shape[1])
        net = ClassifierNet(
            n_classes=len(self.classes),
            vocab_size=None if self.numeric else self.tokenizer.vocab_size,  # type: ignore[union-attr]
            embed_size=self.embed_size or 100,
            n_features=width(self.missing_method, self.n_features) if self.numeric else None,  # type: ignore[arg-type]
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            pooling=self.pooling,
            dropout=self.dropout,
            conv_branch=self.conv_branch,
            lstm_options=self.lstm_options,
            input_decay=self.missing_method in ("decay", "grud"),
            hidden_decay=self.missing_method == "grud",
        )
        if not self.numeric and self.embed_size is None:
            self.embed_size = 100
        if embedding is not None:
            assert net.embedding is not None
            with torch.no_grad():
                net.embedding.weight.copy_(embedding)
        if net.embedding is not None and self.freeze_embeddings:
            net.embedding.weight.requires_grad_(False)
        return net

    def _read_vectors(self, seed: int) -> Tensor:
        from lstmkit.data.vectors import read_vectors

        assert self.tokenizer is not None and self.vectors is not None
        vocab = self.tokenizer.vocab  # type: ignore[attr-defined]
        matrix, found = read_vectors(
            self.vectors,
            vocab,
            dim=self.embed_size,
            seed=seed,
            lowercase=bool(getattr(self.tokenizer, "lowercase", False)),
        )
        self.vectors_found = found
        log.info(
            "vectors from %s: %d of %d vocabulary tokens found", self.vectors, found, len(vocab)
        )
        return matrix

    # --- prediction -------------------------------------------------------------------------

    @torch.no_grad()
    def _logits(self, net: ClassifierNet, encoded: list[Any], batch_size: int = 256) -> Tensor:
        """``net``'s logits ``(N, C)`` in input order; batches are cut in length order."""
        net.eval()
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        out = torch.empty(len(encoded), len(self.classes or ()))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            if self.numeric:
                x, lengths = pad_sequences([encoded[i] for i in rows])
            else:
                x, lengths = pad_ids([encoded[i] for i in rows])
            out[torch.tensor(rows)] = net(x, lengths).float()
        return out

    def predict_proba(self, inputs: Any, *, times: Any = None, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``(N, n_classes)`` (float64), columns in :attr:`classes` order;
        ``times`` as :meth:`fit` takes them; an ensemble's are the mean of its members'."""
        self._require_fitted("predict_proba")
        items = self._check_inputs(inputs, "predict")
        stamps = self._check_times(times, items, "predict")
        encoded, size = self._encode(items, stamps), positive_int("batch_size", batch_size)
        probs = [
            torch.softmax(self._logits(net, encoded, size).double(), dim=1).numpy()
            for net in self.nets
        ]
        return np.mean(probs, axis=0)

    def predict(self, inputs: Any, *, times: Any = None, batch_size: int = 256) -> list[Any]:
        """The most probable label of each input."""
        self._require_fitted("predict")
        proba = self.predict_proba(inputs, times=times, batch_size=batch_size)
        return [self.classes[k] for k in proba.argmax(axis=1)]  # type: ignore[index]

    @torch.no_grad()
    def attention_weights(self, inputs: Any, *, times: Any = None) -> list[np.ndarray]:
        """Attention weights over each input's tokens (steps), one array per input
        (``pooling="attention"`` only); token ``k`` of text ``i`` is
        ``tokenizer.tokenize(text)[k]`` (within ``max_length``); an ensemble's are the mean
        of its members'."""
        self._require_fitted("attention_weights")
        if self.pooling != "attention":
            raise ConfigError(f"attention weights need pooling='attention', not {self.pooling!r}")
        items = self._check_inputs(inputs, "attention_weights")
        encoded = self._encode(items, self._check_times(times, items, "attention_weights"))
        padded = [pad_sequences([s]) if self.numeric else pad_ids([s]) for s in encoded]
        per_member = []
        for net in self.nets:
            net.eval()
            per_member.append([net.attention_weights(*xl)[0].double().numpy() for xl in padded])
        return mean_arrays(per_member)

    # --- evaluation -------------------------------------------------------------------------

    def report(self, inputs: Any, labels: Any, *, times: Any = None) -> dict[str, Any]:
        """Everything measured on ``inputs``, as JSON-safe values: ``n``, ``accuracy``,
        ``macro_f1``, ``labels``, ``per_class`` precision/recall/F1/support and the
        ``confusion_matrix`` (rows true, columns predicted); see
        :func:`lstmkit.tasks.classify.metrics.classification_report`. A label never seen in
        training is a DataError naming it (the model cannot predict it: most often it is
        misspelt, or the data is not what the model was trained for)."""
        self._require_fitted("report")
        items = self._check_inputs(inputs, "evaluate")
        truth = check_labels(labels, len(items), "evaluate")
        check_known_labels(truth, self.classes, "evaluate")  # type: ignore[arg-type]
        predicted = self.predict(items, times=times)
        return classification_report(truth, predicted, self.classes)  # type: ignore[arg-type]

    def evaluate(
        self,
        inputs: Any,
        labels: Any,
        *,
        times: Any = None,
        baseline: tuple[Any, Any] | None = None,
        baseline_seed: int = 0,
    ) -> pd.DataFrame:
        """The scores on ``inputs``: a DataFrame with row "model" and columns ``accuracy``,
        ``macro_f1`` and ``n`` (:meth:`report` has the per-class scores and the confusion
        matrix). ``baseline=(texts, labels)`` adds the row "bow-logreg": the bag-of-words
        logistic regression (:func:`~lstmkit.tasks.classify.metrics.bow_logistic_baseline`)
        fitted on those training texts and scored on the same ``inputs``."""
        self._require_fitted("evaluate")
        reports = {"model": self.report(inputs, labels, times=times)}
        if baseline is not None:
            if self.numeric:
                raise ConfigError("the bag-of-words baseline reads texts, not numeric sequences")
            reports["bow-logreg"] = bow_logistic_baseline(
                *baseline, list(inputs), list(labels), seed=baseline_seed
            )
        return scores_frame(reports)

    # --- saving (Task hooks): state.json holds the labels, tokenizer or scaler, columns, history

    def _saved_config(self) -> dict[str, Any]:
        config = self.get_config()
        config["class_weights"] = class_weights_to_json(self.class_weights)
        return {**config, "n_features": self.n_features}

    def _state(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),  # type: ignore[arg-type]
            "tokenizer": self.tokenizer.to_dict() if self.tokenizer is not None else None,
            "scaler": self.scaler.to_dict() if self.scaler is not None else None,
            "columns": self.columns,
            "history": self.history.to_dict() if self.history else None,
            "missing": {"method": self.missing_method, "gap_scale": self.gap_scale},
            "members": len(self.nets),
        }

    def _weights(self) -> torch.nn.Module:
        return members_module(self.nets)

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> SequenceClassifier:
        # The vectors file is not read again (the weights hold the embeddings; it may be gone).
        # Configs written before the Task base also hold "seed" (now a training option): ignored.
        skip = ("vectors", "freeze_embeddings")
        config = {**cls.ADDED_KEYS, **config}
        init = {k: config[k] for k in cls.INIT_KEYS if k not in skip and k in config}
        init.setdefault("conv_branch", False)  # saved before the branch existed
        init["class_weights"] = class_weights_from_json(init["class_weights"])
        model = cls(**init, **dict(config.get("lstm_options") or {}))
        model.vectors = config.get("vectors")  # for the record
        model.freeze_embeddings = bool(config.get("freeze_embeddings"))
        return model

    def _restore(self, state: dict[str, Any], config: dict[str, Any]) -> None:
        from lstmkit.data import scaler_from_dict

        self.n_features = config["n_features"]
        classes = list(state["classes"])
        if len(classes) < 2:
            raise ValueError(f"the saved label list {classes!r} has fewer than 2 classes")
        self.classes = classes
        if self.numeric:
            self.scaler = scaler_from_dict(state["scaler"])  # type: ignore[assignment]
        else:
            self.tokenizer = tokenizer_from_dict(state["tokenizer"])
        self.columns = state.get("columns")
        missing = state.get("missing") or {}  # saved before gaps were accepted: none
        self.missing_method = missing.get("method")
        if self.missing_method is not None:
            check_missing(self.missing_method)
        self.gap_scale = float(missing.get("gap_scale", 1.0))
        self.history = History.from_dict(state["history"]) if state.get("history") else None
        members = positive_int("members", state.get("members", 1))  # before ensembles: one
        self.nets = [self._build_net() for _ in range(members)]
        self.net = self.nets[0]


__all__ = ["SequenceClassifier"]
