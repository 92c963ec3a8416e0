"""Coverage-guided fuzzing of the Cython bridges with atheris (local runs only, not in CI).

Drives the three C kernels through their bridges with fuzzer-chosen arguments: ``PamKernel``
(levels, noise, channel/FFE/DFE taps, delay, precoding, chunk ranges), ``Codec`` (RS(n, k),
encode, syndromes, in-place decode of arbitrary words) and ``symbol_errors``/``count``, and
``PathKernel`` (link fields, recovery, retries, arrival times and sizes). A bridge may refuse an
argument with ValueError/TypeError/OverflowError/MemoryError; anything else (a crash, an abort,
another exception, an impossible count) is a finding.

Run::

    pip install atheris
    python tests/fuzz/atheris_bridges.py pam -runs=200000       # or: rs, path
    python tests/fuzz/atheris_bridges.py path -max_total_time=600 corpus_dir/

The C kernels are not coverage-instrumented by a plain build (libFuzzer then mutates without
feedback from C; rebuild the extensions with ``CC=clang CFLAGS=-fsanitize=fuzzer-no-link,address``
for guided runs). atheris wheels exist for CPython 3.8-3.11 on Linux x86-64; it is not a
dependency of the package or of its test extra.
"""
import sys

import numpy as np

#: IndexError: a bridge given an empty burst_hist says "Out of bounds on buffer access" (a clean
#: exception from Cython's bounds check, not a crash; the Python API never passes one).
REFUSALS = (ValueError, TypeError, OverflowError, MemoryError, IndexError)


def _floats(fdp, n, lo=-4.0, hi=4.0):
    return np.array([fdp.ConsumeFloatInRange(lo, hi) for _ in range(n)], dtype=np.float64)


def fuzz_pam(data: bytes) -> None:
    import atheris
    from photolink.symbols import _pam_stream
    fdp = atheris.FuzzedDataProvider(data)
    levels = 1 << fdp.ConsumeIntInRange(1, 7)
    kw = {"levels": levels, "noise_sigma": fdp.ConsumeFloatInRange(-1.0, 10.0)}
    if fdp.ConsumeBool():
        kw["channel"] = _floats(fdp, fdp.ConsumeIntInRange(0, 40))
    if fdp.ConsumeBool():
        kw["ffe"] = _floats(fdp, fdp.ConsumeIntInRange(0, 40))
    if fdp.ConsumeBool():
        kw["dfe"] = _floats(fdp, fdp.ConsumeIntInRange(0, 40))
    kw["delay"] = fdp.ConsumeIntInRange(-2, 80)
    kw["slicer_gain"] = fdp.ConsumeFloatInRange(-2.0, 4.0)
    kw["precode"], kw["ideal_feedback"] = fdp.ConsumeBool(), fdp.ConsumeBool()
    try:
        kernel = _pam_stream.PamKernel(**kw)
    except REFUSALS:
        return
    chunk = fdp.ConsumeIntInRange(-5, 1 << 14)
    a, b = fdp.ConsumeIntInRange(-5, 1 << 14), fdp.ConsumeIntInRange(-5, 1 << 14)
    hist = np.zeros(fdp.ConsumeIntInRange(0, 70), np.uint64)
    want = fdp.ConsumeBool()
    try:
        s, se, be, _, idx, bits = kernel.run_chunk(np.random.SFC64(1), chunk, a, b, 0, hist, want)
    except REFUSALS:
        return
    assert 0 <= se <= s and 0 <= be <= s * 7, (s, se, be)
    if want:
        assert idx.size == bits.size == se


def fuzz_rs(data: bytes) -> None:
    import atheris
    from photolink.fec import _rs
    fdp = atheris.FuzzedDataProvider(data)
    n, k = fdp.ConsumeIntInRange(-2, 1100), fdp.ConsumeIntInRange(-2, 1100)
    try:
        codec = _rs.Codec(n, k)
    except REFUSALS:
        return
    rows = fdp.ConsumeIntInRange(0, 4)
    msg = np.array([fdp.ConsumeIntInRange(0, 1100) for _ in range(rows * k)], np.uint16)
    try:
        words = codec.encode(msg.reshape(rows, k))
    except REFUSALS:
        return
    for _ in range(fdp.ConsumeIntInRange(0, 2 * codec.t + 3) if rows else 0):
        r, c = fdp.ConsumeIntInRange(0, rows - 1), fdp.ConsumeIntInRange(0, n - 1)
        words[r, c] ^= fdp.ConsumeIntInRange(1, 1023)
    try:
        fixed, ok = codec.decode_inplace(words)
    except REFUSALS:
        return
    try:
        _rs.symbol_errors(np.array([fdp.ConsumeIntInRange(-3, 10**6)], np.int64),
                          np.array([fdp.ConsumeIntInRange(0, 65535)], np.uint16),
                          fdp.ConsumeIntInRange(-1, 16))
    except REFUSALS:
        pass


def fuzz_path(data: bytes) -> None:
    import atheris
    from photolink.net import _path
    fdp = atheris.FuzzedDataProvider(data)
    links = []
    for _ in range(fdp.ConsumeIntInRange(0, 5)):
        links.append({
            "rate_gbps": fdp.ConsumeFloatInRange(-1.0, 2000.0),
            "fixed_ns": fdp.ConsumeFloatInRange(-1.0, 1e4),
            "hold_ns": fdp.ConsumeFloatInRange(-1.0, 1e3),
            "codeword_bits": fdp.ConsumeFloatInRange(-1.0, 1e5),
            "cwer": fdp.ConsumeFloatInRange(-0.1, 1.1),
            "errors": fdp.ConsumeIntInRange(-1, 3),
            "replay_ns": fdp.ConsumeFloatInRange(-1.0, 1e4),
            "node_latency_ns": fdp.ConsumeFloatInRange(-1.0, 1e4),
            "buffer_bytes": fdp.ConsumeFloatInRange(-1.0, 1e7),
            "cut_through": fdp.ConsumeIntInRange(-1, 2),
        })
    recovery = fdp.PickValueInList(sorted(_path.RECOVERY))      # (the API checks the name)
    bgs = [np.random.SFC64(i) if fdp.ConsumeBool() else None for i in range(len(links))]
    try:
        kernel = _path.PathKernel(links, recovery=recovery, max_retries=fdp.ConsumeIntInRange(-1, 20),
                                  timeout_ns=fdp.ConsumeFloatInRange(-1.0, 1e6),
                                  batch_len=fdp.ConsumeIntInRange(-1, 100),
                                  batch_cap=fdp.ConsumeIntInRange(-1, 100),
                                  raw_cap=fdp.ConsumeIntInRange(-1, 1000), bit_generators=bgs)
    except REFUSALS:
        return
    n = fdp.ConsumeIntInRange(0, 500)
    times = np.cumsum(_floats(fdp, n, 0.0, 1e3))
    sizes = _floats(fdp, n, 1.0, 9000.0) if fdp.ConsumeBool() else None
    try:
        kernel.run(times, fdp.ConsumeBool(), sizes, fdp.ConsumeFloatInRange(-1.0, 9000.0), bgs,
                   fdp.ConsumeBool())
        tot = kernel.totals()
    except REFUSALS:
        return
    assert tot["delivered"] >= 0 and tot["lost_tail_drop"] >= 0 and tot["lost_corrupted"] >= 0


TARGETS = {"pam": fuzz_pam, "rs": fuzz_rs, "path": fuzz_path}


def main(argv) -> int:
    try:
        import atheris
    except ImportError:
        print("atheris is not installed (pip install atheris); this harness runs locally, not in CI",
              file=sys.stderr)
        return 2
    if len(argv) < 2 or argv[1] not in TARGETS:
        print(f"usage: {argv[0]} {{{'|'.join(TARGETS)}}} [libFuzzer options]", file=sys.stderr)
        return 2
    target = TARGETS[argv[1]]
    with atheris.instrument_imports():
        import photolink  # noqa: F401
    atheris.Setup([argv[0]] + argv[2:], target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
