"""The link/path case kinds, their regression statistics, CLI plots and the demo, on the real
photolink.links / photolink.net.path / photolink.net.traffic modules (until the merge these ran against
stand-ins; every seam is now exercised for real, and fast enough for CI: a link evaluation is
~0.5 s, a path run of 20 000 packets a few ms)."""
import math

import pytest

import photolink as pl
from photolink import links
from photolink.cli import main
from photolink.studies import regress
from photolink.studies.jobs import SettingError


def test_link_sweep_rows():
    rows = pl.sweep("link", {"preset": ["dac-800g", "cpo-800g"]}, fixed={"frame_bytes": 1500},
                    seed=1, store=None, workers=1, progress=False).rows
    assert [r["name"] for r in rows] == ["sweep[preset=dac-800g]", "sweep[preset=cpo-800g]"]
    for row, name in zip(rows, ("dac-800g", "cpo-800g")):
        rep = links.preset(name).evaluate()
        # the row is the link's own report, flattened
        assert row["energy_pj_per_bit"] == pytest.approx(rep.energy_pj_per_bit)
        for part, pj in rep.energy_breakdown_pj_per_bit.items():
            assert row[f"energy_breakdown_pj_per_bit.{part}"] == pytest.approx(pj)
        assert row["cwer"] == rep.cwer and row["cwer_method"] == rep.cwer_method == "burst-model"
        assert row["frame_loss_ratio"] == pytest.approx(rep.frame_loss_ratio(1500))
        assert row["latency_ns"] == pytest.approx(rep.latency_ns) and row["reach_m"] == rep.reach_m
    cpo = rows[1]
    assert 7.0 < cpo["energy_pj_per_bit"] < 9.0 and cpo["energy_breakdown_pj_per_bit.host_serdes"] == 1.1
    # any Link field can be overridden; the row follows the physics
    far = pl.sweep("link", cases=[{"preset": "dac-800g", "length_m": 3.6}], seed=1, store=None,
                   workers=1, progress=False).rows[0]
    assert far["length_m"] == 3.6 and far["margin_db"] < 0 < rows[0]["margin_db"]
    assert far["frame_loss_ratio"] > 1e-3 > 1e-6 > rows[0]["frame_loss_ratio"]
    # a worse link is flagged by the deterministic link comparison, an equal one is not
    p, detail = regress.worse_p_value("link", far, rows[0])
    assert p == 0.0 and "cwer" in detail and "margin_db" in detail
    assert regress.worse_p_value("link", rows[0], rows[0])[0] == 1.0
    with pytest.raises(SettingError, match="reach_m.*not a setting of a link"):
        pl.sweep("link", cases=[{"preset": "cpo-800g", "reach_m": 50.0}], seed=1, store=None,
                 workers=1, progress=False)


def test_path_statistic_counts_lost_packets():
    case = {"hops": [{"link": {"preset": "dac-800g", "length_m": 3.52}}, {"switch": {"latency_ns": 250.0}},
                     "lpo-800g"], "load": 0.5, "packet_bytes": 4096, "n_packets": 20_000}
    row = pl.sweep("path", cases=[case], seed=2, store=None, workers=1, progress=False).rows[0]
    st = regress.statistic("path", row)
    assert st == {"type": "counts", "name": "lost packets", "events": row["lost"], "trials": 20_000}
    assert row["lost"] > 50 and row["delivered"] + row["lost"] == 20_000
    # the hops stay settings; the kernel's per-hop statistics come as hop_stats
    assert row["hops"][1] == {"switch": {"latency_ns": 250.0}}
    assert [h["name"] for h in row["hop_stats"]] == ["dac-800g", "switch", "lpo-800g"]
    assert row["hop_stats"][0]["corrupted_packets"] + row["hop_stats"][2]["corrupted_packets"] == row["lost"]
    p, detail = regress.worse_p_value("path", row, row)
    assert p > 0.4 and "lost packets" in detail
    # the same path with the copper link 10 cm longer loses more: flagged at any usual confidence
    worse = dict(case, hops=[{"link": {"preset": "dac-800g", "length_m": 3.62}}] + case["hops"][1:])
    row2 = pl.sweep("path", cases=[worse], seed=2, store=None, workers=1, progress=False).rows[0]
    assert regress.worse_p_value("path", row2, row)[0] < 1e-6


def test_cli_energy_and_ccdf_plots(tmp_path):
    from photolink.studies.config import example
    cfg = str(example("fabric_800g"))
    assert main(["plot", "energy", cfg, "--out", str(tmp_path / "e.png")]) == 0
    assert main(["plot", "ccdf", cfg, "--out", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "e.png").stat().st_size > 2000 and (tmp_path / "c.png").stat().st_size > 2000


def test_demo_rows_show_where_physics_hurts():
    from photolink.studies import demo
    rows, latencies, energy = demo.compare(n_packets=20_000, seed=1)
    by = {r["technology"]: r for r in rows}
    assert list(by) == ["copper", "copper @ reach", "copper +50%", "pluggable", "LPO", "CPO"]
    reach = links.preset("dac-800g").reach_m()[0]
    assert by["copper @ reach"]["length_m"] == pytest.approx(reach, abs=1e-3)
    assert by["copper +50%"]["length_m"] == pytest.approx(1.5 * reach, abs=1e-3)
    # nominal links lose nothing in 20 000 packets (an upper bound, never 0) ...
    for tech in ("copper", "pluggable", "LPO", "CPO"):
        assert by[tech]["lost"] == 0 and by[tech]["loss_ci"].startswith("[0, ")
    # ... copper past its reach loses frames; llr resends them and pays in latency
    past = by["copper +50%"]
    assert past["lost"] > 400 and past["resends_per_packet"] > 0.02         # CWER ~2e-3 at 1.5 x reach
    assert past["llr_loss_ratio"] < past["loss_ratio"] / 100
    assert past["llr_p999_ns"] > past["p999_ns"]
    # energy: three links and two switch cores (Tomahawk 5 ~8.8 pJ/bit less its SerDes)
    for tech in ("copper", "pluggable", "LPO", "CPO"):
        r = by[tech]
        assert r["path_pj_per_bit"] == pytest.approx(3 * r["link_pj_per_bit"] + 2 * (8.8 - 5.0))
        assert sum(energy[tech].values()) == pytest.approx(r["path_pj_per_bit"])
    assert by["CPO"]["path_pj_per_bit"] < by["LPO"]["path_pj_per_bit"] < by["pluggable"]["path_pj_per_bit"]
    assert set(latencies) >= {"copper", "copper @ reach, llr", "CPO"}
    assert all(math.isfinite(r["p50_ns"]) for r in rows)
