"""Reed-Solomon codec over GF(2^10): conventions, encoder, decoder, closed forms, bad input.

Conventions (IEEE 802.3 clause 91): primitive polynomial x^10 + x^3 + 1, alpha = x,
g(x) = prod_{j=0}^{2t-1} (x - alpha^j), systematic, message first, symbol 0 = coefficient of
x^(n-1). Independent oracle: the ``galois`` package (RS(1023, 1023-2t) with c=0, shortened).
"""
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photolink import fec

galois = pytest.importorskip("galois")
GF = galois.GF(2**10, irreducible_poly="x^10+x^3+1")

CODES = [fec.KP4, fec.KR4, fec.RS272, fec.RS(30, 20), fec.RS(9, 1)]

#: g(x) of RS(544,514), highest degree first (IEEE 802.3 clause 91/119 KP4).
KP4_GENERATOR = [1, 575, 552, 187, 230, 552, 1, 108, 565, 282, 249, 593, 132, 94, 720, 495, 385,
                 942, 503, 883, 361, 788, 610, 193, 392, 127, 185, 158, 128, 834, 523]
#: Test vector: message symbol i = i for i = 0..513 -> the 30 KP4 parity symbols.
KP4_PARITY_OF_RAMP = [76, 598, 13, 552, 444, 804, 166, 690, 397, 790, 68, 2, 783, 894, 33, 520,
                      333, 656, 603, 617, 60, 946, 505, 632, 606, 741, 10, 595, 750, 987]


def _galois_rs(code):
    return galois.ReedSolomon(1023, 1023 - (code.n - code.k), field=GF, c=0)


def _gf_mul(a, b):
    """Carry-less multiply modulo x^10 + x^3 + 1: an oracle independent of both codecs."""
    r = 0
    while b:
        if b & 1:
            r ^= a
        b >>= 1
        a <<= 1
        if a & 1024:
            a ^= 0x409
    return r


def test_generator_polynomial_and_test_vector():
    assert fec.KP4.generator.tolist() == KP4_GENERATOR
    # the roots of g are alpha^0 .. alpha^29, evaluated with a plain carry-less multiply
    for j in range(30):
        a_j = 1
        for _ in range(j):
            a_j = _gf_mul(a_j, 2)
        val = 0
        for coef in KP4_GENERATOR:
            val = _gf_mul(val, a_j) ^ coef
        assert val == 0, j
    cw = fec.KP4.encode(np.arange(514))
    assert cw[:514].tolist() == list(range(514))
    assert cw[514:].tolist() == KP4_PARITY_OF_RAMP


@pytest.mark.slow
@pytest.mark.parametrize("code", CODES, ids=str)
def test_encoder_matches_galois(code):
    rs = _galois_rs(code)
    assert np.array_equal(code.generator, rs.generator_poly.coeffs)
    msg = np.random.default_rng(code.n).integers(0, 1024, (7, code.k))
    cw = code.encode(msg)
    assert cw.dtype == np.uint16 and cw.shape == (7, code.n)
    assert np.array_equal(cw, np.array(rs.encode(GF(msg))))
    assert code.is_codeword(cw).all()


@pytest.mark.parametrize("code", CODES, ids=str)
def test_syndromes_match_direct_evaluation(code):
    from photolink.fec.rs import _codec
    rng = np.random.default_rng(5)
    words = rng.integers(0, 1024, (3, code.n)).astype(np.uint16)
    syn = _codec(code).syndromes(words)
    alpha = GF.primitive_element
    for w, s in zip(words, syn):
        poly = galois.Poly(GF(w.astype(int)))
        assert s.tolist() == [int(poly(alpha**j)) for j in range(code.n - code.k)]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CODES), st.integers(0, 2**32 - 1), st.data())
def test_every_pattern_of_up_to_t_errors_is_corrected(code, seed, data):
    rng = np.random.default_rng(seed)
    n_err = data.draw(st.integers(0, code.t))
    sent = code.encode(rng.integers(0, 1024, code.k))
    recv = sent.copy()
    pos = rng.choice(code.n, n_err, replace=False)
    recv[pos] ^= rng.integers(1, 1024, n_err).astype(np.uint16)
    out = code.decode(recv, sent=sent)
    assert np.array_equal(out.codewords, sent)
    assert out.corrected[0] == n_err and not out.failed[0] and not out.miscorrected[0]


@pytest.mark.parametrize("code", [fec.KP4, fec.KR4, fec.RS272, fec.RS(30, 20)], ids=str)
def test_batch_of_up_to_t_errors_including_bursts(code):
    rng = np.random.default_rng(9)
    b = 400
    sent = code.encode(rng.integers(0, 1024, (b, code.k)))
    recv = sent.copy()
    n_err = rng.integers(0, code.t + 1, b)
    for i in range(b):
        if i % 2:   # a burst of consecutive symbols
            start = rng.integers(0, code.n - n_err[i] + 1)
            pos = np.arange(start, start + n_err[i])
        else:
            pos = rng.choice(code.n, n_err[i], replace=False)
        recv[i, pos] ^= rng.integers(1, 1024, pos.size).astype(np.uint16)
    before = recv.copy()
    out = code.decode(recv, sent=sent)
    assert np.array_equal(recv, before)              # input untouched
    assert np.array_equal(out.codewords, sent)
    assert np.array_equal(out.corrected, n_err) and out.n_failed == 0 and out.n_miscorrected == 0


@pytest.mark.parametrize("code", [fec.KP4, fec.KR4, fec.RS272, fec.RS(30, 20), fec.RS(1023, 1021)],
                         ids=str)
def test_beyond_t_errors_are_flagged_or_counted_as_miscorrected(code):
    rng = np.random.default_rng(13)
    b = 300
    sent = code.encode(rng.integers(0, 1024, (b, code.k)))
    recv = sent.copy()
    n_err = rng.integers(code.t + 1, 2 * code.t + 1, b)
    for i in range(b):
        pos = rng.choice(code.n, n_err[i], replace=False)
        recv[i, pos] ^= rng.integers(1, 1024, n_err[i]).astype(np.uint16)
    out = code.decode(recv, sent=sent)
    # never returned as correct: every word is either flagged or a counted miscorrection
    assert np.all(out.failed ^ out.miscorrected)
    assert not np.any(np.all(out.codewords == sent, axis=1))
    # a word not flagged is a codeword (other than the one sent); a flagged one is as received
    assert code.is_codeword(out.codewords[~out.failed]).all()
    assert np.array_equal(out.codewords[out.failed], recv[out.failed])
    if code.n == 1023 and code.t == 1:
        # a full-length single-error code turns most double errors into a wrong codeword
        assert out.n_miscorrected > b // 2
    elif code.t >= 7:
        assert out.n_miscorrected == 0          # shortened codes with t >= 7: ~never


def _exact_cwer(n, t, ber: Fraction) -> float:
    ps = 1 - (1 - ber) ** 10
    q = 1 - ps
    return float(1 - sum(comb(n, i) * ps**i * q ** (n - i) for i in range(t + 1)))


@pytest.mark.parametrize("code, ber", [(fec.KP4, Fraction(24, 100000)), (fec.KR4, Fraction(24, 100000)),
                                       (fec.KP4, Fraction(1, 10**5)), (fec.RS272, Fraction(1, 1000)),
                                       (fec.KP4, Fraction(1, 100))], ids=str)
def test_cwer_from_ber_against_exact_binomial_tail(code, ber):
    """Exact rational arithmetic (no floating point until the end), down to ~1e-40."""
    exact = _exact_cwer(code.n, code.t, ber)
    assert code.cwer_from_ber(float(ber)) == pytest.approx(exact, rel=1e-9)


def test_reference_closed_forms_and_design_point():
    """[ref:kp4-cwer] [ref:kr4-cwer] [ref:kp4-frame-loss-interleave]: KP4 at 2.4e-4 ~8.2e-13, KR4 ~5.2e-5; frame loss (64-octet frames)
    < 1.7e-12, 9.2e-13 without interleave, 1.7e-12 2-way, 3.4e-12 4-way (800G)."""
    cw = fec.KP4.cwer_from_ber(2.4e-4)
    assert cw == pytest.approx(8.2e-13, rel=0.02)
    assert fec.KR4.cwer_from_ber(2.4e-4) == pytest.approx(5.2e-5, rel=0.02)
    flr = [fec.KP4.frame_loss_ratio(cw, 64, interleave=i) for i in (1, 2, 4)]
    assert flr[0] < 1.7e-12
    for got, ref in zip(flr, (9.2e-13, 1.7e-12, 3.4e-12)):
        assert got == pytest.approx(ref, rel=0.05)
    assert 2.3e-4 < fec.KP4.threshold_ber < 2.6e-4


def test_decode_result_to_dict():
    sent = fec.KR4.encode(np.zeros((2, 514), int))
    recv = sent.copy()
    recv[0, :3] = 1
    d = fec.KR4.decode(recv, sent=sent).to_dict()
    assert d == {"words": 2, "failed": 0, "miscorrected": 0, "corrected_symbols": 3}


def test_bad_input():
    with pytest.raises(ValueError, match="n - k must be positive and even"):
        fec.RS(514, 514)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 513\]"):
        fec.RS(513, 514)
    with pytest.raises(ValueError, match="n - k must be positive and even"):
        fec.RS(529, 514)
    with pytest.raises(ValueError, match="n must be an integer in"):
        fec.RS(1024, 1000)
    with pytest.raises(ValueError, match=r"messages must have shape \(batch, 514\)"):
        fec.KR4.encode(np.zeros((2, 513), int))
    with pytest.raises(ValueError, match=r"words must have shape \(batch, 544\)"):
        fec.KP4.decode(np.zeros(543, int))
    with pytest.raises(ValueError, match=r"symbols in \[0, 1023\], got 1024"):
        fec.KP4.encode(np.full(514, 1024))
    with pytest.raises(ValueError, match=r"symbols in \[0, 1023\], got -1"):
        fec.KP4.decode(np.full(544, -1))
    with pytest.raises(TypeError, match="integer symbols"):
        fec.KP4.encode(np.zeros(514, float))
    with pytest.raises(ValueError, match="sent must have the shape"):
        fec.KP4.decode(np.zeros((2, 544), int), sent=np.zeros((3, 544), int))
    with pytest.raises(ValueError, match="frame_bytes"):
        fec.KP4.frame_loss_ratio(1e-12, 0)
    with pytest.raises(ValueError, match="frame_bytes"):
        fec.KP4.frame_loss_ratio(1e-12, -64)
    with pytest.raises(ValueError, match="symbol_bits must be 10"):
        fec.RS(200, 190, symbol_bits=8).encode(np.zeros(190, int))
    with pytest.raises(ValueError, match="n - k <= 64"):
        fec.RS(1000, 900).encode(np.zeros(900, int))
