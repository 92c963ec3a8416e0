"""Links: media physics, SerDes, optics, energy and the preset catalogue.

A :class:`Link` turns a physical design into pre-FEC BER, codeword error ratio, margin, reach,
energy and latency; :class:`LinkModel` (:mod:`~photolink.links.model`) is all a packet path
needs of it, and the only thing :mod:`photolink.net` imports from here.
"""
from .catalog import preset, presets
from .link import TECHNOLOGIES, Link, LinkResult, Segment
from .model import LinkModel

__all__ = ["TECHNOLOGIES", "Link", "LinkModel", "LinkResult", "Segment", "preset", "presets"]
