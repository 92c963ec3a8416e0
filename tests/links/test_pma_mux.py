"""PMA mux structure on Link: symbol- vs bit-muxing of the FEC streams onto a lane."""
import dataclasses

import pytest

from photolink import fec, links


def _dac(mux, length_m=3.6):
    base = dataclasses.replace(links.preset("dac-800g"), precode=False, interleave=1, fec_flows=1)
    return dataclasses.replace(base, length_m=length_m, pma_mux=mux)


def test_bit_muxing_spreads_dfe_bursts_and_changes_the_burst_model_cwer():
    sym, bit = _dac("symbol").evaluate(reach=False), _dac("bit").evaluate(reach=False)
    assert sym.cwer_method == bit.cwer_method == "burst-model"
    assert sym.pre_fec_ber == bit.pre_fec_ber                 # the line errors are the same
    assert bit.cwer != pytest.approx(sym.cwer, rel=0.05)      # their grouping into RS symbols is not
    assert links.preset("dac-800g").pma_mux == "symbol"


def test_bit_muxed_simulation_maps_errors_by_stream():
    """Behind a DFE the same line errors (bursts of ~5 symbols) touch more RS symbols when
    bit-muxed: each burst is split over the two bit streams' codewords."""
    link = _dac("bit")
    f, snr, kw = link._codeword_stream(link.segments())
    assert kw["bit_mux"] is True
    r = fec.simulate(fec.KP4, f, snr, 2000, seed=2, **kw)
    s = fec.simulate(fec.KP4, f, snr, 2000, seed=2, **{**kw, "bit_mux": False})
    assert r.line_bit_errors == s.line_bit_errors > 10_000     # the same stream
    assert r.rs_symbol_errors > 1.1 * s.rs_symbol_errors


def test_pma_mux_is_validated():
    with pytest.raises(ValueError, match="pma_mux"):
        _dac("byte")
    with pytest.raises(ValueError, match="pma_mux='bit'"):
        dataclasses.replace(links.preset("dr4-1.6t"), pma_mux="bit")
    with pytest.raises(ValueError, match="bit_mux"):
        fec.simulate(fec.KP4_INNER_HAMMING, links.preset("dac-800g").fmt, 16.0, 12, seed=1, bit_mux=True)
