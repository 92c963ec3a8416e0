"""TOML configuration files: named BER cases, links, switches, traffic, paths and a sweep.

Every key is checked when the file is loaded; a bad one raises :class:`ConfigError` naming the
file, the key (as a dotted path) and what is allowed. Layout (all tables optional)::

    seed = 1                          # seed of every case (default 1)

    [ber.main]                        # a named BER case (settings of photolink.studies.jobs.BerKind)
    format = "PAM4"
    snr_db = 18.2
    n_symbols = 1_000_000

    [links.host]                      # a link: a preset plus Link field overrides
    preset = "..."

    [switches.leaf]
    latency_ns = 250
    mode = "cut-through"

    [traffic.bulk]
    process = "poisson"
    load = 0.7
    packet_bytes = 4096

    [paths.fabric]                    # hops by name (links, switches) or link preset name;
    hops = ["host", "leaf", "host"]   # or: links = [...] with switch = "leaf" between them
    traffic = "bulk"                  # a [traffic.*] name or an inline table
    n_packets = 100_000

    [fabric.pod]                      # a generated topology under a traffic pattern
    topology = "leaf_spine"           # settings of photolink.studies.jobs.FabricKind
    n_leaves = 8
    hosts_per_leaf = 8
    n_spines = 4
    links = { host = "copper", spine = "dr4-800g" }   # per tier: a [links.*] name or a preset
    lengths_m = { spine = 30 }
    routing = "ecmp"
    pattern = "permutation"
    load = 0.5
    packets_per_flow = 1000

    [sweep]
    kind = "ber"                      # "ber", "link", "path" or "fabric"
    base = "main"                     # optional: start every case from a named entry
    seed = 1                          # default: the top-level seed
    store = "waterfall.sqlite"        # default: <config name>.sqlite in the working directory
    fixed = { format = "PAM4" }       # settings of every case
    grid = { snr_db = [12, 14, 16] }  # cartesian product
    # [[sweep.cases]] explicit cases (each may have a name), crossed with the grid

    [regress]
    confidence = 0.99                 # of the one-sided test of `photolink regress check`

Example files ship in ``photolink/studies/examples`` (:func:`example`, :func:`examples`).
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Mapping

import tomllib

from .._util import validate as v
from . import jobs
from .sweeps import MAX_CASES, Case, CaseFailed, SweepResult, expand, make_case, name_cases, sweep

TOP_KEYS = ("title", "seed", "ber", "links", "switches", "traffic", "paths", "fabric", "sweep", "regress")
SWEEP_KEYS = ("kind", "name", "base", "seed", "store", "chunk_symbols", "workers", "fixed", "grid",
              "cases")
SWITCH_KEYS = ("latency_ns", "mode")
TRAFFIC_KEYS = ("process", "load", "packet_bytes", "size_distribution")
PATH_KEYS = ("hops", "links", "switch", "traffic", "load", "packet_bytes", "size_distribution",
             "n_packets", "mode", "recovery")
REGRESS_KEYS = ("confidence",)
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class ConfigError(ValueError):
    """A configuration file is missing, is not TOML, or has a bad key or value.

    ``path``, ``key`` (the dotted key path) and ``detail`` say where and what, when known.
    """

    def __init__(self, message: str, *, path=None, key: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.path, self.key, self.detail = path, key, detail


@dataclass(frozen=True)
class SweepPlan:
    """The ``[sweep]`` table of a config, resolved into cases."""

    kind: str
    name: str
    seed: int
    cases: tuple
    store: str | None
    chunk_symbols: int
    workers: int | None


@dataclass(frozen=True)
class Config:
    """A loaded, checked configuration.

    Attributes
    ----------
    path : pathlib.Path
    seed : int
    entries : tuple of photolink.studies.sweeps.Case
        The named cases (``[ber.*]``, ``[links.*]``, ``[paths.*]``) in file order.
    sweep : SweepPlan or None
    confidence : float
        Of the regression test (``[regress] confidence``, default 0.99).
    """

    path: Path
    seed: int
    entries: tuple
    sweep: SweepPlan | None
    confidence: float = 0.99
    title: str = ""
    raw: dict = field(default_factory=dict, repr=False)

    def cases(self) -> list[Case]:
        """Every case of the file: the named entries, then the sweep's cases."""
        return list(self.entries) + (list(self.sweep.cases) if self.sweep else [])

    def key_of(self, case_name: str) -> str:
        """Where a case comes from in the file: ``"ber.main"``, ``"sweep (case 'x[snr_db=12]')"``."""
        for c in self.entries:
            if c.name == case_name:
                return f"{_SECTION[c.kind]}.{c.name}"
        return f"sweep (case {case_name!r})" if self.sweep is not None else repr(case_name)


def run_cases(cfg: Config, kind: str, cases, **options) -> SweepResult:
    """:func:`photolink.sweep` over cases of ``cfg``; an error raised while a case runs names
    the config file and the case's key.

    Parameters
    ----------
    cfg : Config
    kind : {"ber", "link", "path"}
    cases : sequence of Case
        Cases of ``cfg`` (its entries of one kind, or its sweep's cases).
    **options
        Passed on to :func:`photolink.sweep` (``seed`` and ``store`` are required).

    Raises
    ------
    ConfigError
        A case raised ValueError, TypeError or ArithmeticError while running (bad input that
        loading could not see); the message names the file, the key and the case.
    CaseFailed
        Any other error of a case, its message prefixed with the file and the key.
    """
    try:
        return sweep(kind, cases=[{**c.settings, "name": c.name} for c in cases], **options)
    except CaseFailed as exc:
        key = cfg.key_of(exc.case)
        msg = f"{cfg.path}: {key}: while running: {type(exc.error).__name__}: {exc.error}"
        if isinstance(exc.error, (ValueError, TypeError, ArithmeticError)):
            raise ConfigError(msg, path=cfg.path, key=key, detail=str(exc.error)) from exc
        exc.args = (f"{msg} (chunk {exc.chunk})",)
        raise


def example(name: str) -> Path:
    """Path of a shipped example config, e.g. ``example("ber_waterfall")``."""
    names = examples()
    stem = name[:-5] if name.endswith(".toml") else name
    if stem not in names:
        raise ValueError(f"example must be one of {sorted(names)}, got {name!r}")
    return names[stem]


def examples() -> dict[str, Path]:
    """The shipped example configs by name."""
    root = resources.files("photolink.studies") / "examples"
    return {Path(str(p)).stem: Path(str(p)) for p in sorted(root.iterdir(), key=str)
            if str(p).endswith(".toml")}


# -- loading -----------------------------------------------------------------------------------
class _Ctx:
    def __init__(self, path: Path):
        self.path = path

    def error(self, key: str, msg: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {msg}", path=self.path, key=key, detail=msg)

    def table(self, value, key: str) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table, got {type(value).__name__} {value!r}")
        return value

    def keys(self, table: Mapping, allowed, key: str) -> None:
        for k in table:
            if k not in allowed:
                hint = jobs.did_you_mean(k, allowed)
                raise self.error(f"{key}.{k}" if key else k,
                                 f"unknown key{hint}; allowed keys: {list(allowed)}")

    def named_tables(self, doc: Mapping, section: str) -> dict:
        tables = self.table(doc.get(section, {}), section)
        for name, t in tables.items():
            if not _NAME.match(name):
                raise self.error(f"{section}.{name}", "names may hold letters, digits, '_', '-', '.'")
            self.table(t, f"{section}.{name}")
        return tables

    def case(self, kind: str, settings: Mapping, name: str, key: str, origin=None) -> Case:
        try:
            return expand(kind, cases=[{**settings, "name": name}], name=name)[0]
        except jobs.SettingError as exc:
            where = origin.get(exc.key, key) if origin else key
            detail = re.sub(r" \[in case 0 .*\]$", "", exc.detail)
            raise self.error(f"{where}.{exc.key}", detail) from None


def load(path) -> Config:
    """Read and check a TOML config file.

    Raises
    ------
    ConfigError
        Naming the file, the key and the allowed values.
    """
    path = Path(path)
    ctx = _Ctx(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        doc = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    ctx.keys(doc, TOP_KEYS, "")
    seed = _seed(ctx, doc.get("seed", 1), "seed")
    title = doc.get("title", "")
    if not isinstance(title, str):
        raise ctx.error("title", f"must be a string, got {title!r}")

    links = ctx.named_tables(doc, "links")
    switches = ctx.named_tables(doc, "switches")
    traffic = ctx.named_tables(doc, "traffic")
    for name, t in switches.items():
        ctx.keys(t, SWITCH_KEYS, f"switches.{name}")
        if "latency_ns" not in t:
            raise ctx.error(f"switches.{name}.latency_ns", "is required (a number of ns >= 0)")
        _number(ctx, t["latency_ns"], f"switches.{name}.latency_ns", 0, 1e9)
        if "mode" in t:
            _choice(ctx, t["mode"], f"switches.{name}.mode", jobs.SWITCH_MODES)
    for name, t in traffic.items():
        _check_traffic(ctx, t, f"traffic.{name}")
    for name in set(links) & set(switches):
        raise ctx.error(f"switches.{name}", f"a link is also called {name!r}; names must be unique")

    entries = []
    for name, t in ctx.named_tables(doc, "ber").items():
        entries.append(ctx.case("ber", t, name, f"ber.{name}"))
    for name, t in links.items():
        entries.append(ctx.case("link", t, name, f"links.{name}"))
    raw_paths = ctx.named_tables(doc, "paths")
    for name, t in raw_paths.items():
        settings = _resolve_path(ctx, t, f"paths.{name}", links, switches, traffic)
        entries.append(ctx.case("path", settings, name, f"paths.{name}"))
    raw_fabrics = ctx.named_tables(doc, "fabric")
    for name, t in raw_fabrics.items():
        entries.append(ctx.case("fabric", _resolve_fabric(ctx, t, f"fabric.{name}", links), name,
                                f"fabric.{name}"))
    names = [e.name for e in entries]
    for n in names:
        if names.count(n) > 1:
            raise ctx.error(n, "two entries ([ber.*], [links.*], [paths.*], [fabric.*]) share this name")

    regress = ctx.table(doc.get("regress", {}), "regress")
    ctx.keys(regress, REGRESS_KEYS, "regress")
    confidence = _number(ctx, regress.get("confidence", 0.99), "regress.confidence", 0.5, 0.999999)
    plan = None
    if "sweep" in doc:
        plan = _sweep(ctx, ctx.table(doc["sweep"], "sweep"), seed, path,
                      {"ber": ctx.named_tables(doc, "ber"), "link": links, "path": raw_paths,
                       "fabric": raw_fabrics},
                      links, switches, traffic)
    if plan is not None:
        for c in plan.cases:
            if c.name in names:
                raise ctx.error("sweep", f"case name {c.name!r} is also an entry's name; name the "
                                         f"sweep (sweep.name) or its cases differently")
    return Config(path, seed, tuple(entries), plan, confidence, title, doc)


def _seed(ctx, value, key) -> int:
    try:
        return v.seed(key, value)
    except (TypeError, ValueError) as exc:
        raise ctx.error(key, v.detail(key, exc)) from None


def _number(ctx, value, key, lo, hi) -> float:
    try:
        return v.real(key, value, lo=lo, hi=hi)
    except (TypeError, ValueError) as exc:
        raise ctx.error(key, v.detail(key, exc)) from None


def _choice(ctx, value, key, allowed) -> str:
    if not isinstance(value, str) or value not in allowed:
        hint = jobs.did_you_mean(value, allowed) if isinstance(value, str) else ""
        raise ctx.error(key, f"must be one of {list(allowed)}, got {value!r}{hint}")
    return value


def _check_traffic(ctx, t: Mapping, key: str) -> dict:
    ctx.keys(t, TRAFFIC_KEYS, key)
    process = t.get("process", "poisson")
    if process != "poisson":
        raise ctx.error(f"{key}.process", f"must be one of ['poisson'], got {process!r}")
    for k in ("load", "packet_bytes"):
        if k not in t:
            raise ctx.error(f"{key}.{k}", "is required")
    try:
        v.real("load", t["load"], lo=0.0, hi=100.0, lo_open=True)
    except (TypeError, ValueError) as exc:
        raise ctx.error(f"{key}.load", v.detail("load", exc)) from None
    pb = t["packet_bytes"]
    if isinstance(pb, bool) or not isinstance(pb, int) or not 1 <= pb <= 10**7:
        raise ctx.error(f"{key}.packet_bytes", f"must be an integer in [1, 10000000], got {pb!r}")
    if "size_distribution" in t:
        _choice(ctx, t["size_distribution"], f"{key}.size_distribution", jobs.SIZE_DISTRIBUTIONS)
    return {k: v for k, v in t.items() if k != "process"}


def _resolve_hop(ctx, item, key, links, switches):
    if isinstance(item, str):
        if item in switches:
            return {"switch": dict(switches[item])}
        if item in links:
            return {"link": {k: v for k, v in links[item].items() if k != "frame_bytes"}}
        return {"link": {"preset": item}}           # a preset name, checked with the case
    if isinstance(item, dict):
        return item
    raise ctx.error(key, f"must be a link or switch name, a link preset name or a table, got {item!r}")


def _resolve_path(ctx, t: Mapping, key: str, links, switches, traffic) -> dict:
    """A ``[paths.*]``-style table to settings of the ``path`` case kind."""
    ctx.keys(t, PATH_KEYS, key)
    if ("hops" in t) == ("links" in t):
        raise ctx.error(key, "give either hops = [...] or links = [...] (with switch = ...)")
    if "hops" in t:
        if "switch" in t:
            raise ctx.error(f"{key}.switch", "only goes with links = [...], not with hops")
        items = t["hops"]
        if not isinstance(items, list) or not items:
            raise ctx.error(f"{key}.hops", f"must be a non-empty list, got {items!r}")
        hops = [_resolve_hop(ctx, h, f"{key}.hops[{i}]", links, switches) for i, h in enumerate(items)]
    else:
        items = t["links"]
        if not isinstance(items, list) or not items:
            raise ctx.error(f"{key}.links", f"must be a non-empty list, got {items!r}")
        sw = t.get("switch")
        if len(items) > 1 and sw is None:
            raise ctx.error(f"{key}.switch", "is required between several links (a [switches.*] "
                                             "name or an inline table)")
        if isinstance(sw, str):
            if sw not in switches:
                raise ctx.error(f"{key}.switch", f"must be one of the [switches.*] names "
                                                 f"{sorted(switches)}, got {sw!r}")
            sw = switches[sw]
        elif sw is not None:
            ctx.keys(ctx.table(sw, f"{key}.switch"), SWITCH_KEYS, f"{key}.switch")
        hops = []
        for i, item in enumerate(items):
            if i:
                hops.append({"switch": dict(sw)})
            hop = _resolve_hop(ctx, item, f"{key}.links[{i}]", links, {})
            if "link" not in hop:
                raise ctx.error(f"{key}.links[{i}]", f"must name a link, got {item!r}")
            hops.append(hop)
    direct = {k: t[k] for k in ("load", "packet_bytes", "size_distribution") if k in t}
    if "traffic" not in t and not {"load", "packet_bytes"} <= set(direct):
        raise ctx.error(f"{key}.traffic", f"is required (one of {sorted(traffic)} or an inline table; "
                                          f"or give load and packet_bytes)")
    tr = t.get("traffic", {})
    if isinstance(tr, str):
        if tr not in traffic:
            raise ctx.error(f"{key}.traffic", f"must be one of the [traffic.*] names {sorted(traffic)}, "
                                              f"got {tr!r}")
        tr = traffic[tr]
    tr = _check_traffic(ctx, {**ctx.table(tr, f"{key}.traffic"), **direct}, f"{key}.traffic")
    out = {"hops": hops, **tr}
    for k, allowed in (("mode", jobs.PATH_MODES), ("recovery", jobs.RECOVERIES)):
        if k in t:
            _choice(ctx, t[k], f"{key}.{k}", allowed)
    out.update({k: t[k] for k in ("n_packets", "mode", "recovery") if k in t})
    return out


def _sweep(ctx, t: dict, seed: int, path: Path, named: dict, links, switches, traffic) -> SweepPlan:
    ctx.keys(t, SWEEP_KEYS, "sweep")
    kind = t.get("kind")
    if not isinstance(kind, str) or kind not in jobs.KINDS:
        hint = jobs.did_you_mean(kind, jobs.KINDS) if isinstance(kind, str) else ""
        raise ctx.error("sweep.kind", f"must be one of {sorted(jobs.KINDS)}, got {kind!r}{hint}")
    name = t.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise ctx.error("sweep.name", f"must be a non-empty string, got {name!r}")
    seed = _seed(ctx, t.get("seed", seed), "sweep.seed")
    store = t.get("store", f"{path.stem}.sqlite")
    if store is not None and (not isinstance(store, str) or not store):
        raise ctx.error("sweep.store", f"must be a file name, got {store!r}")
    chunk = t.get("chunk_symbols", jobs.DEFAULT_CHUNK_SYMBOLS)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or not 1024 <= chunk <= 1 << 40:
        raise ctx.error("sweep.chunk_symbols", f"must be an integer in [1024, 2**40], got {chunk!r}")
    workers = t.get("workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or not 1 <= workers <= 4096):
        raise ctx.error("sweep.workers", f"must be an integer in [1, 4096], got {workers!r}")
    base: dict = {}
    if "base" in t:
        b = t["base"]
        if not isinstance(b, str) or b not in named[kind]:
            raise ctx.error("sweep.base", f"must name a [{_SECTION[kind]}.*] entry "
                                          f"{sorted(named[kind])}, got {b!r}")
        base = dict(named[kind][b])
    fixed = ctx.table(t.get("fixed", {}), "sweep.fixed")
    grid = ctx.table(t.get("grid", {}), "sweep.grid")
    for k, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ctx.error(f"sweep.grid.{k}", f"must be a non-empty list of values, got {values!r}")
    explicit = t.get("cases", [{}])
    if not isinstance(explicit, list) or not explicit:
        raise ctx.error("sweep.cases", "must be a non-empty array of tables ([[sweep.cases]])")
    origin = {k: f"sweep.base({t.get('base')})" for k in base}
    origin.update({k: "sweep.fixed" for k in fixed})
    origin.update({k: "sweep.grid" for k in grid})
    cases = []
    for i, c in enumerate(explicit):
        c = dict(ctx.table(c, f"sweep.cases[{i}]"))
        label = c.pop("name", None)
        if label is not None and not isinstance(label, str):
            raise ctx.error(f"sweep.cases[{i}].name", f"must be a string, got {label!r}")
        for k in c:
            if k in grid:
                raise ctx.error(f"sweep.cases[{i}].{k}", "is also swept by sweep.grid")
        cases.append((label, c))
    def prepare(i, c, point):
        raw = {**base, **fixed, **c, **point}
        if kind == "path":
            try:
                return _resolve_path(ctx, raw, "sweep", links, switches, traffic)
            except ConfigError as exc:            # name where the key came from (fixed, grid, ...)
                head, _, rest = (exc.key or "").removeprefix("sweep.").partition(".")
                src = where(i).get(head)
                if exc.key is None or src is None or not exc.key.startswith("sweep."):
                    raise
                raise ctx.error(f"{src}.{head}{'.' + rest if rest else ''}", exc.detail) from None
        if kind == "link":
            return _resolve_link(raw, links)
        if kind == "fabric":
            return _resolve_fabric(ctx, raw, "sweep", links)
        return raw

    def where(i):
        return dict(origin, **{k: f"sweep.cases[{i}]" for k in explicit[i]})

    # Key by key first (every value once, the other keys at their first value), so that a bad
    # key or value is named before anything is expanded.
    first = {k: vals[0] for k, vals in grid.items()}
    for i, (label, c) in enumerate(cases):
        ctx.case(kind, prepare(i, c, first), label or "sweep", "sweep", where(i))
        for k, vals in grid.items():
            for j, val in enumerate(vals[1:], 1):
                try:
                    jobs.kind(kind).normalize(prepare(i, c, {**first, k: val}))
                except ConfigError as exc:
                    detail = str(exc).removeprefix(f"{path}: ")
                    raise ctx.error(f"sweep.grid.{k}", f"{detail} [value {j} of the list]") from None
                except jobs.SettingError as exc:
                    detail = (exc.detail if exc.key == k else
                              f"{exc.key}: {exc.detail} (with {k} = {val!r})")
                    raise ctx.error(f"sweep.grid.{k}", f"{detail} [value {j} of the list]") from None
    n_points = math.prod(len(values) for values in grid.values())
    n_cases = len(cases) * n_points
    if n_cases > MAX_CASES:
        sizes = " x ".join(str(len(x)) for x in grid.values())
        raise ctx.error("sweep.grid", f"would make {n_cases} cases ({len(cases)} x {sizes}); at "
                                      f"most {MAX_CASES} are allowed: split the sweep or use fewer values")

    # Then every case, built once (lazily from the grid's product).
    labels, built = [], []
    for i, (label, c) in enumerate(cases):
        for p in itertools.product(*grid.values()):
            point = dict(zip(grid, p))
            name_p = f"{label}[{jobs.case_label(point)}]" if label and n_points > 1 else label
            raw = prepare(i, c, point)
            try:
                built.append(make_case(kind, raw, name_p))
            except jobs.SettingError as exc:
                src = where(i).get(exc.key, "sweep")
                raise ctx.error(f"{src}.{exc.key}", exc.detail) from None
            labels.append(name_p)
    try:
        built = name_cases(labels, built, name)
    except ValueError as exc:
        raise ctx.error("sweep", str(exc)) from None
    return SweepPlan(kind, name, seed, tuple(built), store, chunk, workers)


def _resolve_link(raw: Mapping, links: Mapping) -> dict:
    """A sweep case whose ``preset`` names a ``[links.*]`` table starts from that table."""
    p = raw.get("preset")
    if isinstance(p, str) and p in links:
        return {**links[p], **{k: v for k, v in raw.items() if k != "preset"}}
    return dict(raw)


def _resolve_fabric(ctx, t: Mapping, key: str, links: Mapping) -> dict:
    """A ``[fabric.*]``-style table to settings of the ``fabric`` case kind: a tier's link may
    name a ``[links.*]`` table."""
    out = dict(t)
    if "links" in out:
        tiers = ctx.table(out["links"], f"{key}.links")
        out["links"] = {tier: ({k: x for k, x in links[spec].items() if k != "frame_bytes"}
                               if isinstance(spec, str) and spec in links else spec)
                        for tier, spec in tiers.items()}
    return out


_SECTION = {"ber": "ber", "link": "links", "path": "paths", "fabric": "fabric"}
