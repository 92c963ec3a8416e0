"""Type stub of the coherent QAM stream bridge (photolink/_qam_stream.pyx)."""
import numpy as np
from numpy.random import BitGenerator

MAX_WINDOW: int
MAX_TEST_PHASES: int
MAX_PILOT_PERIOD: int
MAX_PILOT_AVERAGE: int
CPR_CODES: dict[str | None, int]

class QamKernel:
    workspace_len: int
    def __init__(self, *, m: int, polarizations: int, noise_sigma: float, phase_sigma: float = ...,
                 cpr: int = ..., window: int = ..., test_phases: int = ...,
                 differential: bool = ..., pilot_period: int = ..., pilot_average: int = ...) -> None: ...
    def run_chunk(self, bit_generator: BitGenerator, chunk_symbols: int, count_from: int,
                  count_to: int, index_offset: int, burst_hist: np.ndarray, want_errors: bool
                  ) -> tuple[int, int, int, int, np.ndarray | None, np.ndarray | None]: ...
