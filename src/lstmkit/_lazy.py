"""Module attributes imported on first access (PEP 562), so that importing a package costs only
what its caller uses: loading and applying a saved model must not pay for Lightning, matplotlib or
the other tasks' dependencies (seconds of start-up on a small machine).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    module_name: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for module ``module_name``: ``where`` maps each lazy name
    to the module that defines it.

    A package's submodules stay reachable as attributes too (``lstmkit.tasks.persistence`` after
    ``import lstmkit.tasks``), as they were when the package imported them all eagerly.
    """

    def __getattr__(name: str) -> Any:
        module = sys.modules[module_name]
        if name in where:
            value = getattr(importlib.import_module(where[name]), name)
        elif (
            not name.startswith("__")
            and "." not in name
            and hasattr(module, "__path__")
            and importlib.util.find_spec(f"{module_name}.{name}") is not None
        ):
            value = importlib.import_module(f"{module_name}.{name}")
        else:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        # Cached on the module, so later accesses are plain attribute look-ups.
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[module_name])) | set(where))

    return __getattr__, __dir__
