"""Issue 15, item 3: a typo'd key anywhere in a config says "unknown key", the key's dotted path
and "did you mean" the right one (not "snr_db: is required")."""
import pytest

from photolink.studies import config
from photolink.studies.config import ConfigError

BER = 'format = "PAM4"\nn_symbols = 10000\n'
PATH = 'hops = ["dr4-800g"]\nload = 0.5\npacket_bytes = 1000\n'

CASES = [
    ("sed = 3\n", "sed", "seed"),
    (f"[ber.x]\n{BER}snrdb = 18\n", "ber.x.snrdb", "snr_db"),
    (f"[ber.x]\n{BER}snr_db = 18\nmethod = \"importance\"\nmax_sample = 3\n",
     "ber.x.max_sample", "max_samples"),
    ('[links.a]\npreset = "dr4-800g"\nlenght_m = 3\n', "links.a.lenght_m", "length_m"),
    ('[links.a]\npreset = "dr4-800g"\nhost_serdes = { n_fe = 12 }\n', "links.a.host_serdes.n_fe",
     "n_ffe"),
    ('[links.a]\npreset = "dr4-800g"\ntx = { launch_oma_dmb = 2.0 }\n', "links.a.tx.launch_oma_dmb",
     "launch_oma_dbm"),
    ('[links.a]\npreset = "dr4-800g"\ntx = { laser = { wall_plug_eficiency = 0.2 } }\n',
     "links.a.tx.laser.wall_plug_eficiency", "wall_plug_efficiency"),
    ('[links.a]\npreset = "dr4-800g"\nparts = [ { name = "x", pj_per_bt = 1 } ]\n',
     r"links.a.parts\[0\].pj_per_bt", "pj_per_bit"),
    ('[links.a]\npreset = "dr4-800g"\nfec = { n = 544, kk = 514 }\n', "links.a.fec.kk", "k"),
    ('[switches.s]\nlatency_ns = 10\nmdoe = "cut-through"\n', "switches.s.mdoe", "mode"),
    ('[traffic.t]\nlod = 0.5\npacket_bytes = 100\n', "traffic.t.lod", "load"),
    (f"[paths.p]\n{PATH}n_pakets = 100\n", "paths.p.n_pakets", "n_packets"),
    ('[paths.p]\nhops = [{ link = { preset = "dr4-800g", lenght_m = 3 } }]\nload = 0.5\n'
     'packet_bytes = 1000\n', r"paths.p.hops\[0\].lenght_m", "length_m"),
    ('[paths.p]\nhops = [{ swich = { latency_ns = 3 } }, "dr4-800g"]\nload = 0.5\n'
     'packet_bytes = 1000\n', r"paths.p.hops\[0\].swich", "switch"),
    ('[paths.p]\nhops = [{ switch = { latency_ns = 3, mdoe = "x" } }, "dr4-800g"]\nload = 0.5\n'
     'packet_bytes = 1000\n', r"paths.p.hops\[0\].switch.mdoe", "mode"),
    ('[regress]\nconfidense = 0.9\n', "regress.confidense", "confidence"),
    ('[sweep]\nkind = "ber"\nfixed = { format = "PAM4", snr_db = 12 }\ngrdi = { snr_db = [1] }\n',
     "sweep.grdi", "grid"),
    ('[sweep]\nkind = "ber"\nfixed = { format = "PAM4", n_symbols = 10000 }\n'
     'grid = { snrdb = [12, 14] }\n', "sweep.grid.snrdb", "snr_db"),
    ('[sweep]\nkind = "ber"\nfixed = { format = "PAM4", n_symbols = 10000, snrdb = 12 }\n',
     "sweep.fixed.snrdb", "snr_db"),
    ('[sweep]\nkind = "ber"\nfixed = { format = "PAM4", n_symbols = 10000 }\n'
     'grid = { snr_db = [12, 14] }\n[[sweep.cases]]\nsnrd = 3\n', r"sweep.cases\[0\].snrd", "snr_db"),
    ('[sweep]\nkind = "link"\nfixed = { preset = "dr4-800g" }\ngrid = { lenght_m = [1, 2] }\n',
     "sweep.grid.lenght_m", "length_m"),
    ('[sweep]\nkind = "path"\nfixed = { hops = ["dr4-800g"], load = 0.5, packet_bytes = 1000 }\n'
     'grid = { n_pakets = [100, 200] }\n', "sweep.grid.n_pakets", "n_packets"),
]


@pytest.mark.parametrize("text, key, meant", CASES, ids=[c[1].replace("\\", "") for c in CASES])
def test_typo_names_key_path_and_suggests(tmp_path, text, key, meant):
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=rf"c\.toml: {key}: unknown key \(did you mean '{meant}'\?\)"):
        config.load(p)


def test_typo_is_not_reported_as_a_missing_key(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(f"[ber.x]\n{BER}snrdb = 18\n")
    with pytest.raises(ConfigError) as info:
        config.load(p)
    assert "required" not in str(info.value)
    assert info.value.key == "ber.x.snrdb" and info.value.path == p
