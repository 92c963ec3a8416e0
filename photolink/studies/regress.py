"""Regression baselines: record each case's figures, then flag a case only when it is
statistically worse.

The test (one-sided, per case, at level ``alpha = 1 - confidence``, default 0.01):

* **counts** (simulated BER cases: error events per symbol; paths: lost packets per packet):
  Fisher's exact test, i.e. the exact conditional binomial test. Given ``K = k0 + k1`` events
  in the baseline and current runs, under "no change" the current run's count ``k1`` is
  hypergeometric (``n0 + n1`` trials, ``K`` events, ``n1`` drawn); the p-value is
  ``P[X >= k1]`` and the case is flagged when ``p < alpha``. The test is exact and conservative
  (false-alarm rate <= alpha), also when the two runs share a seed (positively correlated
  counts make it more conservative still). Error *events* (runs of consecutive symbol errors)
  are counted rather than bit errors because events are independent even with DFE error
  propagation, and bit errors within one event are not.
* **estimates** with a normal confidence interval (importance sampling): a one-sided z-test on
  the difference, standard errors recovered from the recorded intervals.
* **deterministic figures** (statistical eye, link reports): flagged when worse by more than a
  relative 1e-9.

Each case is tested at ``alpha``; over ``m`` cases the chance of any false alarm is at most
``m * alpha``.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from scipy import stats as _st

from .._util import tables as _table
from .._util.stats import normal_quantile
from .._util.version import __version__
from .config import Config, load, run_cases
from .jobs import KINDS

BASELINE_FORMAT = "photolink-baseline"
#: Link figures that are worse when larger / when smaller.
LINK_HIGHER_IS_WORSE = ("pre_fec_ber", "cwer", "frame_loss_ratio", "energy_pj_per_bit", "power_w",
                        "latency_ns")
LINK_LOWER_IS_WORSE = ("reach_m", "margin_db")
DETERMINISTIC_RTOL = 1e-9


def fisher_worse_p(k_new: int, n_new: int, k_base: int, n_base: int) -> float:
    """One-sided p-value that the current rate ``k_new / n_new`` exceeds the baseline's.

    Fisher's exact test (exact conditional binomial test): ``P[X >= k_new]`` for
    ``X ~ Hypergeom(n_new + n_base, k_new + k_base, n_new)``.
    """
    for name, k, n in (("k_new", k_new, n_new), ("k_base", k_base, n_base)):
        if not (isinstance(k, int) and isinstance(n, int) and 0 <= k <= n and n > 0):
            raise ValueError(f"{name} must be an event count in [0, trials], trials > 0; got {k}/{n}")
    total = k_new + k_base
    if total == 0:
        return 1.0
    return float(_st.hypergeom.sf(k_new - 1, n_new + n_base, total, n_new))


def z_worse_p(new: float, se_new: float, base: float, se_base: float) -> float:
    """One-sided p-value that an estimate ``new`` exceeds ``base``: normal z-test.

    A figure that is not finite (NaN, infinity) is refused with ValueError: it would make
    every comparison pass.
    """
    for name, x in (("new", new), ("se_new", se_new), ("base", base), ("se_base", se_base)):
        if not math.isfinite(x):
            raise ValueError(f"{name} must be a finite number, got {x!r}")
    se = math.hypot(se_new, se_base)
    if se == 0:
        return 0.0 if new > base * (1 + DETERMINISTIC_RTOL) else 1.0
    return float(_st.norm.sf((new - base) / se))


def _se(row: dict) -> float:
    z = normal_quantile(row.get("confidence", 0.95))
    return (row["ber_ci_high"] - row["ber_ci_low"]) / (2 * z)


def statistic(kind: str, row: dict) -> dict:
    """What the test compares for one row: ``{"type", "name", ...}``."""
    if kind == "ber" and row.get("method") == "simulate":
        return {"type": "counts", "name": "error events", "events": int(row["error_events"]),
                "trials": int(row["symbols"])}
    if kind == "ber" and row.get("method") in ("importance", "montecarlo"):
        return {"type": "estimate", "name": "BER estimate", "value": row["ber"], "se": _se(row)}
    if kind == "ber":
        return {"type": "deterministic", "name": "BER (exact)", "higher": {"ber": row["ber"]},
                "lower": {}}
    if kind in ("path", "fabric"):
        n = int(row.get("n_packets") or row.get("packets"))
        lost = row.get("lost_packets", row.get("lost"))
        lost = int(lost) if lost is not None else int(round(row["loss_ratio"] * n))
        return {"type": "counts", "name": "lost packets", "events": lost, "trials": n}
    return {"type": "deterministic", "name": "link figures",
            "higher": {k: row[k] for k in LINK_HIGHER_IS_WORSE if isinstance(row.get(k), (int, float))},
            "lower": {k: row[k] for k in LINK_LOWER_IS_WORSE if isinstance(row.get(k), (int, float))}}


def worse_p_value(kind: str, current: dict, baseline: dict) -> tuple[float, str]:
    """``(p_value, detail)`` of "current is worse than baseline" for one case's rows."""
    a, b = statistic(kind, current), statistic(kind, baseline)
    if a["type"] == "counts":
        p = fisher_worse_p(a["events"], a["trials"], b["events"], b["trials"])
        return p, f"{a['events']}/{a['trials']} vs {b['events']}/{b['trials']} {a['name']}"
    if a["type"] == "estimate":
        if not (math.isfinite(a["value"]) and math.isfinite(a["se"])):
            return 0.0, f"{a['name']} is not finite ({a['value']!r}): treated as worse"
        return z_worse_p(a["value"], a["se"], b["value"], b["se"]), a["name"]
    worse = [k for k, v in {**a["higher"], **a["lower"]}.items() if not math.isfinite(v)]
    worse += [k for k, v in a["higher"].items()
             if k in b["higher"] and v > b["higher"][k] * (1 + DETERMINISTIC_RTOL) + 1e-300]
    worse += [k for k, v in a["lower"].items()
              if k in b["lower"] and v < b["lower"][k] * (1 - DETERMINISTIC_RTOL)]
    return (0.0 if worse else 1.0), ("worse: " + ", ".join(worse) if worse else a["name"])


def _run_cases(cfg: Config, seed, workers, executor, progress="auto") -> dict:
    """Run every case of the config (no store): ``{name: (kind, row)}``."""
    out = {}
    groups: dict = {}
    for c in cfg.cases():
        groups.setdefault(c.kind, []).append(c)
    for kind, cs in groups.items():
        res = run_cases(cfg, kind, cs,
                     seed=cfg.seed if seed is None else seed, store=None, executor=executor,
                     workers=workers, progress=progress,
                     name=cfg.path.stem if len(groups) == 1 else f"{cfg.path.stem} {kind}")
        for row in res.rows:
            out[row["name"]] = (kind, row)
    return out


def _load_config(config) -> Config:
    return config if isinstance(config, Config) else load(config)


def record(config, baseline, *, seed: int | None = None, workers: int | None = 1,
           executor=None, progress: bool | str = "auto") -> dict:
    """Run every case of ``config`` and write the baseline file (JSON).

    Parameters
    ----------
    config : str, pathlib.Path or Config
    baseline : str or pathlib.Path
        Baseline file to write.
    seed : int, optional
        Seed of the runs (default: the config's).
    workers, executor
        As for :func:`photolink.sweep` (default: this process only).
    progress : "auto" or bool
        Progress bar of the runs, as for :func:`photolink.sweep` ("auto": on a terminal or in
        a notebook).

    Returns
    -------
    dict
        What was written.
    """
    cfg = _load_config(config)
    rows = _run_cases(cfg, seed, workers, executor, progress)
    doc = {"format": BASELINE_FORMAT, "photolink": __version__, "config": str(cfg.path),
           "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "confidence": cfg.confidence,
           "cases": {name: {"kind": kind, "seed": row["seed"], "case_key": row["case_key"],
                            "statistic": statistic(kind, row), "row": row}
                     for name, (kind, row) in rows.items()}}
    Path(baseline).write_text(json.dumps(doc, indent=1) + "\n")
    return doc


class BaselineError(ValueError):
    """A baseline file is missing, is not a photolink baseline, or holds an impossible figure."""


#: Largest baseline file read (a baseline holds one row per case).
MAX_BASELINE_BYTES = 64 << 20
#: Most trials a recorded count may claim.
MAX_TRIALS = 10**16


def _no_constant(name):
    raise ValueError(f"{name} is not a number a baseline may hold")


def _check_statistic(st, where: str) -> None:
    """Raise BaselineError unless ``st`` is a statistic a test can use."""
    def bad(why):
        return BaselineError(f"{where}: {why}")

    if not isinstance(st, dict):
        raise bad("statistic must be a JSON object")
    kind = st.get("type")
    if kind == "counts":
        k, n = st.get("events"), st.get("trials")
        for name, x in (("events", k), ("trials", n)):
            if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= MAX_TRIALS:
                raise bad(f"{name} must be an integer in [0, {MAX_TRIALS}], got {x!r}")
        if n == 0 or k > n:
            raise bad(f"needs 0 <= events <= trials and trials > 0, got {k}/{n}")
    elif kind == "estimate":
        for name, lo, hi in (("value", 0.0, 1.0), ("se", 0.0, math.inf)):
            x = st.get(name)
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) \
                    or not lo <= x <= hi:
                raise bad(f"{name} must be a finite number in [{lo}, {hi}], got {x!r}")
    elif kind == "deterministic":
        for side in ("higher", "lower"):
            figs = st.get(side)
            if not isinstance(figs, dict):
                raise bad(f"{side} must be a JSON object of figures")
            for name, x in figs.items():
                if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                    raise bad(f"figure {name} must be a finite number, got {x!r}")
    else:
        raise bad(f"statistic type must be 'counts', 'estimate' or 'deterministic', got {kind!r}")


def read_baseline(path) -> dict:
    """Load a baseline file written by :func:`record` and check every case in it.

    Raises
    ------
    BaselineError
        (a ValueError) naming the file and the case: no such file, not JSON, no baseline
        marker, NaN or Infinity, a case that is not a table, an unknown kind, a row whose test
        statistic cannot be formed (missing keys, counts above their trials, ...).
    """
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BASELINE_BYTES:
            raise BaselineError(f"{path}: larger than {MAX_BASELINE_BYTES >> 20} MiB; not a baseline")
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file (write one with `photolink regress "
                            f"record CONFIG --baseline {path}`)") from None
    except IsADirectoryError:
        raise BaselineError(f"{path}: is a directory, not a baseline file") from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise BaselineError(f"{path}: not a photolink baseline (not UTF-8 text: {exc})") from None
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise BaselineError(f"{path}: not a photolink baseline (bad JSON: "
                            f"{exc if not isinstance(exc, RecursionError) else 'nested too deeply'})") from None
    if not isinstance(doc, dict) or doc.get("format") != BASELINE_FORMAT or "cases" not in doc:
        raise BaselineError(f"{path}: not a photolink baseline (no {BASELINE_FORMAT!r} marker)")
    cases = doc["cases"]
    if not isinstance(cases, dict):
        raise BaselineError(f"{path}: cases must be a JSON object of named cases, got "
                            f"{type(cases).__name__}")
    for name, case in cases.items():
        where = f"{path}: case {name!r}"
        if not isinstance(case, dict):
            raise BaselineError(f"{where}: must be a JSON object, got {type(case).__name__}")
        kind = case.get("kind")
        if kind not in KINDS:
            raise BaselineError(f"{where}: kind must be one of {sorted(KINDS)}, got {kind!r}")
        if not isinstance(case.get("row"), dict):
            raise BaselineError(f"{where}: row must be a JSON object")
        try:
            st = statistic(kind, case["row"])
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise BaselineError(f"{where}: its row cannot be tested ({type(exc).__name__}: "
                                f"{exc}); record the baseline again") from None
        _check_statistic(st, where)
    return doc


@dataclass(frozen=True)
class Comparison:
    """One case of a regression check."""

    name: str
    kind: str
    status: str             # "ok", "WORSE", "new" (no baseline), "missing" (not in config) or
                            # "changed" (the kind or method changed: not comparable, not a failure)
    p_value: float | None
    current: dict | None
    baseline: dict | None
    detail: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "status": self.status,
                "p_value": self.p_value, "detail": self.detail}


@dataclass(frozen=True)
class CheckReport:
    """The result of :func:`check`: one :class:`Comparison` per case."""

    comparisons: tuple
    confidence: float
    config: str
    baseline: str

    @property
    def ok(self) -> bool:
        """True when no case is statistically worse."""
        return all(c.status != "WORSE" for c in self.comparisons)

    @property
    def worse(self) -> list:
        return [c for c in self.comparisons if c.status == "WORSE"]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "confidence": self.confidence, "config": self.config,
                "baseline": self.baseline, "cases": [c.to_dict() for c in self.comparisons]}

    def table(self) -> str:
        """A readable report: one line per case, and the test that was applied."""
        def num(row, key):
            x = row.get(key)
            return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None

        def fig(row):
            if row is None:
                return "-"
            if "ber" in row:
                ci = (f" {_table.fmt_ci(row['ber_ci_low'], row['ber_ci_high'])}"
                      if num(row, "ber_ci_low") is not None and num(row, "ber_ci_high") is not None
                      else "")
                return f"{_table.fmt_value(num(row, 'ber'))}{ci}"
            if "loss_ratio" in row:
                ci = (f" {_table.fmt_ci(row['loss_ci_low'], row['loss_ci_high'])}"
                      if num(row, "loss_ci_low") is not None and num(row, "loss_ci_high") is not None
                      else "")
                return f"loss {_table.fmt_value(num(row, 'loss_ratio'))}{ci}"
            return f"{_table.fmt_value(num(row, 'energy_pj_per_bit'))} pJ/bit"

        rows = [{"case": c.name, "baseline": fig(c.baseline), "current": fig(c.current),
                 "p": c.p_value, "result": c.status, "compared": c.detail} for c in self.comparisons]
        alpha = 1 - self.confidence
        head = (f"regression check of {self.config} against {self.baseline}\n"
                f"test: one-sided, per case, flag when p < {alpha:.3g} (confidence {self.confidence:.4g}); "
                f"counts: Fisher exact (conditional binomial) test, estimates: z-test\n")
        cols = [("case", "case"), ("baseline (95% CI)", "baseline"), ("current (95% CI)", "current"),
                ("p-value", "p"), ("result", "result"), ("compared", "compared")]
        n_worse = len(self.worse)
        tail = (f"\n{n_worse} of {len(self.comparisons)} cases statistically worse" if n_worse
                else f"\nno case statistically worse ({len(self.comparisons)} checked)")
        return head + _table.table(rows, cols) + tail


def check(config, baseline, *, seed: int | None = None, confidence: float | None = None,
          workers: int | None = 1, executor=None, progress: bool | str = "auto") -> CheckReport:
    """Rerun every case of ``config`` and compare it with ``baseline``.

    Cases are matched by name. A case is ``"WORSE"`` when the one-sided test (see the module
    docstring) rejects "not worse" at ``1 - confidence``; cases without a baseline are
    ``"new"`` and baseline cases absent from the config ``"missing"`` (neither fails).

    Parameters
    ----------
    config : str, pathlib.Path or Config
    baseline : str or pathlib.Path
    seed : int, optional
        Seed of the rerun (default: the config's, as recorded; another seed gives an
        independent sample and the test keeps its level).
    confidence : float, optional
        Default: the config's ``[regress] confidence`` (0.99).
    workers, executor
        As for :func:`photolink.sweep`.
    progress : "auto" or bool
        Progress bar of the reruns ("auto": on a terminal or in a notebook).
    """
    cfg = _load_config(config)
    base = read_baseline(baseline)
    conf = cfg.confidence if confidence is None else float(confidence)
    if not 0.5 <= conf < 1:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence!r}")
    alpha = 1 - conf
    rows = _run_cases(cfg, seed, workers, executor, progress)
    out = []
    for name, (kind, row) in rows.items():
        b = base["cases"].get(name)
        if b is None:
            out.append(Comparison(name, kind, "new", None, row, None, "no baseline"))
            continue
        if b["kind"] != kind:
            out.append(Comparison(name, kind, "changed", None, row, b["row"],
                                  f"baseline is a {b['kind']} case: record it again"))
            continue
        a_type, b_type = statistic(kind, row)["type"], statistic(kind, b["row"])["type"]
        if a_type != b_type:
            was, now = b["row"].get("method", b_type), row.get("method", a_type)
            out.append(Comparison(name, kind, "changed", None, row, b["row"],
                                  f"method changed ({was} -> {now}): the figures cannot be "
                                  f"compared; record the baseline again"))
            continue
        p, detail = worse_p_value(kind, row, b["row"])
        changed = [k for k in row if k in b["row"] and k in _settings_keys(b["row"])
                   and row[k] != b["row"][k]]
        if changed:
            detail += "; settings changed: " + ", ".join(
                f"{k} {_table.fmt_value(b['row'][k])}->{_table.fmt_value(row[k])}" for k in changed)
        out.append(Comparison(name, kind, "WORSE" if p < alpha else "ok", p, row, b["row"], detail))
    for name, b in base["cases"].items():
        if name not in rows:
            out.append(Comparison(name, b["kind"], "missing", None, None, b["row"], "not in config"))
    return CheckReport(tuple(out), conf, str(cfg.path), str(baseline))


_SETTINGS = ("format", "snr_db", "method", "n_symbols", "channel", "channel_cursor", "equalizer",
             "n_ffe", "n_dfe", "ffe", "ffe_cursor", "dfe", "precode", "ideal_feedback", "preset",
             "load", "packet_bytes", "n_packets")


def _settings_keys(row: dict):
    return [k for k in _SETTINGS if k in row]
