"""Every ``photolink`` subcommand once, on the integrated code, through ``photolink.cli.main``,
writing into tmp_path: the exit code, the key lines of the output and the files."""
import csv
import json
import sys

import pytest

from photolink.cli import main
from photolink.studies.config import example


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out + out.err                  # warnings go to stderr


def written(path, min_bytes=1000):
    assert path.exists() and path.stat().st_size >= min_bytes, path
    return path


@pytest.mark.slow
@pytest.mark.filterwarnings("error::UserWarning")     # issue 15: no matplotlib loc="best" warning
def test_demo(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)   # a terminal
    from photolink.cli import demo
    bars = {}

    def spy(breakdown, **kw):
        bars.update(breakdown=breakdown, **kw)
        return energy_bars(breakdown, **kw)
    energy_bars = demo.plot.energy_bars
    monkeypatch.setattr(demo.plot, "energy_bars", spy)
    out = run(capsys, "demo", "--out-dir", tmp_path, "--packets", 20_000)
    # the bars are at different lengths: each bar says its length, the title says so
    assert all(label.endswith(" m") for label in bars["breakdown"]) and "length" in bars["title"]
    assert "demo: 100%" in out                           # its progress bar (stderr)
    for tech in ("copper", "copper @ reach", "copper +50%", "pluggable", "LPO", "CPO"):
        assert f"\n{tech} " in out
    assert "burst-model" in out and "llr p99.9" in out and "95% CI" in out
    assert max(len(line) for line in out.splitlines() if not line.startswith("wrote")) <= 100
    # the cluster section: 256 GPUs, per technology p50/p99 with CIs, the straggler, power
    assert "256 GPUs" in out and "AR p50 us [95% CI]" in out and "A2A p99 us [CI]" in out
    assert "network W" in out and "J/step" in out and "+" in out.split("AR us, straggler")[1]
    for tech in ("copper", "pluggable", "LPO", "CPO"):
        assert f"\n{tech:<10}  packet  " in out
    for name in ("energy.png", "latency_ccdf.png", "waterfall.png", "completion_ccdf.png"):
        written(tmp_path / name, 2000)
    assert "completion_ccdf.png" in out.split("wrote ")[-1]


def test_run_and_sweep_the_fabric_example(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = example("fabric_800g")
    out = run(capsys, "run", cfg, "--workers", 1, "--quiet", "--no-store")
    assert "link cases" in out and "path cases" in out and "pluggable_3hop" in out
    assert "cpo-800g" in out and "load[load=0.9]" in out
    out = run(capsys, "sweep", cfg, "--workers", 1, "--quiet", "--store", tmp_path / "f.sqlite",
              "--csv", tmp_path / "f.csv", "--json", tmp_path / "f.json")
    assert "4 cases" in out
    rows = list(csv.DictReader(open(tmp_path / "f.csv")))
    assert [float(r["load"]) for r in rows] == [0.3, 0.5, 0.7, 0.9]
    assert len(json.loads((tmp_path / "f.json").read_text())["rows"]) == 4
    out = run(capsys, "sweep", cfg, "--workers", 1, "--quiet", "--store", tmp_path / "f.sqlite")
    assert "0 chunks computed, 4 reused" in out                    # resumed from the store


def test_run_ber_examples(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = run(capsys, "run", example("regress_pam4"), "--workers", 1, "--quiet")
    assert "pam4_awgn" in out and "pam4_kp4_tail" in out
    out = run(capsys, "examples")
    assert "ber_waterfall" in out and "fabric_800g" in out


@pytest.mark.slow
def test_compare_link_fabric(tmp_path, capsys):
    out = run(capsys, "compare", "--csv", tmp_path / "c.csv", "--json", tmp_path / "c.json")
    assert "dac-800g" in out and "zr-400g" in out
    rows = list(csv.reader(open(tmp_path / "c.csv")))
    assert len(rows) == 1 + 12
    assert len(json.loads((tmp_path / "c.json").read_text())["rows"]) == 12
    out = run(capsys, "compare", "dac-800g", "cpo-800g", "--switch")
    assert "cpo-800g" in out
    out = run(capsys, "link", "dac-800g", "--length-m", 3.6)
    assert "burst-model" in out and "errors per error burst" in out and "fails at 3.6 m" in out
    out = run(capsys, "link", "dac-800g", "--length-m", 3.6, "--simulate", "--symbols", 200_000, "--json", tmp_path / "l.json")
    assert "fec.simulate, 95% CI" in out
    assert json.loads((tmp_path / "l.json").read_text())["rows"][0]["cwer_method"] == "fec.simulate"
    out = run(capsys, "fabric", "cpo-800g", "--gpus", 1024, "--links-per-gpu", 3, "--gpu-power-w", 1200,
              "--switch")
    assert "switch ASIC share" in out and "per GPU" in out
    out = run(capsys, "ber", "--snr-from", 14, "--snr-to", 15, "--symbols", 100_000)
    assert "closed form" in out


@pytest.mark.slow
def test_plots(tmp_path, capsys):
    run(capsys, "plot", "waterfall", "--snr-from", 12, "--snr-to", 14, "--symbols", 100_000,
        "--out", tmp_path / "w.png")
    run(capsys, "plot", "sweep", example("ber_waterfall"), "--store", tmp_path / "s.sqlite",
        "--workers", 1, "--out", tmp_path / "s.svg")
    run(capsys, "plot", "histogram", "--channel", "0.1,1,0.45", "--equalizer", "mmse",
        "--symbols", 20_000, "--out", tmp_path / "h.png")
    run(capsys, "plot", "bathtub", "--out", tmp_path / "b.pdf")
    run(capsys, "plot", "energy", example("fabric_800g"), "--out", tmp_path / "e.png")
    run(capsys, "plot", "ccdf", example("fabric_800g"), "--out", tmp_path / "c.png")
    for name in ("w.png", "s.svg", "h.png", "b.pdf", "e.png", "c.png"):
        written(tmp_path / name)


def test_errors_exit_2(tmp_path, capsys):
    assert main(["link", "fiber-9000"]) == 2
    assert "known presets" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[paths.p]\nlinks = ["cpo-800g"]\nload = 0.5\npacket_bytes = 64\nmode = "fast"\n')
    assert main(["run", str(bad), "--quiet", "--no-store"]) == 2
    assert "mode" in capsys.readouterr().err
