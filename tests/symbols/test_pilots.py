"""Pilot-aided carrier recovery: known QPSK pilots every P symbols repair blind-phase-search
cycle slips ([ref:pilot-aided-cpr]; 400ZR frame: one pilot every 32 symbols,
[ref:zr-dsp-frame-pilots]). Fixed seeds; comparisons against Clopper-Pearson intervals."""
import pytest

import photolink as pl
from photolink.symbols import carrier
from photolink.symbols.carrier import ZR_PILOT_PERIOD, CarrierRecovery

#: 400ZR operating point: DP-16QAM at the cFEC threshold (13.55 dB), 200 kHz combined linewidth.
SNR_DB = 13.55
LW = carrier.linewidth_symbol_period(200.0, 59.84375)
N = 300_000


def _run(cr, n=N, seed=1, **kw):
    return pl.simulate_ber(pl.DP_16QAM, SNR_DB, n, seed=seed, linewidth_symbol_period=LW,
                           carrier_recovery=cr, **kw)


def test_pilots_are_neither_decided_nor_counted():
    cr = CarrierRecovery("blind-phase-search", 21, 32, pilot_period=32)
    r = _run(cr, n=100_000)
    assert r.symbols == 100_000 - (100_000 + 31) // 32          # pilots at index 0, 32, 64, ...
    assert r.bits == r.symbols * pl.DP_16QAM.bits_per_symbol
    assert cr.pilot_overhead == pytest.approx(1 / 32)
    # a stream continued in pieces counts the same data symbols and errors as one run
    s = pl.SymbolStream(pl.DP_16QAM, SNR_DB, seed=3, linewidth_symbol_period=LW, carrier_recovery=cr)
    a = s.run(40_000) + s.run(60_000)
    b = pl.SymbolStream(pl.DP_16QAM, SNR_DB, seed=3, linewidth_symbol_period=LW, carrier_recovery=cr).run(100_000)
    assert (a.symbols, a.bit_errors, a.cycle_slips) == (b.symbols, b.bit_errors, b.cycle_slips)


def test_pilots_do_not_bias_the_data_ber():
    """Same recovery with and without pilots, slip-free (61-symbol window): the data BER agrees
    within the intervals (pilots sit on the outer corners; they are not counted)."""
    blind = _run(CarrierRecovery("blind-phase-search", 61, 32), seed=2)
    piloted = _run(CarrierRecovery("blind-phase-search", 61, 32, pilot_period=32), seed=2)
    assert blind.cycle_slips == 0 and piloted.cycle_slips == 0
    assert piloted.ci[0] <= blind.ber <= piloted.ci[1] or blind.ci[0] <= piloted.ber <= blind.ci[1]


def test_pilots_repair_the_slips_of_a_short_blind_window():
    """The 21-symbol window slips every few thousand symbols at the 400ZR operating point: blind,
    each slip rotates the rest of the stream (BER ~0.4), differential decoding makes a slip cost
    one symbol but doubles the BER; pilots every 32 symbols repair each slip within a pilot or
    two, at a BER near the ideal carrier's. The preset's 61-symbol window does not slip."""
    ideal = pl.DP_16QAM.ber_awgn(SNR_DB)
    blind = _run(CarrierRecovery("blind-phase-search", 21, 32))
    diff = _run(CarrierRecovery("blind-phase-search", 21, 32), differential=True)
    piloted = _run(CarrierRecovery("blind-phase-search", 21, 32, pilot_period=ZR_PILOT_PERIOD))
    long = _run(CarrierRecovery("blind-phase-search", 61, 64, pilot_period=ZR_PILOT_PERIOD))
    assert blind.cycle_slips > 30 and blind.ber > 0.1
    assert diff.cycle_slips > 30 and diff.ci[0] > 1.7 * ideal
    assert piloted.cycle_slips > 30 and piloted.ci[1] < 1.35 * ideal
    assert long.cycle_slips == 0 and long.ci[1] < 1.12 * ideal and long.ci[0] > ideal


def test_bad_pilot_settings_are_refused():
    with pytest.raises(ValueError, match="pilot_period"):
        CarrierRecovery(pilot_period=1)
    with pytest.raises(ValueError, match="pilot_period"):
        CarrierRecovery(pilot_period=70_000)
    with pytest.raises(ValueError, match="pilot_average"):
        CarrierRecovery(pilot_period=32, pilot_average=0)
    with pytest.raises(ValueError, match="pilot_average"):
        CarrierRecovery(pilot_period=32, pilot_average=65)
    with pytest.raises(ValueError, match="differential"):
        _run(CarrierRecovery(pilot_period=32), n=1000, differential=True)
    d = CarrierRecovery(pilot_period=32).to_dict()
    assert d["pilot_period"] == 32 and d["pilot_average"] == 2


def test_pilots_with_viterbi_viterbi_small_chunks_and_threads():
    """QPSK with Viterbi-Viterbi and pilots: the same counts whatever the thread count, and a
    BER near the closed form (VV over 31 symbols costs ~15 % at 9 dB; chunks of 1024 symbols: the
    pilots restart with each chunk).
    At this low SNR one pilot alone is too noisy: it makes false repairs, each a slip."""
    cr = CarrierRecovery("viterbi-viterbi", 31, pilot_period=16, pilot_average=4)
    kw = dict(seed=4, linewidth_symbol_period=1e-5, carrier_recovery=cr, _chunk_symbols=1024)
    one = pl.simulate_ber(pl.DP_QPSK, 9.0, 200_000, n_threads=1, **kw)
    two = pl.simulate_ber(pl.DP_QPSK, 9.0, 200_000, n_threads=2, **kw)
    assert (one.symbols, one.bit_errors, one.cycle_slips) == (two.symbols, two.bit_errors, two.cycle_slips)
    assert one.symbols == 200_000 - 200_000 // 16
    ideal = pl.DP_QPSK.ber_awgn(9.0)
    assert one.cycle_slips <= 5 and one.ci[0] <= 1.25 * ideal and ideal <= one.ci[1]
    single = pl.simulate_ber(pl.DP_QPSK, 9.0, 200_000, **{**kw, "carrier_recovery": CarrierRecovery(
        "viterbi-viterbi", 31, pilot_period=16, pilot_average=1)})
    assert single.cycle_slips > 20 and single.ci[0] > 1.5 * ideal
