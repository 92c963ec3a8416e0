import numpy as np

N: int
MAX_TEST_BITS: int

class ChaseDecoder:
    test_bits: int
    def __init__(self, test_bits: int) -> None: ...
    def decode(self, hard: np.ndarray, reliability: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
