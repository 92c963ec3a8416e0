"""Energy per bit by part, and the power of a whole fabric of links.

The one convention (:data:`ENERGY_CONVENTION`, used by every preset, report, the demo and
:func:`fabric_power`): a link's power is given per port (one end: what one switch or NIC port and
its module draw) and per bit of the port's net data rate, one direction (the convention of module
datasheets: 17 W / 800 Gb/s ~ 21 pJ/bit). Because a port both sends and receives at that rate,
this per-port figure is also the whole link's energy per bit carried when both directions are
busy (two ports, two directions); a link's total power is two ports' (parts shared by both ends,
such as a passive cable, are split half per end). A part is either proportional to the bit rate
(``pj_per_bit``) or fixed (``w``); the module's DC-DC conversion loss is a part of its own.
"""
from __future__ import annotations

from dataclasses import dataclass

from .._util import validate as v

#: How energy and power are counted everywhere (see the module docstring).
ENERGY_CONVENTION = ("per port (one end of a link), per net bit, one direction; equal to the link's energy per "
                     "bit carried with both directions busy; a link draws two ports' power")

#: The parts a breakdown may hold, in display order.
PART_NAMES = ("host_serdes", "fec_logic", "retimer", "dsp", "driver", "tia", "laser", "misc",
              "power_conversion", "cable", "switch_asic")

#: Whole-ASIC switch energy (Tomahawk 5, 51.2 Tb/s at ~450 W), pJ/bit.
SWITCH_ASIC_PJ_PER_BIT = 8.8
SWITCH_ASIC_SOURCE = "[ref:tomahawk5-power] Tomahawk 5 (51.2T) ~450 W -> ~8.8 pJ/bit (E)"
#: The SerDes energy inside that whole-ASIC figure: its own long-reach SerDes, at the catalogue's
#: long-reach host SerDes figure ([ref:photolink-switch-serdes-share] E (photolink)). The rest (~3.8 pJ/bit) is the switching core,
#: the same whatever SerDes a link's port uses: the port's SerDes is the link's ``host_serdes``.
SWITCH_ASIC_SERDES_PJ_PER_BIT = 5.0
#: The switching core's share per bit of a switch port (the whole ASIC less its SerDes): what a
#: fabric adds per switch port on top of the ports' own power, whose host SerDes is the switch's
#: SerDes (:func:`photolink.net.fabric_energy.fabric_power` takes it as ``switch_pj_per_bit``;
#: the whole-ASIC figure there would count the SerDes twice).
SWITCH_CORE_PJ_PER_BIT = SWITCH_ASIC_PJ_PER_BIT - SWITCH_ASIC_SERDES_PJ_PER_BIT


@dataclass(frozen=True)
class Part:
    """One power-drawing part of a link end.

    Parameters
    ----------
    name : str
        One of :data:`PART_NAMES`.
    pj_per_bit : float
        Energy per net bit (scales with the rate).
    w : float
        Fixed power, W.
    in_module : bool
        Part of the pluggable/engine (counted in the module power), or of the host.
    source : str
    """

    name: str
    pj_per_bit: float = 0.0
    w: float = 0.0
    in_module: bool = True
    source: str = ""

    def __post_init__(self):
        v.choice("name", self.name, PART_NAMES)
        v.real("pj_per_bit", self.pj_per_bit, lo=0.0, hi=1e4)
        v.real("w", self.w, lo=0.0, hi=1e4)

    def power_w(self, rate_gbps: float) -> float:
        return self.w + self.pj_per_bit * rate_gbps / 1000.0


def power_breakdown_w(parts, rate_gbps: float, laser_w: float = 0.0,
                      conversion_efficiency: float = 1.0, switch_pj_per_bit: float | None = None):
    """Power of each part of one port, W, and the module's share.

    Parameters
    ----------
    parts : sequence of Part
    rate_gbps : float
        Net data rate of the port.
    laser_w : float
        Laser power computed from the optics (a module part).
    conversion_efficiency : float
        Module DC-DC efficiency: the module parts draw ``1/eff - 1`` more as ``power_conversion``.
    switch_pj_per_bit : float, optional
        Whole switch ASIC energy per bit (SerDes included); its switching core, that figure less
        the :data:`SWITCH_ASIC_SERDES_PJ_PER_BIT` it holds for the ASIC's own SerDes, is added as
        ``switch_asic``. The port's SerDes is the link's ``host_serdes`` part, so a link with
        cheaper SerDes (CPO: XSR) saves at the switch, and the core share is the same for all.

    Returns
    -------
    (dict, float)
        Part name -> W (in :data:`PART_NAMES` order, zero parts left out) and the module power.
    """
    eff = v.real("conversion_efficiency", conversion_efficiency, lo=0.1, hi=1.0)
    out = {name: 0.0 for name in PART_NAMES}
    module = 0.0
    for part in parts:
        p = part.power_w(rate_gbps)
        out[part.name] += p
        if part.in_module:
            module += p
    if laser_w:
        out["laser"] += laser_w
        module += laser_w
    conversion = module * (1.0 / eff - 1.0)
    out["power_conversion"] += conversion
    module += conversion
    if switch_pj_per_bit is not None:
        v.real("switch_pj_per_bit", switch_pj_per_bit, lo=0.0, hi=1e3)
        core_pj = max(switch_pj_per_bit - SWITCH_ASIC_SERDES_PJ_PER_BIT, 0.0)
        out["switch_asic"] += core_pj * rate_gbps / 1000.0
    return {k: x for k, x in out.items() if x > 0}, module


@dataclass(frozen=True)
class FabricPower:
    """Network power of a GPU fabric built from one link type.

    Attributes
    ----------
    link : str
    n_gpus : int
    links_per_gpu : float
    links, ports : float
        Links in the fabric and their ends (two per link).
    port_w : float
        Power of one port (module + host SerDes + FEC logic).
    switch_w : float
        Switch ASIC share of the switch-side ports (0 unless asked).
    network_w : float
    network_w_per_gpu : float
    gpu_power_w : float
    share_of_gpu : float
        Network power per GPU over the stated per-GPU power.
    share_of_total : float
        Network power over network plus GPU power.
    """

    link: str
    n_gpus: int
    links_per_gpu: float
    links: float
    ports: float
    port_w: float
    switch_w: float
    network_w: float
    network_w_per_gpu: float
    gpu_power_w: float
    share_of_gpu: float
    share_of_total: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def fabric_power(link, n_gpus: int, links_per_gpu: float, gpu_power_w: float, *,
                 switch_pj_per_bit: float | None = None, nic_ports_per_gpu: float = 1.0,
                 frame_bytes: int = 64) -> FabricPower:
    """Power of the links of a fabric of ``n_gpus`` GPUs with ``links_per_gpu`` links each.

    Parameters
    ----------
    link : photolink.Link
        The link used everywhere.
    n_gpus : int
    links_per_gpu : float
        Links in the fabric per GPU (a 3-tier fat tree has ~2.5-3: [ref:transceivers-per-gpu] counts ~5-6
        transceivers per GPU, two per link).
    gpu_power_w : float
        Stated power of one GPU (with its share of the server), W.
    switch_pj_per_bit : float, optional
        Count the switch ASIC's share at this whole-ASIC energy per bit (e.g.
        :data:`SWITCH_ASIC_PJ_PER_BIT`) on every port that is not a GPU NIC port.
    nic_ports_per_gpu : float
        Ports per GPU that sit on a NIC rather than a switch.

    Returns
    -------
    FabricPower
    """
    n_gpus = v.integer("n_gpus", n_gpus, lo=1, hi=10**8)
    links_per_gpu = v.real("links_per_gpu", links_per_gpu, lo=0.0, hi=1e3)
    gpu_power_w = v.real("gpu_power_w", gpu_power_w, lo=0.0, hi=1e6, lo_open=True)
    nic = v.real("nic_ports_per_gpu", nic_ports_per_gpu, lo=0.0, hi=2 * links_per_gpu)
    report = link.evaluate(frame_bytes=frame_bytes)
    port_w = report.power_w
    links = n_gpus * links_per_gpu
    ports = 2 * links
    switch_w = 0.0
    if switch_pj_per_bit is not None:
        with_switch = link.evaluate(frame_bytes=frame_bytes, switch_pj_per_bit=switch_pj_per_bit)
        switch_w = (ports - nic * n_gpus) * with_switch.energy_breakdown_w.get("switch_asic", 0.0)
    network = ports * port_w + switch_w
    return FabricPower(link=link.name, n_gpus=n_gpus, links_per_gpu=links_per_gpu, links=links,
                       ports=ports, port_w=port_w, switch_w=switch_w, network_w=network,
                       network_w_per_gpu=network / n_gpus, gpu_power_w=gpu_power_w,
                       share_of_gpu=network / n_gpus / gpu_power_w,
                       share_of_total=network / (network + n_gpus * gpu_power_w))
