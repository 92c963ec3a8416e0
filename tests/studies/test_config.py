"""TOML configs: the shipped examples load and run; bad files give errors naming file, key and
allowed values."""
import pytest

import photolink as pl
from photolink.cli import main
from photolink.studies import config
from photolink.studies.config import ConfigError


def test_examples_are_shipped_and_load():
    names = config.examples()
    assert {"ber_waterfall", "regress_pam4", "fabric_800g"} <= set(names)
    for name in names:
        assert config.example(name).is_file()
    wf = config.load(config.example("ber_waterfall"))
    assert wf.sweep.kind == "ber" and len(wf.sweep.cases) == 8
    assert wf.sweep.cases[0].name == "pam4-awgn[snr_db=12]"
    reg = config.load(config.example("regress_pam4"))
    assert [c.name for c in reg.entries] == ["pam4_awgn", "pam4_dfe", "nrz", "pam4_kp4_tail"]
    assert reg.confidence == 0.99 and reg.seed == 7 and reg.sweep is None
    with pytest.raises(ValueError, match="example must be one of"):
        config.example("nope")


def test_example_sweep_runs_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = config.example("ber_waterfall")
    assert main(["sweep", str(cfg), "--workers", "1", "--quiet", "--csv", "w.csv",
                 "--json", "w.json"]) == 0
    out = capsys.readouterr().out
    assert "8 cases" in out and "pam4-awgn[snr_db=19]" in out and "closed form" in out
    assert (tmp_path / "ber_waterfall.sqlite").stat().st_size > 0       # default store
    assert len((tmp_path / "w.csv").read_text().splitlines()) == 9
    assert main(["sweep", str(cfg), "--quiet"]) == 0                      # all reused
    assert "0 chunks computed, 16 reused" in capsys.readouterr().out


def test_run_prints_every_named_entry(capsys):
    assert main(["run", str(config.example("regress_pam4")), "--quiet", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("pam4_awgn", "pam4_dfe", "nrz", "pam4_kp4_tail", "importance"):
        assert name in out


BASE = '[ber.a]\nformat = "PAM4"\nsnr_db = 17.0\n'


@pytest.mark.parametrize("text, key, allowed", [
    ("seeds = 3\n" + BASE, "seeds", "allowed keys: ['title', 'seed'"),
    ("seed = -1\n" + BASE, "seed", "integer >= 0"),
    (BASE + "snr = 3\n", "ber.a.snr", "allowed: ["),
    ('[ber.a]\nformat = "PAM5"\nsnr_db = 17.0\n', "ber.a.format", "['NRZ', 'PAM2', 'PAM4'"),
    ('[ber.a]\nformat = "PAM4"\nsnr_db = "high"\n', "ber.a.snr_db", "number in [-30"),
    ('[ber.a]\nformat = "PAM4"\n', "ber.a.snr_db", "is required"),
    (BASE + 'method = "fast"\n', "ber.a.method", "['simulate', 'importance'"),
    (BASE + "n_symbols = 1.5\n", "ber.a.n_symbols", "integer in [1,"),
    (BASE + 'equalizer = "mmse"\nffe = [1.0]\n', "ber.a.ffe", "applies to equalizer 'custom'"),
    (BASE + "channel = [0.1, 'x']\n", "ber.a.channel", "list of numbers"),
    ("ber = 3\n", "ber", "must be a table"),
    ('[sweep]\nkind = "bers"\n', "sweep.kind", "['ber', 'link', 'path']"),
    ('[sweep]\nkind = "ber"\ngrid = { snr_db = 17 }\n', "sweep.grid.snr_db", "non-empty list"),
    ('[sweep]\nkind = "ber"\nfixed = { format = "PAM4" }\ngrid = { snr_db = [17, "x"] }\n',
     "sweep.grid.snr_db", "number in [-30"),
    ('[sweep]\nkind = "ber"\ngrid = { snr_db = [17] }\n', "sweep.format", "is required"),
    ('[sweep]\nkind = "ber"\nbase = "zz"\n' + BASE, "sweep.base", "[ber.*] entry ['a']"),
    ('[sweep]\nkind = "ber"\nworkers = 0\n', "sweep.workers", "[1, 4096]"),
    ('[sweep]\nkind = "ber"\nspeed = 0\n', "sweep.speed", "allowed keys: ['kind'"),
    ('[switches.s]\nmode = "cut-through"\n', "switches.s.latency_ns", "is required"),
    ('[traffic.t]\nprocess = "bursty"\nload = 0.5\npacket_bytes = 64\n', "traffic.t.process",
     "['poisson']"),
    ('[traffic.t]\nload = 0.5\npacket_bytes = 6.5\n', "traffic.t.packet_bytes", "integer in [1,"),
    ('[paths.p]\nlinks = ["x"]\ntraffic = "nope"\n', "paths.p.traffic", "[traffic.*] names []"),
    ('[paths.p]\nlinks = ["x", "y"]\nload = 0.5\npacket_bytes = 64\n', "paths.p.switch", "is required"),
    ('[paths.p]\nhops = ["x"]\nlinks = ["x"]\n', "paths.p", "either hops"),
    ('[regress]\nconfidence = 2\n', "regress.confidence", "[0.5, 0.999999]"),
])
def test_bad_config_names_file_key_and_allowed(tmp_path, text, key, allowed):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        config.load(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}: {key}: "), msg
    assert allowed in msg, msg


def test_missing_file_and_bad_toml(tmp_path, capsys):
    with pytest.raises(ConfigError, match="no such config file"):
        config.load(tmp_path / "absent.toml")
    p = tmp_path / "broken.toml"
    p.write_text("[ber.a\nformat = 'PAM4'\n")
    with pytest.raises(ConfigError, match=r"broken.toml: not valid TOML: .*line 1"):
        config.load(p)
    assert main(["run", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("photolink: error: ") and "broken.toml" in err


def test_sweep_table_forms(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(BASE + '''
[sweep]
kind = "ber"
base = "a"
seed = 4
store = "x.sqlite"
fixed = { n_symbols = 1000 }
grid = { snr_db = [10.0, 12.0] }
[[sweep.cases]]
name = "pam4"
[[sweep.cases]]
format = "NRZ"
''')
    plan = config.load(p).sweep
    assert plan.seed == 4 and plan.store == "x.sqlite"
    names = [c.name for c in plan.cases]
    assert names == ["pam4[snr_db=10]", "pam4[snr_db=12]", "s[format=PAM2, snr_db=10]",
                     "s[format=PAM2, snr_db=12]"]
    assert [c.settings["format"] for c in plan.cases] == ["PAM4", "PAM4", "PAM2", "PAM2"]
    assert [c.settings["snr_db"] for c in plan.cases] == [10.0, 12.0, 10.0, 12.0]


def test_sweep_case_names_must_not_clash_with_entries(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(BASE + '[sweep]\nkind = "ber"\nname = "a"\nbase = "a"\n')
    with pytest.raises(ConfigError, match="also an entry's name"):
        config.load(p)


def test_sweep_named_cases_must_be_distinct(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[sweep]\nkind = "ber"\nfixed = {format = "PAM4"}\n'
                 '[[sweep.cases]]\nname = "only"\nsnr_db = 10.0\n'
                 '[[sweep.cases]]\nname = "only"\nsnr_db = 12.0\n')
    with pytest.raises(ConfigError, match="both named 'only'"):
        config.load(p)


def test_link_and_path_configs_on_the_real_modules(tmp_path, monkeypatch, capsys):
    cfg = config.load(config.example("fabric_800g"))
    kinds = [c.kind for c in cfg.entries]
    assert kinds == ["link"] * 4 + ["path"]
    path_case = cfg.entries[-1]
    hops = path_case.settings["hops"]
    assert [next(iter(h)) for h in hops] == ["link", "switch", "link", "switch", "link"]
    assert hops[1]["switch"] == {"latency_ns": 250.0, "mode": "cut-through"}
    assert [c.settings["load"] for c in cfg.sweep.cases] == [0.3, 0.5, 0.7, 0.9]
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(config.example("fabric_800g")), "--workers", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "cpo-800g" in out and "pluggable_3hop" in out and "load[load=0.9]" in out
    assert "p99.9 ns" in out
    # unknown preset: named with the known ones
    bad = tmp_path / "bad.toml"
    bad.write_text('[links.x]\npreset = "fiber-9000"\n')
    with pytest.raises(ConfigError, match=r"links.x.preset: unknown link preset 'fiber-9000'.*dac-800g"):
        config.load(bad)
    bad.write_text('[paths.p]\nlinks = ["cpo-800g", "fiber-9000"]\nswitch = {latency_ns = 1.0}\n'
                   'load = 0.5\npacket_bytes = 64\n')
    with pytest.raises(ConfigError, match=r"paths.p.hops\[2\].preset: unknown link preset 'fiber-9000'"):
        config.load(bad)
    bad.write_text('[links.x]\npreset = "cpo-800g"\ncolour = "blue"\n')
    with pytest.raises(ConfigError, match=r"links.x.colour: is not a setting of a link.*reach_m"):
        config.load(bad)
    # sweep rows through the API: identical on a rerun, lost packets counted
    rows = pl.sweep("path", cases=[{**c.settings, "name": c.name} for c in cfg.sweep.cases], seed=1,
                    store=None, workers=1, progress=False).rows
    assert [r["lost"] for r in rows] == [r["lost"] for r in pl.sweep(
        "path", cases=[{**c.settings, "name": c.name} for c in cfg.sweep.cases], seed=1,
        store=None, workers=1, progress=False).rows]
    assert rows[-1]["mean_latency_ns"] > rows[0]["mean_latency_ns"]
