"""The store under stress: concurrent creation, devices and empty files, edited chunks,
missing tables, an old layout, and Ctrl-C during a pooled sweep (issue 16, items 2, 3, 6)."""
import json
import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import photolink as pl
from photolink.studies.store import Store, StoreError, chunk_checksum

FIXED = {"format": "PAM4", "n_symbols": 3 * 4096}
GRID = {"snr_db": [14.0, 16.0]}


def _small(store, **kw):
    return pl.sweep("ber", GRID, fixed=FIXED, seed=5, store=store, chunk_symbols=4096,
                    workers=1, progress=False, **kw)


def _open_and_put(path, i, barrier, errors):
    try:
        barrier.wait()
        with Store(path) as s:
            s.put_chunk(f"k{i}", "ber", "c", [i, i + 1], {"i": i}, 0.0)
    except BaseException as exc:       # noqa: BLE001 - reported to the parent
        errors.put(f"{type(exc).__name__}: {exc}")


def test_concurrent_creation_of_a_new_store(tmp_path):
    path = tmp_path / "new.sqlite"
    n = 12
    ctx = mp.get_context("fork")
    barrier, errors = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_open_and_put, args=(path, i, barrier, errors)) for i in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert not found, found
    with Store(path) as s:
        assert s.chunk_count() == n
    assert not list(tmp_path.glob(".*tmp*")), "temporary store files left behind"


def test_device_and_fifo_are_refused_untouched(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="not a regular file"):
        Store(fifo)
    journal_existed = os.path.exists("/dev/null-journal")
    with pytest.raises(StoreError, match="not a regular file"):
        Store("/dev/null")
    assert os.path.exists("/dev/null-journal") == journal_existed


def test_empty_file_is_refused_not_overwritten(tmp_path):
    p = tmp_path / "empty.sqlite"
    p.touch()
    with pytest.raises(StoreError, match="empty file") as exc:
        _small(p)
    assert str(p) in str(exc.value)
    assert p.stat().st_size == 0


def test_missing_parent_directory(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "no" / "such" / "s.sqlite")


def _edit_first_chunk(path, edit, fix_checksum):
    with sqlite3.connect(path) as db:
        key, kind, case_key, chunk, result = db.execute(
            "SELECT key, kind, case_key, chunk, result FROM chunks ORDER BY key LIMIT 1").fetchone()
        r = json.loads(result)
        edit(r)
        new = json.dumps(r)
        checksum = chunk_checksum(key, kind, case_key, chunk, new) if fix_checksum else None
        db.execute("UPDATE chunks SET result = ?, checksum = COALESCE(?, checksum) WHERE key = ?",
                   (new, checksum, key))
    db.close()
    return key


@pytest.mark.parametrize("edit, fix_checksum, why", [
    (lambda r: r.update(bit_errors=r["bit_errors"] + 10**6), False, "checksum"),
    (lambda r: r.update(symbols=-5), False, "checksum"),
    (lambda r: r.update(symbols=-5), True, "symbols must be a non-negative integer"),
    (lambda r: r.update(symbols=r["symbols"] - 100), True, "symbols = "),
    (lambda r: r.update(bit_errors=r["bits"] + 1), True, "bit_errors"),
    (lambda r: r.pop("burst_hist"), True, "burst_hist"),
    (lambda r: r.pop("bits"), True, "bits must be"),
], ids=["errors+1e6", "symbols-5", "symbols-5-rehashed", "short-chunk", "errors>bits",
        "missing-key", "missing-bits"])
def test_edited_chunk_is_refused_naming_store_and_chunk(tmp_path, edit, fix_checksum, why):
    p = tmp_path / "s.sqlite"
    reference = _small(p)
    key = _edit_first_chunk(p, edit, fix_checksum)
    with pytest.raises(StoreError, match=why) as exc:
        _small(p)
    assert str(p) in str(exc.value) and key[:16] in str(exc.value)
    assert reference.rows == _small(tmp_path / "fresh.sqlite").rows


def test_missing_table_is_refused(tmp_path):
    p = tmp_path / "s.sqlite"
    _small(p)
    with sqlite3.connect(p) as db:
        db.execute("DROP TABLE sweeps")
    db.close()
    with pytest.raises(StoreError, match="table 'sweeps' is missing"):
        Store(p)


def test_layout_1_store_is_migrated_and_reused(tmp_path):
    p = tmp_path / "old.sqlite"
    first = _small(p)
    with sqlite3.connect(p) as db:                 # make it look like a layout-1 store
        db.execute("ALTER TABLE chunks DROP COLUMN checksum")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
        db.execute("PRAGMA user_version=1")
    db.close()
    again = _small(p)
    assert again.reused == first.computed and again.computed == 0
    assert again.rows == first.rows


_INTERRUPTED = textwrap.dedent("""
    import sys, photolink as pl
    def tick(done, total):
        print("chunk", done, flush=True)
    print("start", flush=True)
    pl.sweep("ber", {"snr_db": [10.0, 10.5, 11.0, 11.5]},
             fixed={"format": "PAM4", "n_symbols": 4 * 2**24, "channel": [0.2, 1.0, 0.5],
                    "equalizer": "mmse", "n_ffe": 9, "n_dfe": 1},
             seed=1, store=sys.argv[1], workers=2, chunk_symbols=2**24, progress=tick)
""")


@pytest.mark.slow
def test_ctrl_c_saves_running_chunks_and_exits_fast(tmp_path):
    """SIGINT while two workers compute: what they finish within the grace time is stored, and
    the process exits within ~2 s (it used to wait for every running chunk and store none)."""
    db = tmp_path / "int.sqlite"
    script = tmp_path / "run.py"
    script.write_text(_INTERRUPTED)
    env = {**os.environ, "PYTHONPATH": str(Path(pl.__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, str(script), str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    t_start = None
    for line in proc.stdout:                       # wait for two finished chunks
        if line.startswith("start"):
            t_start = time.monotonic()
        if line.startswith("chunk") and line.split()[1] == "2":
            break
    per_chunk = time.monotonic() - t_start         # (with the pool's start-up)
    time.sleep(0.2)                                # the next two chunks are running
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    out, err = proc.communicate(timeout=60)
    exit_s = time.monotonic() - t0
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    with Store(db) as s:
        saved = s.chunk_count()
    assert exit_s < 3.0, f"took {exit_s:.1f} s to exit after SIGINT"
    if per_chunk < 2.5:                            # ~1.3 s with start-up on an idle core                            # the running chunks finish within the grace
        assert saved >= 4, f"only {saved} chunks saved"
    else:
        assert saved >= 2
