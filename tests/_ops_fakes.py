"""Stand-ins for photolink.links, photolink.path and photolink.traffic, shaped like their
contracts (issue 7 brief), so the link/path case kinds, configs and the demo can be exercised
before those modules land. The figures are toy numbers, not physics."""
from __future__ import annotations

import dataclasses
import math
import types
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Report:
    pre_fec_ber: float
    cwer: float
    energy_pj_per_bit: float
    power_w: float
    latency_ns: float
    reach_m: float
    margin_db: float
    energy_breakdown_pj_per_bit: dict = field(default_factory=dict)

    def frame_loss_ratio(self, frame_bytes):
        return -math.expm1((1 + 8 * frame_bytes / 5140) * math.log1p(-self.cwer))

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Link:
    name: str
    pre_fec_ber: float
    reach_m: float
    dsp_pj_per_bit: float
    optics_pj_per_bit: float
    latency_ns: float

    def evaluate(self):
        cwer = min(1.0, (self.pre_fec_ber / 2.4e-4) ** 16 * 1e-12)
        e = {"dsp": self.dsp_pj_per_bit, "optics": self.optics_pj_per_bit}
        return Report(self.pre_fec_ber, cwer, sum(e.values()), sum(e.values()) * 800e9 * 1e-12,
                      self.latency_ns, self.reach_m, 3.0, e)


PRESETS = {
    "dac-800g": Link("dac-800g", 1e-5, 2.0, 0.5, 0.0, 20.0),
    "dr4-800g": Link("dr4-800g", 2e-4, 500.0, 10.0, 8.0, 120.0),
    "lpo-800g": Link("lpo-800g", 2.2e-4, 100.0, 1.0, 8.0, 20.0),
    "cpo-800g": Link("cpo-800g", 1e-4, 100.0, 0.5, 4.5, 15.0),
}


def preset(name):
    if name not in PRESETS:
        raise KeyError(name)
    return PRESETS[name]


def presets():
    return list(PRESETS)


@dataclass(frozen=True)
class Switch:
    latency_ns: float
    mode: str = "cut-through"


@dataclass(frozen=True)
class Poisson:
    load: float
    packet_bytes: int
    size_distribution: str = "fixed"


@dataclass(frozen=True)
class PathResult:
    n_packets: int
    lost: int
    loss_ratio: float
    ci: tuple
    mean_latency_ns: float
    latency_percentiles_ns: dict
    latencies_ns: np.ndarray | None = None

    def to_dict(self):                     # the key layout of the path branch's PathResult
        return {"n_packets": self.n_packets, "delivered": self.n_packets - self.lost,
                "lost": self.lost, "loss_ratio": self.loss_ratio, "loss_ci_low": self.ci[0],
                "loss_ci_high": self.ci[1],
                **{f"latency_{k}_ns": x for k, x in self.latency_percentiles_ns.items()},
                "mean_latency_ns": self.mean_latency_ns, "mode": "statistical",
                "recovery": "drop", "hops": [{"index": 0}]}


class Path:
    def __init__(self, hops):
        self.hops = list(hops)

    def run(self, traffic, n_packets, *, seed, mode=None, recovery=None, return_latencies=False):
        from photolink.stats import clopper_pearson
        rng = np.random.default_rng(seed)
        links = [h for h in self.hops if isinstance(h, Link)]
        fixed = sum(h.latency_ns for h in self.hops)
        service = traffic.packet_bytes * 8 / 800.0
        wait = rng.exponential(service * traffic.load / (1 - min(traffic.load, 0.99)),
                               (n_packets, len(links))).sum(axis=1)
        lat = fixed + len(links) * service + wait
        p = 1 - np.prod([1 - l.evaluate().frame_loss_ratio(traffic.packet_bytes) for l in links])
        lost = int(rng.binomial(n_packets, p))
        q = np.quantile(lat, [0.5, 0.99, 0.999])
        return PathResult(n_packets, lost, lost / n_packets, clopper_pearson(lost, n_packets),
                          float(lat.mean()), {"p50": q[0], "p99": q[1], "p99.9": q[2]},
                          lat if return_latencies else None)


def install(monkeypatch):
    """Put the stand-ins in place of photolink.links, .path and .traffic for one test."""
    import sys

    import photolink
    mods = {"links": {"Link": Link, "preset": preset, "presets": presets},
            "path": {"Path": Path, "Switch": Switch},
            "traffic": {"Poisson": Poisson}}
    for name, attrs in mods.items():
        m = types.ModuleType(f"photolink.{name}")
        m.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, f"photolink.{name}", m)
        monkeypatch.setattr(photolink, name, m, raising=False)
