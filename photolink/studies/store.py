"""An embedded SQLite store for sweep results, written one finished chunk at a time.

The store is what makes a sweep resumable: every finished chunk is committed as soon as it
arrives, under a key that names the work it did (kind, case, seed, chunk range and photolink
version), so a rerun of an interrupted sweep reads the finished chunks back and computes only
the rest. Extending a sweep (more SNR points, more symbols) reuses every chunk that matches.

Safety:

* A new store is created atomically: it is built under a temporary name next to its final path
  and linked into place, so when several processes open the same new path at once, one creates
  it and the others open that one.
* A file that is not a photolink store (not SQLite, another application's database, a damaged
  one, an existing empty file, a device such as ``/dev/null``) is refused with
  :class:`StoreError` and never written to.
* Every chunk carries a SHA-256 checksum of its payload, verified when it is read back; the
  sweep also checks its counts (non-negative, adding up to the case's totals). A chunk that
  fails is refused with :class:`StoreError` naming the store and the chunk, never used.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
import stat
import time
from pathlib import Path

from .._util.version import __version__

#: ``PRAGMA application_id`` of a photolink store: ASCII "PHLK".
APPLICATION_ID = 0x50484C4B
#: Layout version, in ``PRAGMA user_version`` and in the meta table (2: chunk checksums).
SCHEMA_VERSION = 2
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
    finished_at REAL NOT NULL,
    checksum TEXT               -- SHA-256 of key, kind, case_key, chunk and result
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
#: Columns every table of a store must have (a store missing one is refused).
_TABLES = {
    "meta": {"key", "value"},
    "chunks": {"key", "kind", "case_key", "chunk", "result", "seconds", "finished_at"},
    "sweeps": {"sweep_id", "name", "spec", "started_at", "finished_at"},
    "sweep_rows": {"sweep_id", "position", "case_key", "row"},
}


class StoreError(ValueError):
    """The file cannot be used as a photolink store, or holds a corrupt chunk (it is left
    untouched)."""


def _refuse(path: Path, why: str) -> StoreError:
    return StoreError(f"store {str(path)!r} {why}; refusing to use or overwrite it "
                      f"(choose another store path, or move the file away)")


def chunk_checksum(key: str, kind: str, case_key: str, chunk_json: str, result_json: str) -> str:
    """SHA-256 (hex) of a chunk's stored payload: what :meth:`Store.finished` verifies."""
    h = hashlib.sha256()
    for part in (key, kind, case_key, chunk_json, result_json):
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()


class Store:
    """A photolink result store in one SQLite file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; created (atomically) when missing. ``":memory:"`` keeps results in memory
        only. An existing file must be a photolink store: an empty file is refused, not
        overwritten.

    Raises
    ------
    StoreError
        When the file exists but is not a photolink store (or is empty, a directory or a
        device), is damaged, or was written by a newer layout. The file is not modified.
    """

    def __init__(self, path):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"store must be a file path or ':memory:', got {type(path).__name__} {path!r}")
        memory = str(path) == ":memory:"
        self.path = Path(":memory:") if memory else Path(path)
        if memory:
            self._db = sqlite3.connect(":memory:", isolation_level=None)
            self._build(self._db, wal=False)
            return
        if not self._exists():
            self._create_atomically()
        self._check_file()
        self._check_header()
        try:
            self._db = sqlite3.connect(str(self.path), timeout=60.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise _refuse(self.path, f"cannot be opened ({exc})") from None
        try:
            self._check_contents()
            self._db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            self._db.close()
            raise

    # -- opening ---------------------------------------------------------------------------
    def _exists(self) -> bool:
        try:
            os.stat(self.path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise _refuse(self.path, f"cannot be inspected ({exc.strerror})") from None
        return True

    def _check_file(self) -> None:
        st = os.stat(self.path)
        if stat.S_ISDIR(st.st_mode):
            raise _refuse(self.path, "is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(self.path, "is not a regular file (a device, pipe or socket)")
        if st.st_size == 0:
            raise _refuse(self.path, "is an existing empty file, not a photolink store")

    def _create_atomically(self) -> None:
        """Build a fresh store under a temporary name and link it into place: exactly one of
        several processes creating the same path at once wins; the others open its store."""
        parent = self.path.parent
        if not parent.is_dir():
            raise _refuse(self.path, f"cannot be created: directory {str(parent)!r} does not exist")
        tmp = parent / f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            db = sqlite3.connect(str(tmp), isolation_level=None)
            try:
                self._build(db, wal=True)
            finally:
                db.close()
            try:
                os.link(tmp, self.path)               # fails if another process was first
            except FileExistsError:
                pass
            except OSError:                           # a file system without hard links
                if not self.path.exists():
                    os.replace(tmp, self.path)
        except sqlite3.Error as exc:
            raise _refuse(self.path, f"cannot be created ({exc})") from None
        except OSError as exc:
            raise _refuse(self.path, f"cannot be created ({exc.strerror or exc})") from None
        finally:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                try:
                    leftover.unlink()
                except OSError:
                    pass

    @staticmethod
    def _build(db, wal: bool) -> None:
        db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        db.execute("BEGIN")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        for stmt in _SCHEMA.split(";"):
            if stmt.strip():
                db.execute(stmt)
        db.executemany("INSERT INTO meta VALUES (?, ?)",
                       [("format", FORMAT_NAME), ("schema", str(SCHEMA_VERSION)),
                        ("created_by", f"photolink {__version__}")])
        db.execute("COMMIT")
        if wal:
            db.execute("PRAGMA journal_mode=WAL")

    def _check_header(self) -> None:
        try:
            with open(self.path, "rb") as f:
                head = f.read(100)
        except OSError as exc:
            raise _refuse(self.path, f"cannot be read ({exc.strerror})") from None
        if not head.startswith(b"SQLite format 3\x00"):
            raise _refuse(self.path, "is not an SQLite database")
        if len(head) < 100 or int.from_bytes(head[68:72], "big") != APPLICATION_ID:
            raise _refuse(self.path, "is an SQLite database of another application")

    def _check_contents(self) -> None:
        db = self._db
        try:
            ok = db.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise _refuse(self.path, f"is damaged (SQLite quick_check: {ok})")
            for table, columns in _TABLES.items():
                have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
                if not have:
                    raise _refuse(self.path, f"is damaged (table {table!r} is missing)")
                if columns - have:
                    raise _refuse(self.path, f"is damaged (table {table!r} lacks column "
                                             f"{sorted(columns - have)[0]!r})")
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise _refuse(self.path, f"is damaged or foreign ({exc})") from None
        if meta.get("format") != FORMAT_NAME:
            raise _refuse(self.path, "has no photolink store marker")
        try:
            schema = int(meta.get("schema", -1))
        except (TypeError, ValueError):
            raise _refuse(self.path, f"has a bad layout number {meta.get('schema')!r}") from None
        if schema > SCHEMA_VERSION:
            raise _refuse(self.path, f"uses store layout {schema}, newer than this "
                                     f"photolink's {SCHEMA_VERSION}")
        if schema < SCHEMA_VERSION:
            self._migrate()

    def _migrate(self) -> None:
        """Layout 1 -> 2: add the checksum column and checksum the chunks already there."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            have = {r[1] for r in db.execute("PRAGMA table_info(chunks)")}
            if "checksum" not in have:                # another process may have migrated it
                db.execute("ALTER TABLE chunks ADD COLUMN checksum TEXT")
                rows = db.execute("SELECT key, kind, case_key, chunk, result FROM chunks").fetchall()
                db.executemany("UPDATE chunks SET checksum = ? WHERE key = ?",
                               [(chunk_checksum(*r), r[0]) for r in rows])
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def _guard(self, doing: str):
        """SQLite errors of a damaged store as StoreError naming the store."""
        try:
            yield
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StoreError(f"store {str(self.path)!r} is damaged or unwritable while {doing} "
                             f"({exc}); move it away or use another store path") from None

    # -- chunks ----------------------------------------------------------------------------
    def corrupt(self, key: str, why: str, chunk=None) -> StoreError:
        """The error for a chunk that cannot be trusted (names the store and the chunk)."""
        where = f"chunk {key[:16]}" + (f" (range {chunk})" if chunk is not None else "")
        return StoreError(f"store {str(self.path)!r}: {where} is corrupt: {why}; refusing to use "
                          f"it (move the store away, or use another store path, to recompute)")

    def finished(self, keys) -> dict:
        """Results (decoded JSON) of the chunks among ``keys`` that are in the store.

        Raises
        ------
        StoreError
            When a chunk's checksum does not match its payload, or its payload is not a JSON
            object.
        """
        keys = list(keys)
        out = {}
        try:
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                q = (f"SELECT key, kind, case_key, chunk, result, checksum FROM chunks "
                     f"WHERE key IN ({','.join('?' * len(part))})")
                for key, kind, case_key, chunk, result, checksum in self._db.execute(q, part):
                    fields = (key, kind, case_key, chunk, result)
                    if not all(isinstance(f, str) for f in fields):
                        raise self.corrupt(str(key), "a field is not text")
                    if checksum != chunk_checksum(*fields):
                        raise self.corrupt(key, "its checksum does not match its payload "
                                                "(edited or damaged)", chunk)
                    try:
                        value = json.loads(result)
                    except (ValueError, RecursionError):
                        value = None
                    if not isinstance(value, dict):
                        raise self.corrupt(key, "its result is not a JSON object", chunk)
                    out[key] = value
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise _refuse(self.path, f"is damaged ({exc})") from None
        return out

    def put_chunk(self, key: str, kind: str, case_key: str, chunk, result: dict,
                  seconds: float) -> None:
        """Commit one finished chunk (a no-op when the key is already there)."""
        chunk_json, result_json = json.dumps(chunk), json.dumps(result)
        with self._guard("saving a chunk"):
            self._db.execute("INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (key, kind, case_key, chunk_json, result_json, float(seconds),
                              time.time(), chunk_checksum(key, kind, case_key, chunk_json, result_json)))

    def chunk_count(self) -> int:
        with self._guard("counting chunks"):
            return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    # -- sweeps ----------------------------------------------------------------------------
    def start_sweep(self, sweep_id: str, name: str, spec: dict) -> None:
        with self._guard("recording a sweep"):
            self._db.execute("INSERT OR IGNORE INTO sweeps VALUES (?, ?, ?, ?, NULL)",
                             (sweep_id, name, json.dumps(spec, sort_keys=True), time.time()))

    def finish_sweep(self, sweep_id: str, rows: list[tuple[str, dict]]) -> None:
        """Record a sweep's rows (in case order) and mark it finished, in one transaction."""
        with self._guard("saving a sweep's rows"):
            self._finish_sweep(sweep_id, rows)

    def _finish_sweep(self, sweep_id, rows) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM sweep_rows WHERE sweep_id = ?", (sweep_id,))
            db.executemany("INSERT INTO sweep_rows VALUES (?, ?, ?, ?)",
                           [(sweep_id, i, ck, json.dumps(row)) for i, (ck, row) in enumerate(rows)])
            db.execute("UPDATE sweeps SET finished_at = ? WHERE sweep_id = ?", (time.time(), sweep_id))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def sweeps(self) -> list[dict]:
        """Every sweep recorded: id, name, spec, start and finish times (None if unfinished)."""
        with self._guard("reading its sweeps"):
            cur = self._db.execute("SELECT sweep_id, name, spec, started_at, finished_at FROM sweeps "
                                   "ORDER BY started_at")
            return [{"sweep_id": s, "name": n, "spec": json.loads(sp), "started_at": t0,
                     "finished_at": t1} for s, n, sp, t0, t1 in cur]

    def rows(self, sweep_id: str) -> list[dict]:
        """The rows of a finished sweep, in case order."""
        with self._guard("reading a sweep's rows"):
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
