"""Export a trained model's network to ONNX (dynamic batch and time) or a ``torch.export`` program.

``export_model(model, "model.onnx")`` (or ``model.export("model.onnx")``) writes the network call
inside the task's ``predict`` (see :mod:`lstmkit.export.tasks` for each task's inputs and outputs);
the file runs with ``onnxruntime`` alone, without torch. How each layer is written is in
:mod:`lstmkit.export.layers`: plain cells as ONNX's ``LSTM``/``GRU``/``RNN`` ops, the LSTM variants
as an ONNX ``Loop`` over time. ONNX export needs the ``export`` extra
(``pip install 'lstmkit[export]'``).

This package ranks below the tasks (it imports only ``nn`` and the helpers), so that a task's
``export`` method can call it; it knows each task by its ``TASK`` name and attributes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lstmkit.export.layers import exportable, route
from lstmkit.export.tasks import EXPORTABLE, task_spec
from lstmkit.export.writer import FORMATS, check_format, check_out, write_onnx, write_torch_export


def export_model(model: Any, out: str | os.PathLike[str], *, format: str = "onnx") -> Path:
    """Write a fitted task's network to file ``out`` as ``format`` ("onnx" or "torch-export").

    ONNX: batch and time axes are dynamic, and the model's metadata (``metadata_props``) names
    the task, its inputs and outputs. "torch-export": a ``.pt2`` from ``torch.export``, whose
    batch size and sequence length are fixed at the example's (2 and 5), since ``torch.export``
    specialises the LSTM's time axis; use ONNX for other shapes.
    """
    check_format(format)
    path = check_out(out)
    spec = task_spec(model)
    if format == "onnx":
        notes = {"inputs": spec.inputs, "outputs": spec.outputs, **spec.notes}
        return write_onnx(
            spec.net,
            spec.example,
            path,
            input_names=spec.inputs,
            output_names=spec.outputs,
            dynamic_axes=spec.dynamic_axes,
            metadata=notes,
        )
    return write_torch_export(spec.net, spec.example, path)


__all__ = ["EXPORTABLE", "FORMATS", "export_model", "exportable", "route"]
