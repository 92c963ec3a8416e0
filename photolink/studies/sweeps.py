"""Sweeps: a grid (or list) of cases, cut into independent chunks, run on any executor.

Every case draws from its own ``SeedSequence(seed, spawn_key=<hash of the case's settings>)``
and every chunk covers a fixed part of that case's work, so a row depends only on the sweep
seed and the case's settings: not on the executor, the number of workers, the chunk order, the
other cases of the grid, or on whether the sweep ran in one go or was interrupted and resumed.
(A ``simulate`` BER case even gives the counts of one :func:`photolink.simulate_ber` call with
the case's seed, whatever ``chunk_symbols`` is.)

Each finished chunk is committed to a :class:`photolink.studies.store.Store` as it arrives; rerunning
an interrupted sweep reads those back and computes only what is missing.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import itertools
import json
import os
import signal
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .._util import progress as _progress
from .._util import tables as _tables
from .._util.version import __version__
from . import jobs
from .store import Store, StoreError

#: Row keys a sweep sets itself; a figure of the same name gets the kind as prefix ("link_name").
_RESERVED = ("name", "seed", "case_key")
class SweepInterrupted(RuntimeError):
    """The executor broke (a worker was killed, the cluster went away) before the sweep ended.

    Every chunk finished before that point is in the store: run the same sweep again to resume.
    """


class CaseFailed(RuntimeError):
    """A case raised while it ran: names the case (``case``), its ``kind``, the ``chunk`` and
    the original exception (``error``, also ``__cause__``)."""

    def __init__(self, case: str, kind: str, chunk, error: BaseException):
        super().__init__(f"case {case!r} (kind {kind!r}), chunk {chunk} failed: "
                         f"{type(error).__name__}: {error}")
        self.case, self.kind, self.chunk, self.error = case, kind, chunk, error


@dataclass(frozen=True)
class Case:
    """One case of a sweep: its kind, normalised settings, display name and seed identity."""

    kind: str
    settings: dict
    name: str
    key: str                       # hex digest of the settings that fix its random streams

    @property
    def spawn_key(self) -> tuple:
        """Four 32-bit words of :attr:`key`: the spawn key of the case's ``SeedSequence``."""
        return tuple(int(self.key[i:i + 8], 16) for i in range(0, 32, 8))

    def seed_sequence(self, seed: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(seed, spawn_key=self.spawn_key)


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def make_case(kind: str, settings: Mapping, name: str | None = None) -> Case:
    """Normalise ``settings`` for ``kind`` and give the case its identity.

    The identity leaves out the kind's budget settings (``n_symbols`` of a BER case), so that a
    longer run of the same case continues the same random stream and reuses stored chunks.
    """
    k = jobs.kind(kind)
    norm = k.normalize(settings)
    ident = {key: val for key, val in norm.items() if key not in k.budget_keys}
    if kind == "ber" and norm["method"] == "simulate":
        ident.pop("confidence", None)              # only changes how the counts are reported
    key = _digest({"kind": kind, "settings": ident})[:32]
    return Case(kind, norm, name or jobs.case_label(norm), key)


#: Most cases one sweep may hold: a grid is counted (never built) and refused above this.
MAX_CASES = 100_000


def _check_grid(kind: str, grid: Mapping, explicit: list, fixed: Mapping, name: str) -> int:
    """Check a grid key by key (each value once, the others at their first value) and count
    its cases, before anything is expanded. Returns the number of cases."""
    for key, values in grid.items():
        if not isinstance(key, str):
            raise jobs.SettingError(str(key), "grid keys must be setting names (strings)")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise jobs.SettingError(key, f"grid values must be a non-empty list, got {values!r}")
    k = jobs.kind(kind)
    first = {key: values[0] for key, values in grid.items()}
    for c in explicit:
        c = {key: val for key, val in c.items() if key != "name"}
        clash = set(c) & set(grid)
        if clash:
            raise jobs.SettingError(sorted(clash)[0], "is set both by a case and by the grid")
        if grid:
            k.normalize({**fixed, **c, **first})      # unknown keys, first values
        for key, values in grid.items():
            seen = set()
            for j, val in enumerate(values[1:], 1):
                ident = json.dumps(val, sort_keys=True, default=repr)
                if ident in seen:
                    continue
                seen.add(ident)
                try:
                    k.normalize({**fixed, **c, **first, key: val})
                except jobs.SettingError as exc:
                    raise jobs.SettingError(exc.key, f"{exc.detail} [grid value {key}[{j}]]") from None
    n_cases = len(explicit)
    for values in grid.values():
        n_cases *= len(values)
    if n_cases > MAX_CASES:
        sizes = " x ".join(str(len(x)) for x in grid.values())
        raise ValueError(f"sweep {name!r} would hold {n_cases} cases ({len(explicit)} case(s) x "
                         f"grid {sizes}); at most {MAX_CASES} cases are allowed: split it into "
                         f"several sweeps or use fewer values")
    return n_cases


def iter_settings(grid: Mapping | None = None, cases: Sequence[Mapping] | None = None,
                  fixed: Mapping | None = None):
    """``(label, settings)`` of every case, lazily: each explicit case (default one empty case)
    crossed with the grid's cartesian product (last key fastest), laid over ``fixed``."""
    fixed = dict(fixed or {})
    grid = dict(grid or {})
    explicit = [dict(c) for c in cases] if cases is not None else [{}]
    n_points = 1
    for values in grid.values():
        n_points *= len(values)
    for c in explicit:
        label = c.pop("name", None)
        for p in itertools.product(*grid.values()):
            point = dict(zip(grid, p))
            name_i = f"{label}[{jobs.case_label(point)}]" if label and n_points > 1 else label
            yield name_i, {**fixed, **c, **point}


def expand(kind: str, grid: Mapping | None = None, cases: Sequence[Mapping] | None = None,
           fixed: Mapping | None = None, name: str = "sweep") -> list[Case]:
    """The cases of a sweep: every explicit case (default one empty case) crossed with the
    grid's cartesian product (last key fastest), each laid over ``fixed``.

    The grid is checked key by key and its size counted before any case is built; more than
    :data:`MAX_CASES` cases are refused. A case mapping may carry a ``"name"``; other cases are
    named after the settings that differ between cases, e.g. ``"sweep[snr_db=17.5]"``.
    """
    fixed = dict(fixed or {})
    grid = dict(grid or {})
    explicit = [dict(c) for c in cases] if cases is not None else [{}]
    if not explicit:
        raise ValueError("cases must hold at least one case")
    try:
        _check_grid(kind, grid, explicit, fixed, name)
    except jobs.SettingError as exc:
        raise jobs.SettingError(exc.key, f"{exc.detail} [in sweep {name!r}]") from None
    raw, built = [], []
    for i, (label, settings) in enumerate(iter_settings(grid, explicit, fixed)):
        try:
            built.append(make_case(kind, settings, label))
        except jobs.SettingError as exc:
            where = f"case {i} ({label})" if label else f"case {i}"
            raise jobs.SettingError(exc.key, f"{exc.detail} [in {where} of sweep {name!r}]") from None
        raw.append(label)
    return name_cases(raw, built, name)


def name_cases(labels: Sequence, built: Sequence[Case], name: str) -> list[Case]:
    """Name the unnamed cases (label None) after the settings that vary between cases, and
    refuse two cases of the same name."""
    varying = [k for k in dict.fromkeys(k for c in built for k in c.settings)
               if len({json.dumps(c.settings.get(k), sort_keys=True) for c in built}) > 1]
    out = []
    for label, c in zip(labels, built):
        if label is None:
            label = f"{name}[{jobs.case_label(c.settings, varying)}]" if varying and len(built) > 1 else name
        out.append(Case(c.kind, c.settings, label, c.key))
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        seen: set = set()
        dup = next(n for n in names if n in seen or seen.add(n))
        raise ValueError(f"two cases of sweep {name!r} are both named {dup!r}: give them distinct names")
    return out


@dataclass(frozen=True)
class SweepResult:
    """The rows of a finished sweep, in case order.

    Attributes
    ----------
    name, kind : str
    seed : int
    rows : tuple of dict
        One per case: ``name``, the case's settings, its figures (with confidence intervals
        where they are Monte Carlo), ``seed`` and ``case_key`` (the seed of the case is
        ``SeedSequence(seed, spawn_key=<case_key as four 32-bit words>)``).
    computed, reused : int
        Chunks computed by this call and chunks read back from the store.
    store : str
        Store file (``":memory:"`` without one).
    seconds : float
        Wall time of this call.
    """

    name: str
    kind: str
    seed: int
    rows: tuple
    computed: int
    reused: int
    store: str
    seconds: float
    sweep_id: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return (f"SweepResult({self.name!r}, kind {self.kind!r}, seed {self.seed}: {len(self.rows)} rows, "
                f"{self.computed} chunks computed, {self.reused} reused, store {self.store!r})")

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "seed": self.seed, "rows": list(self.rows),
                "computed": self.computed, "reused": self.reused, "store": self.store,
                "seconds": self.seconds}

    def tidy(self) -> tuple[list[dict], dict]:
        """``(rows, tables)`` of photolink's one output schema (:func:`photolink._util.tables.tidy`):
        the columns of :meth:`to_csv`, :meth:`to_json`'s ``rows`` and :meth:`to_dataframe`."""
        return _tables.tidy_rows(self.rows)

    def to_csv(self, path: str | os.PathLike | None = None) -> str:
        """The tidy rows as CSV text; written to ``path`` if given, with each nested table
        (e.g. ``segments``) next to it as ``<stem>.<table>.csv``."""
        rows, tables = self.tidy()
        tables.pop("warnings", None)
        text = rows_to_csv(rows, path)
        if path is not None:
            for name, t in tables.items():
                rows_to_csv(t, _tables.side_table_path(path, name))
        return text

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The sweep and its tidy rows as JSON text (nested tables and ``warnings`` as their own
        lists; inf/nan as strings); written to ``path`` if given."""
        rows, tables = self.tidy()
        doc = {k: x for k, x in self.to_dict().items() if k != "rows"}
        doc.update(rows=rows, **tables)
        doc.setdefault("warnings", [])
        text = json.dumps(_tables.finite(doc), indent=1)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    def to_dataframe(self) -> Any:
        """The tidy rows as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_dataframe needs pandas (pip install pandas)") from None
        return pd.DataFrame(self.tidy()[0])


def rows_to_csv(rows, path=None) -> str:
    """Rows (dicts) as CSV text, columns in first-seen order; written to ``path`` if given.
    Nested values are flattened first (:func:`photolink._util.tables.tidy`)."""
    text = _tables.csv_text([_tables.tidy(r) for r in rows])
    if path is not None:
        Path(path).write_text(text)
    return text


# -- running chunks ----------------------------------------------------------------------------
def _run_chunk(kind: str, settings: dict, seed: int, spawn_key: tuple, chunk) -> tuple[dict, float]:
    """Worker entry point: one chunk of one case (module level, so any executor can ship it)."""
    t0 = time.perf_counter()
    ss = np.random.SeedSequence(seed, spawn_key=tuple(spawn_key))
    out = jobs.kind(kind).run_chunk(settings, ss, chunk)
    return out, time.perf_counter() - t0


def _worker_init(parent: int) -> None:
    """Local pool workers: leave Ctrl-C to the parent, and exit if the parent dies (a crash
    must not leave orphans computing chunks nobody will store)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="photolink-parent-watch").start()


def _chunk_key(case: Case, seed: int, chunk) -> str:
    return _digest({"kind": case.kind, "case": case.key, "seed": seed, "chunk": chunk,
                    "version": __version__})


class _Progress:
    """A ``tqdm.auto`` bar (terminal or notebook; see :mod:`photolink._util.progress`), or a
    callback."""

    def __init__(self, mode, total: int, done: int, label: str):
        self.total, self.done = total, done
        self.callback = mode if callable(mode) else None
        enabled = False if self.callback or total <= done else mode
        self.bar = _progress.bar(total=total, initial=done, desc=label, unit="chunk", enabled=enabled)

    def step(self) -> None:
        self.done += 1
        if self.callback:
            self.callback(self.done, self.total)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def sweep(kind: str, grid: Mapping | None = None, *, cases: Sequence[Mapping] | None = None,
          fixed: Mapping | None = None, seed: int, store: str | os.PathLike | Store | None,
          executor: cf.Executor | None = None,
          workers: int | None = None, chunk_symbols: int = jobs.DEFAULT_CHUNK_SYMBOLS,
          progress: bool | str | Callable[[int, int], None] = "auto", name: str = "sweep",
          max_in_flight: int | None = None) -> SweepResult:
    """Run a grid (or list) of cases of one kind, resumably.

    Parameters
    ----------
    kind : {"ber", "link", "path", "fabric"}
        What a case computes (see :mod:`photolink.studies.jobs` for each kind's settings).
    grid : mapping of str to list, optional
        Settings to sweep: the cases are the cartesian product of the lists.
    cases : list of mappings, optional
        Explicit cases (each may carry a ``"name"``); crossed with ``grid`` when both are given.
    fixed : mapping, optional
        Settings shared by every case.
    seed : int
        Seed of the sweep (>= 0): each case's seed derives from it and the case's settings.
    store : str, pathlib.Path, Store or None
        SQLite result store, required (no file is written unless named here): a path (created
        if missing; :attr:`SweepResult.store` reports it) or an open :class:`Store`; ``None``
        keeps results in memory (nothing to resume from).
    executor : concurrent.futures.Executor, optional
        Where chunks run, e.g. ``distributed.Client(...).get_executor()``. Default: a local
        process pool of ``workers`` processes, or this process when ``workers == 1``.
    workers : int, optional
        Size of the default pool (default: the CPU count).
    chunk_symbols : int
        Symbols per chunk of a simulated BER case; rows do not depend on it.
    progress : "auto", bool or callable
        Progress bar (``tqdm.auto``); "auto" shows it on a terminal or in a notebook;
        a callable is called as ``progress(done_chunks, total_chunks)`` after each chunk.
    name : str
        Name of the sweep (labels its cases and its record in the store).
    max_in_flight : int, optional
        Chunks submitted ahead of completion (default: 2 per worker, 64 with an executor).

    Returns
    -------
    SweepResult

    Raises
    ------
    SweepInterrupted
        When the executor breaks (e.g. a worker process is killed). Finished chunks are kept.
    KeyboardInterrupt
        After saving every finished chunk, including those that finish within
        :data:`SHUTDOWN_GRACE_S` of the interrupt (the local pool is then terminated, so the
        call returns within about 2 s); run again to resume.
    photolink.studies.store.StoreError
        When the store is not a photolink store, or a stored chunk fails its checksum or its
        counts do not fit its case (the store and the chunk are named).
    ValueError
        For a bad setting (naming the key) or a grid of more than :data:`MAX_CASES` cases.
    """
    t0 = time.perf_counter()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed must be an int >= 0 (a sweep must be repeatable), got {seed!r}")
    seed = int(seed)
    if isinstance(chunk_symbols, bool) or not isinstance(chunk_symbols, (int, np.integer)) \
            or not 1 << 10 <= chunk_symbols <= 1 << 40:
        raise ValueError(f"chunk_symbols must be an integer in [1024, 2**40], got {chunk_symbols!r}")
    if workers is not None and (not isinstance(workers, int) or not 1 <= workers <= 4096):
        raise ValueError(f"workers must be an integer in [1, 4096], got {workers!r}")
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}")
    the_cases = expand(kind, grid, cases, fixed, name)
    options = {"chunk_symbols": int(chunk_symbols)}
    plan = []                     # (case index, chunk, key)
    for i, c in enumerate(the_cases):
        for ch in jobs.kind(kind).chunks(c.settings, options):
            plan.append((i, ch, _chunk_key(c, seed, ch)))
    sweep_id = _digest({"name": name, "kind": kind, "seed": seed,
                        "cases": [[c.name, c.settings] for c in the_cases], "options": options})[:32]

    if store is not None and not isinstance(store, (str, os.PathLike, Store)):
        raise TypeError(f"store must be a file path, a photolink Store or None (results in "
                        f"memory), got {type(store).__name__} {store!r}")
    own_store = not isinstance(store, Store)
    db = Store(":memory:" if store is None else store) if own_store else store
    try:
        db.start_sweep(sweep_id, name, {"kind": kind, "seed": seed, "options": options,
                                        "cases": len(the_cases), "chunks": len(plan)})
        results = db.finished(k for _, _, k in plan)
        for i, ch, key in plan:                   # never trust a stored chunk's contents
            if key in results:
                try:
                    jobs.kind(kind).check_chunk(the_cases[i].settings, ch, results[key])
                except (ValueError, TypeError, KeyError) as exc:
                    raise db.corrupt(key, f"{exc} [case {the_cases[i].name!r}]", ch) from None
        reused = len(results)
        todo = [p for p in plan if p[2] not in results]
        bar = _Progress(progress, len(plan), reused, name)
        try:
            _execute(todo, the_cases, seed, db, results, bar, executor, workers, max_in_flight)
        finally:
            bar.close()
        rows = []
        for i, c in enumerate(the_cases):
            parts = [results[k] for j, _, k in plan if j == i]
            try:
                figures = jobs.kind(kind).combine(c.settings, parts)
            except (ValueError, TypeError, KeyError) as exc:
                raise StoreError(f"store {str(db.path)!r}: the chunks of case {c.name!r} do not "
                                 f"add up to the case: {exc}; refusing to use them") from None
            figures = {(f"{kind}_{k}" if k in _RESERVED else k): x for k, x in figures.items()}
            rows.append((c.key, {"name": c.name, **c.settings, **figures, "seed": seed,
                                 "case_key": c.key}))
        db.finish_sweep(sweep_id, rows)
        return SweepResult(name, kind, seed, tuple(r for _, r in rows), len(todo), reused,
                           str(db.path), time.perf_counter() - t0, sweep_id)
    finally:
        if own_store:
            db.close()


def _execute(todo, the_cases, seed, db, results, bar, executor, workers, max_in_flight):
    """Run the missing chunks and commit each one as it finishes."""
    def record(task, value):
        (out, seconds), (i, ch, key) = value, task
        db.put_chunk(key, the_cases[i].kind, the_cases[i].key, ch, out, seconds)
        results[key] = out
        bar.step()

    def args(task):
        i, ch, _ = task
        c = the_cases[i]
        return (c.kind, c.settings, seed, c.spawn_key, ch)

    if not todo:
        return
    workers = workers or os.cpu_count() or 1
    if executor is None and (workers == 1 or len(todo) == 1):
        for task in todo:                     # in this process: Ctrl-C keeps what finished
            try:
                value = _run_chunk(*args(task))
            except (ImportError, MemoryError):
                raise
            except Exception as exc:
                c = the_cases[task[0]]
                raise CaseFailed(c.name, c.kind, task[1], exc) from exc
            record(task, value)
        return
    own = executor is None
    pool = cf.ProcessPoolExecutor(min(workers, len(todo)), initializer=_worker_init,
                                     initargs=(os.getpid(),)) if own else executor
    window = max_in_flight or (2 * min(workers, len(todo)) if own else 64)
    pending: dict = {}
    queue = iter(todo)
    clean = False
    try:
        while True:
            for task in itertools.islice(queue, max(0, window - len(pending))):
                pending[pool.submit(_run_chunk, *args(task))] = task
            if not pending:
                break
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                task = pending.pop(fut)
                try:
                    value = fut.result()
                except (BrokenProcessPool, cf.CancelledError):
                    raise
                except ImportError:
                    raise
                except Exception as exc:
                    if type(exc).__name__ in ("KilledWorker", "CommClosedError"):
                        raise SweepInterrupted(
                            f"the executor lost a worker ({exc!r}); {len(results)} finished chunks "
                            f"are saved in {db.path}: run the same sweep again to resume") from exc
                    c = the_cases[task[0]]
                    raise CaseFailed(c.name, c.kind, task[1], exc) from exc
                record(task, value)
        clean = True
    except KeyboardInterrupt:
        _save_stragglers(pending, record)
        raise
    except (BrokenProcessPool, cf.CancelledError) as exc:
        raise SweepInterrupted(
            f"the worker pool broke or was shut down ({exc or type(exc).__name__}); {len(results)} "
            f"finished chunks are saved in {db.path}: run the same sweep again to resume") from exc
    finally:
        for fut in pending:
            fut.cancel()
        if own:
            if clean:
                pool.shutdown(wait=True)
            else:
                _stop_pool(pool)


#: Seconds an interrupted sweep waits for chunks that are already running, to save them.
SHUTDOWN_GRACE_S = 1.5


def _save_stragglers(pending: dict, record) -> None:
    """On Ctrl-C: cancel the chunks not yet started and save those that finish within
    :data:`SHUTDOWN_GRACE_S` (a second Ctrl-C stops waiting)."""
    for fut in pending:
        fut.cancel()
    running = {f: t for f, t in pending.items() if not f.cancelled()}
    deadline = time.monotonic() + SHUTDOWN_GRACE_S
    while running:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        done, _ = cf.wait(running, timeout=left, return_when=cf.FIRST_COMPLETED)
        for fut in done:
            task = running.pop(fut)
            pending.pop(fut, None)
            try:
                value = fut.result()
            except BaseException:                 # noqa: BLE001 - a failed straggler is dropped
                continue
            record(task, value)


def _stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Shut a local pool down without waiting for its running chunks: its workers are
    terminated (what they were computing is recomputed on resume)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        try:
            proc.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    for proc in procs:
        try:
            proc.join(1.0)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass
