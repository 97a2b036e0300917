"""The native engine: torch's own fused recurrent op (oneDNN on CPU, cuDNN on GPU).

It covers what ``torch.nn.LSTM``/``GRU``/``RNN`` cover: the plain cells, projections, stacking,
bidirectional layers, dropout between layers and variable lengths (through packing). Recurrent
dropout and zoneout change nothing in eval mode, so a model trained with them still runs here at
inference. Dropout between layers draws its own masks inside torch.
"""

from __future__ import annotations

from typing import Any

from torch import _VF, Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit.nn.engine.base import EngineLayer, Masks

NAME = "native"

_OPS = {"LSTM": _VF.lstm, "GRU": _VF.gru, "RNN_TANH": _VF.rnn_tanh, "RNN_RELU": _VF.rnn_relu}


def unsupported(layer: EngineLayer, want_trace: bool) -> str | None:
    """Why torch's fused op cannot run ``layer`` as configured, or None when it can."""
    reasons = []
    if not layer.is_plain:
        options = layer.options
        reasons += [n for n in ("peephole", "coupled_gates", "layer_norm") if getattr(options, n)]
        if not options.forget_gate:
            reasons.append("forget_gate=False")
    if layer.training:
        reasons += [n for n in ("recurrent_dropout", "zoneout") if getattr(layer, n) > 0]
    if want_trace:
        reasons.append("return_trace")
    return ", ".join(f"{r}" for r in reasons) or None


def run(
    layer: EngineLayer,
    x: Tensor,  # (T, B, D)
    state: tuple[Tensor, ...],  # each (L * dirs, B, size)
    lengths: Tensor | None,
    masks: Masks,
    want_trace: bool,
) -> tuple[Tensor, tuple[Tensor, ...], None]:
    op = _OPS[layer.mode]  # torch's own name for the op
    lstm = layer.cell.kind == "lstm"
    hx: Any = state if lstm else state[0]
    args = (layer.flat_weights, layer.bias, layer.num_layers, layer.dropout, layer.training)
    if lengths is None:
        result = op(x, hx, *args, layer.bidirectional, False)
        return result[0], tuple(result[1:]), None

    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    order = packed.sorted_indices
    hx = tuple(s.index_select(1, order) for s in state)
    result = op(
        packed.data,
        packed.batch_sizes,
        hx if lstm else hx[0],
        *args,
        layer.bidirectional,
    )
    out_packed = PackedSequence(
        result[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
    )
    output, _ = pad_packed_sequence(out_packed, total_length=x.shape[0])
    final = tuple(s.index_select(1, packed.unsorted_indices) for s in result[1:])
    return output, final, None
