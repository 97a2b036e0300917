"""Run the service with uvicorn: :func:`serve` (what ``lstmkit serve`` calls)."""

from __future__ import annotations

import ipaddress
import logging
import os
import sys

import torch

from lstmkit._checks import positive_int
from lstmkit.errors import ConfigError, DataError
from lstmkit.serve.limits import Limits

log = logging.getLogger(__name__)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    model_dir: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: Limits | None = None,
    threads: int = 1,
    log_level: str = "info",
) -> None:
    """Load the model in ``model_dir`` and serve it on ``host:port`` until interrupted.

    ``threads``: torch's intra-op threads for each request (1 by default: requests run side by
    side in uvicorn's thread pool, and one small model's step gains little from more). A host that
    is not loopback is served with a warning: the service has no authentication.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"port must be an integer in 0..65535, got {port!r}")
    positive_int("threads", threads)
    try:
        import uvicorn
    except ImportError:
        raise DataError(
            "lstmkit serve needs FastAPI and uvicorn (uvicorn is not installed): "
            "pip install 'lstmkit[serve]'"
        ) from None
    from lstmkit.serve.app import build_app, load_task

    torch.set_num_threads(threads)
    task = load_task(model_dir)
    app = build_app(task, limits=limits, model_dir=model_dir)
    if not _is_loopback(host):
        log.warning("serving on %s, which is not loopback: the service has no authentication", host)
    print(
        f"lstmkit serve: {task.TASK} from {model_dir} at http://{host}:{port} "
        f"(OpenAPI page: http://{host}:{port}/docs)",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


__all__ = ["serve"]
