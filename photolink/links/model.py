"""What a packet-level path needs to know about one link: the contract between links and paths.

:class:`photolink.links.Link` (and anything else that can be a hop) provides
``link_model() -> LinkModel``; :mod:`photolink.net.path` consumes only this.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from .._util import validate as v


@dataclass(frozen=True)
class LinkModel:
    """One link as a packet sees it.

    Parameters
    ----------
    name : str
    rate_gbps : float
        Data rate available to packets (all lanes, after FEC overhead), Gb/s.
    latency_ns : Mapping[str, float]
        Fixed latency components in ns (propagation, PCS/FEC, DSP, retimers, ...), excluding
        serialisation, which the path computes from packet size and rate.
    codeword_bits : int
        Payload bits per FEC codeword (0 when the link has no FEC: then errors are per frame).
    cwer : float
        Probability that a codeword fails (is uncorrectable); independent from codeword to codeword.
    fec_hold_ns : float
        Time a receiver must hold data before forwarding it (a whole codeword for FEC): what turns
        cut-through into partly store-and-forward.
    codeword_failures : callable, optional
        ``f(n_codewords, seed) -> bool array`` of exact codeword outcomes, for the path's exact mode.
    """

    name: str
    rate_gbps: float
    latency_ns: Mapping[str, float] = field(default_factory=dict)
    codeword_bits: int = 0
    cwer: float = 0.0
    fec_hold_ns: float = 0.0
    codeword_failures: Callable[[int, object], np.ndarray] | None = None

    def __post_init__(self):
        v.real("rate_gbps", self.rate_gbps, lo=1e-3, hi=1e6)
        if not isinstance(self.latency_ns, Mapping):
            raise TypeError(f"latency_ns must be a mapping of component name to ns, got "
                            f"{type(self.latency_ns).__name__} {self.latency_ns!r}")
        for part, ns in self.latency_ns.items():
            v.real(f"latency_ns[{part!r}]", ns, lo=0.0, hi=1e9)
        v.integer("codeword_bits", self.codeword_bits, lo=0, hi=1 << 30)
        v.real("cwer", self.cwer, lo=0.0, hi=1.0)
        v.real("fec_hold_ns", self.fec_hold_ns, lo=0.0, hi=1e9)
        if self.codeword_failures is not None and not callable(self.codeword_failures):
            raise TypeError(f"codeword_failures must be None or a callable f(n_codewords, seed), got "
                            f"{self.codeword_failures!r}")

    @property
    def fixed_latency_ns(self) -> float:
        """Sum of the fixed latency components."""
        return float(sum(self.latency_ns.values()))

    @classmethod
    def ideal(cls, rate_gbps: float, propagation_ns: float = 0.0, name: str = "ideal") -> "LinkModel":
        """An error-free link with only a rate and a propagation delay."""
        return cls(name=name, rate_gbps=rate_gbps, latency_ns={"propagation": propagation_ns})
