"""The link/path case kinds, their CLI plots and the demo, run against stand-ins shaped like the
links/path/traffic contracts (tests/_ops_fakes.py). After the merge the same code runs on the
real modules; these tests check the composition, not the physics."""
import pytest

import photolink as pl
from photolink import regress
from photolink.cli import main


@pytest.fixture
def fakes(monkeypatch):
    from _ops_fakes import install
    install(monkeypatch)


def test_link_sweep_rows(fakes):
    rows = pl.sweep("link", {"preset": ["dac-800g", "cpo-800g"]}, fixed={"frame_bytes": 1500},
                    seed=1, store=None, workers=1, progress=False).rows
    assert [r["name"] for r in rows] == ["sweep[preset=dac-800g]", "sweep[preset=cpo-800g]"]
    cpo = rows[1]
    assert cpo["energy_pj_per_bit"] == 5.0 and cpo["energy_breakdown_pj_per_bit.optics"] == 4.5
    assert cpo["frame_loss_ratio"] > 0
    over = pl.sweep("link", cases=[{"preset": "cpo-800g", "reach_m": 50.0}], seed=1, store=None,
                    workers=1, progress=False).rows[0]
    assert over["reach_m"] == 50.0


def test_path_statistic_counts_lost_packets(fakes):
    case = {"hops": ["lpo-800g", {"switch": {"latency_ns": 250.0}}, "lpo-800g"], "load": 0.5,
            "packet_bytes": 4096, "n_packets": 20_000}
    row = pl.sweep("path", cases=[case], seed=2, store=None, workers=1, progress=False).rows[0]
    st = regress.statistic("path", row)
    assert st == {"type": "counts", "name": "lost packets", "events": row["lost"],
                  "trials": 20_000}
    assert row["hops"][1] == {"switch": {"latency_ns": 250.0}} and row["hop_stats"] == [{"index": 0}]
    p, detail = regress.compare("path", row, row)
    assert p > 0.4 and "lost packets" in detail


def test_cli_energy_and_ccdf_plots(fakes, tmp_path):
    pytest.importorskip("matplotlib")
    from photolink.config import example
    cfg = str(example("fabric_800g"))
    assert main(["plot", "energy", cfg, "--out", str(tmp_path / "e.png")]) == 0
    assert main(["plot", "ccdf", cfg, "--out", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "e.png").stat().st_size > 2000 and (tmp_path / "c.png").stat().st_size > 2000


def test_demo_table_and_plots(fakes, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["demo", "--out-dir", str(tmp_path), "--packets", "20000"]) == 0
    out = capsys.readouterr().out
    for tech in ("copper", "pluggable", "LPO", "CPO"):
        assert tech in out
    assert "p99.9 ns" in out and "path pJ/bit" in out
    for name in ("energy.png", "latency_ccdf.png", "waterfall.png"):
        assert (tmp_path / name).stat().st_size > 2000
