"""What one request may ask of the service, and the ASGI middleware that bounds body size.

The body limit is checked before any parsing: a ``Content-Length`` over the limit is refused at
once, and a body sent without one (chunked) is counted as it arrives and refused as soon as it
passes the limit, so a client cannot make the server buffer more than ``max_body_bytes``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from lstmkit._checks import positive_int
from lstmkit.errors import ConfigError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Limits:
    """Bounds on a request.

    Attributes:
        max_body_bytes: largest request body, in bytes (413 above it).
        max_batch: most inputs in one ``/predict`` request, or rows in one ``/stream`` request.
        max_streams: most stream ids with state held at once (``/stream``); a new id beyond it
            is refused (429) until a stream is closed with ``/stream/reset`` or, with
            ``stream_idle_seconds``, has been idle that long.
        stream_idle_seconds: with ``max_streams`` reached, a new id closes the streams idle for
            longer than this, least recently used first (None: streams are never closed).
    """

    max_body_bytes: int = 1_000_000
    max_batch: int = 64
    max_streams: int = 1000
    stream_idle_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch", "max_streams"):
            positive_int(f"Limits.{name}", getattr(self, name))
        idle = self.stream_idle_seconds
        if idle is not None and (
            isinstance(idle, bool) or not isinstance(idle, (int, float)) or not idle > 0
        ):
            raise ConfigError(f"Limits.stream_idle_seconds must be a number > 0, got {idle!r}")


def _error_response(status: int, message: str) -> tuple[Message, Message]:
    body = json.dumps({"error": message}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413 and a JSON error."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        for part in _error_response(status, message):
            await send(part)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                text = value.decode("latin-1")
                if not text.isdigit():
                    await self._refuse(send, 400, f"bad Content-Length header {text!r}")
                    return
                if int(text) > self.max_bytes:
                    await self._refuse(
                        send,
                        413,
                        f"the request body is {int(text):,} bytes; the limit is "
                        f"{self.max_bytes:,} bytes",
                    )
                    return
        # Read the whole body here (never more than the limit), then hand it on: a chunked body
        # without Content-Length is refused as soon as it passes the limit.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(
                    send, 413, f"the request body is over the limit of {self.max_bytes:,} bytes"
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


__all__ = ["BodyLimit", "Limits"]
