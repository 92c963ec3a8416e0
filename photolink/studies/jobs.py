"""Case kinds: what one row of a sweep (or one entry of a config) computes, in chunks.

A *case* is a flat mapping of plain settings (str, int, float, bool, lists of them) of one
*kind*. Each kind knows how to

* ``normalize`` the settings (validate every key, fill defaults, canonical types), raising
  :class:`SettingError` naming the key, the value and what is allowed;
* cut the case into independent ``chunks`` (plain JSON values);
* ``run_chunk`` in any process, from the settings, the case's ``SeedSequence`` and the chunk;
* ``combine`` the chunks' partial results into the row's figures.

Kinds: ``"ber"`` (:func:`photolink.simulate_ber` and :func:`photolink.estimate_ber`),
``"link"`` (a link preset's evaluation report), ``"path"`` (a multi-hop path under traffic) and
``"fabric"`` (a generated topology carrying many flows, :class:`photolink.net.fabric.Fabric`).
The ``link``, ``path`` and ``fabric`` kinds need :mod:`photolink.links` and :mod:`photolink.net`.
"""
from __future__ import annotations

import difflib
import math
import numbers
import re
from typing import Any, Mapping

import numpy as np

from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import clopper_pearson
from ..net import fabric as fabric_mod
from ..net import flows as flows_mod
from ..net import path as path_mod
from ..net import routing as routing_mod
from ..net import topology as topology_mod
from ..net import traffic as traffic_mod
from ..symbols import estimate as _estimate
from ..symbols import stream as _stream
from ..symbols.channel import Channel, Equalizer
from ..symbols.formats import PAM
from . import linkspec


class SettingError(ValueError):
    """A case setting is missing, unknown, of the wrong type or out of range."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.detail = message


# -- small typed readers used by every kind: the _util.validate checks, keyed by setting ------
def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _read(s, key, check, default, required, wanted):
    """``check(key, s[key])`` as a SettingError; ``default`` (or an error) when ``key`` is absent."""
    if key not in s:
        if required:
            raise SettingError(key, f"is required ({wanted})")
        return default
    try:
        return check(key, s[key])
    except (TypeError, ValueError) as exc:
        raise SettingError(key, v.detail(key, exc)) from None


def _real(s, key, *, lo=-math.inf, hi=math.inf, default=None, required=False):
    return _read(s, key, lambda k, x: v.real(k, x, lo=lo, hi=hi), default, required,
                 f"a number in [{lo}, {hi}]")


def _int(s, key, *, lo, hi, default=None, required=False):
    return _read(s, key, lambda k, x: v.integer(k, x, lo=lo, hi=hi), default, required,
                 f"an integer in [{lo}, {hi}]")


def _bool(s, key, default=False):
    return _read(s, key, v.boolean, default, False, "true or false")


def _choice(s, key, allowed, default=None, required=False):
    return _read(s, key, lambda k, x: v.choice(k, x, allowed), default, required,
                 f"one of {list(allowed)}")


def _str(s, key, default=None, required=False):
    return _read(s, key, v.string, default, required, "a string")


def _taps(s, key):
    x = s[key]
    if isinstance(x, (str, bytes)) or not isinstance(x, (list, tuple)) or not x \
            or not all(_is_real(t) and math.isfinite(float(t)) for t in x):
        raise SettingError(key, f"must be a non-empty list of numbers, got {x!r}")
    return [float(t) for t in x]


def did_you_mean(word, allowed) -> str:
    """``" (did you mean 'snr_db'?)"`` for the closest of ``allowed``, or ``""``."""
    if not isinstance(word, str):
        return ""
    names = {str(a).lower(): str(a) for a in allowed}
    close = difflib.get_close_matches(word.lower(), list(names), n=1, cutoff=0.6)
    return f" (did you mean {names[close[0]]!r}?)" if close else ""


def _no_unknown(s, allowed, context=""):
    extra = sorted((str(k) for k in set(s) - set(allowed)))
    if extra:
        raise SettingError(extra[0], f"unknown key{did_you_mean(extra[0], allowed)}: not a setting{context}; "
                                     f"allowed: {sorted(allowed)}")




# -- checks of stored chunk results (a store's contents are never trusted) ------------------
def _count(result: Mapping, key: str, hi=None) -> int:
    x = result.get(key)
    if isinstance(x, bool) or not isinstance(x, int) or x < 0:
        raise ValueError(f"{key} must be a non-negative integer, got {x!r}")
    if hi is not None and x > hi:
        raise ValueError(f"{key} = {x} exceeds {hi}")
    return x


def _prob(result: Mapping, key: str) -> float:
    x = result.get(key)
    if not _is_real(x) or not 0.0 <= float(x) <= 1.0:
        raise ValueError(f"{key} must be a probability in [0, 1], got {x!r}")
    return float(x)


def _check_plain(result) -> None:
    """A chunk of a deterministic kind: a non-empty JSON object of plain values."""
    if not isinstance(result, Mapping) or not result:
        raise ValueError(f"must be a non-empty JSON object, got {type(result).__name__}")
    for key, x in result.items():
        if isinstance(x, Mapping):
            raise ValueError(f"{key} is a nested object (chunks hold flat figures)")


# -- the ber kind ----------------------------------------------------------------------------
FORMAT_NAMES = ("NRZ", "PAM2", "PAM4", "PAM8", "PAM16", "PAM32", "PAM64")
BER_METHODS = ("simulate",) + _estimate.METHODS
EQUALIZERS = ("none", "zf", "mmse", "custom")
#: Symbols per sweep chunk of a ``simulate`` case (a multiple of the stream's own chunk).
DEFAULT_CHUNK_SYMBOLS = 1 << 24


def parse_format(name) -> PAM:
    """``"PAM4"``, ``"NRZ"``, ... to a :class:`photolink.PAM` format."""
    if not isinstance(name, str) or name.upper() not in FORMAT_NAMES:
        raise SettingError("format", f"must be one of {list(FORMAT_NAMES)}, got {name!r}")
    name = name.upper()
    return PAM(2 if name == "NRZ" else int(name[3:]))


class BerKind:
    """Bit-error rate of a PAM format over a channel: Monte Carlo or an estimator.

    Settings
    --------
    format : str
        ``"NRZ"``, ``"PAM2"``, ``"PAM4"``, ``"PAM8"``, ... (required).
    snr_db : float
        SNR in dB, as for :func:`photolink.simulate_ber` (required).
    method : str
        ``"simulate"`` (default; symbol-stream Monte Carlo), ``"importance"``,
        ``"statistical-eye"`` or ``"montecarlo"`` (:func:`photolink.estimate_ber`).
    n_symbols : int
        Symbols of a ``simulate`` case (default 1e6).
    channel : list of float, channel_cursor : int
        Pulse response and main-cursor index (default: ideal channel).
    equalizer : str
        ``"none"``, ``"zf"`` or ``"mmse"`` (designed with ``n_ffe`` FFE and ``n_dfe`` DFE taps),
        or ``"custom"`` with ``ffe``, ``ffe_cursor`` and ``dfe`` taps.
    precode, ideal_feedback : bool
        ``simulate`` only.
    rel_ci, max_samples : float, int
        Estimators only.
    confidence : float
        Coverage of the reported interval (default 0.95).
    """

    name = "ber"
    budget_keys = ("n_symbols",)

    def normalize(self, s: Mapping) -> dict:
        s = dict(s)
        out: dict[str, Any] = {}
        method = _choice(s, "method", BER_METHODS, default="simulate")
        allowed = {"format", "snr_db", "method", "channel", "channel_cursor", "equalizer",
                   "n_ffe", "n_dfe", "ffe", "ffe_cursor", "dfe", "confidence"}
        allowed |= ({"n_symbols", "precode", "ideal_feedback"} if method == "simulate"
                    else {"rel_ci", "max_samples"})
        _no_unknown(s, allowed, f" of method {method!r}")        # a typo before "is required"
        fmt = parse_format(s.get("format")) if "format" in s else None
        if fmt is None:
            raise SettingError("format", f"is required (one of {list(FORMAT_NAMES)})")
        out["format"] = fmt.name
        out["snr_db"] = _real(s, "snr_db", lo=-30, hi=80, required=True)
        out["method"] = method
        if method == "simulate":
            out["n_symbols"] = _int(s, "n_symbols", lo=1, hi=_stream.MAX_SYMBOLS, default=10**6)
        else:
            out["rel_ci"] = _real(s, "rel_ci", lo=1e-3, hi=1.0, default=0.1)
            out["max_samples"] = _int(s, "max_samples", lo=1000, hi=10**12, default=10**7)
        out["confidence"] = _real(s, "confidence", lo=0.5, hi=0.9999, default=0.95)
        if "channel" in s:
            out["channel"] = _taps(s, "channel")
            if "channel_cursor" in s:
                out["channel_cursor"] = _int(s, "channel_cursor", lo=0, hi=len(out["channel"]) - 1)
        elif "channel_cursor" in s:
            raise SettingError("channel_cursor", "needs a channel")
        eq = _choice(s, "equalizer", EQUALIZERS, default="none")
        if eq != "none":
            out["equalizer"] = eq
        if eq in ("zf", "mmse"):
            out["n_ffe"] = _int(s, "n_ffe", lo=1, hi=64, default=5)
            out["n_dfe"] = _int(s, "n_dfe", lo=0, hi=64, default=0)
        if eq == "custom":
            if "ffe" not in s and "dfe" not in s:
                raise SettingError("equalizer", "'custom' needs ffe and/or dfe taps")
            if "ffe" in s:
                out["ffe"] = _taps(s, "ffe")
                out["ffe_cursor"] = _int(s, "ffe_cursor", lo=0, hi=len(out["ffe"]) - 1, default=0)
            if "dfe" in s:
                out["dfe"] = _taps(s, "dfe")
        for key in ("n_ffe", "n_dfe") if eq not in ("zf", "mmse") else ():
            if key in s:
                raise SettingError(key, f"applies to equalizer 'zf' or 'mmse', not {eq!r}")
        for key in ("ffe", "ffe_cursor", "dfe") if eq != "custom" else ():
            if key in s:
                raise SettingError(key, f"applies to equalizer 'custom', not {eq!r}")
        if method == "simulate":
            for key in ("precode", "ideal_feedback"):
                if _bool(s, key):
                    out[key] = True
        try:
            self.objects(out)
        except (ValueError, TypeError) as exc:
            key = next((k for k in ("channel", "ffe", "dfe") if k in str(exc)), "equalizer")
            raise SettingError(key, str(exc)) from None
        return out

    @staticmethod
    def objects(s: Mapping):
        """The format, channel and equaliser a normalised case describes."""
        fmt = parse_format(s["format"])
        ch = Channel(tuple(s["channel"]), s.get("channel_cursor")) if "channel" in s else None
        eq = None
        kind = s.get("equalizer", "none")
        if kind in ("zf", "mmse"):
            base = ch or Channel((1.0,))
            eq = (Equalizer.zero_forcing(base, s["n_ffe"], s["n_dfe"]) if kind == "zf"
                  else Equalizer.mmse(base, s["n_ffe"], s["n_dfe"], s["snr_db"]))
        elif kind == "custom":
            eq = Equalizer(ffe=tuple(s.get("ffe", (1.0,))), ffe_cursor=s.get("ffe_cursor", 0),
                           dfe=tuple(s.get("dfe", ())))
        return fmt, ch, eq

    def chunks(self, s: Mapping, options: Mapping) -> list:
        if s["method"] != "simulate":
            return [[0, 0]]
        step = int(options.get("chunk_symbols", DEFAULT_CHUNK_SYMBOLS))
        n = s["n_symbols"]
        return [[a, min(a + step, n)] for a in range(0, n, step)]

    def run_chunk(self, s: Mapping, ss: np.random.SeedSequence, chunk) -> dict:
        fmt, ch, eq = self.objects(s)
        if s["method"] != "simulate":
            est = _estimate.estimate_ber(fmt, s["snr_db"], seed=ss, method=s["method"],
                                         rel_ci=s["rel_ci"], channel=ch, equalizer=eq,
                                         confidence=s["confidence"], max_samples=s["max_samples"])
            return {"ber": est.ber, "ber_ci_low": est.ci[0], "ber_ci_high": est.ci[1],
                    "samples": est.samples}
        start, stop = chunk
        st = _stream.SymbolStream(fmt, s["snr_db"], seed=ss, channel=ch, equalizer=eq,
                                  precode=s.get("precode", False),
                                  ideal_feedback=s.get("ideal_feedback", False))
        st.position = start
        r = st.run(stop - start)
        return {"symbols": r.symbols, "symbol_errors": r.symbol_errors, "bits": r.bits,
                "bit_errors": r.bit_errors, "burst_hist": r.burst_hist.tolist()}

    def check_chunk(self, s: Mapping, chunk, result: Mapping) -> None:
        """Raise ValueError when a stored chunk ``result`` cannot be this case's ``chunk``."""
        if not isinstance(result, Mapping):
            raise ValueError(f"must be a JSON object, got {type(result).__name__}")
        if s["method"] != "simulate":
            ber, lo, hi = (_prob(result, k) for k in ("ber", "ber_ci_low", "ber_ci_high"))
            if not lo <= ber * (1 + 1e-12) + 1e-300 or not ber <= hi * (1 + 1e-12) + 1e-300:
                raise ValueError(f"ber {ber!r} lies outside its interval [{lo!r}, {hi!r}]")
            if lo > hi:
                raise ValueError(f"ber_ci_low {lo!r} exceeds ber_ci_high {hi!r}")
            _count(result, "samples")
            return
        start, stop = chunk
        k = parse_format(s["format"]).bits_per_symbol
        symbols = _count(result, "symbols")
        if symbols != stop - start:
            raise ValueError(f"symbols = {symbols}, but the chunk [{start}, {stop}) holds {stop - start}")
        bits = _count(result, "bits")
        if bits != symbols * k:
            raise ValueError(f"bits = {bits}, but {symbols} {s['format']} symbols carry {symbols * k}")
        se = _count(result, "symbol_errors", symbols)
        be = _count(result, "bit_errors", bits)
        if not se <= be <= se * k:
            raise ValueError(f"bit_errors = {be} is impossible with {se} symbol errors of {k} bits")
        hist = result.get("burst_hist")
        if not isinstance(hist, list) or len(hist) != _stream.BURST_BINS or not all(
                isinstance(h, int) and not isinstance(h, bool) and h >= 0 for h in hist):
            raise ValueError(f"burst_hist must be {_stream.BURST_BINS} non-negative integers")
        if sum((i + 1) * h for i, h in enumerate(hist)) > se:
            raise ValueError(f"burst_hist holds more symbol errors than symbol_errors = {se}")

    def combine(self, s: Mapping, parts: list) -> dict:
        if s["method"] != "simulate":
            p = parts[0]
            return {"ber": p["ber"], "ber_ci_low": p["ber_ci_low"], "ber_ci_high": p["ber_ci_high"],
                    "samples": p["samples"]}
        tot = {k: sum(p[k] for p in parts) for k in ("symbols", "symbol_errors", "bits", "bit_errors")}
        if tot["symbols"] != s["n_symbols"]:
            raise ValueError(f"the chunks hold {tot['symbols']} symbols, the case {s['n_symbols']}")
        hist = np.sum([p["burst_hist"] for p in parts], axis=0)
        lo, hi = clopper_pearson(tot["bit_errors"], tot["bits"], s["confidence"])
        bursts = int(hist.sum())
        plain = not any(k in s for k in ("channel", "equalizer", "precode"))
        return {
            "symbols": tot["symbols"], "symbol_errors": tot["symbol_errors"], "bits": tot["bits"],
            "bit_errors": tot["bit_errors"], "ber": tot["bit_errors"] / tot["bits"],
            "ber_ci_low": lo, "ber_ci_high": hi, "ser": tot["symbol_errors"] / tot["symbols"],
            "error_events": bursts,
            "mean_burst_length": float(np.arange(1, hist.size + 1) @ hist / bursts) if bursts else 0.0,
            "ber_awgn": float(parse_format(s["format"]).ber_awgn(s["snr_db"])) if plain else None,
        }


# -- the link kind ---------------------------------------------------------------------------
def _link_from(spec: Mapping, kind: str):
    """A ``photolink.Link`` from ``{"preset": name, **overrides}`` (nested tables allowed; see
    :mod:`photolink.studies.linkspec`)."""
    try:
        return linkspec.build_link(spec)
    except linkspec.SpecError as exc:
        raise SettingError(exc.key, exc.detail) from None


def _link_spec(x, key: str) -> dict:
    if isinstance(x, str):
        return {"preset": x}
    if isinstance(x, Mapping) and isinstance(x.get("preset"), str):
        return dict(x)
    raise SettingError(key, f"must be a link preset name or a table with a 'preset' key, got {x!r}")


def _plain(value):
    """JSON-friendly plain values (numpy scalars to Python, tuples to lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _flatten(d: Mapping, prefix: str = "") -> dict:
    out = {}
    for k, x in d.items():
        if isinstance(x, Mapping):
            out.update(_flatten(x, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = _plain(x)
    return out


class LinkKind:
    """A link preset's evaluation (:meth:`photolink.Link.evaluate`).

    Settings: ``preset`` (a name from :func:`photolink.links.presets`), ``frame_bytes``
    (default 64, for the frame loss ratio) and any field of ``photolink.Link`` to override.
    """

    name = "link"
    budget_keys = ()

    def normalize(self, s: Mapping) -> dict:
        out = _link_spec(dict(s), "preset")
        out.pop("frame_bytes", None)
        out["frame_bytes"] = _int(s, "frame_bytes", lo=1, hi=10**7, default=64)
        _link_from({k: v for k, v in out.items() if k != "frame_bytes"}, self.name)
        return out

    def chunks(self, s, options):
        return [[0, 0]]

    def run_chunk(self, s, ss, chunk) -> dict:
        link = _link_from({k: v for k, v in s.items() if k != "frame_bytes"}, self.name)
        report = link.evaluate()
        out = _flatten(report.to_dict())
        out["frame_loss_ratio"] = float(report.frame_loss_ratio(s["frame_bytes"]))
        return out

    def check_chunk(self, s, chunk, result) -> None:
        """Raise ValueError when a stored chunk ``result`` cannot be this case's."""
        _check_plain(result)

    def combine(self, s, parts) -> dict:
        return dict(parts[0])


# -- the path kind ---------------------------------------------------------------------------
#: Choices of a path case (as :meth:`photolink.Path.run`, :class:`photolink.net.traffic.Poisson`
#: and :class:`photolink.Switch` accept them).
PATH_MODES = ("statistical", "exact")
RECOVERIES = ("drop", "llr", "e2e")
SIZE_DISTRIBUTIONS = ("fixed", "exponential")
SWITCH_MODES = ("cut-through", "store-and-forward")


class PathKind:
    """A multi-hop path under Poisson traffic (:meth:`photolink.Path.run`).

    Settings
    --------
    hops : list
        Items are a link preset name, ``{"link": {"preset": ..., overrides}}``, or
        ``{"switch": {"latency_ns": ..., "mode": ...}}``; links and switches in path order.
    load, packet_bytes, size_distribution
        Poisson traffic (``size_distribution`` optional).
    n_packets : int
        Packets to send (default 1e5).
    mode, recovery : str, optional
        Passed to ``Path.run``.
    """

    name = "path"
    budget_keys = ()

    def normalize(self, s: Mapping) -> dict:
        s = dict(s)
        _no_unknown(s, {"hops", "load", "packet_bytes", "size_distribution", "n_packets", "mode",
                        "recovery"}, " of a path")
        hops = s.get("hops")
        if not isinstance(hops, (list, tuple)) or not hops:
            raise SettingError("hops", f"must be a non-empty list of links and switches, got {hops!r}")
        norm = []
        for i, h in enumerate(hops):
            if isinstance(h, Mapping) and "preset" not in h:
                try:
                    _no_unknown(h, {"link", "switch"}, " of a hop (a link preset name, or a table "
                                                       "with preset, link or switch)")
                except SettingError as exc:
                    raise SettingError(f"hops[{i}].{exc.key}", exc.detail) from None
            if isinstance(h, Mapping) and set(h) == {"switch"}:
                if not isinstance(h["switch"], Mapping):
                    raise SettingError(f"hops[{i}].switch", f"must be a table, got {h['switch']!r}")
                sw = dict(h["switch"])
                try:
                    _no_unknown(sw, {"latency_ns", "mode"}, " of a switch")
                    spec = {"latency_ns": _real(sw, "latency_ns", lo=0, hi=1e9, required=True)}
                    if "mode" in sw:
                        spec["mode"] = _str(sw, "mode")
                except SettingError as exc:
                    raise SettingError(f"hops[{i}].switch.{exc.key}", exc.detail) from None
                norm.append({"switch": spec})
            else:
                inner = h["link"] if isinstance(h, Mapping) and set(h) == {"link"} else h
                norm.append({"link": _link_spec(inner, f"hops[{i}]")})
        for i, h in enumerate(norm):
            if "link" in h:
                try:
                    _link_from(h["link"], self.name)
                except SettingError as exc:
                    raise SettingError(f"hops[{i}].{exc.key}", exc.detail) from None
        out = {"hops": norm,
               "load": _real(s, "load", lo=0, hi=100, required=True),
               "packet_bytes": _int(s, "packet_bytes", lo=1, hi=10**7, required=True),
               "n_packets": _int(s, "n_packets", lo=1, hi=10**13, default=10**5)}
        for key, allowed in (("size_distribution", SIZE_DISTRIBUTIONS), ("mode", PATH_MODES),
                             ("recovery", RECOVERIES)):
            if key in s:
                out[key] = _choice(s, key, allowed)
        for i, h in enumerate(norm):
            if "switch" in h and "mode" in h["switch"]:
                try:
                    v.choice("mode", h["switch"]["mode"], SWITCH_MODES)
                except (TypeError, ValueError) as exc:
                    raise SettingError(f"hops[{i}].switch.mode", v.detail("mode", exc)) from None
        try:                                    # what the API would refuse at run time
            self.objects(out)
        except SettingError:
            raise
        except (TypeError, ValueError) as exc:
            msg = str(exc)
            key = next((k for k in ("load", "packet_bytes", "size_distribution", "latency_ns")
                        if msg.startswith(k)), "hops")
            raise SettingError(key, msg) from None
        return out

    @staticmethod
    def objects(s: Mapping):
        """The ``photolink.Path`` and traffic a normalised case describes."""
        hops = []
        for h in s["hops"]:
            if "switch" in h:
                sw = h["switch"]
                kw = {"mode": sw["mode"]} if "mode" in sw else {}
                hops.append(path_mod.Switch(sw["latency_ns"], **kw))
            else:
                hops.append(_link_from(h["link"], "path"))
        kw = {"size_distribution": s["size_distribution"]} if "size_distribution" in s else {}
        traffic = traffic_mod.Poisson(load=s["load"], packet_bytes=s["packet_bytes"], **kw)
        return path_mod.Path(hops), traffic

    def chunks(self, s, options):
        return [[0, 0]]

    def run_chunk(self, s, ss, chunk) -> dict:
        path, traffic = self.objects(s)
        kw = {k: s[k] for k in ("mode", "recovery") if k in s}
        result = path.run(traffic, s["n_packets"], seed=ss, **kw)
        d = dict(result.to_dict())
        if "hops" in d:                          # per-hop statistics; "hops" is a setting
            d["hop_stats"] = d.pop("hops")
        return _flatten(d)

    def check_chunk(self, s, chunk, result) -> None:
        """Raise ValueError when a stored chunk ``result`` cannot be this case's."""
        _check_plain(result)
        n = s["n_packets"]
        lost = _count(result, "lost", n)
        if _count(result, "delivered", n) + lost > n:
            raise ValueError(f"delivered + lost exceeds n_packets = {n}")
        _prob(result, "loss_ratio")

    def combine(self, s, parts) -> dict:
        return dict(parts[0])


# -- the fabric kind -------------------------------------------------------------------------
#: Topology generators of a fabric case: their integer parameters (required ones first, with
#: None as default) and their tiers (the ``<tier>_link`` keywords).
TOPOLOGIES = {
    "leaf_spine": (topology_mod.leaf_spine, {"n_leaves": None, "hosts_per_leaf": None, "n_spines": None,
                                             "uplinks_per_spine": 1}, ("host", "spine")),
    "fat_tree": (topology_mod.fat_tree, {"k": None, "hosts_per_edge": 0}, ("host", "agg", "core")),
    "dragonfly": (topology_mod.dragonfly, {"a": None, "p": None, "h": None, "groups": 0},
                  ("host", "local", "global")),
    "torus": (topology_mod.torus, {"k": None, "n": None, "hosts_per_node": 1}, ("host", "")),
    "hypercube": (topology_mod.hypercube, {"n": None, "hosts_per_node": 1}, ("host", "")),
    "rail_optimised": (topology_mod.rail_optimised, {"n_servers": None, "gpus_per_server": None,
                                                     "n_spines": None, "uplinks_per_spine": 1},
                       ("host", "spine")),
}
PATTERNS = ("permutation", "uniform", "incast", "all_to_all", "adversarial")
FABRIC_ARRIVALS = ("poisson", "constant", "onoff")
#: Most packets one fabric case may offer (every flow together).
MAX_FABRIC_PACKETS = 10**10


def _tier_name(t: str) -> str:
    return "link" if t == "" else t


class FabricKind:
    """A generated topology carrying a traffic pattern (:meth:`photolink.net.fabric.Fabric.run`).

    Settings
    --------
    topology : str
        A generator of :data:`TOPOLOGIES` (required); its integer parameters are settings of
        their own (``n_leaves``, ``hosts_per_leaf``, ``n_spines``, ``k``, ``a``, ``p``, ``h``, ...),
        so that a sweep can vary them.
    links : table
        Each tier's link (``host``, ``spine``, ``agg``, ``core``, ``local``, ``global``, or ``link``
        for tori and hypercubes): a preset name or a table ``{preset = ..., length_m = ...,
        overrides}``; a tier not given is the generator's ideal 100 Gb/s link.
    lengths_m : table, optional
        Cable length per tier, merged into that tier's link as ``length_m``.
    routing : str
        One of :data:`photolink.net.routing.ROUTINGS` (default ``"ecmp"``).
    pattern : str
        ``permutation``, ``uniform`` (``flows_per_host``), ``incast`` (``n_senders``, default all
        other hosts), ``all_to_all`` or ``adversarial`` (dragonfly group i to group i + 1).
    arrivals, load, packet_bytes, packets_per_flow
        Poisson or constant gaps within each flow at ``load`` of the source host link's rate, or
        ``"onoff"`` bursts (``burst_packets`` mean packets at ``peak_load``, default 16 and 1).
    switch_latency_ns, switch_mode, buffer_bytes
        Every switch (default 0 ns, cut-through, unbounded buffers).
    mode, recovery : str, optional
        As :meth:`Fabric.run` (recovery ``"e2e"`` needs ``timeout_ns``).
    """

    name = "fabric"
    budget_keys = ()
    COMMON = ("topology", "links", "lengths_m", "routing", "pattern", "flows_per_host", "n_senders",
              "arrivals", "load", "packet_bytes", "packets_per_flow", "burst_packets", "peak_load",
              "switch_latency_ns", "switch_mode",
              "buffer_bytes", "mode", "recovery", "timeout_ns", "max_retries")

    def normalize(self, s: Mapping) -> dict:
        s = dict(s)
        topo = _choice(s, "topology", tuple(TOPOLOGIES), required=True)
        _, params, tiers = TOPOLOGIES[topo]
        _no_unknown(s, set(self.COMMON) | set(params), f" of a {topo} fabric")
        out: dict[str, Any] = {"topology": topo}
        for key, default in params.items():
            x = _int(s, key, lo=1, hi=1 << 16, required=default is None, default=default)
            if x:
                out[key] = x
        names = [_tier_name(t) for t in tiers]
        for key in ("links", "lengths_m"):
            t = s.get(key, {})
            if not isinstance(t, Mapping):
                raise SettingError(key, f"must be a table keyed by tier {names}, got {t!r}")
            for tier in t:
                if tier not in names:
                    raise SettingError(f"{key}.{tier}", f"is not a tier of a {topo} fabric"
                                                        f"{did_you_mean(tier, names)}; tiers: {names}")
        links = {tier: _link_spec(spec, f"links.{tier}") for tier, spec in s.get("links", {}).items()}
        for tier, length in s.get("lengths_m", {}).items():
            x = _real(s["lengths_m"], tier, lo=0.0, hi=1e7, required=True)
            links.setdefault(tier, None)
            if links[tier] is None:
                raise SettingError(f"lengths_m.{tier}", "needs a link preset for that tier in links")
            links[tier] = {**links[tier], "length_m": x}
        for tier, spec in links.items():
            try:
                _link_from(spec, self.name)
            except SettingError as exc:
                raise SettingError(f"links.{tier}.{exc.key}", exc.detail) from None
        if links:
            out["links"] = {tier: links[tier] for tier in names if tier in links}
        out["routing"] = _choice(s, "routing", routing_mod.ROUTINGS, default="ecmp")
        out["pattern"] = _choice(s, "pattern", PATTERNS, default="permutation")
        if out["pattern"] == "adversarial" and topo != "dragonfly":
            raise SettingError("pattern", f"'adversarial' (group i to group i + 1) needs topology 'dragonfly', "
                                          f"not {topo!r}")
        if out["pattern"] == "uniform":
            out["flows_per_host"] = _int(s, "flows_per_host", lo=1, hi=4096, default=1)
        elif "flows_per_host" in s:
            raise SettingError("flows_per_host", f"applies to pattern 'uniform', not {out['pattern']!r}")
        if out["pattern"] == "incast":
            if "n_senders" in s:
                out["n_senders"] = _int(s, "n_senders", lo=1, hi=1 << 24)
        elif "n_senders" in s:
            raise SettingError("n_senders", f"applies to pattern 'incast', not {out['pattern']!r}")
        out["arrivals"] = _choice(s, "arrivals", FABRIC_ARRIVALS, default="poisson")
        out["load"] = _real(s, "load", lo=1e-6, hi=1.0, required=True)
        out["packet_bytes"] = _int(s, "packet_bytes", lo=1, hi=10**7, default=4096)
        out["packets_per_flow"] = _int(s, "packets_per_flow", lo=1, hi=10**9, default=1000)
        if out["arrivals"] == "onoff":
            out["burst_packets"] = _real(s, "burst_packets", lo=1.0, hi=1e9, default=16.0)
            out["peak_load"] = _real(s, "peak_load", lo=out["load"], hi=1.0, default=1.0)
        else:
            for key in ("burst_packets", "peak_load"):
                if key in s:
                    raise SettingError(key, f"applies to arrivals 'onoff', not {out['arrivals']!r}")
        out["switch_latency_ns"] = _real(s, "switch_latency_ns", lo=0.0, hi=1e9, default=0.0)
        out["switch_mode"] = _choice(s, "switch_mode", SWITCH_MODES, default="cut-through")
        if "buffer_bytes" in s:
            out["buffer_bytes"] = _real(s, "buffer_bytes", lo=1.0, hi=1e15)
        out["mode"] = _choice(s, "mode", PATH_MODES, default="statistical")
        out["recovery"] = _choice(s, "recovery", RECOVERIES, default="drop")
        if out["recovery"] == "e2e":
            out["timeout_ns"] = _real(s, "timeout_ns", lo=1e-3, hi=1e15, required=True)
        elif "timeout_ns" in s:
            raise SettingError("timeout_ns", f"applies to recovery 'e2e', not {out['recovery']!r}")
        if out["recovery"] != "drop":
            out["max_retries"] = _int(s, "max_retries", lo=0, hi=64, default=3)
        elif "max_retries" in s:
            raise SettingError("max_retries", "applies to recovery 'llr' or 'e2e', not 'drop'")
        try:                                    # what the API would refuse at run time
            fab = self.fabric(out)
            n_flows = self.pairs(out, fab.topology, 0)[0].size
        except SettingError:
            raise
        except (TypeError, ValueError) as exc:
            msg = str(exc)
            key = next((k for k in (*params, "n_senders", "flows_per_host", "routing", "pattern")
                        if msg.startswith(k)), "topology")
            raise SettingError(key, msg) from None
        if n_flows * out["packets_per_flow"] > MAX_FABRIC_PACKETS:
            raise SettingError("packets_per_flow", f"{n_flows} flows x {out['packets_per_flow']} packets is "
                                                   f"more than {MAX_FABRIC_PACKETS:g}")
        return out

    @staticmethod
    def fabric(s: Mapping) -> fabric_mod.Fabric:
        """The ``photolink.net.Fabric`` a normalised case describes."""
        make, params, tiers = TOPOLOGIES[s["topology"]]
        kw = {k: s[k] for k in params if k in s}
        for tier in tiers:
            spec = s.get("links", {}).get(_tier_name(tier))
            if spec is not None:
                kw[f"{tier}_link" if tier else "link"] = _link_from(spec, "fabric")
        topo = make(**kw)
        sw = path_mod.Switch(s["switch_latency_ns"], s["switch_mode"],
                             buffer_bytes=s.get("buffer_bytes", math.inf))
        return fabric_mod.Fabric(topo, routing=s["routing"], switch=sw)

    @staticmethod
    def pairs(s: Mapping, topo, seed):
        """The (src, dst) host pairs of the case's pattern."""
        pattern = s["pattern"]
        if pattern == "permutation":
            return flows_mod.permutation(topo, seed=seed)
        if pattern == "uniform":
            return flows_mod.uniform_random(topo, s["flows_per_host"], seed=seed)
        if pattern == "incast":
            return flows_mod.incast(topo, s.get("n_senders", topo.n_hosts - 1))
        if pattern == "all_to_all":
            return flows_mod.all_to_all(topo)
        return flows_mod.dragonfly_adversarial(topo)

    def chunks(self, s, options):
        return [[0, 0]]

    def run_chunk(self, s, ss, chunk) -> dict:
        fab = self.fabric(s)
        pairs = self.pairs(s, fab.topology, _rng.child(ss, 0))
        kw = {"load": s["load"], "packet_bytes": float(s["packet_bytes"]), "n_packets": s["packets_per_flow"]}
        if s["arrivals"] == "onoff":
            flows = flows_mod.Flows.onoff(pairs, burst_packets=s["burst_packets"], peak_load=s["peak_load"], **kw)
        else:
            make = flows_mod.Flows.poisson if s["arrivals"] == "poisson" else flows_mod.Flows.constant
            flows = make(pairs, **kw)
        recovery = s["recovery"]
        if recovery == "e2e":
            recovery = path_mod.E2E(timeout_ns=s["timeout_ns"], max_retries=s["max_retries"])
        elif recovery == "llr":
            recovery = path_mod.LLR(max_retries=s["max_retries"])
        r = fab.run(flows, seed=_rng.child(ss, 1), recovery=recovery, mode=s["mode"])
        d = r.to_dict()
        flows_t, links_t = d.pop("flows"), d.pop("links")
        d["recovery"] = s["recovery"]
        d.pop("seed_entropy", None)
        util = np.asarray(links_t["utilisation"], np.float64)
        fct = np.asarray(flows_t["completion_time_ns"], np.float64)
        hot = int(np.argmax(np.nan_to_num(util, nan=-1.0)))
        d.update({
            "n_flows": len(flows_t["src"]), "n_hosts": int(fab.topology.n_hosts),
            "n_links": int(fab.topology.n_links), "bisection_gbps": float(fab.topology.bisection_closed_form_gbps),
            "max_link_utilisation": float(util[hot]), "hot_link": hot,
            "hot_link_src": int(links_t["src"][hot]), "hot_link_dst": int(links_t["dst"][hot]),
            "max_queue_p99_bytes": float(np.nanmax(links_t["queue_p99_bytes"])),
            "link_tail_drops": int(np.sum(links_t["tail_drops"])),
            "mean_completion_time_ns": float(np.nanmean(fct)) if np.any(np.isfinite(fct)) else math.nan,
            "max_completion_time_ns": float(np.nanmax(fct)) if np.any(np.isfinite(fct)) else math.nan,
        })
        return _flatten(d)

    def check_chunk(self, s, chunk, result) -> None:
        """Raise ValueError when a stored chunk ``result`` cannot be this case's."""
        _check_plain(result)
        n_flows = _count(result, "n_flows", MAX_FABRIC_PACKETS)
        n = _count(result, "n_packets")
        if n != n_flows * s["packets_per_flow"]:
            raise ValueError(f"n_packets = {n}, but {n_flows} flows of {s['packets_per_flow']} packets offer "
                             f"{n_flows * s['packets_per_flow']}")
        lost = _count(result, "lost", n)
        if _count(result, "delivered", n) + lost != n:
            raise ValueError(f"delivered + lost differs from n_packets = {n}")
        _prob(result, "loss_ratio")

    def combine(self, s, parts) -> dict:
        return dict(parts[0])


KINDS = {k.name: k for k in (BerKind(), LinkKind(), PathKind(), FabricKind())}


def kind(name) -> BerKind | LinkKind | PathKind | FabricKind:
    """The case kind called ``name``."""
    if not isinstance(name, str) or name not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {name!r}"
                         f"{did_you_mean(name, KINDS)}")
    return KINDS[name]


def case_label(settings: Mapping, keys=None) -> str:
    """A short label of a case: ``"snr_db=17.5, format=PAM4"``."""
    keys = keys if keys is not None else list(settings)
    parts = []
    for k in keys:
        v = settings.get(k)
        if isinstance(v, float):
            v = f"{v:g}"
        elif isinstance(v, (list, dict)):
            v = re.sub(r"\s+", "", str(v))[:40]
        parts.append(f"{k}={v}")
    return ", ".join(parts)
