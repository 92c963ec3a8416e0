"""Closed forms of PAM against independent evaluation with scipy.stats and [ref:pam4-snr-points] figures."""
import numpy as np
import pytest
from scipy import integrate, stats

import photolink as pl
from photolink.symbols.formats import SNR_DB_RANGE


def independent_pam_ber(M, snr_db):
    """Gray BER by summing P[region j | level i] from scipy.stats.norm with explicit labels."""
    levels = np.arange(-(M - 1), M, 2.0)
    sigma = np.sqrt((M**2 - 1) / 3 / 10 ** (snr_db / 10))
    labels = [i ^ (i >> 1) for i in range(M)]
    edges = np.concatenate([[-np.inf], np.arange(-M + 2, M - 1, 2.0), [np.inf]])
    total = 0.0
    for i, a in enumerate(levels):
        for j in range(M):
            if j == i:
                continue
            lo, hi = edges[j], edges[j + 1]
            if j > i:   # upper tail: survival functions keep precision
                p = stats.norm.sf(lo, a, sigma) - stats.norm.sf(hi, a, sigma)
            else:
                p = stats.norm.cdf(hi, a, sigma) - stats.norm.cdf(lo, a, sigma)
            total += p * bin(labels[i] ^ labels[j]).count("1")
    return total / (M * np.log2(M))


@pytest.mark.parametrize("M", [2, 4, 8, 16])
def test_pam_ber_matches_independent_sum_from_1e_2_to_1e_15(M):
    fmt = pl.PAM(M)
    lo_snr, hi_snr = fmt.snr_db_for_ber(1e-2), fmt.snr_db_for_ber(1e-15)
    for snr in np.linspace(lo_snr, hi_snr, 9):
        assert fmt.ber_awgn(snr) == pytest.approx(independent_pam_ber(M, snr), rel=1e-9)
    assert fmt.ber_awgn(hi_snr) == pytest.approx(1e-15, rel=1e-6)


@pytest.mark.parametrize("M", [2, 4, 8])
def test_pam_ser_matches_numerical_integration(M):
    fmt = pl.PAM(M)
    for snr in (8.0, 14.0, 18.0):
        sigma = fmt.noise_sigma(snr)
        # Inner levels err on both sides, the two outer levels on one side.
        p_side = integrate.quad(stats.norm(0, sigma).pdf, 1.0, np.inf)[0]
        expected = ((M - 2) * 2 * p_side + 2 * p_side) / M
        assert fmt.ser_awgn(snr) == pytest.approx(expected, rel=1e-7)


def test_pam4_reference_points():
    # [ref:pam4-snr-points]: PAM4 BER 2.4e-4 ~ 17.66 dB, 1e-6 ~ 20.42 dB, 1e-12 ~ 23.88 dB (BER ~ SER/2).
    for ber, snr in [(2.4e-4, 17.66), (1e-6, 20.42), (1e-12, 23.88)]:
        assert pl.PAM4.snr_db_for_ber(ber) == pytest.approx(snr, abs=0.02)
    assert pl.PAM4.ser_awgn(17.66) == pytest.approx(1.5 * pl.q_function(np.sqrt(10**1.766 / 5)))


def test_closed_forms_take_arrays_and_scalars():
    snr = np.array([[10.0, 12.0], [14.0, 16.0]])
    ber = pl.PAM4.ber_awgn(snr)
    assert ber.shape == (2, 2) and isinstance(pl.PAM4.ber_awgn(12.0), float)
    assert ber[0, 1] == pl.PAM4.ber_awgn(12.0)
    assert np.all(np.diff(ber.ravel()) < 0)


def test_levels_labels_power():
    assert pl.PAM4.levels.tolist() == [-3, -1, 1, 3]
    assert pl.PAM4.labels.tolist() == [0b00, 0b01, 0b11, 0b10]
    assert pl.PAM8.bits_per_symbol == 3 and pl.PAM4.mean_power == 5.0
    assert np.mean(pl.PAM8.levels**2) == pl.PAM8.mean_power


def test_bad_formats_and_snr():
    for bad in (3, 6, 1, 0, 128):
        with pytest.raises(ValueError, match="M must"):
            pl.PAM(bad)
    with pytest.raises(TypeError, match="M must be an integer"):
        pl.PAM(4.5)
    with pytest.raises(TypeError):
        pl.PAM("4")
    for bad in (np.nan, np.inf, SNR_DB_RANGE[1] + 1):
        with pytest.raises(ValueError, match="snr_db"):
            pl.PAM4.ber_awgn(bad)
    with pytest.raises(ValueError, match="snr_db"):
        pl.PAM4.ber_awgn([10.0, np.nan])
