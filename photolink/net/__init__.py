"""Networks: traffic, multi-hop paths of links and switches, run in C packet by packet.

Links enter only through :class:`photolink.links.LinkModel` (anything with a ``link_model()``
method can be a hop).
"""
from . import traffic
from .path import E2E, LLR, HopStats, Path, PathResult, Switch

__all__ = ["E2E", "LLR", "HopStats", "Path", "PathResult", "Switch", "traffic"]
