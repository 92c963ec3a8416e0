"""photolink: packet-level emulation of data-centre links for AI clusters.

Physical layer (PAM/QAM streams, equalisers, FEC) to what a cluster sees (frame loss,
jitter, tail latency, energy per bit).
"""
from .channel import Channel, Equalizer
from .estimate import BerEstimate, estimate_ber
from .formats import NRZ, PAM, PAM2, PAM4, PAM8, q_function
from . import traffic
from .path import E2E, LLR, Path, PathResult, Switch
from .stream import BerResult, SymbolStream, simulate_ber

__version__ = "0.1.0"

__all__ = [
    "BerEstimate", "BerResult", "Channel", "Equalizer", "NRZ", "PAM", "PAM2", "PAM4", "PAM8",
    "SymbolStream", "estimate_ber", "q_function", "simulate_ber",
    "E2E", "LLR", "Path", "PathResult", "Switch", "traffic",
]
