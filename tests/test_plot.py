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


# -- plots a reader trusts (issue 15, item 7): labels with units, legends, colours, ax= ----------
def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_waterfall_labels_and_ax():
    from matplotlib.figure import Figure
    fig = Figure()
    ax = fig.add_subplot()
    out = plot.waterfall([pl.simulate_ber(pl.PAM4, 14.0, 10**5, seed=1)], ax=ax)
    assert out is fig and ax.get_xlabel() == "SNR at the slicer (dB)"
    assert "BER" in ax.get_ylabel() and any("95% CI" in t for t in legend_texts(ax))


def test_slicer_histogram_labels_and_ax():
    from matplotlib.figure import Figure
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.slicer_histogram(pl.PAM4, 20.0, n_symbols=5000, ax=ax) is fig
    labels = legend_texts(ax)
    assert "decision threshold" in labels and "sent level +3" in labels
    assert "slicer input" in ax.get_xlabel() and "symbols per bin" in ax.get_ylabel()


def test_bathtub_labels_and_ax():
    from matplotlib.figure import Figure
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.bathtub(pl.PAM4, 24.0, ax=ax) is fig
    assert ax.get_xlabel() == "sampling offset in the unit interval (UI)"
    assert any("target BER" in t for t in legend_texts(ax))
    assert any("eye opening" in t.get_text() for t in ax.texts)


def test_latency_ccdf_labels_overlaps_and_ax():
    from matplotlib.figure import Figure
    rng = np.random.default_rng(1)
    a = 2300 + rng.exponential(100, 5000)
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.latency_ccdf({"copper": 800 + rng.exponential(100, 5000), "LPO": a, "CPO": a.copy()},
                             ax=ax) is fig
    labels = legend_texts(ax)
    assert "CPO (5000 packets): same curve as LPO" in labels          # coinciding curves said so
    assert any(t.startswith("open markers: p50, p99, p99.9") for t in labels)   # dots explained
    assert ax.get_xlabel().endswith("(ns)") and "P[latency > x]" in ax.get_ylabel()
    lines = [h for h in ax.get_legend().legend_handles][:3]
    assert len({(h.get_linestyle(), h.get_marker(), h.get_color()) for h in lines}) == 3
    fig.draw_without_rendering()              # the legend sits right of the axes: no tail hidden
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1


def test_energy_bars_labels_order_colours_and_ax():
    from matplotlib.figure import Figure
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.energy_bars({"copper": {"host_serdes": 5.0, "cable": 0.1},
                             "CPO": {"host_serdes": 1.0, "laser": 2.0, "driver": 1.5}}, ax=ax) is fig
    # human labels, listed top of the stack first (reverse of the stacking order)
    assert legend_texts(ax) == ["laser/modulator driver", "laser", "cable", "host SerDes"]
    assert ax.get_ylabel() == "energy per bit (pJ/bit)"
    # one colour per part in every plot
    other = Figure().add_subplot()
    plot.energy_bars({"x": {"laser": 1.0, "host_serdes": 2.0}}, ax=other)
    colours = {p.get_label(): p.patches[0].get_facecolor() for p in other.containers}
    first = {p.get_label(): p.patches[0].get_facecolor() for p in ax.containers}
    assert colours["laser"] == first["laser"] and colours["host SerDes"] == first["host SerDes"]
    assert plot.part_color("host_serdes") == plot.PARTS["host_serdes"][1]
    assert plot.part_color("new_part") == plot.part_color("new_part") in plot.PALETTE


def test_palette_is_colour_blind_safe():
    assert plot.PALETTE[:3] == ("#0072B2", "#E69F00", "#009E73")      # Okabe-Ito
    assert "#F0E442" not in plot.LINE_COLORS                              # no yellow lines


def test_ax_must_be_an_axes():
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot.bathtub(pl.PAM4, 24.0, ax="left")


def test_save_does_not_create_directories(tmp_path):
    fig = plot.bathtub(pl.PAM4, 24.0)
    with pytest.raises(ValueError, match="does not exist"):
        plot.save(fig, tmp_path / "no" / "b.png")
    assert not (tmp_path / "no").exists()


def test_ccdf_points_is_the_empirical_ccdf():
    x, p = plot.ccdf_points([3.0, 1.0, 2.0, 2.0])
    assert x.tolist() == [1.0, 2.0, 3.0] and p.tolist() == [1.0, 0.75, 0.25]   # P[X >= x]
    x, p = plot.ccdf_points([5.0])
    assert x.tolist() == [5.0] and p.tolist() == [1.0]
    # against the definition, with ties
    s = np.random.default_rng(2).integers(0, 20, 500).astype(float)
    x, p = plot.ccdf_points(s)
    assert np.array_equal(x, np.unique(s))
    assert np.allclose(p, [(s >= v).mean() for v in x])
    assert np.all(np.diff(p) < 0) and p[-1] == (s == s.max()).mean()
    with pytest.raises(ValueError, match="empty"):
        plot.ccdf_points([])
    with pytest.raises(ValueError, match="samples"):
        plot.ccdf_points([1.0, float("nan")])


def test_completion_ccdf_panels_curves_and_file(tmp_path):
    same = [302.5, 302.0, 302.8, 302.6, 302.5, 302.9]
    panels = {"all-reduce": {"copper": [250.4, 250.3, 250.9, 250.6], "LPO": same, "CPO": list(same)},
              "all-to-all": {"copper": [25.0, 24.6], "LPO": [25.7, 25.4]}}
    fig = plot.completion_ccdf(panels, title="t", path=tmp_path / "completion_ccdf.png")
    written(tmp_path / "completion_ccdf.png")
    assert [ax.get_title() for ax in fig.axes] == ["all-reduce", "all-to-all"]
    ar = fig.axes[0]
    assert ar.get_yscale() == "log" and ar.get_xlabel() == "completion time (us)"
    # each series' step curve is its empirical CCDF
    steps = [line for line in ar.get_lines() if line.get_drawstyle() == "steps-pre"]
    assert len(steps) == 3
    x, p = plot.ccdf_points(panels["all-reduce"]["copper"])
    assert np.array_equal(steps[0].get_xdata(), x) and np.array_equal(steps[0].get_ydata(), p)
    labels = legend_texts(ar)
    assert "copper (4 runs)" in labels and "CPO (6 runs): same curve as LPO" in labels
    # a technology keeps its colour in both panels
    colour = {t: line.get_color() for ax in fig.axes for t, line in
              zip(legend_texts(ax), ax.get_legend().legend_handles) if t.startswith("copper")}
    assert len(set(colour.values())) == 1
    with pytest.raises(ValueError, match="panels"):
        plot.completion_ccdf({})
    with pytest.raises(ValueError, match=r"panels\['a'\]\['x'\]"):
        plot.completion_ccdf({"a": {"x": []}})
