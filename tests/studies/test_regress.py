"""Regression baselines: pass unchanged settings, flag 0.5 dB worse ones, keep false alarms at
or below the stated level."""
import json
import math

import numpy as np
import pytest
from scipy import stats

import photolink as pl
from photolink import testing
from photolink.cli import main
from photolink.studies import config, regress

ONE_CASE = """
seed = {seed}
[regress]
confidence = {confidence}
[ber.pam4]
format = "PAM4"
snr_db = {snr}
n_symbols = {n}
"""


def write(tmp_path, name="c.toml", seed=1, confidence=0.99, snr=18.0, n=1_000_000):
    p = tmp_path / name
    p.write_text(ONE_CASE.format(seed=seed, confidence=confidence, snr=snr, n=n))
    return p


@pytest.fixture(scope="module")
def example_baseline(tmp_path_factory):
    path = tmp_path_factory.mktemp("b") / "pam4.json"
    regress.record(config.example("regress_pam4"), path)
    return path


def test_record_writes_figures_cis_and_seed(example_baseline):
    doc = json.loads(example_baseline.read_text())
    assert doc["format"] == "photolink-baseline" and doc["confidence"] == 0.99
    case = doc["cases"]["pam4_awgn"]
    assert case["seed"] == 7 and len(case["case_key"]) == 32
    row = case["row"]
    assert row["ber_ci_low"] < row["ber"] < row["ber_ci_high"]
    assert case["statistic"] == {"type": "counts", "name": "error events",
                                 "events": row["error_events"], "trials": 2_000_000}
    assert doc["cases"]["pam4_kp4_tail"]["statistic"]["type"] == "estimate"


def test_unchanged_settings_pass(example_baseline, capsys):
    assert main(["regress", "check", str(config.example("regress_pam4")),
                 "--baseline", str(example_baseline)]) == 0
    out = capsys.readouterr().out
    assert "no case statistically worse (4 checked)" in out and "WORSE" not in out
    # an independent rerun (other seed) of the same settings passes too
    report = regress.check(config.example("regress_pam4"), example_baseline, seed=12345)
    assert report.ok and {c.status for c in report.comparisons} == {"ok"}


def test_half_a_db_less_snr_at_1e4_is_flagged(tmp_path, example_baseline, capsys):
    text = config.example("regress_pam4").read_text()
    worse = tmp_path / "worse.toml"
    worse.write_text(text.replace("snr_db = 18.0", "snr_db = 17.5"))
    assert main(["regress", "check", str(worse), "--baseline", str(example_baseline),
                 "--json", str(tmp_path / "r.json")]) == 1
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("pam4_awgn"))
    assert "WORSE" in line and "snr_db 18->17.5" in line
    assert "1 of 4 cases statistically worse" in out
    assert "Fisher exact" in out and "p < 0.01" in out
    assert json.loads((tmp_path / "r.json").read_text())["ok"] is False
    # also when the rerun's noise is independent of the baseline's
    report = regress.check(worse, example_baseline, seed=4242)
    assert [c.name for c in report.worse] == ["pam4_awgn"]
    assert report.worse[0].p_value < 1e-6


def test_false_alarm_rate_at_or_below_the_stated_level(tmp_path):
    """Unchanged setting near BER 1e-4: 100 independent (record, check) pairs at confidence 0.95."""
    cfg = config.load(write(tmp_path, confidence=0.95, n=500_000))
    base = tmp_path / "b.json"
    n, alarms = 100, 0
    for s in range(n):
        regress.record(cfg, base, seed=2 * s + 1)
        alarms += not regress.check(cfg, base, seed=2 * s + 2).ok
    # at the stated 5 %: P[X > limit] < 0.1 % for X ~ Binomial(100, 0.05)
    limit = int(stats.binom.ppf(0.999, n, 0.05))
    assert alarms <= limit, f"{alarms} false alarms in {n} checks"


def test_fisher_test_size_and_power_by_simulation():
    """Exact conditional test: size <= alpha (and not vacuous); power against 0.5 dB."""
    rng = np.random.default_rng(5)
    n, p, draws, alpha = 1_000_000, 1.4e-4, 20_000, 0.05
    k0, k1 = rng.binomial(n, p, draws), rng.binomial(n, p, draws)
    pv = stats.hypergeom.sf(k1 - 1, 2 * n, k0 + k1, n)
    size = float(np.mean(pv < alpha))
    assert 0.03 < size <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / draws)
    assert regress.fisher_worse_p(int(k1[0]), n, int(k0[0]), n) == pytest.approx(pv[0], rel=1e-12)
    p_worse = pl.PAM4.ber_awgn(17.5) / pl.PAM4.ber_awgn(18.0) * p
    k1w = rng.binomial(n, p_worse, 2000)
    power = np.mean(stats.hypergeom.sf(k1w - 1, 2 * n, k0[:2000] + k1w, n) < 0.01)
    assert power > 0.99


def test_missing_and_new_cases_do_not_fail(tmp_path):
    base = tmp_path / "b.json"
    regress.record(write(tmp_path), base)
    other = tmp_path / "o.toml"
    other.write_text(ONE_CASE.format(seed=1, confidence=0.99, snr=18.0, n=10**6).replace("pam4", "p2"))
    report = regress.check(other, base)
    assert report.ok and {c.status for c in report.comparisons} == {"new", "missing"}


def test_baseline_file_errors(tmp_path, capsys):
    cfg = write(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a photolink baseline"):
        regress.check(cfg, bad)
    assert main(["regress", "check", str(cfg), "--baseline", str(tmp_path / "none.json")]) == 2
    assert "regress record" in capsys.readouterr().err


def test_pytest_helpers(tmp_path):
    base = pl.simulate_ber(pl.PAM4, 18.0, 10**6, seed=1)
    testing.assert_not_worse(pl.simulate_ber(pl.PAM4, 18.0, 10**6, seed=2), base)
    with pytest.raises(AssertionError, match="statistically worse.*Fisher p"):
        testing.assert_not_worse(pl.simulate_ber(pl.PAM4, 17.5, 10**6, seed=2), base)
    testing.assert_not_worse((10, 10**6), (12, 10**6))
    with pytest.raises(TypeError, match="BerResult"):
        testing.assert_not_worse(0.1, base)
    cfg = write(tmp_path)
    b = tmp_path / "b.json"
    regress.record(cfg, b)
    testing.assert_no_regression(cfg, b)
    with pytest.raises(AssertionError, match="WORSE"):
        testing.assert_no_regression(write(tmp_path, "w.toml", snr=17.5), b)


# -- issue 16, item 5: a changed method, NaN/Infinity and tampered baselines ------------------
EST = """
seed = 1
[ber.tail]
format = "PAM4"
snr_db = 20.0
{method}
"""


def test_method_changed_between_record_and_check(tmp_path):
    """importance -> simulate used to raise KeyError: 'events' (exit 1, like a regression)."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(EST.format(method='method = "importance"\nrel_ci = 0.2'))
    base = tmp_path / "b.json"
    regress.record(cfg, base)
    cfg.write_text(EST.format(method="n_symbols = 100000"))
    report = regress.check(cfg, base)
    (c,) = report.comparisons
    assert c.status == "changed" and "importance -> simulate" in c.detail
    assert report.ok and "changed" in report.table()


def _baseline(tmp_path):
    cfg = write(tmp_path, n=200_000)
    base = tmp_path / "b.json"
    regress.record(cfg, base)
    return cfg, base, json.loads(base.read_text())


@pytest.mark.parametrize("tamper, why", [
    (lambda d: d["cases"]["pam4"]["row"].update(error_events=float("nan")), "NaN"),
    (lambda d: d["cases"]["pam4"]["row"].update(error_events=float("inf")), "Infinity"),
    (lambda d: d.update(cases=[1, 2]), "cases must be a JSON object"),
    (lambda d: d["cases"].update(pam4=[1]), "case 'pam4': must be a JSON object"),
    (lambda d: d["cases"]["pam4"]["row"].pop("symbols"), "case 'pam4': its row cannot be tested"),
    (lambda d: d["cases"]["pam4"].pop("row"), "case 'pam4': row must be"),
    (lambda d: d["cases"]["pam4"].update(kind="bogus"), "kind must be"),
    (lambda d: d["cases"]["pam4"]["row"].update(error_events=1e300), "events"),
    (lambda d: d["cases"]["pam4"]["row"].update(error_events=10**7), "events <= trials"),
    (lambda d: d["cases"]["pam4"]["row"].update(symbols=-5), "trials"),
], ids=["nan", "inf", "cases-list", "case-list", "missing-key", "missing-row", "bad-kind",
        "1e300", "events>trials", "negative-trials"])
def test_tampered_baseline_is_refused(tmp_path, tamper, why):
    cfg, base, doc = _baseline(tmp_path)
    tamper(doc)
    base.write_text(json.dumps(doc))
    with pytest.raises(regress.BaselineError, match=why) as exc:
        regress.check(cfg, base)
    assert str(base) in str(exc.value)


def test_nan_in_an_estimate_baseline_does_not_pass_a_worse_ber(tmp_path):
    """A NaN baseline figure used to make a 7,500x worse BER pass with p = nan."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(EST.format(method='method = "importance"\nrel_ci = 0.2'))
    base = tmp_path / "b.json"
    doc = regress.record(cfg, base)
    text = base.read_text()
    ber = doc["cases"]["tail"]["row"]["ber"]
    base.write_text(text.replace(repr(ber), "NaN"))
    with pytest.raises(regress.BaselineError, match="NaN"):
        regress.check(cfg, base)
    with pytest.raises(ValueError, match="finite"):
        regress.z_worse_p(1e-3, 1e-5, math.nan, 1e-9)


def test_deeply_nested_baseline(tmp_path):
    cfg = write(tmp_path)
    base = tmp_path / "deep.json"
    base.write_text('{"format": "photolink-baseline", "cases": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(regress.BaselineError, match="(nested too deeply|cases must be)"):
        regress.check(cfg, base)
    assert main(["regress", "check", str(cfg), "--baseline", str(base)]) == 2


def test_assert_not_worse_takes_estimates():
    """assert_not_worse refused an estimate_ber result that regress check handles (issue 15)."""
    base = pl.estimate_ber(pl.PAM4, 20.0, seed=1)
    testing.assert_not_worse(pl.estimate_ber(pl.PAM4, 20.0, seed=2), base)
    with pytest.raises(AssertionError, match="z-test"):
        testing.assert_not_worse(pl.estimate_ber(pl.PAM4, 19.5, seed=2), base)
    with pytest.raises(TypeError, match="same method"):
        testing.assert_not_worse(base, (1, 10))


def test_fabric_cases_are_recorded_and_checked_by_their_lost_packets(tmp_path):
    path = tmp_path / "fabric.json"
    regress.record(config.example("fabric_leaf_spine"), path, seed=7)
    report = regress.check(config.example("fabric_leaf_spine"), path, seed=8)
    fabric = [c for c in report.comparisons if c.kind == "fabric"]
    assert fabric and all(c.status in ("ok", "WORSE") for c in fabric)
    assert all("lost packets" in c.detail for c in fabric), [c.detail for c in fabric]
