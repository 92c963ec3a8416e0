"""Type stub of the packet-path bridge (photolink/_path.pyx)."""
from typing import Any

import numpy as np
from numpy.random import BitGenerator

MAX_LINKS: int
HIST_SUB_BITS: int
HIST_MIN_EXP: int
HIST_MAX_EXP: int
HIST_BUCKETS: int
IPDV_SUB_BITS: int
IPDV_BUCKETS: int
RECOVERY: dict[str, int]
LINK_FIELDS: tuple[str, ...]
WORK_PACKETS: int

def hist_index(x: float, sub_bits: int = ...) -> int: ...

class PathKernel:
    def __init__(self, links: Any, *, recovery: str, max_retries: int, timeout_ns: float,
                 batch_len: int, batch_cap: int, raw_cap: int,
                 bit_generators: list[BitGenerator | None], link_major: bool = ...) -> None: ...
    def run(self, times: np.ndarray, gaps: bool, sizes: np.ndarray | None, fixed_size: float,
            bit_generators: list[BitGenerator | None], drain: bool) -> tuple[int, int]: ...
    def exact_state(self, link: int) -> Any: ...
    def refill(self, link: int, positions: Any, known: int) -> None: ...
    def totals(self) -> dict[str, Any]: ...
    def link_stats(self) -> list[dict[str, Any]]: ...
