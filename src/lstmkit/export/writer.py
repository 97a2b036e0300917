"""Writing a network to an ONNX file or a ``torch.export`` program (``.pt2``), atomically."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit._checks import choice
from lstmkit._files import atomic_write
from lstmkit.errors import ConfigError
from lstmkit.export.layers import exportable

FORMATS = ("onnx", "torch-export")
OPSET = 17
MISSING_NOTE = "pip install 'lstmkit[export]'"


def check_format(format: str) -> str:
    return choice("format", format, FORMATS)


def require(module: str) -> None:
    """Raise a clear error when an optional export dependency is not installed."""
    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"exporting needs the {module!r} package, not installed ({MISSING_NOTE})")


def check_out(path: str | os.PathLike[str]) -> Path:
    """The output file: its directory must exist (nothing is created on the user's behalf)."""
    out = Path(path)
    if out.is_dir():
        raise ConfigError(f"--out {str(out)!r} is a directory; give a file name")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {str(out)!r}: directory {str(out.parent)!r} does not exist")
    return out


def write_onnx(
    net: nn.Module,
    example: tuple[Tensor, ...],
    path: str | os.PathLike[str],
    *,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: dict[str, dict[int, str]],
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Export ``net(*example)`` to ONNX at ``path`` with the named dynamic axes.

    lstmkit's recurrent layers go through :func:`lstmkit.export.layers.exportable`, so the time
    axis stays dynamic. ``metadata`` is stored as the model's ``metadata_props`` (JSON values).
    """
    require("onnx")
    import onnx

    module = exportable(net)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes read as Python ints
        # Tracing first lets the TorchScript loops (lstmkit's LSTM variants) sit inside a traced
        # module; the exporter then writes them as ONNX Loop.
        scripted = any(isinstance(m, torch.jit.ScriptModule) for m in module.modules())
        if scripted:
            module = torch.jit.trace(module, example, check_trace=False)
        buffer = io.BytesIO()
        torch.onnx.export(
            module,
            example,
            buffer,
            dynamo=False,
            opset_version=OPSET,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes=dynamic_axes,
        )
    model = onnx.load_from_string(buffer.getvalue())
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    onnx.checker.check_model(model)
    return atomic_write(path, lambda tmp: tmp.write_bytes(model.SerializeToString()))


def write_torch_export(
    net: nn.Module, example: tuple[Tensor, ...], path: str | os.PathLike[str]
) -> Path:
    """``torch.export.export`` + ``torch.export.save`` to a ``.pt2`` file.

    The program's shapes are those of ``example``: torch.export specialises ``nn.LSTM``'s time
    axis to a constant (pytorch issue 115092), so the sequence length (and here the batch size)
    is fixed at the example's. Use ONNX for dynamic shapes.
    """
    module = exportable(net, script=False)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.export.export(module, example, strict=False)
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    return atomic_write(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))
