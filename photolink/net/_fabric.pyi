"""Type stub of the fabric bridge (photolink/net/_fabric.pyx)."""
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.random import BitGenerator

QHIST_BUCKETS: int
QHIST_SUB_BITS: int
MAX_NODES: int
MAX_HOPS: int
CHOICE: dict[str, int]
PATHS: dict[str, int]
ARRIVALS: dict[str, int]
RECOVERY: dict[str, int]
LINK_FIELDS: tuple[str, ...]
FLOW_FIELDS: tuple[str, ...]
PARTS: tuple[str, ...]
MAX_PACKETS_IN_FLIGHT: int

def qhist_index(x: float) -> int: ...

class FabricKernel:
    hist: np.ndarray
    ipdv_pos: np.ndarray
    ipdv_neg: np.ndarray
    qhist: np.ndarray
    batch_means: np.ndarray
    raw: np.ndarray | None
    raw_flow: np.ndarray | None
    def __init__(self, links: Mapping[str, np.ndarray], link_src: np.ndarray, link_dst: np.ndarray,
                 target_of: np.ndarray, is_host: np.ndarray, route_off: np.ndarray, route_link: np.ndarray,
                 hops: np.ndarray | None, via: np.ndarray | None, flows: Mapping[str, np.ndarray], *,
                 choice: str, paths: str, recovery: str, max_retries: int, timeout_ns: float,
                 ugal_threshold_bytes: float,
                 hash_salt: int, batch_len: int, batch_cap: int, raw_cap: int, queue_histograms: bool,
                 bit_generators: list[BitGenerator | None]) -> None: ...
    def run(self, route_bit_generator: BitGenerator | None = ...,
            arrival_bit_generator: BitGenerator | None = ...) -> None: ...
    def totals(self) -> dict[str, Any]: ...
    def link_stats(self) -> dict[str, np.ndarray]: ...
    def flow_stats(self) -> dict[str, np.ndarray]: ...
    def flow_attribution(self) -> dict[str, np.ndarray]: ...
