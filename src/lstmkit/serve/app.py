"""The HTTP JSON service for one saved model: a FastAPI app built by :func:`build_app`.

Endpoints (the task decides which verbs exist):

* ``GET /health`` — the task kind, the model directory, lstmkit's version, the limits and what the
  model reads (columns, horizon, channels, classes, ...).
* ``POST /predict`` — ``{"inputs": [...]}``, one entry per item of the batch; the answer is
  ``{"outputs": [...]}`` in the same order, each what the task's own ``predict`` returns:

  - Forecaster: each input is a table ``{"column": [values...]}`` with the model's columns; each
    output the forecast table (the time column as ISO text, each target, its quantiles). With
    known-future covariates, ``"future"`` holds one table of their next values per input.
  - AnomalyDetector: each input a table as above; each output its score table
    (``score``, ``<channel>_score``, ``threshold``, ``is_anomaly``; no score yet is ``null``).
  - SequenceClassifier: each input a text or a numeric sequence; each output
    ``{"label": ..., "probabilities": [...]}`` (in ``/health``'s ``classes`` order).
  - Tagger: each input a list of tokens; each output the list of tags.
  - Seq2Seq: each input a text; each output the translated text (greedy, or ``beam_size``).
  - LanguageModel: each input a prompt; each output its continuation of ``length`` tokens
    (``temperature``, ``top_k``, ``top_p`` and ``seed`` as ``generate`` takes them).
* ``POST /stream`` (AnomalyDetector with a stream: method ``prediction`` or ``zscore``) —
  ``{"stream_id": "...", "rows": [[x0, x1, ...], ...]}`` scores the rows in order on that stream,
  keeping its state between requests; ``POST /stream/reset`` with ``{"stream_id": "..."}`` closes
  it (404 for an id the server does not hold).
* ``GET /docs`` — the OpenAPI page (``/openapi.json`` the schema).

Errors are JSON ``{"error": "..."}``: malformed JSON 400; a body that fails the schema 422; input
the library refuses 400 with the library's own message; a body over the limit 413; too many open
streams 429; anything else 500 with a one-line message (the traceback goes to the server log only).
Inference runs under ``torch.inference_mode()``; ``/predict`` calls are serialised by one lock per
model and each stream has its own lock, so concurrent requests never interleave on one state.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any

try:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, ConfigDict, Field
    from starlette.exceptions import HTTPException as StarletteHTTPException
except ImportError as _err:  # pragma: no cover - exercised without the extra
    from lstmkit.errors import DataError

    raise DataError(
        f"lstmkit serve needs FastAPI and uvicorn ({_err.name} is not installed): "
        "pip install 'lstmkit[serve]'"
    ) from None

import numpy as np
import pandas as pd
import torch

from lstmkit._version import __version__
from lstmkit.errors import DataError, LstmkitError
from lstmkit.serve.limits import BodyLimit, Limits
from lstmkit.tasks.base import Task

log = logging.getLogger(__name__)

Value = int | float | str | None  # int first: integer times stay integers
Table = dict[str, list[Value]]
MAX_GENERATE = 2000  # tokens per prompt: a bound on one request's time
MAX_GENERATE_TOTAL = 10_000  # tokens over all prompts of one request
StreamId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TableRequest(_Body):
    inputs: list[Table] = Field(min_length=1, description="tables, column -> values")


class ForecastRequest(TableRequest):
    future: list[Table] | None = Field(
        None, description="with known-future covariates: one table per input, their next values"
    )


class ClassifyRequest(_Body):
    inputs: list[str | list[float] | list[list[float]]] = Field(min_length=1)


class TagRequest(_Body):
    inputs: list[list[str]] = Field(min_length=1, description="sentences as token lists")


class TranslateRequest(_Body):
    inputs: list[str] = Field(min_length=1)
    beam_size: int = Field(1, ge=1, le=16)


class GenerateRequest(_Body):
    inputs: list[str] = Field(min_length=1, description="prompts ('' starts a new text)")
    length: int = Field(100, ge=1, le=MAX_GENERATE, description="tokens to generate per prompt")
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0


class StreamRequest(_Body):
    stream_id: StreamId
    rows: list[list[float | None]] = Field(min_length=1, description="rows, one value a channel")


class ResetRequest(_Body):
    stream_id: StreamId


class Outputs(BaseModel):
    outputs: list[Any]


class StreamResponse(BaseModel):
    stream_id: str
    scores: list[float | None]
    is_anomaly: list[bool]
    steps: int
    threshold: float


class ResetResponse(BaseModel):
    stream_id: str
    closed: bool
    steps: int


# --- loading --------------------------------------------------------------------------------------

SERVED_TASKS = (
    "Forecaster",
    "AnomalyDetector",
    "SequenceClassifier",
    "Tagger",
    "Seq2Seq",
    "LanguageModel",
)


def load_task(path: str | os.PathLike[str]) -> Task:
    """Load the model saved in directory ``path`` (or a ``train --out`` directory), whatever its
    task (:func:`lstmkit.tasks.loading.saved_task_class`), if lstmkit serve serves that task."""
    from lstmkit.errors import ModelFileError
    from lstmkit.tasks.loading import saved_task_class

    root, cls = saved_task_class(path)
    if cls.TASK not in SERVED_TASKS:
        raise ModelFileError(
            f"{root} holds a {cls.TASK!r} model; lstmkit serve serves {', '.join(SERVED_TASKS)}"
        )
    return cls.load(root)


# --- JSON in and out ------------------------------------------------------------------------------


def _frame(table: Table, where: str) -> pd.DataFrame:
    lengths = {name: len(values) for name, values in table.items()}
    if not lengths:
        raise DataError(f"{where} has no columns; expected a table {{column: [values...]}}")
    if len(set(lengths.values())) > 1:
        raise DataError(
            f"{where}: every column must hold the same number of values, got "
            + ", ".join(f"{k}: {v}" for k, v in lengths.items())
        )
    return pd.DataFrame({k: [np.nan if v is None else v for v in vs] for k, vs in table.items()})


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def frame_json(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """A DataFrame as ``{column: [values...]}``: times as ISO text, NaN as null."""
    out: dict[str, list[Any]] = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            out[str(name)] = [None if pd.isna(t) else t.isoformat() for t in column]
        else:
            out[str(name)] = [_finite_or_none(v) for v in column.tolist()]
    return out


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _validation_message(err: RequestValidationError) -> tuple[int, str]:
    parts = []
    for e in err.errors():
        if e.get("type") == "json_invalid":
            ctx = e.get("ctx") or {}
            return 400, f"malformed JSON: {ctx.get('error', e.get('msg'))}"
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {e.get('msg')}")
    return 422, "; ".join(parts[:5]) + (f" (and {len(parts) - 5} more)" if len(parts) > 5 else "")


class BatchTooLarge(DataError):
    """More inputs or rows in one request than ``Limits.max_batch``."""


class TooManyStreams(DataError):
    """A new stream id while ``Limits.max_streams`` are open."""


class UnknownStream(DataError):
    """A reset of a stream id the server does not hold."""


def _check_batch(n: int, limits: Limits, what: str) -> None:
    if n > limits.max_batch:
        raise BatchTooLarge(
            f"{n} {what} in one request; the limit is {limits.max_batch} (lstmkit serve "
            "--max-batch): split the request"
        )


# --- streams --------------------------------------------------------------------------------------


class _Streams:
    """The open streams of one detector: at most ``limit``, each with its own lock. With
    ``idle_seconds``, a new stream id that finds the limit reached closes the streams left idle
    longer than that (least recently used first) to make room."""

    def __init__(self, detector: Any, limit: int, idle_seconds: float | None) -> None:
        self.detector = detector
        self.limit = limit
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        # id -> [stream, its lock, last use (time.monotonic)], least recently used first
        self._open: OrderedDict[str, list[Any]] = OrderedDict()

    def _evict_idle(self) -> None:
        if self.idle_seconds is None:
            return
        cutoff = time.monotonic() - self.idle_seconds
        for stream_id, (_, lock, used) in list(self._open.items()):
            if used > cutoff:
                break  # the rest were used more recently
            if lock.acquire(blocking=False):  # never close a stream a request is using
                try:
                    del self._open[stream_id]
                    log.info("closed stream %r, idle for %.0f s", stream_id, cutoff - used)
                finally:
                    lock.release()

    def get(self, stream_id: str) -> tuple[Any, threading.Lock]:
        with self._lock:
            entry = self._open.get(stream_id)
            if entry is None:
                if len(self._open) >= self.limit:
                    self._evict_idle()
                if len(self._open) >= self.limit:
                    raise TooManyStreams(
                        f"{len(self._open)} streams are open, the limit (lstmkit serve "
                        f"--max-streams); close one with POST /stream/reset before opening "
                        f"{stream_id!r}"
                    )
                with torch.inference_mode():
                    entry = [self.detector.stream(), threading.Lock(), 0.0]
                self._open[stream_id] = entry
            entry[2] = time.monotonic()
            self._open.move_to_end(stream_id)
            return entry[0], entry[1]

    def close(self, stream_id: str) -> int:
        with self._lock:
            entry = self._open.pop(stream_id, None)
            n_open = len(self._open)
        if entry is None:
            raise UnknownStream(
                f"unknown stream id {stream_id!r} ({n_open} streams open); a stream opens with "
                "its first POST /stream"
            )
        with entry[1]:
            return int(entry[0].steps)

    def __len__(self) -> int:
        return len(self._open)


# --- the app --------------------------------------------------------------------------------------


def _info(task: Task) -> dict[str, Any]:
    kind = task.TASK
    if kind == "Forecaster":
        return {
            "columns": task.columns,  # type: ignore[attr-defined]
            "horizon": task.horizon,  # type: ignore[attr-defined]
            "lookback": task.lookback,  # type: ignore[attr-defined]
            "quantiles": task.quantiles,  # type: ignore[attr-defined]
        }
    if kind == "AnomalyDetector":
        return {
            "method": task.method,  # type: ignore[attr-defined]
            "columns": task.columns,  # type: ignore[attr-defined]
            "channels": task.channels,  # type: ignore[attr-defined]
            "threshold": float(task.threshold_),  # type: ignore[attr-defined]
            "warmup_rows": task.warmup_rows,  # type: ignore[attr-defined]
        }
    if kind == "SequenceClassifier":
        return {"classes": list(task.classes or [])}  # type: ignore[attr-defined]
    if kind == "Tagger":
        return {"tags": list(task.tags or [])}  # type: ignore[attr-defined]
    return {}


def build_app(
    task: Task, *, limits: Limits | None = None, model_dir: str | os.PathLike[str] | None = None
) -> Any:
    """An ASGI app serving fitted ``task`` (see the module docstring), for uvicorn or any ASGI
    server: the FastAPI app (its ``.app``) inside the body-size limit. ``model_dir`` is only
    reported by ``/health``."""
    limits = limits or Limits()
    task._require_fitted("serve")
    kind = task.TASK
    if kind not in SERVED_TASKS:
        raise DataError(f"cannot serve a {kind} model; lstmkit serve serves {SERVED_TASKS}")
    app = FastAPI(
        title=f"lstmkit {kind}",
        version=__version__,
        description=f"An lstmkit {kind} served over HTTP (lstmkit serve).",
    )
    model_lock = threading.Lock()

    def run(fn: Callable[[], Any]) -> Any:
        with model_lock, torch.inference_mode():
            return fn()

    endpoints = ["GET /health", "POST /predict", "GET /docs"]
    streams: _Streams | None = None
    if kind == "AnomalyDetector" and task.method != "reconstruction":  # type: ignore[attr-defined]
        streams = _Streams(task, limits.max_streams, limits.stream_idle_seconds)
        endpoints[2:2] = ["POST /stream", "POST /stream/reset"]

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "task": kind,
            "model": None if model_dir is None else str(model_dir),
            "lstmkit_version": __version__,
            "endpoints": endpoints,
            "limits": {
                "max_body_bytes": limits.max_body_bytes,
                "max_batch": limits.max_batch,
                "max_streams": limits.max_streams,
                "stream_idle_seconds": limits.stream_idle_seconds,
            },
            "open_streams": None if streams is None else len(streams),
            "model_info": _info(task),
        }

    if kind == "Forecaster":

        @app.post("/predict", response_model=Outputs)
        def forecast(body: ForecastRequest) -> Outputs:
            _check_batch(len(body.inputs), limits, "inputs")
            frames = [_frame(t, f"inputs[{i}]") for i, t in enumerate(body.inputs)]
            if body.future is not None and len(body.future) != len(frames):
                raise DataError(
                    f"future must hold one table per input ({len(frames)}), got {len(body.future)}"
                )
            futures = (
                [None] * len(frames)
                if body.future is None
                else [_frame(t, f"future[{i}]") for i, t in enumerate(body.future)]
            )
            return Outputs(
                outputs=[
                    frame_json(run(lambda h=h, f=f: task.predict(h, f)))  # type: ignore[attr-defined]
                    for h, f in zip(frames, futures, strict=True)
                ]
            )

    elif kind == "AnomalyDetector":

        @app.post("/predict", response_model=Outputs)
        def score(body: TableRequest) -> Outputs:
            _check_batch(len(body.inputs), limits, "inputs")
            frames = [_frame(t, f"inputs[{i}]") for i, t in enumerate(body.inputs)]
            return Outputs(outputs=[frame_json(run(lambda f=f: task.score(f))) for f in frames])  # type: ignore[attr-defined]

    elif kind == "SequenceClassifier":

        @app.post("/predict", response_model=Outputs)
        def predict_classes(body: ClassifyRequest) -> Outputs:
            _check_batch(len(body.inputs), limits, "inputs")
            proba = run(lambda: task.predict_proba(body.inputs))  # type: ignore[attr-defined]
            classes = task.classes  # type: ignore[attr-defined]
            return Outputs(
                outputs=[
                    {"label": classes[int(np.argmax(p))], "probabilities": p.tolist()}
                    for p in proba
                ]
            )

    elif kind == "Tagger":

        @app.post("/predict", response_model=Outputs)
        def predict_tags(body: TagRequest) -> Outputs:
            _check_batch(len(body.inputs), limits, "inputs")
            return Outputs(outputs=run(lambda: task.predict(body.inputs)))  # type: ignore[attr-defined]

    elif kind == "LanguageModel":

        @app.post("/predict", response_model=Outputs)
        def generate(body: GenerateRequest) -> Outputs:
            _check_batch(len(body.inputs), limits, "inputs")
            total = len(body.inputs) * body.length
            if total > MAX_GENERATE_TOTAL:
                raise BatchTooLarge(
                    f"{len(body.inputs)} prompts x {body.length} tokens = {total:,} tokens in one "
                    f"request; the limit is {MAX_GENERATE_TOTAL:,}: split the request"
                )
            options = body.model_dump(exclude={"inputs", "length"})
            out = [
                run(lambda p=p: task.generate(p, body.length, **options))  # type: ignore[attr-defined]
                for p in body.inputs
            ]
            return Outputs(outputs=out)

    else:

        @app.post("/predict", response_model=Outputs)
        def predict_texts(body: TranslateRequest) -> Outputs:
            _check_batch(len(body.inputs), limits, "inputs")
            out = run(lambda: task.translate(body.inputs, beam_size=body.beam_size))  # type: ignore[attr-defined]
            return Outputs(outputs=out)

    if streams is not None:
        open_streams = streams

        @app.post("/stream", response_model=StreamResponse)
        def stream(body: StreamRequest) -> StreamResponse:
            _check_batch(len(body.rows), limits, "rows")
            rows = [[math.nan if v is None else v for v in row] for row in body.rows]
            state, lock = open_streams.get(body.stream_id)
            with lock, torch.inference_mode():
                for i, row in enumerate(rows):  # every row checked before any changes the state
                    try:
                        state._check(row)
                    except DataError as err:
                        raise DataError(f"rows[{i}]: {err}") from None
                scored = [state.update(row) for row in rows]
                steps = int(state.steps)
            return StreamResponse(
                stream_id=body.stream_id,
                scores=[_finite_or_none(s) for s, _ in scored],
                is_anomaly=[bool(f) for _, f in scored],
                steps=steps,
                threshold=float(state.threshold),
            )

        @app.post("/stream/reset", response_model=ResetResponse)
        def reset(body: ResetRequest) -> ResetResponse:
            steps = open_streams.close(body.stream_id)
            return ResetResponse(stream_id=body.stream_id, closed=True, steps=steps)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        status, message = _validation_message(err)
        return _error(status, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        return _error(err.status_code, str(err.detail))

    @app.exception_handler(LstmkitError)
    async def refused(request: Request, err: LstmkitError) -> JSONResponse:
        status = 400
        if isinstance(err, BatchTooLarge):
            status = 422
        elif isinstance(err, TooManyStreams):
            status = 429
        elif isinstance(err, UnknownStream):
            status = 404
        return _error(status, str(err))

    async def bad_value(request: Request, err: Exception) -> JSONResponse:
        # Plain ValueError/TypeError come from reading the input (pandas, numpy): bad input.
        log.info("refused %s %s: %s", request.method, request.url.path, err)
        return _error(400, f"{type(err).__name__}: {err}".splitlines()[0])

    app.add_exception_handler(ValueError, bad_value)
    app.add_exception_handler(TypeError, bad_value)

    @app.exception_handler(Exception)
    async def failed(request: Request, err: Exception) -> JSONResponse:
        log.exception("error serving %s %s", request.method, request.url.path)
        return _error(500, f"internal error ({type(err).__name__}); the server log has the details")

    return BodyLimit(app, limits.max_body_bytes)


__all__ = ["Limits", "build_app", "frame_json", "load_task"]
