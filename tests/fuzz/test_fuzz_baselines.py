"""Fuzz regression baselines: a baseline with any one value replaced (NaN, Infinity, lists,
huge numbers, deep nesting, missing keys) is either refused with BaselineError naming the file,
or checked to a report whose statuses and p-values make sense; never a traceback, never a
``p = nan ... ok``."""
import json
import math
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photolink.studies import config, regress

CONFIG = """
seed = 3
[ber.sim]
format = "PAM4"
snr_db = 15.0
n_symbols = 20000
[ber.tail]
format = "PAM4"
snr_db = 20.0
method = "importance"
rel_ci = 0.3
[ber.eye]
format = "PAM4"
snr_db = 19.0
method = "statistical-eye"
[links.cu]
preset = "dac-800g"
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    d = tmp_path_factory.mktemp("base")
    (d / "c.toml").write_text(CONFIG)
    cfg = config.load(d / "c.toml")
    doc = regress.record(cfg, d / "b.json")
    rows = regress._run_cases(cfg, None, 1, None)
    return cfg, json.loads(json.dumps(doc)), rows


ODD = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1, 0, 10**30, None, "x",
                                 [], {}, [1, 2], {"a": 1}, True]),
                st.integers(), st.floats(), st.text(max_size=5))


def _paths(x, prefix=()):
    yield prefix
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _paths(v, prefix + (i,))


def _set(doc, path, value):
    if not path:
        return value
    target = doc
    for k in path[:-1]:
        target = target[k]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


_DELETE = object()


def _check(tmp_path_factory, cfg, rows, text):
    base = tmp_path_factory.mktemp("b") / "b.json"
    base.write_text(text)
    with mock.patch.object(regress, "_run_cases", lambda *a, **k: rows):
        try:
            report = regress.check(cfg, base)
        except regress.BaselineError as exc:
            assert str(base) in str(exc)
            return
    for c in report.comparisons:
        assert c.status in ("ok", "WORSE", "new", "missing", "changed")
        if c.status in ("ok", "WORSE"):
            assert c.p_value is not None and 0.0 <= c.p_value <= 1.0, c
    report.table()
    json.dumps(report.to_dict())


@given(data=st.data())
def test_one_value_replaced(recorded, tmp_path_factory, data):
    cfg, doc, rows = recorded
    doc = json.loads(json.dumps(doc))
    paths = sorted(_paths(doc), key=repr)
    path = data.draw(st.sampled_from(paths))
    value = data.draw(st.one_of(ODD, st.just(_DELETE))) if path else data.draw(ODD)
    doc = _set(doc, path, value)
    _check(tmp_path_factory, cfg, rows, json.dumps(doc, allow_nan=True))


@given(depth=st.integers(1, 200_000), opener=st.sampled_from(["[", '{"a":']))
def test_deep_nesting(recorded, tmp_path_factory, depth, opener):
    cfg, _, rows = recorded
    closer = "]" if opener == "[" else "}"
    _check(tmp_path_factory, cfg, rows,
           '{"format": "photolink-baseline", "cases": ' + opener * depth + "1" + closer * depth + "}")


@given(text=st.text(max_size=300))
def test_arbitrary_text(recorded, tmp_path_factory, text):
    cfg, _, rows = recorded
    _check(tmp_path_factory, cfg, rows, text)
