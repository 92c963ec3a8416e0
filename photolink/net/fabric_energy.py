"""Whole-fabric power and the energy of a collective step.

Every directed link of a :class:`~photolink.net.topology.Topology` is one port's worth of power
(a cable is two directed links: its two ends), given per tier as watts or as a link with an
``evaluate()`` report carrying ``power_w`` (a ``photolink.Link``: per port, one end
[ref:coll-port-power]). Every switch draws a fixed power plus ``switch_pj_per_bit`` times the
rate of its output ports. The fabric's power is the sum of these parts, reported part by part;
a step's energy is that power times the step's completion time (links are powered whether they
carry bits or not, as today's SerDes and optics are), and its pJ per useful bit divides by the
collective's payload bits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._util import validate as v
from .topology import Topology

__all__ = ["FabricPower", "StepEnergy", "fabric_power", "step_energy"]


def _tier_w(x, i: int) -> float:
    evaluate = getattr(x, "evaluate", None)
    if callable(evaluate):
        return v.real(f"tier_power_w[{i}].power_w", evaluate().power_w, lo=0.0, hi=1e6)
    return v.real(f"tier_power_w[{i}]", x, lo=0.0, hi=1e6)


@dataclass(frozen=True, eq=False)
class FabricPower:
    """Power of a fabric, part by part.

    Attributes
    ----------
    link_w : numpy.ndarray
        Per directed link (one port).
    switch_w : numpy.ndarray
        Per switch node (in node order).
    tier_w : dict
        Sum over the links of each tier (by tier name).
    links_w, switches_w, total_w : float
    """

    link_w: np.ndarray
    switch_w: np.ndarray
    tier_w: dict
    links_w: float
    switches_w: float
    total_w: float

    def to_dict(self) -> dict:
        return {"tier_w": dict(self.tier_w), "links_w": self.links_w, "switches_w": self.switches_w,
                "total_w": self.total_w, "n_links": int(self.link_w.size), "n_switches": int(self.switch_w.size)}


def fabric_power(topology: Topology, tier_power_w, *, switch_w: float = 0.0,
                 switch_pj_per_bit: float = 0.0) -> FabricPower:
    """Power of every link and switch of ``topology``.

    Parameters
    ----------
    topology : Topology
    tier_power_w : sequence
        One entry per tier: watts per directed link (port), or a link whose ``evaluate()``
        report has ``power_w``.
    switch_w : float
        Fixed power of each switch, W.
    switch_pj_per_bit : float
        Switch energy per bit of its output ports' rate, on top of the ports' own power. A link's
        port power already holds its host SerDes (at a switch port, the switch's SerDes), so this
        is the switching core's share: ``photolink.links.energy.SWITCH_CORE_PJ_PER_BIT``, not the
        whole-ASIC figure.

    Returns
    -------
    FabricPower
    """
    if not isinstance(topology, Topology):
        raise TypeError(f"topology must be a photolink.net.topology.Topology, got {type(topology).__name__}")
    tiers = list(tier_power_w)
    if len(tiers) != len(topology.tiers):
        raise ValueError(f"tier_power_w needs one entry per tier ({len(topology.tiers)}), got {len(tiers)}")
    per_tier = np.array([_tier_w(x, i) for i, x in enumerate(tiers)])
    fixed = v.real("switch_w", switch_w, lo=0.0, hi=1e6)
    pj = v.real("switch_pj_per_bit", switch_pj_per_bit, lo=0.0, hi=1e4)
    link_w = per_tier[topology.link_tier]
    switches = np.flatnonzero(~topology.is_host)
    out_gbps = np.bincount(topology.link_src, weights=topology.link_rate_gbps, minlength=topology.n_nodes)
    switch_w_arr = fixed + pj * out_gbps[switches] * 1e-3
    tier_w = {name: float(link_w[topology.link_tier == i].sum()) for i, name in enumerate(topology.tier_names)}
    links, sw = float(link_w.sum()), float(switch_w_arr.sum())
    return FabricPower(link_w, switch_w_arr, tier_w, links, sw, links + sw)


@dataclass(frozen=True)
class StepEnergy:
    """Energy of one collective step.

    Attributes
    ----------
    joules : float
        Fabric power x completion time.
    pj_per_useful_bit : float
        Over the collective's payload (``useful_bytes``).
    pj_per_network_bit : float
        Over every bit the network carried.
    network_share : float
        Fabric power over fabric + GPU power (nan without ``gpu_power_w``).
    """

    joules: float
    pj_per_useful_bit: float
    pj_per_network_bit: float
    network_share: float

    def to_dict(self) -> dict:
        return {"joules": self.joules, "pj_per_useful_bit": self.pj_per_useful_bit,
                "pj_per_network_bit": self.pj_per_network_bit, "network_share": self.network_share}


def step_energy(power: FabricPower, completion_ns: float, useful_bytes: float, network_bytes: float, *,
                gpu_power_w: float | None = None, n_gpus: int = 0) -> StepEnergy:
    """Energy of a step lasting ``completion_ns`` on a fabric drawing ``power``.

    ``useful_bytes``: the collective's payload (e.g. S x p for an all-reduce of S bytes per
    rank); ``network_bytes``: what the flows carried (``CollectiveResult.network_bytes``).
    """
    if not isinstance(power, FabricPower):
        raise TypeError(f"power must be a FabricPower, got {type(power).__name__}")
    t = v.real("completion_ns", completion_ns, lo=0.0, hi=1e18)
    u = v.real("useful_bytes", useful_bytes, lo=0.0, hi=1e18, lo_open=True)
    nb = v.real("network_bytes", network_bytes, lo=0.0, hi=1e18, lo_open=True)
    j = power.total_w * t * 1e-9
    share = float("nan")
    if gpu_power_w is not None:
        g = v.real("gpu_power_w", gpu_power_w, lo=0.0, hi=1e6) * v.integer("n_gpus", n_gpus, lo=1, hi=1 << 24)
        share = power.total_w / (power.total_w + g)
    return StepEnergy(j, j * 1e12 / (8 * u), j * 1e12 / (8 * nb), share)
