"""Sweeps: determinism across executors and chunking, resume after a kill, the SQLite store."""
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import photolink as pl
from photolink.studies.jobs import SettingError
from photolink.studies.store import Store, StoreError
from photolink.studies.sweeps import SweepInterrupted, make_case

#: The repository root (the CLI runs from there, so `python -m photolink` finds the source tree).
ROOT = Path(__file__).resolve().parents[2]
GRID = {"snr_db": [15.0, 16.5, 18.0]}
FIXED = {"format": "PAM4", "n_symbols": 3_000_000}
CHUNK = 1 << 20                      # 3 chunks per case


def small(store=None, **kw):
    kw.setdefault("workers", 1)
    kw.setdefault("progress", False)
    return pl.sweep("ber", GRID, fixed=FIXED, seed=11, store=store, chunk_symbols=CHUNK, **kw)


@pytest.fixture(scope="module")
def reference():
    return small()


def test_rows_equal_direct_simulation_with_case_seed(reference):
    for row in reference.rows:
        case = make_case("ber", {**FIXED, "snr_db": row["snr_db"]})
        r = pl.simulate_ber(pl.PAM4, row["snr_db"], FIXED["n_symbols"], seed=case.seed_sequence(11))
        assert (row["bit_errors"], row["symbol_errors"], row["error_events"]) == \
            (r.bit_errors, r.symbol_errors, r.bursts)
        assert (row["ber_ci_low"], row["ber_ci_high"]) == r.ci
        # and the Monte Carlo agrees with the closed form within its interval
        assert row["ber_ci_low"] <= row["ber_awgn"] <= row["ber_ci_high"]


def test_rows_do_not_depend_on_chunking_order_or_executor(reference):
    other = pl.sweep("ber", {"snr_db": GRID["snr_db"][::-1]}, fixed=FIXED, seed=11, store=None,
                     chunk_symbols=1 << 21, executor=ThreadPoolExecutor(3), progress=False)
    by_snr = {r["snr_db"]: r for r in other.rows}
    for row in reference.rows:
        assert by_snr[row["snr_db"]] == row
    with ProcessPoolExecutor(2) as pool:
        assert small(executor=pool, max_in_flight=2).rows == reference.rows


def test_other_seed_other_rows(reference):
    rows = pl.sweep("ber", GRID, fixed=FIXED, seed=12, store=None, workers=1, progress=False).rows
    assert [r["bit_errors"] for r in rows] != [r["bit_errors"] for r in reference.rows]


def test_store_resumes_and_extends(tmp_path, reference):
    db = tmp_path / "s.sqlite"
    first = small(db)
    assert (first.computed, first.reused) == (9, 0) and first.rows == reference.rows
    again = small(db)
    assert (again.computed, again.reused) == (0, 9) and again.rows == reference.rows
    # a longer run of the same cases continues their streams: the 3 old chunks are reused
    longer = pl.sweep("ber", GRID, fixed={**FIXED, "n_symbols": 4 * CHUNK}, seed=11, store=db,
                      chunk_symbols=CHUNK, workers=1, progress=False)
    assert (longer.computed, longer.reused) == (6, 6)      # chunk [2C, 3e6) became [2C, 3C)
    with Store(db) as s:
        assert [x["name"] for x in s.sweeps()] == ["sweep", "sweep"]
        assert s.rows(first.sweep_id) == list(reference.rows)


def test_ctrl_c_keeps_finished_chunks(tmp_path, reference):
    db = tmp_path / "s.sqlite"

    def interrupt(done, total):
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        small(db, progress=interrupt)
    with Store(db) as s:
        assert s.chunk_count() == 4
    resumed = small(db)
    assert (resumed.computed, resumed.reused) == (5, 4)
    assert resumed.rows == reference.rows


def test_killed_worker_process_then_resume(tmp_path):
    db = tmp_path / "s.sqlite"
    grid, fixed = {"snr_db": [14.0, 16.0, 18.0, 19.0]}, {"format": "PAM4", "n_symbols": 6 * CHUNK}
    reference = pl.sweep("ber", grid, fixed=fixed, seed=3, store=None, chunk_symbols=CHUNK,
                         workers=1, progress=False)
    pool = ProcessPoolExecutor(2)
    killed = []

    def kill_a_worker(done, total):
        if done == 3 and not killed:
            pid = next(iter(pool._processes))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            time.sleep(0.2)                      # let the pool notice

    with pytest.raises(SweepInterrupted, match="run the same sweep again"):
        pl.sweep("ber", grid, fixed=fixed, seed=3, store=db, chunk_symbols=CHUNK, executor=pool,
                 progress=kill_a_worker, max_in_flight=2)
    pool.shutdown()
    with Store(db) as s:
        saved = s.chunk_count()
    assert killed and 3 <= saved < 24
    resumed = pl.sweep("ber", grid, fixed=fixed, seed=3, store=db, chunk_symbols=CHUNK, workers=2,
                       progress=False)
    assert (resumed.computed, resumed.reused) == (24 - saved, saved)
    assert resumed.rows == reference.rows


CLI_CONFIG = """
seed = 5
[sweep]
kind = "ber"
chunk_symbols = 2_097_152
fixed = { format = "PAM4", n_symbols = 12_582_912 }   # 6 chunks per case
grid = { snr_db = [13.0, 14.0, 15.0, 16.0, 17.0, 18.0] }
"""


_CLI_REFERENCE: dict = {}


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "crash"])
def test_cli_sweep_interrupted_then_resumed(tmp_path, sig):
    cfg = tmp_path / "w.toml"
    cfg.write_text(CLI_CONFIG)
    db = tmp_path / "w.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "photolink", "sweep", str(cfg), "--store", str(db),
                             "--workers", "2", "--quiet"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    done = 0
    deadline = time.monotonic() + 60
    while done < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                done = c.execute("SELECT count(*) FROM chunks").fetchone()[0]
        except sqlite3.Error:
            pass
    assert proc.poll() is None, "the sweep finished before it could be interrupted"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "run the same command again to resume" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    with Store(db) as s:                          # the store survived, with what finished
        saved = s.chunk_count()
    assert 4 <= saved < 36
    from photolink.studies.config import load
    plan = load(cfg).sweep
    args = dict(cases=[{**c.settings, "name": c.name} for c in plan.cases], seed=5,
                chunk_symbols=plan.chunk_symbols, progress=False, name=plan.name)
    resumed = pl.sweep("ber", store=db, workers=2, **args)
    assert (resumed.computed, resumed.reused) == (36 - saved, saved)
    if "rows" not in _CLI_REFERENCE:                # one uninterrupted run for both signals
        _CLI_REFERENCE["rows"] = pl.sweep("ber", store=None, workers=2, **args).rows
    assert resumed.rows == _CLI_REFERENCE["rows"]


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_rows(reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        rows = small(executor=client.get_executor()).rows
    assert rows == reference.rows


# -- the store refuses what is not its own ---------------------------------------------------
def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _foreign_sqlite(p: Path):
    with sqlite3.connect(p) as c:
        c.execute("CREATE TABLE users(name TEXT)")
        c.execute("INSERT INTO users VALUES ('ada')")
    c.close()


def _corrupt_store(p: Path):
    with Store(p) as s:
        for i in range(200):
            s.put_chunk(f"k{i}", "ber", "c", [i, i + 1], {"x": "y" * 200}, 0.1)
    data = bytearray(p.read_bytes())
    data[4096 * 2:4096 * 2 + 300] = b"\xff" * 300            # smash a b-tree page
    p.write_bytes(bytes(data))


@pytest.mark.parametrize("make, why", [
    (lambda p: p.write_bytes(os.urandom(5000)), "not an SQLite database"),
    (lambda p: p.write_text("snr_db,ber\n17,1e-4\n"), "not an SQLite database"),
    (_foreign_sqlite, "another application"),
    (_corrupt_store, "damaged"),
], ids=["random-bytes", "csv-text", "foreign-sqlite", "corrupt-store"])
def test_store_refuses_and_never_overwrites(tmp_path, make, why):
    p = tmp_path / "results.sqlite"
    make(p)
    before = _digest(p)
    with pytest.raises(StoreError, match=why) as exc:
        small(p)
    assert "refusing" in str(exc.value) and str(p) in str(exc.value)
    assert _digest(p) == before
    # and on the command line: a clear error, exit status 2
    cfg = tmp_path / "c.toml"
    cfg.write_text('[sweep]\nkind = "ber"\nfixed = {format = "PAM4", n_symbols = 1000}\n'
                   'grid = {snr_db = [10.0]}\n')
    from photolink.cli import main
    assert main(["sweep", str(cfg), "--store", str(p), "--quiet"]) == 2
    assert _digest(p) == before


def test_store_refuses_a_directory(tmp_path):
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)


# -- exports and argument checks -------------------------------------------------------------
def test_exports(tmp_path, reference):
    text = reference.to_csv(tmp_path / "r.csv")
    lines = text.splitlines()
    assert lines[0].startswith("name,format,snr_db") and len(lines) == 4
    assert (tmp_path / "r.csv").read_text() == text
    doc = json.loads(reference.to_json(tmp_path / "r.json"))
    assert doc["rows"] == list(reference.rows) and doc["seed"] == 11
    pd = pytest.importorskip("pandas")
    df = reference.to_dataframe()
    assert isinstance(df, pd.DataFrame) and list(df["bit_errors"]) == [r["bit_errors"] for r in reference.rows]
    back = pd.read_csv(tmp_path / "r.csv")
    assert np.allclose(back["ber"], df["ber"], rtol=0, atol=0)


@pytest.mark.parametrize("kw, exc, match", [
    ({"seed": -1}, TypeError, "seed"),
    ({"seed": 1.5}, TypeError, "seed"),
    ({"chunk_symbols": 10}, ValueError, "chunk_symbols"),
    ({"workers": 0}, ValueError, "workers"),
    ({"executor": "dask"}, TypeError, "executor"),
    ({"fixed": {"format": "PAM5", "n_symbols": 10}}, SettingError, r"format.*\['NRZ'"),
    ({"fixed": {"format": "PAM4", "snr": 3}}, SettingError, "snr.*allowed"),
    ({"fixed": {"format": "PAM4", "n_symbols": -3}}, SettingError, r"n_symbols.*\[1,"),
    ({"fixed": {"format": "PAM4", "method": "importance", "n_symbols": 5}}, SettingError,
     "n_symbols: unknown key: not a setting of method 'importance'"),
])
def test_bad_arguments(kw, exc, match):
    args = {"seed": 1, "fixed": FIXED, "store": None, "progress": False, **kw}
    with pytest.raises(exc, match=match):
        pl.sweep("ber", GRID, **args)


def test_unknown_kind_and_missing_modules():
    with pytest.raises(ValueError, match="kind must be one of"):
        pl.sweep("bers", GRID, fixed=FIXED, seed=1, store=None)
    try:
        import photolink.links  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="needs photolink.links"):
            pl.sweep("link", cases=[{"preset": "x"}], seed=1, store=None, workers=1, progress=False)


def test_estimator_and_equalised_cases():
    rows = pl.sweep("ber", cases=[
        {"name": "tail", "format": "PAM4", "snr_db": 23.9, "method": "importance", "rel_ci": 0.1},
        {"name": "eye", "format": "PAM4", "snr_db": 20.0, "method": "statistical-eye",
         "channel": [0.1, 1.0, 0.45], "equalizer": "mmse", "n_ffe": 5, "n_dfe": 1},
        {"name": "dfe", "format": "PAM4", "snr_db": 20.0, "n_symbols": 200_000,
         "channel": [0.1, 1.0, 0.45], "equalizer": "mmse", "n_ffe": 5, "n_dfe": 1},
    ], seed=1, store=None, workers=1, progress=False).rows
    tail, eye, dfe = rows
    exact = pl.PAM4.ber_awgn(23.9)
    assert tail["ber_ci_low"] <= exact <= tail["ber_ci_high"]
    assert eye["ber"] == eye["ber_ci_low"] == eye["ber_ci_high"] and "ber_awgn" not in eye
    assert dfe["ber_awgn"] is None and dfe["bits"] == 400_000


def test_progress_bar_and_quiet(monkeypatch, capsys):
    small(progress=True)
    assert "9/9" in capsys.readouterr().err                       # tqdm.auto's bar
    small(progress="auto")                                         # not a terminal: quiet
    assert capsys.readouterr().err == ""
    monkeypatch.setitem(sys.modules, "ipykernel", sys)             # in a notebook: shown
    small(progress="auto")
    assert "9/9" in capsys.readouterr().err
