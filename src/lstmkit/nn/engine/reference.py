"""The reference engine: the cell's ``step`` in a Python loop over time, autograd for gradients.

This is the specification every other engine is tested against. It supports every option and any
floating dtype, and is slow: one round of small kernels per step.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch import Tensor

from lstmkit.nn.engine.base import Direction, DirectionResult, run_stack

NAME = "reference"


def unsupported(layer: Any, want_trace: bool) -> str | None:
    """Why this engine cannot run ``layer``, or None when it can (it always can)."""
    return None


def run_direction(x: Tensor, state: tuple[Tensor, ...], d: Direction) -> DirectionResult:
    """The cell's ``step`` in a Python loop over time (the contract: ``base.RunDirection``)."""
    steps = x.shape[0]
    valid = d.valid(x)
    outputs: list[Tensor | None] = [None] * steps
    records: list[dict[str, Tensor] | None] = [None] * steps
    order = range(steps - 1, -1, -1) if d.reverse else range(steps)
    for t in order:
        prev = state
        read = prev if d.before_step is None else d.before_step(t, prev)
        new, gates = d.cell.step(x[t], read, d.weights, d.options, d.h_mask)
        if d.zoneout is not None:
            keeps = zip(d.zoneout, prev, new, strict=True)
            new = tuple(torch.where(z[t], p, n) for z, p, n in keeps)
        h_t = new[0]
        if valid is not None:
            # Past a sequence's end the state stays where it was (its initial state, going in
            # reverse) and the output is zero.
            new = tuple(torch.where(valid[t], n, p) for n, p in zip(new, prev, strict=True))
            h_t = torch.where(valid[t], new[0], torch.zeros_like(new[0]))
        state = new
        outputs[t] = h_t
        if d.want_trace:
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
    if d.want_trace:
        trace = {key: torch.stack([r[key] for r in records]) for key in records[0]}
    return output, state, trace


# The engine's run(layer, x, state, lengths, masks, want_trace) (base.Engine).
run = partial(run_stack, run_direction=run_direction)
