"""Plots render without a display and the files are written and non-empty."""
import numpy as np
import pytest

import photolink as pl
from photolink import plot  # noqa: E402
from photolink.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def written(path, kind="png"):
    data = path.read_bytes()
    assert len(data) > 2000
    if kind == "png":
        assert data.startswith(PNG)
    else:
        assert b"<svg" in data[:2000]
    return data


def test_waterfall_png_and_svg(tmp_path):
    rows = pl.sweep("ber", {"snr_db": [12.0, 15.0, 18.0, 26.0]},
                    fixed={"format": "PAM4", "n_symbols": 200_000}, seed=1, store=None,
                    workers=1, progress=False).rows
    assert rows[-1]["bit_errors"] == 0                   # drawn as an upper bound
    fig = plot.waterfall(rows, path=tmp_path / "w.png")
    written(tmp_path / "w.png")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("upper bound" in t for t in labels) and any("closed form" in t for t in labels)
    plot.waterfall([pl.simulate_ber(pl.NRZ, 8.0, 10**5, seed=1)], path=tmp_path / "w.svg")
    written(tmp_path / "w.svg", "svg")
    with pytest.raises(ValueError, match="must end in one of"):
        plot.waterfall(rows, path=tmp_path / "w.txt")


def test_slicer_histogram_matches_the_noise(tmp_path):
    z, sent = plot.slicer_samples(pl.PAM4, 20.0, n_symbols=50_000, seed=3)
    resid = z - pl.PAM4.levels[sent]
    assert np.std(resid) == pytest.approx(pl.PAM4.noise_sigma(20.0), rel=0.02)
    ch = pl.Channel((0.1, 1.0, 0.45))
    eq = pl.Equalizer.mmse(ch, 5, 1, 20.0)
    plot.slicer_histogram(pl.PAM4, 20.0, channel=ch, equalizer=eq, n_symbols=20_000,
                          path=tmp_path / "h.png")
    written(tmp_path / "h.png")


def test_bathtub(tmp_path):
    x = np.array([0.0, 0.1, 0.5, 1.0])
    ber = plot.bathtub_ber(pl.PAM4, 30.0, x, rj_rms_ui=0.02, dj_pp_ui=0.1)
    # dual-Dirac: half the crossings 0.05 UI early, half late; the far edge adds ~nothing
    edge = 0.5 * (pl.q_function(0.05 / 0.02) + pl.q_function(0.15 / 0.02))
    assert ber[1] == pytest.approx(pl.PAM4.ber_awgn(30.0) + 0.5 * edge, rel=1e-6)
    assert ber[2] == pytest.approx(pl.PAM4.ber_awgn(30.0), rel=1e-6)
    assert ber[0] > 0.2 and ber[3] > 0.2
    plot.bathtub(pl.PAM4, 24.0, path=tmp_path / "b.png")
    written(tmp_path / "b.png")


def test_latency_ccdf_and_energy_bars(tmp_path):
    rng = np.random.default_rng(1)
    plot.latency_ccdf({"a": 500 + rng.exponential(100, 20_000), "b": 400 + rng.exponential(50, 20_000)},
                      path=tmp_path / "c.png")
    written(tmp_path / "c.png")
    plot.energy_bars({"copper": {"serdes": 1.0}, "CPO": {"serdes": 0.5, "optics": 4.5},
                      "pluggable": 18.0}, path=tmp_path / "e.svg")
    written(tmp_path / "e.svg", "svg")
    assert plot.energy_components({"energy_pj_per_bit": 5.0}) == {"total": 5.0}
    assert plot.energy_components({"energy_breakdown_pj_per_bit.dsp": 2.0,
                                   "energy_breakdown_pj_per_bit.laser": 3.0,
                                   "energy_pj_per_bit": 5.0}) == {"dsp": 2.0, "laser": 3.0}


@pytest.mark.parametrize("argv", [
    ["waterfall", "--snr-from", "12", "--snr-to", "16", "--symbols", "100000"],
    ["histogram", "--channel", "0.1,1,0.45", "--equalizer", "mmse", "--symbols", "20000"],
    ["bathtub", "--format", "NRZ", "--snr-db", "16"],
])
def test_cli_plot(tmp_path, argv, capsys):
    out = tmp_path / f"{argv[0]}.svg"
    assert main(["plot", *argv, "--out", str(out)]) == 0
    written(out, "svg")
    assert f"wrote {out}" in capsys.readouterr().out


def test_cli_plot_sweep_uses_the_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "w.toml"
    cfg.write_text('[sweep]\nkind = "ber"\nfixed = {format = "PAM4", n_symbols = 100_000}\n'
                   'grid = {snr_db = [12.0, 14.0, 16.0]}\n')
    assert main(["sweep", str(cfg), "--quiet", "--workers", "1"]) == 0
    assert main(["plot", "sweep", str(cfg), "--out", "s.png"]) == 0
    written(tmp_path / "s.png")
