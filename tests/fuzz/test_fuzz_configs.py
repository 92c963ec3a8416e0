"""Fuzz TOML configs: any file either loads (every case then normalised and runnable in
principle) or is refused with ConfigError naming the file; never another exception."""
import dataclasses
import json
import math

from hypothesis import example, given
from hypothesis import strategies as st

from photolink import links
from photolink.studies import config, jobs
from photolink.studies.config import ConfigError

#: Keys a config may hold, and near misses.
WORDS = (list(config.TOP_KEYS) + list(config.SWEEP_KEYS) + list(config.PATH_KEYS)
         + list(config.TRAFFIC_KEYS) + list(config.SWITCH_KEYS)
         + ["format", "snr_db", "method", "n_symbols", "channel", "equalizer", "n_ffe", "n_dfe",
            "ffe", "dfe", "preset", "main", "host", "leaf", "bulk", "snrdb", "x", ""]
         # link tables of any depth (photolink.studies.linkspec)
         + [f.name for f in dataclasses.fields(links.Link)]
         + ["format", "launch_oma_dbm", "laser", "wall_plug_efficiency", "n_ffe", "n", "k",
            "attenuation_db_per_km", "pj_per_bit", "w", "in_module", "sqrt_db", "linear_db"])
VALUES = st.sampled_from(["KP4", "KP4+Hamming", "DP-16QAM", "PAM4", "NRZ", "ber", "link", "path", "dac-800g", "cpo-800g", "mmse",
                          "importance", "statistical-eye", "llr", "bogus", "host", "leaf", "bulk",
                          "poisson", "cut-through", "exact", ""])
SCALARS = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True), st.booleans(), VALUES,
                    st.text(max_size=8))


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


def _doc_text(doc: dict) -> str:
    return "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in doc.items())


values = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(WORDS), inner, max_size=5)),
    max_leaves=25)
docs = st.dictionaries(st.sampled_from(WORDS), values, max_size=6)

TEMPLATE = {
    "seed": 1,
    "ber": {"main": {"format": "PAM4", "snr_db": 17.0, "n_symbols": 2000}},
    "links": {"host": {"preset": "dac-800g"}},
    "switches": {"leaf": {"latency_ns": 250, "mode": "cut-through"}},
    "traffic": {"bulk": {"load": 0.5, "packet_bytes": 1500}},
    "paths": {"p": {"hops": ["host", "leaf", "host"], "traffic": "bulk", "n_packets": 100}},
    "sweep": {"kind": "ber", "base": "main", "grid": {"snr_db": [12, 14]}},
}


def _load(tmp_path_factory, text):
    d = tmp_path_factory.mktemp("cfg")
    p = d / "f.toml"
    p.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        cfg = config.load(p)
    except ConfigError as exc:
        assert str(p) in str(exc)
        return None
    for case in cfg.cases():
        jobs.kind(case.kind).normalize(case.settings)        # stays valid when re-checked
    return cfg


@given(doc=docs)
def test_random_documents(tmp_path_factory, doc):
    _load(tmp_path_factory, _doc_text(doc))


@given(section=st.sampled_from(sorted(TEMPLATE)), key=st.sampled_from(WORDS), value=values)
@example(section="sweep", key="base", value=[])        # used to be "unhashable type: 'list'"
def test_one_key_changed_in_a_valid_config(tmp_path_factory, section, key, value):
    doc = json.loads(json.dumps(TEMPLATE))
    target = doc[section]
    if isinstance(target, dict):
        inner = next(iter(target.values())) if section in ("ber", "links", "switches", "traffic",
                                                           "paths") else target
        inner[key] = value
    else:
        doc[section] = value
    _load(tmp_path_factory, _doc_text(doc))


@given(text=st.text(max_size=200))
def test_arbitrary_text(tmp_path_factory, text):
    _load(tmp_path_factory, text)
