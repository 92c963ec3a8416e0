"""The demo's cluster section: collectives per technology, the straggler's cost, power and energy."""
import dataclasses
import math

import numpy as np
import pytest

from photolink import links
from photolink.links.model import LinkModel
from photolink.net import Fabric, Switch
from photolink.net import collectives as coll
from photolink.net import topology as topo_mod
from photolink.studies import cluster_demo, demo

TINY = (2, 4, 4)        # 8 GPUs: the same code path in well under a second


@pytest.fixture(scope="module")
def tiny_rows():
    return {r["technology"]: r for r in cluster_demo.cluster_rows(
        {"LPO": "lpo-800g", "CPO": "cpo-800g"}, n_runs=6, n_straggler_runs=2, shape=TINY)}


@pytest.mark.slow          # evaluating the link presets' physics takes seconds
def test_rows_carry_per_technology_samples_and_their_percentiles(tiny_rows):
    assert set(tiny_rows) == {"LPO", "CPO"}
    for r in tiny_rows.values():
        assert r["n_gpus"] == 8 and r["mode"] == "packet" and r["incomplete"] == 0
        for kind in ("all_reduce", "all_to_all"):
            s = np.sort(r[f"{kind}_samples_us"])
            assert s.size == 6 and np.all(np.isfinite(s))
            # nearest-rank percentiles of the samples, each inside its order-statistic CI
            assert r[f"{kind}_p50_us"] == s[2] and r[f"{kind}_p99_us"] == s[5]
            lo, hi = r[f"{kind}_p50_ci_us"]
            assert lo == s[0] and hi == s[5]          # 6 runs: the widest 95 % interval of a median
            lo99, hi99 = r[f"{kind}_p99_ci_us"]
            assert lo99 == s[4] and math.isnan(hi99)  # 6 runs cannot bound a p99 from above
        assert r["straggler_retries"] > 0 and r["straggler_cost"] > 0
        assert r["joules_per_step"] == pytest.approx(r["network_w"] * r["all_reduce_p50_us"] * 1e-6)


@pytest.mark.slow
def test_runs_shared_by_equal_timing_match_a_run_of_their_own(tiny_rows):
    # LPO and CPO time alike (same latency): the study runs them once; alone, CPO gives the same
    alone = cluster_demo.cluster_rows({"CPO": "cpo-800g"}, n_runs=6, n_straggler_runs=2, shape=TINY)[0]
    for key in ("all_reduce_samples_us", "all_to_all_samples_us"):
        assert np.array_equal(alone[key], tiny_rows["CPO"][key])
    assert alone["straggler_us"] == tiny_rows["CPO"]["straggler_us"]
    assert tiny_rows["CPO"]["network_w"] < tiny_rows["LPO"]["network_w"]   # power is each its own


def test_error_free_if_negligible():
    m = LinkModel("x", 800.0, {"p": 10.0}, codeword_bits=5140, cwer=1e-30)
    free = cluster_demo.error_free_if_negligible(m, 1e12)            # 1e-18 expected failures
    assert free.cwer == 0.0 and free.name == "x (error-free)" and free.latency_ns == m.latency_ns
    assert cluster_demo.error_free_if_negligible(m, 1e22) is m         # 1e-8 expected: kept
    assert cluster_demo.error_free_if_negligible(dataclasses.replace(m, cwer=1e-3), 1.0).cwer == 1e-3
    with pytest.raises(ValueError, match="codewords"):
        cluster_demo.error_free_if_negligible(m, -1.0)
    with pytest.raises(TypeError, match="link"):
        cluster_demo.error_free_if_negligible("dac-800g", 1.0)


def test_codeword_bound_counts_every_byte_over_the_longest_route():
    m = LinkModel("x", 800.0, codeword_bits=5000)
    ar = coll.ring_all_reduce(4, 1e6)                     # 6 steps of 4 x 250 kB: 6 MB
    assert ar.total_bytes == 6e6
    assert cluster_demo.codeword_bound(m, [ar], 3) == 8 * 6e6 * cluster_demo.MAX_HOPS * 3 / 5000


def test_error_free_links_change_no_result():
    """The optimisation is exact here: with CWER ~1e-31 no codeword of the run fails."""
    lpo = links.preset("lpo-800g").link_model()
    assert 0 < lpo.cwer < 1e-20
    ar = cluster_demo.all_reduce(TINY)
    out = []
    for model in (lpo, cluster_demo.error_free_if_negligible(lpo, 1e9)):
        topo = topo_mod.leaf_spine(*TINY, host_link=model, spine_link=model)
        res = coll.run(Fabric(topo, switch=Switch(250.0)), ar, seed=3, recovery=cluster_demo.RECOVERY)
        out.append((res.completion_ns, res.llr_retries, res.step_end_ns.tolist()))
    assert out[0] == out[1]


def test_cluster_rows_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_runs"):
        cluster_demo.cluster_rows({"CPO": "cpo-800g"}, n_runs=0, shape=TINY)
    with pytest.raises(ValueError, match="n_straggler_runs"):
        cluster_demo.cluster_rows({"CPO": "cpo-800g"}, n_runs=2, n_straggler_runs=3, shape=TINY)


@pytest.mark.slow
def test_cluster_rows_answer_the_founding_question():
    rows = {r["technology"]: r for r in cluster_demo.cluster_rows(demo.TECHNOLOGIES)}
    assert set(rows) == set(demo.TECHNOLOGIES)
    for r in rows.values():
        assert r["n_gpus"] == 256 and r["incomplete"] == 0
        assert r["all_reduce_p50_us"] <= r["all_reduce_p99_us"]
        assert r["all_to_all_p50_us"] <= r["all_to_all_p99_us"]
        assert len(r["all_reduce_samples_us"]) == len(r["all_to_all_samples_us"]) == cluster_demo.N_RUNS
        assert r["straggler_cost"] > 0 and r["straggler_retries"] > 0      # the weak cable costs time
        assert r["joules_per_step"] == pytest.approx(r["network_w"] * r["all_reduce_p50_us"] * 1e-6)
    # CPO draws the least network power; pluggables (DSP modules) the most
    assert rows["CPO"]["network_w"] < rows["copper"]["network_w"] < rows["pluggable"]["network_w"]
    # latency sets a 60-step all-reduce apart: copper (no module) first, the DSP pluggable last
    assert rows["copper"]["all_reduce_p99_us"] < rows["CPO"]["all_reduce_p50_us"]
    assert rows["CPO"]["all_reduce_p99_us"] < rows["pluggable"]["all_reduce_p50_us"]
    # a longer replay round trip (optics' latency) makes the same CWER cost more than on copper
    assert rows["pluggable"]["straggler_cost"] > rows["LPO"]["straggler_cost"] > rows["copper"]["straggler_cost"]
