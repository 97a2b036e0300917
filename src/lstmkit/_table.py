"""Plain aligned text tables, for what the CLI prints."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns of numbers right-aligned, others left-aligned, a dashed rule under the headers."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    numeric = [
        bool(rows) and all(is_number(row[i]) for row in rows if row[i] not in ("", "n/a"))
        for i in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if num else str(c).ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a float (a numeric table column, a vectors file's values)."""
    try:
        float(text)
    except ValueError:
        return False
    return True
