"""The demo's cluster: collectives on a small leaf-spine built from one link technology.

For each technology of :data:`photolink.studies.demo.TECHNOLOGIES`: a 32-GPU leaf-spine (4 leaves
of 8 GPUs, 8 spines, non-blocking) whose GPU cables are that technology's preset and whose
leaf-spine cables are too (copper: pluggables, since a DAC does not reach the spine). It runs a
ring all-reduce and a direct all-to-all in packet mode with link-level retry over a few seeds
(p50 and p99 of the completion time), the all-reduce again with one GPU cable stretched to the
FEC failure rate (CWER) of a DAC 50 % past its reach, from the copper physics (the
straggler: a link at low margin; stretching an optical cable to its km reach would test
propagation instead), and the fabric's power (every port and switch) with the
energy of one all-reduce step.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .. import links
from ..links.energy import SWITCH_ASIC_PJ_PER_BIT
from ..net import Fabric, LLR, Switch
from ..net import collectives as coll
from ..net import fabric_energy
from ..net import topology as topo_mod

#: Cluster shape: leaves, GPUs per leaf, spines.
SHAPE = (4, 8, 8)
ALL_REDUCE_BYTES = 16e6
ALL_TO_ALL_BYTES = 4e6
N_RUNS = 3
SWITCH_LATENCY_NS = 250.0
#: The spine cable of a technology that cannot reach the spine.
SPINE_FALLBACK = {"copper": "dr4-800g"}
RECOVERY = LLR(max_retries=16)
#: The straggler's CWER: that of this copper preset at this multiple of its reach.
STRAGGLER = ("dac-800g", 1.5)


def cluster_rows(technologies: dict, *, seed: int = 1, n_runs: int = N_RUNS) -> list[dict]:
    """One row per technology: completion times, straggler cost, power and energy per step."""
    rows = []
    L, H, S = SHAPE
    n = L * H
    dac = links.preset(STRAGGLER[0])
    cwer = dac.with_length(round(dac.reach_m()[0] * STRAGGLER[1], 3)).link_model().cwer
    ar, a2a = coll.ring_all_reduce(n, ALL_REDUCE_BYTES), coll.direct_all_to_all(n, ALL_TO_ALL_BYTES)
    for tech, preset in technologies.items():
        host = links.preset(preset)
        spine = links.preset(SPINE_FALLBACK.get(tech, preset))
        topo = topo_mod.leaf_spine(L, H, S, host_link=host, spine_link=spine)
        fab = Fabric(topo, switch=Switch(SWITCH_LATENCY_NS))
        t_ar = coll.completion_stats(fab, ar, n_runs=n_runs, seed=seed, recovery=RECOVERY)
        t_a2a = coll.completion_stats(fab, a2a, n_runs=n_runs, seed=seed, recovery=RECOVERY)
        up = topo.host_link(0)
        down = int(np.flatnonzero((topo.link_src == topo.link_dst[up]) & (topo.link_dst == 0))[0])
        weak = dataclasses.replace(host.link_model(), cwer=cwer, name=f"{tech}, low margin")
        bad = coll.degrade(topo, [up, down], weak, f"{tech} at low margin")
        strag = coll.run(Fabric(bad, switch=Switch(SWITCH_LATENCY_NS)), ar, seed=seed, recovery=RECOVERY)
        power = fabric_energy.fabric_power(topo, [host, spine], switch_pj_per_bit=SWITCH_ASIC_PJ_PER_BIT)
        step = fabric_energy.step_energy(power, t_ar.p50_ns, n * ALL_REDUCE_BYTES, ar.total_bytes)
        rows.append({
            "technology": tech, "all_reduce_p50_us": t_ar.p50_ns / 1e3, "all_reduce_p99_us": t_ar.p99_ns / 1e3,
            "all_to_all_p50_us": t_a2a.p50_ns / 1e3, "all_to_all_p99_us": t_a2a.p99_ns / 1e3,
            "straggler_us": strag.completion_ns / 1e3,
            "straggler_cwer": cwer, "straggler_cost": strag.completion_ns / t_ar.p50_ns - 1, "straggler_retries": strag.llr_retries,
            "network_w": power.total_w, "joules_per_step": step.joules,
            "pj_per_useful_bit": step.pj_per_useful_bit,
            "samples_us": np.asarray(t_ar.samples_ns) / 1e3,
        })
    return rows
