"""photolink.testing.assert_not_worse takes every result that `photolink regress` handles."""
import pytest

import photolink as pl
from photolink import links, testing


def test_estimates_links_paths_and_rows():
    snr = 23.9
    base = pl.estimate_ber(pl.PAM4, snr, seed=1)
    testing.assert_not_worse(pl.estimate_ber(pl.PAM4, snr, seed=2), base)
    with pytest.raises(AssertionError, match="z-test"):
        testing.assert_not_worse(pl.estimate_ber(pl.PAM4, snr - 0.5, seed=2), base)
    dac = links.preset("dac-800g")
    testing.assert_not_worse(dac.evaluate(), dac.evaluate())
    with pytest.raises(AssertionError, match="worse: .*pre_fec_ber"):
        testing.assert_not_worse(dac.with_length(2.0).evaluate(), dac.evaluate())
    path = pl.Path([dac.with_length(3.6)])      # past its physics reach (2.3 m): packets are lost
    traffic = pl.traffic.Poisson(0.5, 4096)
    r1 = path.run(traffic, 20_000, seed=1)
    testing.assert_not_worse(r1, path.run(traffic, 20_000, seed=2))
    good = pl.Path([dac]).run(traffic, 20_000, seed=1)
    with pytest.raises(AssertionError, match="lost packets"):
        testing.assert_not_worse(r1, good)
    def row(snr_db, seed):
        return pl.sweep("ber", {"snr_db": [snr_db]}, fixed={"format": "PAM4", "n_symbols": 100_000},
                        seed=seed, store=None, workers=1, progress=False).rows[0]
    testing.assert_not_worse(row(14.0, 2), row(14.0, 1))       # another seed of the same setting
    with pytest.raises(AssertionError, match="Fisher"):
        testing.assert_not_worse(row(13.0, 2), row(14.0, 1))   # 1 dB less SNR: worse


def test_unlike_results_are_refused():
    with pytest.raises(TypeError, match="compare like with like"):
        testing.assert_not_worse(pl.simulate_ber(pl.PAM4, 17.0, 10**4, seed=1),
                                 links.preset("dac-800g").evaluate())
    with pytest.raises(TypeError, match="same method"):
        testing.assert_not_worse(pl.estimate_ber(pl.PAM4, 23.9, seed=1),
                                 pl.simulate_ber(pl.PAM4, 17.0, 10**4, seed=1))
    with pytest.raises(TypeError, match="BerEstimate"):
        testing.assert_not_worse(0.1, 0.2)


def test_short_reprs():
    r = pl.simulate_ber(pl.PAM4, 17.0, 10**5, seed=1)
    assert repr(r).startswith("BerResult(PAM4 at 17 dB: BER ") and len(repr(r)) < 200
    assert len(repr(links.preset("dac-800g").evaluate())) < 250


def test_vectorised_inverse():
    import numpy as np
    ber = np.array([[1e-3, 1e-6], [1e-9, 1e-12]])
    snr = pl.PAM4.snr_db_for_ber(ber)
    assert snr.shape == ber.shape
    assert np.allclose(pl.PAM4.ber_awgn(snr), ber, rtol=1e-8)
    assert snr[0, 0] == pl.PAM4.snr_db_for_ber(1e-3)
    assert pl.DP_16QAM.snr_db_for_ber([1e-2, 1e-3]).shape == (2,)
    with pytest.raises(ValueError, match="ber"):
        pl.PAM4.snr_db_for_ber([1e-3, 0.3])


def test_sweep_requires_its_store_and_writes_nothing_unasked(tmp_path, monkeypatch):
    """Issue 15, item 8: no silent default store in the working directory."""
    monkeypatch.chdir(tmp_path)
    kw = dict(fixed={"format": "PAM4", "n_symbols": 2000}, seed=1, workers=1, progress=False)
    with pytest.raises(TypeError, match="store"):
        pl.sweep("ber", {"snr_db": [14.0]}, **kw)
    with pytest.raises(TypeError, match="store must be a file path"):
        pl.sweep("ber", {"snr_db": [14.0]}, store=3, **kw)
    res = pl.sweep("ber", {"snr_db": [14.0]}, store=None, **kw)
    assert list(tmp_path.iterdir()) == [] and res.store == ":memory:"
    res = pl.sweep("ber", {"snr_db": [14.0]}, store="mine.sqlite", **kw)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.sqlite"]
    assert res.store.endswith("mine.sqlite")


def test_vectorised_required_osnr():
    import numpy as np
    from photolink.symbols import coherent
    out = coherent.required_osnr_db(pl.DP_16QAM, 60.0, np.array([1e-2, 1e-3]))
    assert np.allclose(out, [coherent.required_osnr_db(pl.DP_16QAM, 60.0, b) for b in (1e-2, 1e-3)])
