"""Links from TOML tables with the reach of the Python API (issue 15, item 3): nested SerDes,
TX/RX, fibre, parts, FEC by name or parameters, format, lane rate and lane count; every key
checked with its dotted path and a "did you mean"."""
import pytest

import photolink as pl
from photolink import fec, links
from photolink.studies import config, linkspec
from photolink.studies.config import ConfigError


def _load(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return config.load(p)


def _link(tmp_path, body):
    cfg = _load(tmp_path, "[links.x]\n" + body)
    return linkspec.build_link({k: v for k, v in cfg.entries[0].settings.items() if k != "frame_bytes"})


def test_nested_tables_replace_the_named_fields(tmp_path):
    """These used to end in 'dict' object has no attribute 'max_symbol_rate_gbd'."""
    base = links.preset("dr4-800g")
    link = _link(tmp_path, 'preset = "dr4-800g"\nhost_serdes = { name = "my serdes", n_ffe = 12 }\n'
                           'tx = { launch_oma_dbm = 2.0, laser = { wall_plug_efficiency = 0.2 } }\n'
                           'medium = { attenuation_db_per_km = 0.4 }\nrx = { responsivity_a_per_w = 0.6 }\n')
    assert link.host_serdes.name == "my serdes" and link.host_serdes.n_ffe == 12
    assert link.host_serdes.snr_tx_db == base.host_serdes.snr_tx_db          # the rest kept
    assert link.tx.launch_oma_dbm == 2.0 and link.tx.laser.wall_plug_efficiency == 0.2
    assert link.tx.laser.loss_to_fibre_db == base.tx.laser.loss_to_fibre_db
    assert link.medium.attenuation_db_per_km == 0.4 and link.rx.responsivity_a_per_w == 0.6
    assert link.evaluate().snr_db < base.evaluate().snr_db                   # 1 dB less launch power


def test_parts_fec_format_lanes(tmp_path):
    """parts = [{...}] used to fail with unhashable type: 'dict'; fec = "KP4" was refused."""
    link = _link(tmp_path, 'preset = "dac-800g"\nfec = "KP4"\nformat = "PAM4"\nlanes = 4\n'
                           'lane_rate_gbps = 100.0\n'
                           'parts = [{ name = "host_serdes", pj_per_bit = 2.5, in_module = false },'
                           ' { name = "misc", w = 0.5 }]\n'
                           'host_channel = [{ name = "package", sqrt_db = 0.2, linear_db = 0.3 }]\n')
    assert link.fec is fec.KP4 and link.fmt is pl.PAM4 and link.lanes == 4
    assert [p.name for p in link.parts] == ["host_serdes", "misc"] and link.parts[0].pj_per_bit == 2.5
    assert link.host_channel[0].linear_db == 0.3
    rs = _link(tmp_path, 'preset = "dac-800g"\nfec = { n = 528, k = 514 }\nfmt = "pam4"\n')
    assert (rs.fec.n, rs.fec.k) == (528, 514)
    assert _link(tmp_path, 'preset = "dr4-1.6t"\nfec = "kp4+hamming"\n').fec is fec.KP4_INNER_HAMMING


@pytest.mark.parametrize("body, key, message", [
    ('tx = { launch_omadbm = 2.0 }', "links.x.tx.launch_omadbm", "did you mean 'launch_oma_dbm'"),
    ('tx = { laser = { wall_plug = 0.1 } }', "links.x.tx.laser.wall_plug", "wall_plug_efficiency"),
    ('host_serdes = { n_ffe = -3 }', "links.x.host_serdes.n_ffe", r"\[1, 64\], got -3"),
    ('fec = "KP5"', "links.x.fec", "did you mean 'KP4'"),
    ('fec = { n = 544 }', "links.x.fec", "needs n and k"),
    ('fec = { n = 544, k = 514, t = 15 }', "links.x.fec.t", "allowed"),
    ('format = "PAM5"', "links.x.format", "did you mean"),
    ('parts = [{ name = "x", pj = 1 }]', "links.x.parts[0].pj", "did you mean 'pj_per_bit'"),
    ('parts = { name = "x" }', "links.x.parts", "list of tables"),
    ('lane_rate = 200', "links.x.lane_rate", "did you mean 'lane_rate_gbps'"),
    ('coherent = { name = "x" }', "links.x.coherent.tx_osnr_db", "required"),
], ids=lambda x: x if isinstance(x, str) and len(x) < 30 else None)
def test_bad_keys_are_named_with_their_path(tmp_path, body, key, message):
    with pytest.raises(ConfigError, match=r"c\.toml: " + key.replace(".", r"\.").replace("[", r"\[")
                       .replace("]", r"\]") + ": .*" + message):
        _load(tmp_path, f'[links.x]\npreset = "dr4-800g"\n{body}\n')


def test_lane_rate_and_lane_count_sweep_in_a_config(tmp_path):
    cfg = _load(tmp_path, '[links.cu]\npreset = "dac-1.6t"\n[sweep]\nkind = "link"\nbase = "cu"\n'
                          'grid = { lane_rate_gbps = [100.0, 200.0], lanes = [4, 8] }\n')
    built = [linkspec.build_link({k: v for k, v in c.settings.items() if k != "frame_bytes"})
             for c in cfg.sweep.cases]
    assert [(lk.lane_rate_gbps, lk.lanes) for lk in built] == [(100.0, 4), (100.0, 8), (200.0, 4), (200.0, 8)]


def test_the_custom_1p6t_example(tmp_path):
    cfg = config.load(config.example("custom_1p6t"))
    names = [c.name for c in cfg.sweep.cases]
    assert names == ["custom @ 500 m", "dr4-1.6t @ 500 m", "cpo-1.6t @ 500 m"]
    custom = linkspec.build_link({k: v for k, v in cfg.sweep.cases[0].settings.items()
                                  if k != "frame_bytes"})
    dr4 = links.preset("dr4-1.6t")
    assert custom.lanes * custom.lane_rate_gbps == 1600
    assert custom.host_serdes.n_ffe == 12 and custom.tx.laser.wall_plug_efficiency == 0.10
    assert custom.length_m == 500.0 and custom.fec is fec.KP4_INNER_HAMMING
    assert sum(p.pj_per_bit for p in custom.parts) < sum(p.pj_per_bit for p in dr4.parts)
