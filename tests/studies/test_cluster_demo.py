"""The demo's cluster section: collectives per technology, the straggler's cost, power and energy."""
import pytest

from photolink.studies import cluster_demo, demo


@pytest.mark.slow
def test_cluster_rows_answer_the_founding_question():
    rows = {r["technology"]: r for r in cluster_demo.cluster_rows(demo.TECHNOLOGIES, n_runs=2)}
    assert set(rows) == set(demo.TECHNOLOGIES)
    for r in rows.values():
        assert r["all_reduce_p50_us"] <= r["all_reduce_p99_us"]
        assert r["all_to_all_p50_us"] <= r["all_to_all_p99_us"]
        assert r["straggler_cost"] > 0.01 and r["straggler_retries"] > 0      # the weak cable costs time
        assert r["joules_per_step"] == pytest.approx(r["network_w"] * r["all_reduce_p50_us"] * 1e-6)
    # CPO draws the least network power; pluggables (DSP modules) the most
    assert rows["CPO"]["network_w"] < rows["copper"]["network_w"] < rows["pluggable"]["network_w"]
    # a longer replay round trip (optics' latency) makes the same CWER cost more than on copper
    assert rows["pluggable"]["straggler_cost"] > rows["copper"]["straggler_cost"]
