"""An embedded SQLite store for sweep results, written one finished chunk at a time.

The store is what makes a sweep resumable: every finished chunk is committed as soon as it
arrives, under a key that names the work it did (kind, case, seed, chunk range and photolink
version), so a rerun of an interrupted sweep reads the finished chunks back and computes only
the rest. Extending a sweep (more SNR points, more symbols) reuses every chunk that matches.

A file that is not a photolink store (not SQLite, another application's database, or a
damaged one) is refused with :class:`StoreError` and never written to.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

from .._util.version import __version__

#: ``PRAGMA application_id`` of a photolink store: ASCII "PHLK".
APPLICATION_ID = 0x50484C4B
#: Layout version, in ``PRAGMA user_version`` and in the meta table.
SCHEMA_VERSION = 1
FORMAT_NAME = "photolink-store"

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE chunks(
    key TEXT PRIMARY KEY,       -- hash of (kind, case identity, seed, chunk range, version)
    kind TEXT NOT NULL,
    case_key TEXT NOT NULL,
    chunk TEXT NOT NULL,        -- JSON of the chunk's range, for people reading the file
    result TEXT NOT NULL,       -- JSON of the chunk's partial figures
    seconds REAL NOT NULL,
    finished_at REAL NOT NULL
);
CREATE TABLE sweeps(
    sweep_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,         -- JSON: kind, seed, options, number of cases
    started_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE sweep_rows(
    sweep_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    case_key TEXT NOT NULL,
    row TEXT NOT NULL,
    PRIMARY KEY (sweep_id, position)
);
"""


class StoreError(ValueError):
    """The file cannot be used as a photolink store (it is left untouched)."""


def _refuse(path: Path, why: str) -> StoreError:
    return StoreError(f"store {str(path)!r} {why}; refusing to use or overwrite it "
                      f"(choose another store path, or move the file away)")


class Store:
    """A photolink result store in one SQLite file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; created when missing (or empty). ``":memory:"`` keeps results in memory only.

    Raises
    ------
    StoreError
        When the file exists but is not a photolink store, is damaged, or was written by a
        newer layout. The file is not modified.
    """

    def __init__(self, path):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"store must be a file path or ':memory:', got {type(path).__name__} {path!r}")
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        memory = str(path) == ":memory:"
        if not memory and self.path.is_dir():
            raise _refuse(self.path, "is a directory")
        fresh = memory or not self.path.exists() or self.path.stat().st_size == 0
        if not memory and not fresh:
            self._check_header()
        try:
            self._db = sqlite3.connect(str(path), timeout=60.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise _refuse(self.path, f"cannot be opened ({exc})") from None
        try:
            if fresh:
                self._create()
            else:
                self._check_contents()
        except BaseException:
            self._db.close()
            raise
        self._db.execute("PRAGMA synchronous=NORMAL")

    # -- opening ---------------------------------------------------------------------------
    def _check_header(self) -> None:
        with open(self.path, "rb") as f:
            head = f.read(100)
        if not head.startswith(b"SQLite format 3\x00"):
            raise _refuse(self.path, "is not an SQLite database")
        if len(head) < 100 or int.from_bytes(head[68:72], "big") != APPLICATION_ID:
            raise _refuse(self.path, "is an SQLite database of another application")

    def _check_contents(self) -> None:
        try:
            ok = self._db.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise _refuse(self.path, f"is damaged (SQLite quick_check: {ok})")
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise _refuse(self.path, f"is damaged or foreign ({exc})") from None
        if meta.get("format") != FORMAT_NAME:
            raise _refuse(self.path, "has no photolink store marker")
        if int(meta.get("schema", -1)) > SCHEMA_VERSION:
            raise _refuse(self.path, f"uses store layout {meta.get('schema')}, newer than this "
                                     f"photolink's {SCHEMA_VERSION}")

    def _create(self) -> None:
        db = self._db
        db.execute("BEGIN")
        db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        for stmt in _SCHEMA.split(";"):
            if stmt.strip():
                db.execute(stmt)
        db.executemany("INSERT INTO meta VALUES (?, ?)",
                       [("format", FORMAT_NAME), ("schema", str(SCHEMA_VERSION)),
                        ("created_by", f"photolink {__version__}")])
        db.execute("COMMIT")
        if str(self.path) != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")

    # -- chunks ----------------------------------------------------------------------------
    def finished(self, keys) -> dict:
        """Results (decoded JSON) of the chunks among ``keys`` that are in the store."""
        keys = list(keys)
        out = {}
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            q = f"SELECT key, result FROM chunks WHERE key IN ({','.join('?' * len(part))})"
            out.update((k, json.loads(r)) for k, r in self._db.execute(q, part))
        return out

    def put_chunk(self, key: str, kind: str, case_key: str, chunk, result: dict,
                  seconds: float) -> None:
        """Commit one finished chunk (a no-op when the key is already there)."""
        self._db.execute("INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (key, kind, case_key, json.dumps(chunk), json.dumps(result),
                          float(seconds), time.time()))

    def chunk_count(self) -> int:
        return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    # -- sweeps ----------------------------------------------------------------------------
    def start_sweep(self, sweep_id: str, name: str, spec: dict) -> None:
        self._db.execute("INSERT OR IGNORE INTO sweeps VALUES (?, ?, ?, ?, NULL)",
                         (sweep_id, name, json.dumps(spec, sort_keys=True), time.time()))

    def finish_sweep(self, sweep_id: str, rows: list[tuple[str, dict]]) -> None:
        """Record a sweep's rows (in case order) and mark it finished, in one transaction."""
        db = self._db
        db.execute("BEGIN")
        db.execute("DELETE FROM sweep_rows WHERE sweep_id = ?", (sweep_id,))
        db.executemany("INSERT INTO sweep_rows VALUES (?, ?, ?, ?)",
                       [(sweep_id, i, ck, json.dumps(row)) for i, (ck, row) in enumerate(rows)])
        db.execute("UPDATE sweeps SET finished_at = ? WHERE sweep_id = ?", (time.time(), sweep_id))
        db.execute("COMMIT")

    def sweeps(self) -> list[dict]:
        """Every sweep recorded: id, name, spec, start and finish times (None if unfinished)."""
        cur = self._db.execute("SELECT sweep_id, name, spec, started_at, finished_at FROM sweeps "
                               "ORDER BY started_at")
        return [{"sweep_id": s, "name": n, "spec": json.loads(sp), "started_at": t0,
                 "finished_at": t1} for s, n, sp, t0, t1 in cur]

    def rows(self, sweep_id: str) -> list[dict]:
        """The rows of a finished sweep, in case order."""
        cur = self._db.execute("SELECT row FROM sweep_rows WHERE sweep_id = ? ORDER BY position",
                               (sweep_id,))
        return [json.loads(r) for (r,) in cur]

    # -- lifetime --------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"
