"""Networks: traffic, multi-hop paths of links and switches, and fabrics of many flows, run in C.

Links enter only through :class:`photolink.links.LinkModel` (anything with a ``link_model()``
method can be a hop or a tier of a topology).
"""
from . import collectives, fabric_energy, flows, flowscale, flowsim, routing, schedules, topology, traffic
from .fabric import Fabric, FabricResult
from .flows import Flows
from .path import E2E, LLR, HopStats, Path, PathResult, Switch
from .topology import Topology

__all__ = ["E2E", "LLR", "Fabric", "FabricResult", "Flows", "HopStats", "Path", "PathResult", "Switch",
           "Topology", "collectives", "fabric_energy", "flows", "flowscale", "flowsim", "routing", "schedules", "topology",
           "traffic"]
