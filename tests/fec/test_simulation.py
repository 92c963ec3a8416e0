"""Stream errors -> RS codewords: Monte Carlo against closed forms, bursts and interleaving,
counting path against the full decoder, inner code, frame loss, bad input."""
import numpy as np
import pytest
from scipy import stats

import photolink as pl
from photolink import fec

#: A channel whose 1-tap DFE propagates errors: bursts of ~4 PAM4 symbols on average.
BURSTY = dict(channel=pl.Channel((1.0, 0.9)), equalizer=pl.Equalizer(dfe=(0.9,)))


def _rs_symbol_cwer(code, ser_pam4):
    """CWER for independent PAM4 symbol errors: 5 PAM4 symbols per 10-bit RS symbol."""
    ps = -np.expm1(5 * np.log1p(-ser_pam4))
    return stats.binom.sf(code.t, code.n, ps)


@pytest.mark.parametrize("code, snr_db", [(fec.KR4, 16.6), (fec.KP4, 15.8), (fec.RS272, 16.0)], ids=str)
def test_monte_carlo_cwer_within_its_interval_of_the_closed_form(code, snr_db):
    r = fec.simulate(code, pl.PAM4, snr_db, 3000, seed=1)
    assert 0.02 < r.cwer < 0.5                       # failures are frequent here
    lo, hi = r.ci
    assert lo <= code.cwer_from_ber(pl.PAM4.ber_awgn(snr_db)) <= hi
    assert lo <= _rs_symbol_cwer(code, pl.PAM4.ser_awgn(snr_db)) <= hi
    assert r.pre_fec_ber_ci[0] <= pl.PAM4.ber_awgn(snr_db) <= r.pre_fec_ber_ci[1]
    assert r.failed == r.uncorrectable + r.miscorrected and r.miscorrected == 0
    assert 0 < r.post_fec_ber < r.pre_fec_ber
    assert r.codewords == 3000 and r.line_bits == 3000 * code.codeword_bits


def test_zero_failures_report_an_upper_bound():
    r = fec.simulate(fec.KP4, pl.PAM4, 20.0, 500, seed=1)
    assert r.failed == 0 and r.cwer == 0 and r.ci[0] == 0 and 0 < r.ci[1] < 0.01
    assert r.post_fec_ber == 0 and r.post_fec_ber_ci[1] > 0


@pytest.mark.parametrize("code, snr_db, kwargs", [
    (fec.KP4, 15.8, {}),
    (fec.KR4, 17.0, dict(BURSTY, interleave=2)),
    (fec.RS(1023, 1021), 18.0, {}),            # full length, t = 1: many miscorrections
], ids=["kp4-awgn", "kr4-dfe-2way", "rs1023-miscorrect"])
def test_full_decoder_agrees_with_counting_path(code, snr_db, kwargs):
    full = fec.simulate(code, pl.PAM4, snr_db, 1500, seed=4, mode="full", **kwargs)
    count = fec.simulate(code, pl.PAM4, snr_db, 1500, seed=4, **kwargs)
    assert full.failed > 20
    assert full.disagreements == 0
    assert (full.uncorrectable, full.miscorrected) == (count.uncorrectable, count.miscorrected)
    assert np.array_equal(full.failed_index, count.failed_index)
    if code.t == 1:
        assert full.miscorrected > full.failed // 2
    else:
        assert full.miscorrected == 0


def test_codeword_failures_matches_simulate_and_is_reproducible():
    args = (fec.KR4, pl.PAM4, 16.8, 2000)
    flags = fec.codeword_failures(*args, seed=7, interleave=2, **BURSTY)
    r = fec.simulate(*args, seed=7, interleave=2, **BURSTY)
    assert flags.dtype == bool and flags.shape == (2000,)
    assert np.array_equal(np.nonzero(flags)[0], r.failed_index) and flags.sum() > 10
    again = fec.codeword_failures(*args, seed=7, interleave=2, n_threads=2, **BURSTY)
    assert np.array_equal(flags, again)
    other = fec.codeword_failures(*args, seed=8, interleave=2, **BURSTY)
    assert not np.array_equal(flags, other)
    # a shorter run is a prefix of a longer one (pieces do not change the stream)
    short = fec.codeword_failures(fec.KR4, pl.PAM4, 16.8, 777, seed=7, interleave=2, **BURSTY)
    assert np.array_equal(short, flags[:777])


def test_interleaving_lowers_cwer_under_dfe_bursts():
    """KP4 over a 1-tap-DFE channel at 16.5 dB (pre-FEC BER ~4e-3, bursts of ~4 symbols).

    Measured here (seed 2, 6000 codewords): CWER 0.067 (1-way), 0.033 (2-way), 0.020 (4-way);
    independent RS symbol errors at the measured RS symbol error rate would give 0.0196 and
    independent bit errors at the measured BER 0.92: bursts pack bits into fewer RS symbols
    (far better than independent bits) but pile symbols into one codeword (3.4x worse than
    independent symbols without interleaving), which 4-way interleaving undoes.
    """
    res = {i: fec.simulate(fec.KP4, pl.PAM4, 16.5, 6000, seed=2, interleave=i, **BURSTY) for i in (1, 2, 4)}
    r1, r2, r4 = res[1], res[2], res[4]
    assert r1.line_bit_errors == r4.line_bit_errors          # the same stream
    assert r1.mean_burst_length > 3
    assert r1.ci[0] > r2.ci[1] and r2.cwer > r4.cwer          # strictly better with depth
    assert r1.cwer > 2.5 * r4.cwer
    ps = r1.rs_symbol_errors / (r1.codewords * fec.KP4.n)
    independent_symbols = stats.binom.sf(fec.KP4.t, fec.KP4.n, ps)
    assert r1.ci[0] > 2 * independent_symbols
    lo, hi = stats.binom.interval(0.999, r4.codewords, independent_symbols)
    assert lo <= r4.failed <= hi
    assert fec.KP4.cwer_from_ber(r1.pre_fec_ber) > 10 * r1.cwer


def test_precoding_shortens_bursts():
    plain = fec.simulate(fec.KR4, pl.PAM4, 17.5, 2000, seed=3, **BURSTY)
    pre = fec.simulate(fec.KR4, pl.PAM4, 17.5, 2000, seed=3, precode=True, **BURSTY)
    assert pre.mean_burst_length < 1.5 < 3 < plain.mean_burst_length


def test_concatenated_inner_code_against_its_model():
    code = fec.KP4_INNER_HAMMING
    snr = 15.0                                   # line BER ~4.5e-3
    r = fec.simulate(code, pl.PAM4, snr, 3000, seed=3)
    ber = pl.PAM4.ber_awgn(snr)
    assert r.ci[0] <= code.cwer_from_ber(ber) <= r.ci[1]
    ps = r.rs_symbol_errors / (r.codewords * code.n)
    lo, hi = stats.binom.interval(0.999, r.codewords * code.n, code.symbol_error_rate(ber))
    assert lo <= r.rs_symbol_errors <= hi
    # without the inner code, KP4 at this BER fails almost always
    assert fec.KP4.cwer_from_ber(ber) > 0.9 > 0.2 > r.cwer
    assert ps < 0.5 * (1 - (1 - ber) ** 10)       # the inner code halves the RS symbol errors
    assert r.line_bits == pytest.approx(3000 * code.codeword_bits)     # 544 * 128 / 12 per codeword


def test_frame_loss_from_the_codeword_sequence():
    r = fec.simulate(fec.KR4, pl.PAM4, 16.6, 3000, seed=1, interleave=2)
    flr = r.frame_loss_ratio(64)
    lo, hi = r.frame_loss_ci(64)
    assert lo <= flr <= hi
    # independent failures: the analytic frame loss from the measured CWER agrees
    assert fec.KR4.frame_loss_ratio(r.cwer, 64, interleave=2) == pytest.approx(flr, rel=0.1)
    assert r.frame_loss_ratio(9000) > flr
    d = r.to_dict()
    assert d["failed"] == r.failed and d["interleave"] == 2 and d["cwer_ci_high"] == r.ci[1]


def test_bad_input():
    with pytest.raises(ValueError, match="interleave must be one of"):
        fec.simulate(fec.KP4, pl.PAM4, 18.0, 10, seed=1, interleave=3)
    with pytest.raises(ValueError, match="n_codewords"):
        fec.simulate(fec.KP4, pl.PAM4, 18.0, 0, seed=1)
    with pytest.raises(TypeError, match="code must be"):
        fec.simulate(fec.OFEC, pl.PAM4, 18.0, 10, seed=1)
    with pytest.raises(TypeError, match="fmt must be"):
        fec.simulate(fec.KP4, "PAM4", 18.0, 10, seed=1)
    with pytest.raises(ValueError, match="interleave must be 1 with a concatenated code"):
        fec.simulate(fec.KP4_INNER_HAMMING, pl.PAM4, 18.0, 10, seed=1, interleave=2)
    with pytest.raises(ValueError, match="mode"):
        fec.simulate(fec.KP4, pl.PAM4, 18.0, 10, seed=1, mode="fast")
    with pytest.raises(ValueError, match="snr_db"):
        fec.simulate(fec.KP4, pl.PAM4, 1e3, 10, seed=1)
    r = fec.simulate(fec.KP4, pl.PAM4, 18.0, 10, seed=1)
    with pytest.raises(ValueError, match="frame_bytes"):
        r.frame_loss_ratio(0)
    with pytest.raises(ValueError, match="frame_bytes"):
        r.frame_loss_ratio(10**6)


def test_one_call_stream_path_matches_the_piecewise_stream(monkeypatch):
    """Formats without a piecewise stream (QAM) go through one simulate_ber call: same result."""
    from photolink.fec import simulation as fec_sim
    ref = fec.simulate(fec.KR4, pl.PAM4, 16.6, 1500, seed=1, interleave=2)
    monkeypatch.setattr(fec_sim, "_stream", lambda fmt, snr, seed, ch, eq, pre, **kw:
                        fec_sim._OneShotStream(fmt, snr, seed, ch, eq, pre, **kw))
    one = fec.simulate(fec.KR4, pl.PAM4, 16.6, 1500, seed=1, interleave=2)
    assert one.to_dict() == ref.to_dict() and ref.failed > 10


def test_dual_polarisation_16qam_matches_the_rail_closed_form():
    """DP-16QAM: 8 label bits per symbol, 4 Gray 4-PAM rails of 2 bits; a 10-bit RS symbol is
    5 whole rails, so over AWGN CWER = P[Binom(n, 1 - (1 - SER_4PAM)^5) > t]."""
    snr = 15.8
    r = fec.simulate(fec.KP4, pl.DP_16QAM, snr, 2000, seed=1, mode="full")
    assert r.disagreements == 0 and 0.05 < r.cwer < 0.4
    lo, hi = r.ci
    assert lo <= _rs_symbol_cwer(fec.KP4, pl.PAM4.ser_awgn(snr)) <= hi
    assert r.line_bits == 2000 * 5440


def test_qam_cycle_slips_concentrate_errors_into_few_codewords():
    """DP-16QAM at 17 dB with laser phase noise (linewidth x T = 1e-4, blind phase search).

    Measured (seed 5, 1500 KR4 codewords): without differential coding cycle slips leave bursts
    of ~20 symbols and a pre-FEC BER of 3.2e-2, yet only 26 % of codewords fail; differential
    coding cuts the BER to 1.8e-3 (bursts ~1.4) but doubles isolated errors everywhere, and
    36 % fail. The BER alone ranks them the wrong way round.
    """
    opts = dict(linewidth_symbol_period=1e-4, carrier_recovery=pl.CarrierRecovery.for_format(pl.DP_16QAM))
    slips = fec.simulate(fec.KR4, pl.DP_16QAM, 17.0, 1500, seed=5, **opts)
    diff = fec.simulate(fec.KR4, pl.DP_16QAM, 17.0, 1500, seed=5, differential=True, **opts)
    assert slips.pre_fec_ber > 10 * diff.pre_fec_ber
    assert slips.mean_burst_length > 10 > 2 > diff.mean_burst_length
    assert slips.ci[1] < diff.ci[0]
    with pytest.raises(TypeError, match="unknown stream option"):
        fec.simulate(fec.KR4, pl.PAM4, 17.0, 10, seed=5, linewidth=1e-4)
