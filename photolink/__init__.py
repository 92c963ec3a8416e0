"""photolink: packet-level emulation of data-centre links for AI clusters.

Physical layer (PAM/QAM streams, equalisers, FEC) to what a cluster sees (frame loss,
jitter, tail latency, energy per bit).
"""
from .channel import Channel, Equalizer
from .estimate import BerEstimate, estimate_ber
from .formats import NRZ, PAM, PAM2, PAM4, PAM8, q_function
from .stream import BerResult, SymbolStream, simulate_ber
from .sweep import SweepInterrupted, SweepResult, sweep

__version__ = "0.1.0"

__all__ = [
    "BerEstimate", "BerResult", "Channel", "Equalizer", "NRZ", "PAM", "PAM2", "PAM4", "PAM8",
    "SymbolStream", "SweepInterrupted", "SweepResult", "estimate_ber", "q_function",
    "simulate_ber", "sweep",
]
