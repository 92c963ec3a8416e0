"""photolink: packet-level emulation of data-centre links for AI clusters.

Physical layer (PAM/QAM streams, equalisers, FEC) to what a cluster sees (frame loss,
jitter, tail latency, energy per bit).

The symbol-stream core is imported at once; links, paths, FEC and sweeps (which need more of
scipy) are imported on first use, so ``import photolink`` stays light (PEP 562).
"""
import importlib

from ._util.version import __version__  # noqa: F401 (public)
from . import symbols
from .symbols import *  # noqa: F403 (the symbol-stream core: pl.simulate_ber, pl.PAM4, ...)

#: Names imported on first use, and the submodule that defines each.
_LAZY = {
    "Link": "links", "LinkResult": "links",
    "E2E": "net", "Fabric": "net", "LLR": "net", "Path": "net", "PathResult": "net", "Switch": "net",
    "traffic": "net",
    "SweepInterrupted": "studies.sweeps", "SweepResult": "studies.sweeps", "sweep": "studies.sweeps",
}
#: Public submodules reachable as attributes (``photolink.fec``) without an explicit import.
_SUBMODULES = {"cli", "fec", "links", "net", "plot", "studies", "symbols", "testing"}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'photolink' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)


__all__ = [*symbols.__all__, *_LAZY]
