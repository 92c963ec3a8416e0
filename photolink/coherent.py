"""Coherent-link conversions between optical SNR (OSNR) and the symbol SNR at the decision point.

SNR = OSNR * B_ref / R_s, with B_ref the OSNR reference bandwidth (12.5 GHz for 0.1 nm at
1550 nm) and R_s the symbol rate; OSNR counts the signal power of both polarisations and the
noise of both polarisations in B_ref, so the result is the per-polarisation symbol SNR
(REFERENCE.md, Channel: OSNR -> SNR).
"""
from __future__ import annotations

import numpy as np

from . import _validate as v


def snr_from_osnr(osnr_db, symbol_rate_gbd: float, ref_bw_ghz: float = 12.5):
    """Symbol SNR in dB from OSNR in dB (scalar or array)."""
    osnr = v.real_array("osnr_db", osnr_db, lo=-50.0, hi=100.0)
    rs = v.real("symbol_rate_gbd", symbol_rate_gbd, lo=1e-3, hi=1e4)
    bw = v.real("ref_bw_ghz", ref_bw_ghz, lo=1e-3, hi=1e4)
    out = osnr + 10 * np.log10(bw / rs)
    return float(out) if out.ndim == 0 else out


def osnr_from_snr(snr_db, symbol_rate_gbd: float, ref_bw_ghz: float = 12.5):
    """OSNR in dB (in ``ref_bw_ghz``) giving symbol SNR ``snr_db`` (scalar or array)."""
    snr = v.real_array("snr_db", snr_db, lo=-50.0, hi=100.0)
    rs = v.real("symbol_rate_gbd", symbol_rate_gbd, lo=1e-3, hi=1e4)
    bw = v.real("ref_bw_ghz", ref_bw_ghz, lo=1e-3, hi=1e4)
    out = snr - 10 * np.log10(bw / rs)
    return float(out) if out.ndim == 0 else out
