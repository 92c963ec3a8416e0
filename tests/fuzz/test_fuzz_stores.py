"""Fuzz result stores: a store file with bytes flipped, or a chunk's fields replaced, is either
refused with StoreError naming the store, or (when the damage touched nothing the sweep reads)
gives exactly the rows of an undamaged run; never a traceback, never a silently wrong row."""
import json
import sqlite3

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import photolink as pl
from photolink.studies.store import Store, StoreError, chunk_checksum

FIXED = {"format": "PAM4", "n_symbols": 3 * 4096}
GRID = {"snr_db": [12.0, 15.0]}


def _sweep(store):
    return pl.sweep("ber", GRID, fixed=FIXED, seed=9, store=store, chunk_symbols=4096, workers=1,
                    progress=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    p = tmp_path_factory.mktemp("store") / "ref.sqlite"
    rows = _sweep(p).rows
    with Store(p):
        pass
    return p.read_bytes(), rows


def _outcome(path, rows, adversary=False):
    """"refused", "same", or (only when ``adversary`` rewrote a chunk and its checksum)
    "plausible": different rows whose counts are still consistent."""
    try:
        res = _sweep(path)
    except StoreError as exc:
        assert str(path) in str(exc)
        return "refused"
    if res.rows == rows:
        return "same"
    assert adversary, "a damaged store gave different rows without an error"
    for r in res.rows:
        assert r["symbols"] == FIXED["n_symbols"] and r["bits"] == 2 * r["symbols"]
        assert 0 <= r["symbol_errors"] <= r["bit_errors"] <= r["bits"]
        assert 0 <= r["ber_ci_low"] <= r["ber"] <= r["ber_ci_high"] <= 1
    return "plausible"


@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=8))
@example(flips=[(3063, 128)])          # invalid UTF-8 in a text column: UnicodeDecodeError once
def test_bytes_flipped(reference, tmp_path_factory, flips):
    data, rows = reference
    buf = bytearray(data)
    for at, mask in flips:
        buf[at % len(buf)] ^= mask
    p = tmp_path_factory.mktemp("f") / "s.sqlite"
    p.write_bytes(bytes(buf))
    _outcome(p, rows)


@given(data=st.data())
def test_truncated(reference, tmp_path_factory, data):
    blob, rows = reference
    cut = data.draw(st.integers(1, len(blob) - 1))
    p = tmp_path_factory.mktemp("t") / "s.sqlite"
    p.write_bytes(blob[:cut])
    _outcome(p, rows)


VALUES = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True), st.text(max_size=6),
                   st.none(), st.lists(st.integers(-3, 3), max_size=70), st.booleans())


@given(column=st.sampled_from(["key", "kind", "case_key", "chunk", "result", "checksum"]),
       field=st.sampled_from(["symbols", "symbol_errors", "bits", "bit_errors", "burst_hist", "x"]),
       value=VALUES, rehash=st.booleans(), row=st.integers(0, 5))
def test_chunk_field_replaced(reference, tmp_path_factory, column, field, value, rehash, row):
    """Also with the checksum recomputed (an adversary, not a disk): counts that cannot be the
    chunk's are still refused."""
    data, rows = reference
    p = tmp_path_factory.mktemp("c") / "s.sqlite"
    p.write_bytes(data)
    with sqlite3.connect(p) as db:
        key, kind, case_key, chunk, result = db.execute(
            "SELECT key, kind, case_key, chunk, result FROM chunks ORDER BY key LIMIT 1 OFFSET ?",
            (row,)).fetchone()
        fields = {"key": key, "kind": kind, "case_key": case_key, "chunk": chunk, "result": result}
        if column == "result":
            r = json.loads(result)
            r[field] = value
            fields["result"] = json.dumps(r)
        elif column != "checksum":
            fields[column] = value if isinstance(value, str) else json.dumps(value)
        checksum = chunk_checksum(*(str(fields[c]) for c in ("key", "kind", "case_key", "chunk",
                                                             "result"))) if rehash else "0" * 64
        try:
            db.execute("UPDATE chunks SET key=?, kind=?, case_key=?, chunk=?, result=?, checksum=? "
                       "WHERE key=?", (*fields.values(), checksum, key))
        except sqlite3.IntegrityError:                # the new key is another chunk's
            return
    db.close()
    outcome = _outcome(p, rows, adversary=rehash)
    if column == "result" and not rehash:
        assert outcome == "refused"
