"""Coherent-link FEC (400ZR cFEC, OpenZR+ oFEC) as threshold-and-waterfall MODELS.

These are models, not decoders: no codeword is encoded or decoded. Each code is described by
its documented pre-FEC BER threshold (the input BER at which the post-FEC BER is 1e-15,
[ref:zr-cfec], [ref:openzr-ofec]) and a waterfall: post-FEC BER falls by ``decades_per_db`` decades per
dB of Q-factor above the threshold and rises as fast below it, never above the pre-FEC BER.

    Q_dB(ber) = 20 log10( sqrt(2) erfcinv(2 ber) )
    log10 post = log10(post_at_threshold) - decades_per_db (Q_dB(ber) - Q_dB(threshold))

The waterfall slope is a photolink modelling choice (E), not a published figure: soft-decision
staircase / oFEC codes go from ~1e-3 to 1e-15 within about a dB of Q. Post-FEC bit errors are
treated as independent, so the "codeword" of these models is one bit: ``cwer_from_ber`` is the
post-FEC BER and ``frame_loss_ratio`` is 1 - (1 - BER)^(8 L), which overstates frame loss
when real residual errors cluster.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from .._util import validate as v


def q_db_from_ber(ber):
    """BPSK-equivalent Q-factor in dB, 20 log10(sqrt(2) erfcinv(2 ber)); ber in (0, 0.5)."""
    ber = v.real_array("ber", ber, lo=1e-300, hi=0.5)
    q = np.sqrt(2.0) * special.erfcinv(2.0 * np.minimum(ber, 0.5 - 1e-16))
    return 20.0 * np.log10(np.maximum(q, 1e-300))


@dataclass(frozen=True)
class CoherentFEC:
    """Threshold-and-waterfall model of a coherent FEC (a model, not a decoder).

    Parameters
    ----------
    name : str
    threshold_ber : float
        Pre-FEC BER at which the post-FEC BER equals ``post_ber_at_threshold``.
    overhead : float
        Line rate over client rate minus 1.
    post_ber_at_threshold : float
        1e-15 for both documented codes.
    decades_per_db : float
        Waterfall slope in decades of post-FEC BER per dB of Q-factor (E, model choice).
    decode_ns : float
        Decoder latency, ns.
    source : str
    """

    name: str
    threshold_ber: float
    overhead: float
    post_ber_at_threshold: float = 1e-15
    decades_per_db: float = 10.0
    decode_ns: float = 0.0
    source: str = ""

    message_bits = 1  # the model's "codeword" is one post-FEC bit

    def __post_init__(self):
        v.real("threshold_ber", self.threshold_ber, lo=1e-9, hi=0.2)
        v.real("overhead", self.overhead, lo=0.0, hi=2.0)
        v.real("post_ber_at_threshold", self.post_ber_at_threshold, lo=1e-30, hi=1e-3)
        v.real("decades_per_db", self.decades_per_db, lo=0.1, hi=1e3)
        v.real("decode_ns", self.decode_ns, lo=0.0, hi=1e8)

    @property
    def codeword_bits(self) -> float:
        return 1.0 + self.overhead

    def post_fec_ber(self, pre_ber):
        """Modelled post-FEC BER for a pre-FEC BER (scalar or array), never above ``pre_ber``."""
        pre = v.real_array("pre_ber", pre_ber, lo=0.0, hi=0.5)
        with np.errstate(divide="ignore"):
            q = q_db_from_ber(np.maximum(pre, 1e-300))
        q_th = float(q_db_from_ber(self.threshold_ber))
        log_post = math.log10(self.post_ber_at_threshold) - self.decades_per_db * (q - q_th)
        out = np.where(pre > 0, np.minimum(10.0 ** np.clip(log_post, -300.0, 0.0), pre), 0.0)
        return float(out) if out.ndim == 0 else out

    def cwer_from_ber(self, ber):
        """The post-FEC BER (the model's block is one bit)."""
        return self.post_fec_ber(ber)

    def max_ber(self, target_post_ber: float = 1e-15) -> float:
        """Largest pre-FEC BER whose modelled post-FEC BER is at most ``target_post_ber``."""
        target = v.real("target_post_ber", target_post_ber, lo=1e-300, hi=0.1)
        f = lambda lb: math.log10(self.post_fec_ber(10.0**lb)) - math.log10(target)  # noqa: E731
        return 10.0 ** optimize.brentq(f, -15.0, math.log10(0.49), xtol=1e-13)

    def codewords_per_frame(self, frame_bytes) -> float:
        """Bits of a frame (the model's block is one bit)."""
        return 8.0 * v.real("frame_bytes", frame_bytes, lo=1, hi=1e9)

    def frame_loss_ratio(self, cwer, frame_bytes):
        """1 - (1 - post_ber)^(8 L): a frame is lost when any of its bits is wrong."""
        cwer = v.real_array("cwer", cwer, lo=0.0, hi=1.0)
        out = -np.expm1(self.codewords_per_frame(frame_bytes) * np.log1p(-np.minimum(cwer, 1 - 1e-16)))
        return float(out) if out.ndim == 0 else out

    def latency_ns(self, lane_rate_gbps: float = 1.0, lanes: int = 1) -> float:
        """The documented decoder latency (the block accumulation is inside that figure)."""
        v.real("lane_rate_gbps", lane_rate_gbps, lo=0.001, hi=1e5)
        v.integer("lanes", lanes, lo=1, hi=1024)
        return self.decode_ns

    def __str__(self) -> str:
        return self.name


#: OIF 400ZR concatenated FEC (cFEC): 1.25e-2 -> 1e-15; 478.75 Gb/s line for 400GbE, so the
#: overhead here (19.7 %) includes the 400ZR framing as well as the FEC parity.
CFEC_400ZR = CoherentFEC(
    name="400ZR cFEC (model)", threshold_ber=1.25e-2, overhead=478.75 / 400.0 - 1.0,
    decode_ns=8000.0,
    source="[ref:zr-cfec] 400ZR cFEC 1.25e-2 -> 1e-15, 478.75 Gb/s line (D; one source says "
           "4.5e-3); [ref:zr-module-latency] 400ZR module DSP + FEC ~8 us (D); waterfall slope [ref:photolink-fec-waterfall] E (model)")
#: OpenZR+ oFEC: 2.0e-2 -> 1e-15, ~15.3 % overhead.
OFEC = CoherentFEC(
    name="OpenZR+ oFEC (model)", threshold_ber=2.0e-2, overhead=0.153,
    decode_ns=8000.0,
    source="[ref:openzr-ofec] OpenZR+ oFEC 2.0e-2 -> 1e-15, ~15.3 % overhead (S, secondary copy); "
           "latency taken as the 400ZR module's ~8 us [ref:zr-module-latency] (D, assumed alike); waterfall slope [ref:photolink-fec-waterfall] E (model)")
#: 800ZR's oFEC: the OpenZR+ code's threshold, with the line overhead of 800ZR (DP-16QAM at
#: 118.2 GBd carries 945.6 Gb/s for 800GbE: FEC parity and framing, 18.2 %) [ref:800zr-oif].
OFEC_800ZR = CoherentFEC(
    name="800ZR oFEC (model)", threshold_ber=2.0e-2, overhead=118.2 * 8 / 800.0 - 1.0,
    decode_ns=8000.0,
    source="[ref:800zr-oif] 800ZR: DP-16QAM 118.2 GBd, oFEC (E); [ref:openzr-ofec] oFEC 2.0e-2 -> 1e-15 (S, secondary "
           "copy); latency taken as the 400ZR module's ~8 us [ref:zr-module-latency] (D, assumed alike); waterfall "
           "slope [ref:photolink-fec-waterfall] E (model)")
