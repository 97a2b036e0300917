"""``lstmkit serve``: a saved model as an HTTP JSON service (FastAPI + uvicorn: the ``serve``
extra).

:func:`build_app` makes the ASGI app for a loaded task, :func:`load_task` loads any saved model
directory, :class:`Limits` bounds what one request may ask, :func:`serve` runs it with uvicorn.
``python -m lstmkit.serve.load`` is the bounded loopback load test. FastAPI is imported only when
the app is built, so the rest of lstmkit works without the extra.
"""

from lstmkit._lazy import lazy_attributes

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "Limits": "lstmkit.serve.limits",
        "build_app": "lstmkit.serve.app",
        "load_task": "lstmkit.serve.app",
        "serve": "lstmkit.serve.server",
    },
)

__all__ = ["Limits", "build_app", "load_task", "serve"]
