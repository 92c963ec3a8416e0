"""Plain-text tables for the command line."""
from __future__ import annotations

import math
from typing import Mapping, Sequence


def fmt_value(v) -> str:
    """A compact, readable cell: 3 significant digits for small or large floats."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if v == 0:
            return "0"
        a = abs(v)
        return f"{v:.3e}" if a < 1e-2 or a >= 1e6 else f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    return str(v)


def fmt_ci(lo, hi) -> str:
    return f"[{fmt_value(lo)}, {fmt_value(hi)}]"


def table(rows: Sequence[Mapping], columns: Sequence[tuple[str, str]] | None = None) -> str:
    """Rows as an aligned text table.

    ``columns`` is a list of ``(header, key)``; a key missing from every row is left out.
    Without ``columns``, every scalar key of the rows is shown.
    """
    if columns is None:
        keys = list(dict.fromkeys(k for r in rows for k, v in r.items() if not isinstance(v, (list, dict))))
        columns = [(k, k) for k in keys]
    columns = [(h, k) for h, k in columns if any(k in r for r in rows)]
    cells = [[h for h, _ in columns]] + [[fmt_value(r.get(k)) for _, k in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
