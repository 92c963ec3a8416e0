"""Symbols: modulation formats, channels and equalisers, symbol streams, rare-error estimates.

:mod:`~photolink.symbols.formats` (PAM-M, DP-QAM, closed forms), :mod:`~photolink.symbols.channel`
(pulse responses, FFE/DFE design), :mod:`~photolink.symbols.pulse` (S-parameters and Touchstone
files to oversampled pulse responses), :mod:`~photolink.symbols.eye` (2-D statistical eye, bathtub),
:mod:`~photolink.symbols.stream` (the C stream kernels),
:mod:`~photolink.symbols.carrier` and :mod:`~photolink.symbols.coherent` (phase noise, carrier
recovery, OSNR), :mod:`~photolink.symbols.estimate` (importance sampling, statistical eye).
"""
from .carrier import CarrierRecovery
from .channel import Channel, Equalizer
from .coherent import osnr_from_snr, snr_from_osnr
from .estimate import BerEstimate, estimate_ber
from .formats import (
    DP_16QAM,
    DP_64QAM,
    DP_QPSK,
    NRZ,
    PAM,
    PAM2,
    PAM4,
    PAM8,
    QAM,
    QPSK,
    q_function,
)
from .stream import BerResult, SymbolStream, simulate_ber

__all__ = [
    "BerEstimate", "BerResult", "CarrierRecovery", "Channel", "DP_16QAM", "DP_64QAM", "DP_QPSK",
    "Equalizer", "NRZ", "PAM", "PAM2", "PAM4", "PAM8", "QAM", "QPSK", "SymbolStream",
    "estimate_ber", "osnr_from_snr", "q_function", "simulate_ber", "snr_from_osnr",
]
