"""``lstmkit serve --model DIR [--host 127.0.0.1] [--port 8000]``: a saved model as an HTTP JSON
service (needs the ``serve`` extra: pip install 'lstmkit[serve]').

Endpoints: ``GET /health``, ``POST /predict`` (``{"inputs": [...]}``), for a streaming anomaly
detector ``POST /stream`` and ``POST /stream/reset``, and the OpenAPI page at ``/docs``. See
docs/serving.md for the request shapes, curl examples and measured latency.
"""

from __future__ import annotations

import argparse

from lstmkit.cli._options import add_documented_command, checked, positive_int


def _port(text: str) -> int:
    return checked(
        text, int, lambda v: 0 <= v <= 65535, "a port number", "a port number in 0..65535"
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_documented_command(
        subparsers,
        "serve",
        help="serve a saved model over HTTP (JSON; FastAPI + uvicorn)",
        doc=__doc__,
    )
    p.add_argument("--model", metavar="DIR", required=True, help="a saved model directory")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, loopback only; the service has no "
        "authentication)",
    )
    p.add_argument("--port", type=_port, default=8000, help="TCP port (default 8000)")
    p.add_argument(
        "--max-body-bytes",
        type=positive_int,
        default=1_000_000,
        help="largest request body in bytes; larger ones get 413 (default 1000000)",
    )
    p.add_argument(
        "--max-batch",
        type=positive_int,
        default=64,
        help="most inputs per /predict or rows per /stream request (default 64)",
    )
    p.add_argument(
        "--max-streams",
        type=positive_int,
        default=1000,
        help="most stream ids holding state at once (default 1000)",
    )
    p.add_argument(
        "--stream-idle-seconds",
        type=_seconds,
        default=None,
        help="when --max-streams are open, a new stream id closes the streams idle longer than "
        "this (default: never; the new id gets 429 until one is reset)",
    )
    p.add_argument(
        "--threads", type=positive_int, default=1, help="torch threads per request (default 1)"
    )
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from lstmkit.serve.limits import Limits
    from lstmkit.serve.server import serve

    limits = Limits(
        max_body_bytes=args.max_body_bytes,
        max_batch=args.max_batch,
        max_streams=args.max_streams,
        stream_idle_seconds=args.stream_idle_seconds,
    )
    serve(
        args.model,
        host=args.host,
        port=args.port,
        limits=limits,
        threads=args.threads,
        log_level="debug" if args.verbose else "warning" if args.quiet else "info",
    )
    return 0
