"""Links from plain tables (TOML, JSON, dicts): a preset plus overrides of any depth.

``{"preset": "dr4-1.6t", "lanes": 8, "tx": {"launch_oma_dbm": 2.0}, "fec": "KP4", ...}``
starts from the preset and replaces what the table names, with the same reach as the Python
API:

* scalars (``lanes``, ``lane_rate_gbps``, ``length_m``, ``dsp_snr_db``, ...) as they are;
* ``format`` (or ``fmt``): ``"NRZ"``, ``"PAM4"``, ``"PAM8"``, ``"QPSK"``, ``"DP-QPSK"``,
  ``"DP-16QAM"``, ``"DP-64QAM"``;
* ``fec``: a name (``"KP4"``, ``"KR4"``, ``"RS272"``, ``"KP4+HAMMING"``, ``"CFEC-400ZR"``,
  ``"OFEC"``) or Reed-Solomon parameters ``{n = 544, k = 514, decode_ns = 34.0}``;
* nested tables for the parts built of dataclasses (``host_serdes``, ``module_serdes``, ``tx``
  and its ``laser``, ``rx``, ``medium`` (the fibre, twinax or coherent line), ``coherent``):
  the preset's part with the named fields replaced, or a new part built from the table when the
  preset has none;
* lists of tables for ``parts`` (energy parts: ``name``, ``pj_per_bit``, ``w``, ``in_module``)
  and for ``host_channel``, ``module_channel``, ``optics_loss`` (loss pieces: ``name``,
  ``sqrt_db``, ``linear_db``).

Every key is checked; a bad one raises :class:`photolink.studies.jobs.SettingError` whose key is
the dotted path (``tx.laser.wall_plug_efficiency``) and whose message gives the allowed keys and
a "did you mean".
"""
from __future__ import annotations

import dataclasses
import difflib
import typing
from typing import Any, Mapping

from .. import fec as _fec
from .. import links
from ..links.energy import Part
from ..links.serdes import Loss
from ..symbols import formats as _formats

#: Format names a table may give (case and "-"/"_" do not matter).
FORMATS = {"NRZ": _formats.NRZ, "PAM2": _formats.NRZ, "PAM4": _formats.PAM4, "PAM8": _formats.PAM8,
           "QPSK": _formats.QPSK, "DP_QPSK": _formats.DP_QPSK, "DP_16QAM": _formats.DP_16QAM,
           "DP_64QAM": _formats.DP_64QAM}
#: FEC names a table may give (case and "-"/"_"/"+" do not matter).
FECS = {"KP4": _fec.KP4, "KR4": _fec.KR4, "RS272": _fec.RS272,
        "KP4_HAMMING": _fec.KP4_INNER_HAMMING, "KP4_INNER_HAMMING": _fec.KP4_INNER_HAMMING,
        "KP4_CHASE": _fec.KP4_INNER_CHASE, "KP4_INNER_CHASE": _fec.KP4_INNER_CHASE,
        "CFEC_400ZR": _fec.CFEC_400ZR, "OFEC": _fec.OFEC, "OFEC_800ZR": _fec.OFEC_800ZR}
#: Element type of the tuple fields given as lists of tables.
LIST_FIELDS = {"parts": Part, "host_channel": Loss, "module_channel": Loss, "optics_loss": Loss}
#: Table keys that name another field.
ALIASES = {"format": "fmt"}
RS_KEYS = ("n", "k", "name", "decode_ns")


class SpecError(ValueError):
    """A bad key or value in a link table; ``key`` is its dotted path."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.detail = message


def _hint(word, allowed) -> str:
    names = {str(a).lower(): str(a) for a in allowed}
    w = str(word).lower()
    close = difflib.get_close_matches(w, list(names), n=1, cutoff=0.6) or \
        sorted(n for n in names if w and n.startswith(w))[:1]
    return f" (did you mean {names[close[0]]!r}?)" if close else ""


def _norm(name: str) -> str:
    return name.upper().replace("-", "_").replace("+", "_").replace(" ", "_")


def build_link(spec: Mapping) -> links.Link:
    """The :class:`photolink.Link` a table describes: ``spec["preset"]`` plus overrides."""
    name = spec.get("preset")
    if not isinstance(name, str):
        raise SpecError("preset", f"must be a link preset name, got {name!r}")
    try:
        base = links.preset(name)
    except (KeyError, ValueError):
        raise SpecError("preset", f"unknown link preset {name!r}{_hint(name, links.presets())}; "
                                  f"known: {list(links.presets())}") from None
    return apply(base, {k: v for k, v in spec.items() if k != "preset"}, "")


def apply(obj, table: Mapping, path: str):
    """``obj`` (a frozen dataclass) with the fields ``table`` names replaced."""
    fields = {f.name for f in dataclasses.fields(obj)}
    hints = _hints(type(obj))
    changes: dict[str, Any] = {}
    for key, value in table.items():
        field = ALIASES.get(key, key) if type(obj) is links.Link else key
        where = f"{path}{key}"
        if not isinstance(key, str) or field not in fields:
            allowed = sorted(fields | (set(ALIASES) if type(obj) is links.Link else set()))
            what = "a link" if type(obj) is links.Link else f"a {type(obj).__name__}"
            raise SpecError(where, f"unknown key{_hint(key, allowed)}: not a setting of {what}; "
                                   f"allowed: {allowed}")
        changes[field] = _value(obj, field, value, hints.get(field), where)
    try:
        return dataclasses.replace(obj, **changes)
    except (TypeError, ValueError) as exc:
        key = next((k for k in table if str(exc).startswith(ALIASES.get(k, k))), None)
        raise SpecError(f"{path}{key}" if key else (path.rstrip(".") or "link"), str(exc)) from None


def _hints(cls) -> dict:
    try:
        return typing.get_type_hints(cls)
    except Exception:                                      # noqa: BLE001 - hints are a convenience
        return {}


def _dataclass_of(hint):
    """The dataclass type in a hint such as ``SerDes | None``, else None."""
    for t in typing.get_args(hint) or (hint,):
        if dataclasses.is_dataclass(t):
            return t
    return None


def _value(obj, field: str, value, hint, where: str):
    current = getattr(obj, field)
    if field == "fmt":
        if not isinstance(value, str) or _norm(value) not in FORMATS:
            raise SpecError(where, f"must be one of {sorted(FORMATS)}, got {value!r}{_hint(value, FORMATS)}")
        return FORMATS[_norm(value)]
    if field == "fec":
        return _fec_value(value, where)
    if field in LIST_FIELDS:
        if not isinstance(value, list):
            raise SpecError(where, f"must be a list of tables, got {value!r}")
        return tuple(construct(LIST_FIELDS[field], item, f"{where}[{i}].")
                     for i, item in enumerate(value))
    if isinstance(value, Mapping):
        if dataclasses.is_dataclass(current):
            return apply(current, value, where + ".")
        cls = _dataclass_of(hint)
        if cls is None:
            raise SpecError(where, "the preset has none to change; give the whole part in Python")
        return construct(cls, value, where + ".")
    if isinstance(value, list):
        return tuple(value)
    return value


def _fec_value(value, where: str):
    if isinstance(value, str):
        if _norm(value) in ("NONE", ""):
            return None
        if _norm(value) not in FECS:
            raise SpecError(where, f"must be one of {sorted(FECS)} or a table {{n, k}}, got "
                                   f"{value!r}{_hint(_norm(value), FECS)}")
        return FECS[_norm(value)]
    if isinstance(value, Mapping):
        for k in value:
            if k not in RS_KEYS:
                raise SpecError(f"{where}.{k}", f"unknown key{_hint(k, RS_KEYS)}; allowed: {list(RS_KEYS)}")
        if "n" not in value or "k" not in value:
            raise SpecError(where, "a Reed-Solomon code needs n and k")
        try:
            return _fec.RS(**value)
        except (TypeError, ValueError) as exc:
            raise SpecError(where, str(exc)) from None
    raise SpecError(where, f"must be a FEC name or a table {{n, k}}, got {value!r}")


def construct(cls, table, path: str):
    """A new ``cls`` (a dataclass) from a table, nested tables included."""
    if not isinstance(table, Mapping):
        raise SpecError(path.rstrip("."), f"must be a table of {cls.__name__} fields, got {table!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = _hints(cls)
    kw = {}
    for key, value in table.items():
        if key not in fields:
            raise SpecError(f"{path}{key}", f"unknown key{_hint(key, fields)}: not a setting of a "
                                            f"{cls.__name__}; "
                                            f"allowed: {sorted(fields)}")
        sub = _dataclass_of(hints.get(key))
        kw[key] = construct(sub, value, f"{path}{key}.") if sub and isinstance(value, Mapping) else \
            tuple(value) if isinstance(value, list) else value
    missing = [n for n, f in fields.items() if n not in kw and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise SpecError(f"{path}{missing[0]}", f"is required to build a {cls.__name__}")
    try:
        return cls(**kw)
    except (TypeError, ValueError) as exc:
        key = next((k for k in kw if str(exc).startswith(k)), None)
        raise SpecError(f"{path}{key}" if key else path.rstrip("."), str(exc)) from None
