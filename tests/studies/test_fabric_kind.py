"""The fabric case kind: [fabric.*] config entries and sweeps of kind "fabric" through the sweep
machinery (store, resume, executors), against the API run directly."""

import math

import numpy as np
import pytest

import photolink as pl
from photolink import net
from photolink.cli import main
from photolink.studies import config, jobs, linkspec
from photolink.studies.config import ConfigError
from photolink.studies.store import Store

SMALL = {"topology": "leaf_spine", "n_leaves": 2, "hosts_per_leaf": 4, "n_spines": 2,
         "links": {"host": "dac-800g", "spine": {"preset": "dr4-800g"}}, "lengths_m": {"spine": 20.0},
         "load": 0.5, "packets_per_flow": 300, "switch_latency_ns": 250.0, "buffer_bytes": 2e5}


def test_example_loads_with_its_entry_and_sweep():
    cfg = config.load(config.example("fabric_leaf_spine"))
    pod = next(e for e in cfg.entries if e.name == "pod")
    assert pod.kind == "fabric"
    assert pod.settings["links"] == {"host": {"preset": "dac-800g", "length_m": 2.0},
                                     "spine": {"preset": "dr4-800g", "length_m": 30.0}}
    assert cfg.sweep.kind == "fabric" and len(cfg.sweep.cases) == 6
    assert {c.settings["routing"] for c in cfg.sweep.cases} == {"ecmp", "spray"}


def test_a_case_is_the_api_run_with_the_case_seed():
    kind = jobs.kind("fabric")
    s = kind.normalize(SMALL)
    ss = np.random.SeedSequence(5)
    row = kind.run_chunk(s, ss, [0, 0])
    kind.check_chunk(s, [0, 0], row)
    # by hand: the same topology, links (30 m -> 20 m spine cables), flows and seed
    up = linkspec.build_link({"preset": "dr4-800g", "length_m": 20.0}).link_model()
    fab = jobs.FabricKind.fabric(s)
    assert fab.topology.name == "leaf-spine" and fab.topology.n_hosts == 8
    assert fab.topology.tiers[1].fixed_latency_ns == up.fixed_latency_ns
    pairs = net.flows.permutation(fab.topology, seed=np.random.SeedSequence(5, spawn_key=(0,)))
    flows = net.Flows.poisson(pairs, load=0.5, packet_bytes=4096.0, n_packets=300)
    r = fab.run(flows, seed=np.random.SeedSequence(5, spawn_key=(1,)))
    assert row["n_packets"] == 2400 == r.n_packets
    assert (row["delivered"], row["lost"], row["mean_latency_ns"]) == (r.delivered, r.lost, r.mean_latency_ns)
    assert row["max_link_utilisation"] == pytest.approx(np.nanmax(r.links["utilisation"]))
    # the spine cable length reached the model: longer cables, later packets
    far = jobs.FabricKind.fabric(kind.normalize({**SMALL, "lengths_m": {"spine": 200.0}}))
    assert far.topology.tiers[1].latency_ns["propagation"] == \
        pytest.approx(10 * fab.topology.tiers[1].latency_ns["propagation"])
    assert far.topology.tiers[0].latency_ns == fab.topology.tiers[0].latency_ns    # host tier untouched


def test_sweep_of_kind_fabric_resumes_from_the_store_with_identical_rows(tmp_path):
    db = tmp_path / "f.sqlite"
    grid = {"load": [0.3, 0.7], "routing": ["ecmp", "spray"]}
    first = pl.sweep("fabric", grid, fixed=SMALL, seed=3, store=db, workers=1, progress=False)
    assert (first.computed, first.reused) == (4, 0)
    again = pl.sweep("fabric", grid, fixed=SMALL, seed=3, store=db, workers=1, progress=False)
    assert (again.computed, again.reused) == (0, 4)
    assert again.rows == first.rows
    with Store(db) as s:
        assert s.rows(first.sweep_id) == list(first.rows)
    memory = pl.sweep("fabric", grid, fixed=SMALL, seed=3, store=None, workers=1, progress=False)
    assert memory.rows == first.rows
    spray = [r for r in first.rows if r["routing"] == "spray"]
    assert all(r["delivered"] + r["lost"] == r["n_packets"] for r in first.rows)
    assert spray[0]["mean_latency_ns"] < spray[1]["mean_latency_ns"]      # load 0.3 < load 0.7


@pytest.mark.slow
def test_sweep_of_kind_fabric_on_a_process_pool_gives_identical_rows():
    from concurrent.futures import ProcessPoolExecutor
    grid = {"load": [0.3, 0.7]}
    ref = pl.sweep("fabric", grid, fixed=SMALL, seed=4, store=None, workers=1, progress=False)
    with ProcessPoolExecutor(2) as pool:
        rows = pl.sweep("fabric", grid, fixed=SMALL, seed=4, store=None, executor=pool, progress=False).rows
    assert rows == ref.rows


def test_config_fabric_entry_and_sweep_run_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "f.toml"
    cfg.write_text('''
[links.rack]
preset = "dac-800g"

[fabric.df]
topology = "dragonfly"
a = 2
p = 2
h = 1
links = { host = "rack" }
routing = "ugal"
pattern = "adversarial"
load = 0.4
packets_per_flow = 100

[sweep]
kind = "fabric"
base = "df"
grid = { routing = ["minimal", "valiant"] }
''')
    assert main(["run", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "df" in out and "ugal" in out
    assert main(["sweep", str(cfg), "--workers", "1", "--quiet", "--csv", "f.csv"]) == 0
    out = capsys.readouterr().out
    assert "2 cases" in out and "dragonfly" in out and "valiant" in out
    assert len((tmp_path / "f.csv").read_text().splitlines()) == 3
    assert main(["sweep", str(cfg), "--quiet"]) == 0
    assert "0 chunks computed, 2 reused" in capsys.readouterr().out


BASE = '[fabric.a]\ntopology = "leaf_spine"\nn_leaves = 2\nhosts_per_leaf = 2\nn_spines = 1\nload = 0.5\n'


@pytest.mark.parametrize("extra, key, allowed", [
    ("n_spine = 2\n", "fabric.a.n_spine", "did you mean 'n_spines'"),
    ('links = { spin = "dr4-800g" }\n', "fabric.a.links.spin", "did you mean 'spine'"),
    ('links = { spine = "nope-800g" }\n', "fabric.a.links.spine.preset", "known: ['dac-800g'"),
    ('routing = "shortest"\n', "fabric.a.routing", "'ecmp'"),
    ('pattern = "adversarial"\n', "fabric.a.pattern", "dragonfly"),
    ("load = 1.5\n", "fabric.a.load", "[1e-06, 1.0]"),
    ('recovery = "e2e"\n', "fabric.a.timeout_ns", "required"),
    ("n_senders = 2\n", "fabric.a.n_senders", "incast"),
    ("lengths_m = { spine = 10 }\n", "fabric.a.lengths_m.spine", "needs a link preset"),
])
def test_bad_fabric_entry_names_file_key_and_allowed(tmp_path, extra, key, allowed):
    text = BASE.replace("load = 0.5\n", "") + extra + ("load = 0.5\n" if "load" not in extra else "")
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as err:
        config.load(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}: {key}: "), msg
    assert allowed in msg, msg


def test_topology_parameters_are_required_per_generator():
    kind = jobs.kind("fabric")
    with pytest.raises(jobs.SettingError, match="^h: is required"):
        kind.normalize({"topology": "dragonfly", "a": 2, "p": 2, "load": 0.5})
    with pytest.raises(jobs.SettingError, match="^k: "):
        kind.normalize({"topology": "fat_tree", "k": 3, "load": 0.5})       # k must be even
    s = kind.normalize({"topology": "hypercube", "n": 3, "links": {"host": "cpo-800g", "link": "cpo-800g"}, "load": 0.2,
                        "routing": "dimension-order", "packets_per_flow": 50})
    row = kind.run_chunk(s, np.random.SeedSequence(1), [0, 0])
    bursts = kind.normalize({"topology": "dragonfly", "a": 4, "p": 2, "h": 2, "groups": 5, "load": 0.2,
                             "arrivals": "onoff", "burst_packets": 8, "packets_per_flow": 50})
    assert kind.run_chunk(bursts, np.random.SeedSequence(1), [0, 0])["n_packets"] == 40 * 50
    with pytest.raises(jobs.SettingError, match="^burst_packets: applies to arrivals 'onoff'"):
        kind.normalize({**SMALL, "burst_packets": 8})
    assert row["n_hosts"] == 8 and row["bisection_gbps"] == 4 * 800.0 and not math.isnan(row["mean_latency_ns"])
