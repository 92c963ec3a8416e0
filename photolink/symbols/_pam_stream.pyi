"""Type stub of the PAM stream bridge (photolink/_pam_stream.pyx)."""
import numpy as np
from numpy.random import BitGenerator

MAX_TAPS: int
MAX_LEVELS: int

class PamKernel:
    channel: np.ndarray | None
    ffe: np.ndarray | None
    dfe: np.ndarray | None
    def __init__(self, *, levels: int, noise_sigma: float, channel: np.ndarray | None = ...,
                 ffe: np.ndarray | None = ..., dfe: np.ndarray | None = ..., delay: int = ...,
                 slicer_gain: float = ..., precode: bool = ..., ideal_feedback: bool = ...) -> None: ...
    def run_chunk(self, bit_generator: BitGenerator, chunk_symbols: int, count_from: int,
                  count_to: int, index_offset: int, burst_hist: np.ndarray, want_errors: bool
                  ) -> tuple[int, int, int, int, np.ndarray | None, np.ndarray | None]: ...
