"""The demo's cluster: collectives on a 256-GPU leaf-spine built from one link technology.

For each technology of :data:`photolink.studies.demo.TECHNOLOGIES`: a non-blocking leaf-spine of
:data:`SHAPE` (16 leaves of 16 GPUs, 16 spines) whose GPU cables are that technology's preset and
whose leaf-spine cables are too (copper: pluggables, since a DAC does not reach the spine). In
packet mode with link-level retry, over :data:`N_RUNS` seeds (each its own ECMP hash salt and
error streams), it runs

- a two-level ring all-reduce (:func:`photolink.net.collectives.hierarchical_all_reduce` with a
  leaf as the group: ring reduce-scatter among the GPUs of each leaf, ring all-reduce across the
  leaves per leaf position, ring all-gather within each leaf), and
- a direct all-to-all (MoE dispatch),

and reports the completion time's p50 and p99 with their distribution-free 95 % CIs and every
sample (for the CCDF plot). The all-reduce runs again, on the first :data:`N_STRAGGLER_RUNS`
seeds, with one GPU cable at the FEC failure rate (CWER) of a DAC 50 % past its reach, from the
copper physics (the straggler: a link at low margin; stretching an optical cable to its km
reach would test propagation instead); its cost is the median of the paired (same seed) ratios.
Last, the fabric's power (every port and switch) and the energy of one all-reduce step.

Healthy links whose expected number of codeword failures over all the demo's runs is below
:data:`NEGLIGIBLE_FAILURES` are simulated error-free (:func:`error_free_if_negligible`): a
result then differs from the full simulation with probability below that bound, and the fabric
engine skips their error streams (most of a 1,024-link step's set-up time).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .. import links
from .._util import rng as _rng
from .._util import validate as v
from ..links.energy import SWITCH_CORE_PJ_PER_BIT
from ..links.model import LinkModel
from ..net import LLR, Fabric, Switch, fabric_energy
from ..net import collectives as coll
from ..net import topology as topo_mod

#: Cluster shape: leaves, GPUs per leaf, spines (non-blocking: as many spines as GPUs per leaf).
SHAPE = (16, 16, 16)
ALL_REDUCE_BYTES = 8e6
ALL_TO_ALL_BYTES = 2e6
#: Seeds per collective and technology (6 is the fewest that bound a p50's 95 % CI).
N_RUNS = 6
#: Seeds of the straggler's all-reduce (paired with the first healthy runs).
N_STRAGGLER_RUNS = 2
#: The simulation mode of every run (the table says so).
MODE = "packet"
SWITCH_LATENCY_NS = 250.0
#: The spine cable of a technology that cannot reach the spine.
SPINE_FALLBACK = {"copper": "dr4-800g"}
RECOVERY = LLR(max_retries=16)
#: The straggler's CWER: that of this copper preset at this multiple of its reach.
STRAGGLER = ("dac-800g", 1.5)
#: Bound on the expected codeword failures, over all runs, below which a link runs error-free.
NEGLIGIBLE_FAILURES = 1e-9
#: Links on the longest route of a leaf-spine (GPU, leaf, spine, leaf, GPU).
MAX_HOPS = 4


def all_reduce(shape=SHAPE, message_bytes: float = ALL_REDUCE_BYTES) -> coll.Schedule:
    """The demo's all-reduce: a two-level ring, a leaf's GPUs as the inner ring."""
    n_leaves, per_leaf, _ = shape
    return coll.hierarchical_all_reduce(n_leaves, per_leaf, message_bytes)


def all_to_all(shape=SHAPE, message_bytes: float = ALL_TO_ALL_BYTES) -> coll.Schedule:
    """The demo's all-to-all: direct, every GPU to every other at once."""
    n_leaves, per_leaf, _ = shape
    return coll.direct_all_to_all(n_leaves * per_leaf, message_bytes)


def _as_model(link) -> LinkModel:
    if isinstance(link, LinkModel):
        return link
    if callable(getattr(link, "link_model", None)):
        return link.link_model()
    raise TypeError(f"link must be a LinkModel or a photolink.Link, got {type(link).__name__}")


def error_free_if_negligible(link, codewords: float, bound: float = NEGLIGIBLE_FAILURES) -> LinkModel:
    """``link``'s model, with CWER 0 if ``cwer x codewords`` (expected failures) is below ``bound``.

    Parameters
    ----------
    link : LinkModel or photolink.Link
    codewords : float
        An upper bound on the codewords the link (every link of its tier) carries in all runs.
    bound : float
        The largest expected number of failures treated as none.
    """
    model = _as_model(link)
    n = v.real("codewords", codewords, lo=0.0, hi=1e30)
    b = v.real("bound", bound, lo=0.0, hi=1.0)
    if model.cwer * n >= b:
        return model
    return dataclasses.replace(model, cwer=0.0, name=f"{model.name} (error-free)")


def codeword_bound(link, schedules, n_runs: int) -> float:
    """Codewords a tier of ``link`` can carry at most: every byte of ``schedules`` over
    :data:`MAX_HOPS` links, ``n_runs`` times (packets without FEC: one bit each, an over-count)."""
    model = _as_model(link)
    bits = 8.0 * sum(s.total_bytes for s in schedules) * MAX_HOPS * n_runs
    return bits / max(model.codeword_bits, 1)


def straggler_cwer() -> float:
    """The straggler's CWER (:data:`STRAGGLER`)."""
    preset, factor = STRAGGLER
    dac = links.preset(preset)
    return dac.with_length(round(dac.reach_m()[0] * factor, 3)).link_model().cwer


def _ci_us(stats: coll.CompletionStats, key: str) -> tuple:
    return tuple(x / 1e3 for x in stats.ci[key])


def cluster_rows(technologies: dict, *, seed: int = 1, n_runs: int = N_RUNS,
                 n_straggler_runs: int = N_STRAGGLER_RUNS, shape=SHAPE) -> list[dict]:
    """One row per technology: completion times (samples, p50/p99 with CIs), straggler cost,
    power and energy per step. ``shape``: (leaves, GPUs per leaf, spines)."""
    n_runs = v.integer("n_runs", n_runs, lo=1, hi=10_000)
    n_strag = v.integer("n_straggler_runs", n_straggler_runs, lo=1, hi=n_runs)
    L, H, S = (v.integer(f"shape[{i}]", x, lo=2 if i == 0 else 1, hi=1 << 12) for i, x in enumerate(shape))
    n = L * H
    cwer = straggler_cwer()
    ar, a2a = all_reduce((L, H, S)), all_to_all((L, H, S))
    ss = _rng.seed_sequence(seed)
    rows = []
    timed: dict = {}      # timing key of the fabric -> its runs (LPO and CPO time alike)
    made: dict = {}       # preset -> (link, its model): a model is computed once
    for tech, preset in technologies.items():
        for name in (preset, SPINE_FALLBACK.get(tech, preset)):
            if name not in made:
                link = links.preset(name)
                made[name] = link, link.link_model()
        (host, host_m), (spine, spine_m) = made[preset], made[SPINE_FALLBACK.get(tech, preset)]
        runs = n_runs * 2 + n_strag
        topo = topo_mod.leaf_spine(
            L, H, S, host_link=error_free_if_negligible(host_m, codeword_bound(host_m, [ar, a2a], runs)),
            spine_link=error_free_if_negligible(spine_m, codeword_bound(spine_m, [ar, a2a], runs)))
        weak = dataclasses.replace(host_m, cwer=cwer, name=f"{tech}, low margin")
        key = tuple(_timing_key(m) for m in topo.tiers + (weak,))
        if key not in timed:
            timed[key] = _runs(topo, weak, ar, a2a, ss, n_runs, n_strag)
        t_ar, t_a2a, strag = timed[key]
        strag_ns = np.array([r.completion_ns for r in strag])
        cost = float(np.median(strag_ns / np.asarray(t_ar.samples_ns[:n_strag]) - 1))
        power = fabric_energy.fabric_power(topo, [host, spine], switch_pj_per_bit=SWITCH_CORE_PJ_PER_BIT)
        step = fabric_energy.step_energy(power, t_ar.p50_ns, n * ar.message_bytes, ar.total_bytes)
        rows.append({
            "technology": tech, "mode": MODE, "n_gpus": n, "n_runs": n_runs,
            "all_reduce_p50_us": t_ar.p50_ns / 1e3, "all_reduce_p99_us": t_ar.p99_ns / 1e3,
            "all_reduce_p50_ci_us": _ci_us(t_ar, "p50"), "all_reduce_p99_ci_us": _ci_us(t_ar, "p99"),
            "all_to_all_p50_us": t_a2a.p50_ns / 1e3, "all_to_all_p99_us": t_a2a.p99_ns / 1e3,
            "all_to_all_p50_ci_us": _ci_us(t_a2a, "p50"), "all_to_all_p99_ci_us": _ci_us(t_a2a, "p99"),
            "incomplete": t_ar.incomplete + t_a2a.incomplete,
            "all_reduce_samples_us": np.asarray(t_ar.samples_ns) / 1e3,
            "all_to_all_samples_us": np.asarray(t_a2a.samples_ns) / 1e3,
            "straggler_us": float(np.median(strag_ns)) / 1e3, "straggler_cwer": cwer,
            "straggler_cost": cost, "straggler_retries": sum(r.llr_retries for r in strag),
            "network_w": power.total_w, "joules_per_step": step.joules,
            "pj_per_useful_bit": step.pj_per_useful_bit,
        })
    return rows


def _timing_key(model: LinkModel) -> tuple:
    """What a packet-mode fabric reads from a link model (statistical errors): equal keys, equal runs."""
    return (model.rate_gbps, tuple(sorted(model.latency_ns.items())), model.codeword_bits, model.cwer,
            model.fec_hold_ns)


def _runs(topo, weak, ar, a2a, ss, n_runs: int, n_strag: int) -> tuple:
    """The healthy all-reduce and all-to-all over ``n_runs`` seeds, and the all-reduce with GPU 0's
    cable (both directions) at low margin on the first ``n_strag`` of the same seeds."""
    fab = Fabric(topo, switch=Switch(SWITCH_LATENCY_NS))
    t_ar = coll.completion_stats(fab, ar, n_runs=n_runs, seed=ss, recovery=RECOVERY, mode=MODE)
    t_a2a = coll.completion_stats(fab, a2a, n_runs=n_runs, seed=ss, recovery=RECOVERY, mode=MODE)
    up = topo.host_link(0)
    down = int(np.flatnonzero((topo.link_src == topo.link_dst[up]) & (topo.link_dst == 0))[0])
    bad = Fabric(coll.degrade(topo, [up, down], weak, weak.name), switch=Switch(SWITCH_LATENCY_NS))
    # completion_stats runs seed child i; the straggler runs the same children (paired runs)
    strag = [coll.run(bad, ar, seed=_rng.child(ss, i), recovery=RECOVERY, mode=MODE) for i in range(n_strag)]
    return t_ar, t_a2a, strag
