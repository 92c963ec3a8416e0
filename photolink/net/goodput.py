"""What FEC failures and retries leave of a link's rate: the capacity the flow-level modes share.

A packet of ``packet_bytes`` spans n codewords and fails with P = 1 - (1 - CWER)^n. With
link-level retry, each failed packet is resent after the replay time r, so a packet of
serialisation time s holds the link s + P/(1 - P) x (s + r) on average
([ref:photolink-llr-goodput]).
"""
from __future__ import annotations

import math

import numpy as np

from .topology import Topology

__all__ = ["GOODPUT", "keep_log", "llr_capacity", "packet_failure"]

#: Goodput models of the flow-level modes: link-level retry, end-to-end resend, none.
GOODPUT = ("llr", "e2e", "none")
#: Largest failure probability used in 1 / (1 - P) (a link that always fails still divides).
_P_MAX = 1 - 1e-15


def packet_failure(topology: Topology, packet_bytes: float) -> np.ndarray:
    """Probability that a packet fails on each directed link: 1 - (1 - CWER)^codewords."""
    out = []
    for m in topology.tiers:
        n = math.ceil(8.0 * packet_bytes / m.codeword_bits) if m.codeword_bits else 1
        out.append(-math.expm1(n * math.log1p(-m.cwer)) if m.cwer < 1 else 1.0)
    return np.array(out)[topology.link_tier]


def llr_capacity(rate_bytes_per_ns: np.ndarray, failure: np.ndarray, packet_bytes: float,
                 replay_ns: np.ndarray) -> np.ndarray:
    """Per link: the rate left when every failed packet is resent by the link after ``replay_ns``."""
    ser = packet_bytes / rate_bytes_per_ns
    return rate_bytes_per_ns * ser / (ser + failure / (1.0 - np.minimum(failure, _P_MAX)) * (ser + replay_ns))


def keep_log(failure: np.ndarray) -> np.ndarray:
    """Per link: log of the probability that a packet crosses it (end-to-end resend)."""
    return np.log1p(-np.minimum(failure, _P_MAX))
