"""``lstmkit export --model DIR --format onnx|torch-export --out FILE``: a saved model's network as
a file that runs without lstmkit.

``onnx`` (needs the ``export`` extra: pip install 'lstmkit[export]') keeps the batch and time axes
dynamic and runs with onnxruntime alone, no torch; ``torch-export`` writes a ``torch.export``
program (``.pt2``) whose batch size and sequence length are fixed (2 and 5). Exportable: the
forecaster, anomaly detector (prediction and autoencoder methods), sequence classifier, tagger
(its emissions), language model (one step with its state) and speech recogniser. See
docs/export.md for each task's inputs and outputs and the few lines that run the file.
"""

from __future__ import annotations

import argparse

from lstmkit.cli._options import add_documented_command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_documented_command(
        subparsers,
        "export",
        help="export a saved model's network to ONNX or torch.export",
        doc=__doc__,
    )
    p.add_argument(
        "--model",
        metavar="DIR",
        required=True,
        help="a saved model directory (or a train --out directory)",
    )
    p.add_argument(
        "--format",
        choices=("onnx", "torch-export"),
        default="onnx",
        help="onnx (dynamic batch and length; default) or torch-export (.pt2, fixed shapes)",
    )
    p.add_argument(
        "--out", metavar="FILE", required=True, help="the file to write; its directory must exist"
    )
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from lstmkit.export import export_model
    from lstmkit.export.writer import check_format, check_out
    from lstmkit.tasks.loading import load_task

    check_format(args.format)
    check_out(args.out)  # before the (slower) load
    model = load_task(args.model)
    written = export_model(model, args.out, format=args.format)
    print(f"wrote {written} ({args.format}, {type(model).__name__})")
    return 0
