"""Case kinds: what one row of a sweep (or one entry of a config) computes, in chunks.

A *case* is a flat mapping of plain settings (str, int, float, bool, lists of them) of one
*kind*. Each kind knows how to

* ``normalize`` the settings (validate every key, fill defaults, canonical types), raising
  :class:`SettingError` naming the key, the value and what is allowed;
* cut the case into independent ``chunks`` (plain JSON values);
* ``run_chunk`` in any process, from the settings, the case's ``SeedSequence`` and the chunk;
* ``combine`` the chunks' partial results into the row's figures.

Kinds: ``"ber"`` (:func:`photolink.simulate_ber` and :func:`photolink.estimate_ber`),
``"link"`` (a link preset's evaluation report) and ``"path"`` (a multi-hop path under traffic).
The ``link`` and ``path`` kinds need :mod:`photolink.links` and :mod:`photolink.net.path`.
"""
from __future__ import annotations

import difflib
import math
import numbers
import re
from typing import Any, Mapping

import numpy as np

from .._util import validate as v
from .._util.stats import clopper_pearson
from ..net import path as path_mod
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
    statistic = "error events"

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
    statistic = "deterministic"

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
    statistic = "lost packets"

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


KINDS = {k.name: k for k in (BerKind(), LinkKind(), PathKind())}


def kind(name) -> BerKind | LinkKind | PathKind:
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
