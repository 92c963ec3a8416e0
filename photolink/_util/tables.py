"""Plain-text tables for the command line."""
from __future__ import annotations

import csv
import io
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


# -- one output schema: tidy rows for CSV, JSON and data frames ---------------------------------
def finite(obj):
    """``obj`` with every non-finite float as a string ("inf", "nan"): JSON has neither."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, Mapping):
        return {str(k): finite(x) for k, x in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(x) for x in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", None) == 0:   # numpy scalars
        return finite(obj.item())
    return obj


def _scalar(x) -> bool:
    return x is None or isinstance(x, (str, bool, int, float)) or getattr(x, "ndim", None) == 0


def _flatten(prefix: str, value, row: dict, tables: dict, owner) -> None:
    if _scalar(value):
        row[prefix] = value.item() if hasattr(value, "item") else value
    elif isinstance(value, Mapping):
        for k, x in value.items():
            _flatten(f"{prefix}.{k}", x, row, tables, owner)
    elif isinstance(value, (list, tuple)) and value and all(isinstance(x, Mapping) for x in value):
        for i, x in enumerate(value):
            sub: dict = {"row": owner, "index": i}
            for k, y in x.items():
                _flatten(str(k), y, sub, tables, owner)
            tables.setdefault(prefix, []).append(sub)
    elif isinstance(value, (list, tuple)) and (prefix.endswith("_ci") or prefix == "ci") \
            and len(value) == 2 and all(_scalar(x) for x in value):
        row[f"{prefix}_low"], row[f"{prefix}_high"] = value
    elif isinstance(value, (list, tuple)) and all(_scalar(x) for x in value):
        if all(isinstance(x, str) for x in value):
            row[prefix] = "; ".join(value)
        else:
            for i, x in enumerate(value):
                row[f"{prefix}.{i}"] = x
    else:                       # arrays and other objects: their list form
        _flatten(prefix, value.tolist() if hasattr(value, "tolist") else str(value), row, tables, owner)


def tidy(record: Mapping, tables: dict | None = None, index: int = 0) -> dict:
    """One record (e.g. ``LinkResult.to_dict()`` or a sweep row) as a flat row of scalars.

    The rules of photolink's one output schema (CSV columns, JSON ``rows`` and
    ``to_dataframe()`` columns are these names): keys stay as they are (snake_case with the
    unit in the name); a nested mapping becomes ``parent.child`` columns; a 2-element interval
    ``x_ci`` becomes ``x_ci_low`` and ``x_ci_high``; a list of numbers becomes ``x.0``, ``x.1``...;
    a list of records (``segments``) goes to ``tables[key]`` as rows of their own, linked by
    ``row`` (the record's ``name``, else its index) and ``index``; ``warnings`` go to
    ``tables["warnings"]``.
    """
    tables = {} if tables is None else tables
    owner = record.get("name", index)
    row: dict = {}
    for k, x in record.items():
        if k == "warnings" and isinstance(x, (list, tuple)):
            tables.setdefault("warnings", []).extend({"row": owner, "message": str(w)} for w in x)
            continue
        _flatten(str(k), x, row, tables, owner)
    return row


def tidy_rows(records: Sequence[Mapping]) -> tuple[list[dict], dict]:
    """:func:`tidy` of each record: ``(rows, tables)`` (see :func:`tidy`)."""
    tables: dict = {}
    rows = [tidy(r, tables, i) for i, r in enumerate(records)]
    return rows, tables


def csv_text(rows: Sequence[Mapping]) -> str:
    """Tidy rows (see :func:`tidy`) as CSV text: columns in first-seen order, floats by ``repr``
    (round-trip exact), ``None`` as an empty cell."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else repr(r[c]) if isinstance(r[c], float) else r[c]
                    for c in columns])
    return buf.getvalue()


def side_table_path(csv_path: str, table_name: str) -> str:
    """Where a nested table (e.g. ``segments``) of the CSV at ``csv_path`` goes:
    ``<stem>.<table_name>.csv``."""
    path = str(csv_path)
    stem = path[:-4] if path.lower().endswith(".csv") else path
    return f"{stem}.{table_name}.csv"
