"""The reference engine: the cell's ``step`` in a Python loop over time, autograd for gradients.

This is the specification every other engine is tested against. It supports every option and any
floating dtype, and is slow: one round of small kernels per step.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lstmkit.nn.engine.base import DirectionResult, Masks, run_stack

NAME = "reference"


def unsupported(layer: Any, want_trace: bool) -> str | None:
    """Why this engine cannot run ``layer``, or None when it can (it always can)."""
    return None


def run(
    layer: Any,
    x: Tensor,
    state: tuple[Tensor, ...],
    lengths: Tensor | None,
    masks: Masks,
    want_trace: bool,
) -> tuple[Tensor, tuple[Tensor, ...], dict[str, Tensor] | None]:
    return run_stack(layer, x, state, lengths, masks, want_trace, run_direction)


def run_direction(
    cell: Any,
    x: Tensor,  # (T, B, D)
    state: tuple[Tensor, ...],  # each (B, size)
    weights: Any,
    options: Any,
    lengths: Tensor | None,
    reverse: bool,
    h_mask: Tensor | None,  # (B, P)
    zoneout: tuple[Tensor, ...] | None,  # each (T, B, size), True = keep previous
    want_trace: bool,
) -> DirectionResult:
    steps = x.shape[0]
    valid = None
    if lengths is not None:
        # (T, B, 1): True where step t is inside sequence b
        valid = (torch.arange(steps)[:, None] < lengths[None, :]).to(x.device)[..., None]
    outputs: list[Tensor | None] = [None] * steps
    records: list[dict[str, Tensor] | None] = [None] * steps
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        prev = state
        new, gates = cell.step(x[t], prev, weights, options, h_mask)
        if zoneout is not None:
            new = tuple(torch.where(z[t], p, n) for z, p, n in zip(zoneout, prev, new, strict=True))
        h_t = new[0]
        if valid is not None:
            # Past a sequence's end the state stays where it was (its initial state, going in
            # reverse) and the output is zero.
            new = tuple(torch.where(valid[t], n, p) for n, p in zip(new, prev, strict=True))
            h_t = torch.where(valid[t], new[0], torch.zeros_like(new[0]))
        state = new
        outputs[t] = h_t
        if want_trace:
            record = dict(gates)
            if len(new) > 1:
                record["c"] = new[1]
            record["h"] = new[0]
            if valid is not None:
                record = {
                    k: torch.where(valid[t], v, torch.zeros_like(v)) for k, v in record.items()
                }
            records[t] = record
    output = torch.stack(outputs)
    trace = None
    if want_trace:
        trace = {key: torch.stack([r[key] for r in records]) for key in records[0]}
    return output, state, trace
