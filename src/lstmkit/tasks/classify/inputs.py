"""What the classifier checks before it trains or predicts: the examples, the labels, the class
weights; and the stratified hold-out it draws for early stopping. Each error says what is wrong
and where (``what`` names the data: "training data", "validation data", "predict", ...)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from lstmkit._checks import described
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.classify.metrics import sorted_labels


def check_inputs(inputs: Any, what: str, *, numeric: bool, n_features: int | None) -> list[Any]:
    """The examples as a list: strings (texts), or float64 arrays ``(T, F)`` (numeric)."""
    if isinstance(inputs, str | bytes):
        raise DataError(f"{what}: expected a list of texts, got a single string")
    if isinstance(inputs, pd.Series):
        inputs = inputs.tolist()
    try:
        items = list(inputs)
    except TypeError:
        raise DataError(
            f"{what}: expected a list of {'arrays' if numeric else 'texts'}, got a "
            f"{type(inputs).__name__}"
        ) from None
    if not items:
        raise DataError(f"{what}: there are no examples (empty input)")
    if numeric:
        return [check_array(x, i, what, n_features) for i, x in enumerate(items)]
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise DataError(f"{what}: example {i} is {described(text)}; expected a string of text")
    return items


def check_array(x: Any, i: int, what: str, n_features: int | None) -> np.ndarray:
    """Numeric sequence ``i`` as float64 ``(T, F)`` (a 1-D sequence is one feature); NaN marks
    a missing value, but every channel needs one observed value, and inf is refused."""
    try:
        arr = np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{what}: sequence {i} is not numeric") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(
            f"{what}: sequence {i} must have shape (T, F) with T, F >= 1, got {arr.shape}"
        )
    if np.isinf(arr).any():
        step, channel = np.argwhere(np.isinf(arr))[0]
        raise DataError(
            f"{what}: sequence {i} holds an infinite value (step {step}, channel {channel}); "
            "expected finite numbers, or NaN where a value is missing"
        )
    empty = np.nonzero(np.isnan(arr).all(axis=0))[0]
    if empty.size:
        raise DataError(
            f"{what}: sequence {i} has no observed value in channel {empty[0]} (every value is "
            "NaN); expected at least one per channel"
        )
    if n_features is not None and arr.shape[1] != n_features:
        raise DataError(f"{what}: sequence {i} has {arr.shape[1]} features, expected {n_features}")
    return arr


def check_labels(labels: Any, n: int, what: str) -> list[Any]:
    """One hashable, non-missing label per example, as a list."""
    if labels is None:
        raise DataError(f"{what}: labels are missing (None)")
    values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
    if len(values) != n:
        raise DataError(f"{what}: {n} examples but {len(values)} labels; expected one label each")
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and v != v):
            raise DataError(f"{what}: label {i} is missing ({v!r})")
        try:
            hash(v)
        except TypeError:
            raise DataError(
                f"{what}: label {i} is {described(v)}; labels must be strings or numbers"
            ) from None
    return values


def _listed(labels: list[Any], most: int = 10) -> str:
    """``labels`` as a message lists them: the first ``most``, then how many more."""
    shown = ", ".join(map(repr, labels[:most]))
    return shown + (f" and {len(labels) - most} more" if len(labels) > most else "")


def check_known_labels(labels: list[Any], classes: list[Any], what: str) -> None:
    """DataError when ``labels`` hold a label the model was not trained on: it can never predict
    one, so scores against it would be silently wrong (most often the label is misspelt or the
    data is not the one the model was trained for)."""
    unseen = sorted_labels(set(labels) - set(classes))
    if unseen:
        raise DataError(
            f"{what}: {len(unseen)} label(s) never seen in training: {_listed(unseen)}; the "
            f"{len(classes)} training labels are {_listed(classes)}"
        )


def check_class_weights(value: Any) -> Any:
    if value is None or value == "balanced":
        return value
    if isinstance(value, dict):
        for k, w in value.items():
            if isinstance(w, bool) or not isinstance(w, int | float) or not 0 < w < float("inf"):
                raise ConfigError(f"class weight of {k!r} must be a finite number > 0, got {w!r}")
        return dict(value)
    raise ConfigError(
        f"class_weights must be None, 'balanced' or a dict label -> weight, got {value!r}"
    )


def class_weights_to_json(value: Any) -> Any:
    """A dict as ``[[label, weight], ...]`` (its labels may be numbers, which JSON keys are not);
    None and "balanced" as they are."""
    return [[k, v] for k, v in value.items()] if isinstance(value, dict) else value


def class_weights_from_json(value: Any) -> Any:
    """The inverse of :func:`class_weights_to_json`. (Models saved before lstmkit wrote
    "balanced" into config.json hold None there: they load without class weights, which only
    matters to a refit.)"""
    return {k: v for k, v in value} if isinstance(value, list) else value


def stratified_holdout(
    labels: list[Any], fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Indices ``(train, val)``: about ``fraction`` of each class's examples to val (never all of
    a class), drawn with a generator seeded by ``seed``; sorted."""
    rng = np.random.default_rng(seed)
    by_class: dict[Any, list[int]] = {}
    for i, v in enumerate(labels):
        by_class.setdefault(v, []).append(i)
    val: list[int] = []
    for label in sorted_labels(by_class):
        idx = np.array(by_class[label])
        k = min(int(round(fraction * len(idx))), len(idx) - 1)
        if k > 0:
            val.extend(rng.permutation(idx)[:k].tolist())
    chosen = set(val)
    return [i for i in range(len(labels)) if i not in chosen], sorted(val)


def class_weight_tensor(
    class_weights: Any, targets: list[Any], classes: list[Any]
) -> Tensor | None:
    """The loss weight of each class (None: unweighted), from the training labels."""
    if class_weights is None:
        return None
    if class_weights == "balanced":
        counts = np.array([targets.count(c) for c in classes], dtype=np.float64)
        values = len(targets) / (len(classes) * counts)
    else:
        extra = sorted_labels(set(class_weights) - set(classes))
        if extra:
            raise DataError(
                f"class_weights name label(s) {extra!r} that are not in the training labels "
                f"{classes!r}"
            )
        values = np.array([float(class_weights.get(c, 1.0)) for c in classes])
    return torch.tensor(values, dtype=torch.float32)


AUTO_HOLDOUT_MIN = 1000  # val_size="auto" holds out 10 % for early stopping from this many on


def check_val_size(value: Any) -> float | str:
    if value == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(f"val_size must be a fraction in [0, 1) or 'auto', got {value!r}")
    return float(value)


def holdout_fraction(val_size: float | str, n: int) -> float:
    """The share of ``n`` training examples held out for early stopping (none below 10)."""
    if n < 10:
        return 0.0
    if val_size == "auto":
        return 0.1 if n >= AUTO_HOLDOUT_MIN else 0.0
    return float(val_size)


def small_data_schedule(
    val_size: float | str, val: Any, inputs: Any, config: Any, train_options: dict[str, Any]
) -> bool:
    """True when ``val_size="auto"`` trains on every example (no validation data, fewer than
    ``AUTO_HOLDOUT_MIN``) and the caller chose no schedule: then a cosine schedule is used."""
    if val_size != "auto" or val is not None or config is not None or "schedule" in train_options:
        return False
    try:
        n = len(inputs)
    except TypeError:
        return False
    return n < AUTO_HOLDOUT_MIN
