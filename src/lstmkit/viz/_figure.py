"""Figures drawn off-screen (Agg) and written atomically as PNG files.

lstmkit never touches ``matplotlib.pyplot``'s global backend: each figure gets its own Agg canvas.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lstmkit._files import atomic_write


def new_figure(width: float = 9.0, height: float = 4.5) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Any, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` as PNG via a temporary file beside it (never half a file)."""
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))
