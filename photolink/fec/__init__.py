"""Forward error correction: Reed-Solomon codes, inner codes, coherent FEC models, simulation.

:mod:`~photolink.fec.rs` (RS(n, k) over GF(2^10) in C, KR4/KP4/RS272),
:mod:`~photolink.fec.inner` (extended Hamming inner code, concatenation),
:mod:`~photolink.fec.coherent` (400ZR cFEC and oFEC threshold models),
:mod:`~photolink.fec.simulation` (a stream's errors through the code),
:mod:`~photolink.fec.bursts` (the statistical DFE error-burst model),
:mod:`~photolink.fec.chase` (Chase-2 soft decoding of the inner code in C, and its measured threshold).
"""
from .coherent import CFEC_400ZR, OFEC, OFEC_800ZR, CoherentFEC, q_db_from_ber
from .inner import KP4_INNER_CHASE, KP4_INNER_HAMMING, ConcatenatedCode, ExtendedHamming
from .rs import KP4, KR4, RS, RS272, DecodeResult
from .simulation import FecResult, codeword_failures, simulate

__all__ = [
    "RS", "DecodeResult", "KR4", "KP4", "RS272", "ExtendedHamming", "ConcatenatedCode",
    "KP4_INNER_HAMMING", "KP4_INNER_CHASE", "CoherentFEC", "CFEC_400ZR", "OFEC", "OFEC_800ZR", "q_db_from_ber", "FecResult",
    "simulate", "codeword_failures",
]
