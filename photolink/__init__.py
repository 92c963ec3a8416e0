"""photolink: packet-level emulation of data-centre links for AI clusters.

Physical layer (PAM/QAM streams, equalisers, FEC) to what a cluster sees (frame loss,
jitter, tail latency, energy per bit).
"""
from . import traffic
from .channel import Channel, Equalizer
from .coherent import CarrierRecovery, osnr_from_snr, snr_from_osnr
from .estimate import BerEstimate, estimate_ber
from .formats import DP_16QAM, DP_64QAM, DP_QPSK, NRZ, PAM, PAM2, PAM4, PAM8, QAM, QPSK, q_function
from .links import Link, LinkReport
from .path import E2E, LLR, Path, PathResult, Switch
from .stream import BerResult, SymbolStream, simulate_ber
from .sweeps import SweepInterrupted, SweepResult, sweep

__version__ = "0.1.0"

__all__ = [
    "BerEstimate", "BerResult", "CarrierRecovery", "Channel", "DP_16QAM", "DP_64QAM", "DP_QPSK",
    "E2E", "Equalizer", "LLR", "Link", "LinkReport", "NRZ", "PAM", "PAM2", "PAM4", "PAM8", "Path",
    "PathResult", "QAM", "QPSK", "Switch", "SymbolStream", "estimate_ber", "osnr_from_snr",
    "SweepInterrupted", "SweepResult", "q_function", "simulate_ber", "snr_from_osnr", "sweep",
    "traffic",
]
