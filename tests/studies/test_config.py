"""TOML configs: the shipped examples load and run; bad files give errors naming file, key and
allowed values."""
import re

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
    ('[sweep]\nkind = "bers"\n', "sweep.kind", "['ber', 'fabric', 'link', 'path']"),
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
    with pytest.raises(ConfigError, match=r"links.x.colour: unknown key.*not a setting of a link.*reach_m"):
        config.load(bad)
    # sweep rows through the API: identical on a rerun, lost packets counted
    rows = pl.sweep("path", cases=[{**c.settings, "name": c.name} for c in cfg.sweep.cases], seed=1,
                    store=None, workers=1, progress=False).rows
    assert [r["lost"] for r in rows] == [r["lost"] for r in pl.sweep(
        "path", cases=[{**c.settings, "name": c.name} for c in cfg.sweep.cases], seed=1,
        store=None, workers=1, progress=False).rows]
    assert rows[-1]["mean_latency_ns"] > rows[0]["mean_latency_ns"]


# -- issue 16, items 4 and 9: grids checked before expansion, errors at load time -------------
def _write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_huge_grid_is_refused_at_once(tmp_path):
    """An 862-byte grid used to build its whole product (MemoryError at 3.7 GB) and a 216,000-case
    grid loaded for > 120 s: both are now counted, not built, and refused in well under a second."""
    import time
    values = ", ".join(str(12 + 0.01 * i) for i in range(60))
    many = _write(tmp_path, f'[sweep]\nkind = "ber"\nfixed = {{ format = "PAM4" }}\n'
                            f'grid = {{ snr_db = [{values}], n_symbols = [{", ".join(str(1000 + i) for i in range(60))}], '
                            f'confidence = [{", ".join(str(0.9 + 0.001 * i) for i in range(60))}] }}\n')
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"sweep.grid: would make 216000 cases.*at most 100000"):
        config.load(many)
    assert time.perf_counter() - t0 < 5
    from photolink.studies import sweeps
    with pytest.raises(ValueError, match=r"200000000 cases"):
        sweeps.expand("ber", {"snr_db": [10 + i / 100 for i in range(1000)],
                              "n_symbols": list(range(1000, 2000)),
                              "confidence": [0.9 + i / 10**4 for i in range(200)]},
                      fixed={"format": "PAM4"})


def test_unknown_grid_key_is_named_before_expansion(tmp_path):
    big = ", ".join(str(i) for i in range(1, 1001))
    p = _write(tmp_path, f'[sweep]\nkind = "ber"\nfixed = {{ format = "PAM4", snr_db = 10 }}\n'
                         f'grid = {{ snrdb = [{big}], n_symbols = [{big}], x = [{big}] }}\n')
    with pytest.raises(ConfigError, match=r"(snrdb|x): unknown key.*not a setting"):
        config.load(p)
    with pytest.raises(pl.studies.jobs.SettingError, match=r"did you mean 'snr_db'"):
        pl.studies.sweeps.expand("ber", {"snrdb": list(range(10**4)), "n_symbols": list(range(1, 10**4))},
                                 fixed={"format": "PAM4", "snr_db": 1.0})


def test_bad_grid_value_names_the_key(tmp_path):
    p = _write(tmp_path, '[sweep]\nkind = "ber"\nfixed = { format = "PAM4" }\n'
                         'grid = { snr_db = [10, 12, 900], n_symbols = [1000, 2000] }\n')
    with pytest.raises(ConfigError, match=r"sweep.grid.snr_db: .*900.*value 2 of the list"):
        config.load(p)


PATH = ('[paths.p]\nlinks = ["cpo-800g"]\npacket_bytes = 1500\n')


@pytest.mark.parametrize("extra, key, allowed", [
    ("load = 500\n", "paths.p.traffic.load", r"\(0.0, 100.0\]"),
    ("load = 0\n", "paths.p.traffic.load", r"\(0.0, 100.0\]"),
    ("load = 0.5\nmode = \"bogus\"\n", "paths.p.mode", "statistical"),
    ("load = 0.5\nrecovery = \"bogus\"\n", "paths.p.recovery", "llr"),
    ("load = 0.5\nrecovery = \"LLR\"\n", "paths.p.recovery", "did you mean 'llr'"),
    ("load = 0.5\nsize_distribution = \"bogus\"\n", "paths.p.traffic.size_distribution", "exponential"),
])
def test_path_values_checked_at_load_time(tmp_path, extra, key, allowed):
    p = _write(tmp_path, PATH + extra)
    with pytest.raises(ConfigError, match=re.escape(f"{p}: {key}: ") + ".*" + allowed):
        config.load(p)


@pytest.mark.parametrize("text, key", [
    ('[sweep]\nkind = []\n', "sweep.kind"),
    ('[sweep]\nkind = { a = 1 }\n', "sweep.kind"),
    ('[sweep]\nkind = "bers"\n', "sweep.kind"),
    ('[switches.s]\nlatency_ns = 1\nmode = "bogus"\n', "switches.s.mode"),
    ('[sweeps]\nkind = "ber"\n', "sweeps"),
])
def test_structural_errors_name_file_and_key(tmp_path, text, key):
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=re.escape(f"{p}: {key}: ")):
        config.load(p)


def test_unknown_top_key_suggests(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'sweep'"):
        config.load(_write(tmp_path, '[sweeps]\nkind = "ber"\n'))
    with pytest.raises(ConfigError, match="did you mean 'snr_db'"):
        config.load(_write(tmp_path, '[ber.a]\nformat = "PAM4"\nsnrdb = 12\n'))


def test_path_sweep_of_loads_checked_per_value(tmp_path):
    p = _write(tmp_path, '[sweep]\nkind = "path"\nfixed = { links = ["cpo-800g"], packet_bytes = 100 }\n'
                         'grid = { load = [0.5, 0.9, 150] }\n')
    with pytest.raises(ConfigError, match=r"sweep.grid.load: .*value 2 of the list"):
        config.load(p)
