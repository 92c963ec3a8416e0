"""Chase-2 soft decoding of the extended Hamming(128,120) inner code (csrc/chase.c) and its
measured threshold against the hard SEC-DED decoder."""
import numpy as np
import pytest

from photolink.fec import KP4_INNER_HAMMING, chase
from photolink.fec.inner import ExtendedHamming
from photolink.symbols.formats import NRZ, PAM4


def _words(n, seed=1):
    gen = np.random.default_rng(seed)
    return chase._encode(gen.integers(0, 2, size=(n, 120), dtype=np.uint8)), gen


def test_encoded_words_are_codewords_of_the_hard_decoder():
    words, _ = _words(200)
    assert not ExtendedHamming().decode_errors(np.zeros_like(words)).any()
    assert (words.sum(axis=1) % 2 == 0).all()


def test_with_no_test_bits_chase_is_the_hard_decoder():
    words, gen = _words(500)
    err = (gen.random(words.shape) < 0.01).astype(np.uint8)
    rel = gen.random(words.shape)
    out = chase.decode_chase(words ^ err, rel, test_bits=0)
    assert np.array_equal(out ^ words, ExtendedHamming().decode_errors(err))


def test_chase_corrects_double_errors_on_the_least_reliable_bits():
    words, gen = _words(300)
    rel = gen.random(words.shape) + 1.0
    err = np.zeros_like(words)
    for i in range(words.shape[0]):
        a, b = gen.choice(128, size=2, replace=False)
        err[i, [a, b]] = 1
        rel[i, [a, b]] = 0.1                                  # the two wrong bits are the weakest
    assert ExtendedHamming().decode_errors(err).any(axis=1).all()         # hard: detected, left
    assert np.array_equal(chase.decode_chase(words ^ err, rel), words)   # Chase: corrected


def test_bad_input_is_refused():
    words, _ = _words(2)
    rel = np.ones(words.shape)
    with pytest.raises(ValueError, match="0/1"):
        chase.decode_chase(words * 2, rel)
    with pytest.raises(ValueError, match="reliability"):
        chase.decode_chase(words, -rel)
    with pytest.raises(ValueError, match="shape"):
        chase.decode_chase(words[:, :64], rel[:, :64])
    with pytest.raises(ValueError, match="test_bits"):
        chase.decode_chase(words, rel, test_bits=11)
    assert chase.decode_chase(words[:0], rel[:0]).shape == (0, 128)
    with pytest.raises(ValueError, match="tile"):
        chase.simulate_inner(pytest.importorskip("photolink").PAM8, 20.0, 10, seed=1)
    with pytest.raises(ValueError, match="decoder"):
        chase.simulate_inner(PAM4, 20.0, 10, seed=1, decoder="soft")


@pytest.mark.slow
def test_measured_thresholds_hard_matches_the_analytic_model_and_chase_is_3x_higher():
    hard, _ = chase.measured_threshold(PAM4, "hard", (16.0, 16.6), 20_000, seed=3)
    soft, pts = chase.measured_threshold(PAM4, "chase", (14.4, 15.0), 20_000, seed=4)
    # the hard decoder's Monte-Carlo threshold is the analytic one of KP4_INNER_HAMMING (1.46e-3)
    assert hard == pytest.approx(KP4_INNER_HAMMING.threshold_ber, rel=0.1)
    # Chase-2 (6 test bits) over PAM4: ~5e-3, the ~4.8e-3 estimate of [ref:dj-inner-code-soft]
    assert 4.0e-3 < soft < 6.5e-3 and soft > 3 * hard
    assert all(p.symbol_errors > 100 for p in pts)


def test_simulation_is_reproducible_and_nrz_works():
    a = chase.simulate_inner(NRZ, 9.0, 2000, seed=5)
    b = chase.simulate_inner(NRZ, 9.0, 2000, seed=5)
    assert a == b and a.channel_bit_errors > 0 and a.symbol_errors < a.channel_bit_errors


def test_chase_link_code_has_the_measured_threshold_and_tracks_the_simulation():
    """KP4_INNER_CHASE is the link FEC option: its threshold is the measured 4.9e-3
    [ref:dj-inner-code-soft], 3.4x the hard decoder's, and near the threshold its post-inner
    symbol error ratio follows the Chase-2 simulation within a factor 1.5."""
    from photolink import fec
    soft, hard = fec.KP4_INNER_CHASE, fec.KP4_INNER_HAMMING
    assert soft.threshold_ber == pytest.approx(fec.inner.CHASE_THRESHOLD_BER, rel=1e-3)
    assert soft.threshold_ber / hard.threshold_ber == pytest.approx(3.36, rel=0.02)
    assert soft.overhead == hard.overhead and soft.codeword_bits == hard.codeword_bits
    r = chase.simulate_inner(PAM4, 14.7, 20_000, seed=5)
    model = soft.symbol_error_rate(r.channel_ber)
    assert r.symbol_error_ci[0] / 1.5 < model < r.symbol_error_ci[1] * 1.5
    assert hard.symbol_error_rate(r.channel_ber) > 3 * r.symbol_error_ci[1]  # hard is far worse
    with pytest.raises(ValueError, match="inner_decoder"):
        fec.ConcatenatedCode(fec.KP4, fec.ExtendedHamming(), inner_decoder="soft")
