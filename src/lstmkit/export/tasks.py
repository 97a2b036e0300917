"""What each task exports: the network call inside its ``predict``, with named inputs and outputs.

Preprocessing (tokenising, scaling, windowing) and postprocessing (the forecaster's median and
unscaling, the tagger's CRF decoding, sampling) stay in lstmkit; the exported file is the network
between them. Batch and time axes are dynamic in ONNX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError

# The example inputs' sizes; the exported ONNX file takes any batch and length.
_BATCH, _STEPS = 2, 5


@dataclass
class Spec:
    """A task's network as an export sees it."""

    net: nn.Module
    example: tuple[Tensor, ...]
    inputs: list[str]
    outputs: list[str]
    dynamic_axes: dict[str, dict[int, str]]
    notes: dict[str, Any] = field(default_factory=dict)


class _Ensemble(nn.Module):
    """Forecaster members stacked: ``(past, future) -> (M, B, H, n_targets, n_quantiles)``."""

    def __init__(self, nets: list[nn.Module], horizon: int, n_future: int) -> None:
        super().__init__()
        self.members = nn.ModuleList(nets)
        self.horizon, self.n_future = horizon, n_future

    def forward(self, past: Tensor, future: Tensor | None = None) -> Tensor:
        if future is None:
            future = past.new_zeros(past.shape[0], self.horizon, 0)
        return torch.stack([net(past, future) for net in self.members])


class _FirstOutput(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, *args: Tensor) -> Tensor:
        return self.net(*args)[0]


class _MeanProbabilities(nn.Module):
    """Classifier members: ``(x, lengths) -> (B, classes)``, the mean of their softmax."""

    def __init__(self, nets: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(nets)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        probs = [torch.softmax(net(x, lengths).float(), dim=1) for net in self.members]
        return torch.stack(probs).mean(0)


class _LMStep(nn.Module):
    """``(ids, h_0, c_0, h_1, c_1, ...) -> (logits, h_0, c_0, ...)``: one call of the LM."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.n_layers = len(net.layers)

    def forward(self, ids: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        pairs = [(state[2 * k], state[2 * k + 1]) for k in range(self.n_layers)]
        logits, new_state, _, _ = self.net(ids, pairs)
        return (logits, *(t for pair in new_state for t in pair))


def _forecaster(task: Any) -> Spec:
    if not task.nets:
        raise ConfigError(
            f"this Forecaster (model={task.model!r}) has no network to export: AutoETS won on "
            "its validation part, or it was trained without the LSTM"
        )
    first = task.nets[0]
    n_inputs, horizon, n_future = first.encoder.input_size, first.horizon, first.n_future
    past = torch.zeros(_BATCH, _STEPS, n_inputs)
    example: tuple[Tensor, ...] = (past,)
    inputs, axes = ["past"], {"past": {0: "batch", 1: "time"}}
    if n_future:
        example += (torch.zeros(_BATCH, horizon, n_future),)
        inputs.append("future")
        axes["future"] = {0: "batch"}
    axes["forecasts"] = {1: "batch"}
    notes = {
        "forecasts": "(members, batch, horizon, targets, quantiles), normalised; predict takes "
        "the median over members, sorts the quantiles and undoes the window normalisation",
        "combination": "the graph holds the networks only; with combine='ets' predict also "
        "averages in an exponential-smoothing forecast (its parameters: state.json 'smoothers', "
        "lstmkit.tasks.forecast.ets)"
        if task.combined
        else "none",
        "quantiles": list(getattr(task, "quantiles", []) or []),
    }
    net = _Ensemble(task.nets, horizon, n_future)
    return Spec(net, example, inputs, ["forecasts"], axes, notes)


def _detector(task: Any) -> Spec:
    if task.net is None:
        raise ConfigError(
            f"AnomalyDetector(method={task.method!r}) has no network to export; "
            "the 'prediction' and 'autoencoder' methods do"
        )
    n_channels = task.net.head.out_features
    x = torch.zeros(_BATCH, _STEPS, n_channels)
    axes = {"x": {0: "batch", 1: "time"}}
    if task.method == "prediction":
        net: nn.Module = _FirstOutput(task.net)
        out, note = "predictions", "(batch, time, channels): step t predicts row t + 1"
    else:
        net, out, note = task.net, "reconstruction", "(batch, window, channels)"
    axes[out] = {0: "batch", 1: "time"}
    notes = {out: note + ", in the detector's scaled units"}
    return Spec(net, (x,), ["x"], [out], axes, notes)


def _classifier(task: Any) -> Spec:
    net = task.net
    if getattr(task, "missing_method", None) == "grud":
        raise ConfigError(
            "a classifier trained with missing='grud' cannot be exported to ONNX: GRU-D's "
            "hidden-state decay changes the state between steps in a Python loop "
            "(lstmkit.nn.HiddenDecay) that the export does not trace; train with missing="
            "'decay' or 'linear' to export, or serve the model with lstmkit serve"
        )
    if net.embedding is None:
        x = torch.zeros(_BATCH, _STEPS, net.lstm.input_size)
        kind = "(batch, time, features) float32, scaled as the classifier scales them"
    else:
        x = torch.ones(_BATCH, _STEPS, dtype=torch.int64)
        kind = "(batch, time) int64 token ids, 0 = padding"
    lengths = torch.tensor([_STEPS, _STEPS - 2])
    nets = list(getattr(task, "nets", None) or [net])
    out, note = "logits", "(batch, classes)"
    if len(nets) > 1:  # predict averages the members' probabilities: so does the graph
        net, out = _MeanProbabilities(nets), "probabilities"
        note = f"(batch, classes), the mean of the {len(nets)} ensemble members' softmax"
    axes = {"x": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, out: {0: "batch"}}
    notes = {"x": kind, out: note, "classes": list(map(str, task.classes))}
    return Spec(net, (x, lengths), ["x", "lengths"], [out], axes, notes)


def _tagger(task: Any) -> Spec:
    net = task.net
    words = torch.ones(_BATCH, _STEPS, dtype=torch.int64)
    lengths = torch.tensor([_STEPS, _STEPS - 2])
    axes: dict[str, dict[int, str]] = {
        "words": {0: "batch", 1: "time"},
        "lengths": {0: "batch"},
        "emissions": {0: "batch", 1: "time"},
    }
    if net.char_embedding is not None:
        chars = torch.ones(_BATCH, _STEPS, 4, dtype=torch.int64)
        example: tuple[Tensor, ...] = (words, chars, lengths)
        inputs = ["words", "chars", "lengths"]
        axes["chars"] = {0: "batch", 1: "time", 2: "chars"}
    else:
        net, example, inputs = _NoChars(net), (words, lengths), ["words", "lengths"]
    notes = {
        "emissions": "(batch, time, tags) scores; the CRF's Viterbi decoding (when the tagger has "
        "one) stays in lstmkit",
        "tags": list(map(str, task.tags)),
    }
    return Spec(net, example, inputs, ["emissions"], axes, notes)


class _NoChars(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, words: Tensor, lengths: Tensor) -> Tensor:
        return self.net(words, words.new_zeros(*words.shape, 1), lengths)


def _language_model(task: Any) -> Spec:
    net = task.net
    ids = torch.ones(_BATCH, _STEPS, dtype=torch.int64)
    inputs, outputs = ["ids"], ["logits"]
    axes = {"ids": {0: "batch", 1: "time"}, "logits": {0: "batch", 1: "time"}}
    state = []
    for k, layer in enumerate(net.layers):
        lstm = getattr(layer, "module", layer)  # under WeightDrop
        for name, size in zip("hc", lstm.state_sizes, strict=True):
            state.append(torch.zeros(1, _BATCH, size))
            inputs.append(f"{name}0_{k}")
            outputs.append(f"{name}_{k}")
            axes[f"{name}0_{k}"] = {1: "batch"}
            axes[f"{name}_{k}"] = {1: "batch"}
    notes = {
        "logits": "(batch, time, vocabulary); feed h_k/c_k back as h0_k/c0_k for the next call",
    }
    return Spec(_LMStep(net), (ids, *state), inputs, outputs, axes, notes)


def _speech(task: Any) -> Spec:
    net = task.net
    x = torch.zeros(_BATCH, _STEPS, net.lstm.input_size)
    lengths = torch.tensor([_STEPS, _STEPS - 2])
    axes = {"features": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}
    axes["log_probs"] = {0: "batch", 1: "time"}
    notes = {"log_probs": "(batch, time, tokens + 1) per frame, CTC blank last; decoding stays"}
    return Spec(net, (x, lengths), ["features", "lengths"], ["log_probs"], axes, notes)


_SPECS = {
    "Forecaster": _forecaster,
    "AnomalyDetector": _detector,
    "SequenceClassifier": _classifier,
    "Tagger": _tagger,
    "LanguageModel": _language_model,
    "SpeechRecognizer": _speech,
}
EXPORTABLE = tuple(_SPECS)


def task_spec(task: Any) -> Spec:
    """The network of a fitted task, ready for :mod:`lstmkit.export.writer`."""
    name = getattr(task, "TASK", type(task).__name__)
    if name not in _SPECS:
        raise ConfigError(
            f"{name} cannot be exported: its predict is not one network call (beam search, "
            f"decoding loops); exportable tasks: {', '.join(EXPORTABLE)}"
        )
    task._require_fitted("export")
    spec = _SPECS[name](task)
    spec.notes = {"task": name, **spec.notes}
    return spec
