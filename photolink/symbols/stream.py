"""Symbol-stream Monte Carlo: symbols through noise, ISI and equalisers, errors counted in C.

PAM streams run through csrc/pam_stream.c; coherent QAM streams (AWGN, laser phase noise,
carrier recovery, differential coding) through csrc/qam_stream.c. For QAM one *symbol* is a
dual-polarisation symbol (all polarisations of the format): ``symbols``, ``symbol_errors`` and
``ser`` count those, ``bits = symbols * fmt.bits_per_symbol``, and over AWGN ``ser`` estimates
``fmt.ser_awgn(snr_db)`` (which is defined the same way).

A run is cut into chunks of :data:`CHUNK_SYMBOLS` symbols (the default of the private keyword
``_chunk_symbols`` of :class:`SymbolStream` and :func:`simulate_ber`, which tests set small so
that a short run spans many chunks). Each chunk is self-contained (own
random stream, own warm-up of the channel and equaliser histories), so the counts depend only
on the seed: not on ``n_threads``, nor on how a run is split into calls of
:meth:`SymbolStream.run`. Memory stays constant for any ``n_symbols``.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .._util import rng as _rng
from .._util import validate as v
from .._util.stats import clopper_pearson
from . import _pam_stream, _qam_stream
from .carrier import CarrierRecovery, phase_step_sigma
from .channel import Channel, Equalizer
from .formats import PAM, QAM

#: Symbols per chunk (default of the private keyword ``_chunk_symbols``): long enough that
#: per-chunk set-up is < 0.5 % of the work, short enough that a run's last, partly counted
#: chunk costs little.
CHUNK_SYMBOLS = 1 << 20
#: Burst histogram bins: runs of 1 .. BURST_BINS-1 symbol errors, and the last bin for longer.
BURST_BINS = 64
#: Largest run accepted (about two weeks of one core); 1e10 is fine.
MAX_SYMBOLS = 10**14
#: Most memory the error records of one ``return_errors=True`` run may need (2 GiB), checked
#: before the run starts against the worst case (one error per symbol).
MAX_ERROR_RECORD_BYTES = v.MAX_RESULT_BYTES
#: Bytes of one error record: its index (int64) and its bit pattern (uint16).
ERROR_RECORD_BYTES = 10
#: Largest run whose error positions may be returned (MAX_ERROR_RECORD_BYTES / 10 bytes).
MAX_SYMBOLS_WITH_ERRORS = MAX_ERROR_RECORD_BYTES // ERROR_RECORD_BYTES


class _Grow:
    """An array grown in place chunk by chunk (``ndarray.resize``: realloc, which moves large
    blocks by remapping pages), so the result is never copied whole: the peak is the result
    plus one chunk, not twice the result as with a final concatenate."""

    def __init__(self, dtype):
        self.array = np.empty(0, dtype=dtype)
        self.size = 0

    def append(self, piece: np.ndarray) -> None:
        need = self.size + piece.size
        if need > self.array.size:
            self.array.resize(max(need, self.array.size + self.array.size // 8), refcheck=False)
        self.array[self.size:need] = piece
        self.size = need

    def result(self) -> np.ndarray:
        if self.array.size != self.size:
            self.array.resize(self.size, refcheck=False)
        return self.array


@dataclass(frozen=True, eq=False)
class BerResult:
    """Error counts of a symbol-stream run, with their confidence intervals.

    Attributes
    ----------
    format : str
        Format name, e.g. ``"PAM4"``.
    snr_db : float
    symbols, symbol_errors, bits, bit_errors : int
    burst_hist : numpy.ndarray
        ``burst_hist[i]`` is the number of runs of exactly ``i + 1`` consecutive symbol errors;
        the last bin counts runs of ``len(burst_hist)`` or more.
    error_index : numpy.ndarray or None
        Index (int64) of every errored symbol, when asked for.
    error_bits : numpy.ndarray or None
        Sent XOR decided bit label (uint16) of every errored symbol, when asked for. PAM: the
        Gray label. QAM: all ``bits_per_symbol`` bits of the dual-polarisation symbol, MSB
        first ``[X-I, X-Q, Y-I, Y-Q]`` rail Gray labels (see :class:`photolink.QAM`).
    seed_entropy : int or None
        Entropy of the run's SeedSequence: passing it as ``seed`` repeats the run.
    confidence : float
        Coverage of :attr:`ci` and :attr:`ser_ci`.
    cycle_slips : int or None
        QAM with carrier recovery: quadrant jumps of the recovered carrier phase relative to
        the true phase, summed over polarisations (0 without carrier recovery); None for PAM.
    """

    format: str
    snr_db: float
    symbols: int
    symbol_errors: int
    bits: int
    bit_errors: int
    burst_hist: np.ndarray
    error_index: np.ndarray | None = None
    error_bits: np.ndarray | None = None
    seed_entropy: int | None = None
    confidence: float = 0.95
    cycle_slips: int | None = None

    @property
    def ber(self) -> float:
        return self.bit_errors / self.bits if self.bits else float("nan")

    def __repr__(self) -> str:
        lo, hi = self.ci
        return (f"BerResult({self.format} at {self.snr_db:g} dB: BER {self.ber:.3e} "
                f"[{lo:.3e}, {hi:.3e}] ({100 * self.confidence:g}% CI), {self.bit_errors} bit errors "
                f"in {self.bits} bits, {self.symbols} symbols, {self.bursts} error bursts)")

    @property
    def ser(self) -> float:
        return self.symbol_errors / self.symbols if self.symbols else float("nan")

    @property
    def ci(self) -> tuple[float, float]:
        """Clopper-Pearson interval of the BER (treats bit errors as independent trials)."""
        return clopper_pearson(self.bit_errors, self.bits, self.confidence)

    @property
    def ser_ci(self) -> tuple[float, float]:
        return clopper_pearson(self.symbol_errors, self.symbols, self.confidence)

    @property
    def bursts(self) -> int:
        """Number of runs of consecutive symbol errors."""
        return int(self.burst_hist.sum())

    @property
    def mean_burst_length(self) -> float:
        """Mean run length in symbols (long runs counted at the last bin's length)."""
        n = self.bursts
        return float(np.arange(1, self.burst_hist.size + 1) @ self.burst_hist / n) if n else 0.0

    def __add__(self, other: "BerResult") -> "BerResult":
        """Merge the counts of two parts of one run (e.g. successive :meth:`SymbolStream.run` calls)."""
        if not isinstance(other, BerResult):
            return NotImplemented
        if (self.format, self.snr_db) != (other.format, other.snr_db):
            raise ValueError("only results of the same format and SNR can be added")
        cat = lambda a, b: None if a is None or b is None else np.concatenate([a, b])  # noqa: E731
        return BerResult(self.format, self.snr_db, self.symbols + other.symbols,
                         self.symbol_errors + other.symbol_errors, self.bits + other.bits,
                         self.bit_errors + other.bit_errors, self.burst_hist + other.burst_hist,
                         cat(self.error_index, other.error_index), cat(self.error_bits, other.error_bits),
                         self.seed_entropy if self.seed_entropy == other.seed_entropy else None,
                         self.confidence,
                         None if self.cycle_slips is None or other.cycle_slips is None
                         else self.cycle_slips + other.cycle_slips)

    def to_dict(self) -> dict:
        """Plain values (no arrays but the burst histogram as a list)."""
        return {
            "format": self.format, "snr_db": self.snr_db, "symbols": self.symbols,
            "symbol_errors": self.symbol_errors, "ser": self.ser, "bits": self.bits,
            "bit_errors": self.bit_errors, "ber": self.ber, "ber_ci_low": self.ci[0],
            "ber_ci_high": self.ci[1], "bursts": self.bursts,
            "mean_burst_length": self.mean_burst_length, "burst_hist": self.burst_hist.tolist(),
            "seed_entropy": self.seed_entropy, "cycle_slips": self.cycle_slips,
        }


@dataclass
class SymbolStream:
    """A reproducible symbol stream that can be consumed over several calls.

    ``SymbolStream(fmt, snr_db, seed=1).run(n1) + ...run(n2)`` gives exactly the counts of one
    ``run(n1 + n2)``.

    Parameters
    ----------
    fmt : PAM or QAM
        Modulation format.
    snr_db : float
        SNR in dB (see :mod:`photolink.symbols.channel` for its reference point with a channel; for
        QAM, per polarisation, circular complex noise).
    seed : int, SeedSequence, Generator or None
        Seed of the whole stream.
    channel : Channel, optional
        PAM only: pulse response; None is an ideal (ISI-free) channel.
    equalizer : Equalizer, optional
        PAM only: FFE/DFE; None is a plain slicer.
    precode : bool
        PAM only: IEEE 802.3 1/(1+D) mod M precoding (shortens DFE error bursts).
    ideal_feedback : bool
        PAM only: feed the DFE the transmitted symbols: the error-free-feedback bound.
    linewidth_symbol_period : float
        QAM only: combined (transmitter + local oscillator) laser linewidth times symbol
        period, 0 to 0.1; the carrier phase is a Wiener process with steps of variance
        2 pi linewidth_symbol_period, common to both polarisations.
    carrier_recovery : CarrierRecovery, optional
        QAM only: carrier-phase recovery. None is an ideal carrier with zero linewidth, and
        ``CarrierRecovery.for_format(fmt, linewidth_symbol_period)`` with phase noise (a longer
        window at 400ZR-class linewidths). With ``pilot_period`` set, every pilot_period-th
        symbol is a known pilot that is neither decided nor counted: ``symbols`` then counts the
        data symbols only (fewer than ``n_symbols``).
    differential : bool
        QAM only: quadrant differential coding (a cycle slip then costs one symbol, not a
        burst to the next slip).
    _chunk_symbols : int
        Private (tests): symbols per chunk, 1024 to 2**24; default :data:`CHUNK_SYMBOLS`.
        The counts depend on it (each chunk has its own random stream and warm-up).
    """

    fmt: PAM
    snr_db: float
    seed: object = None
    channel: Channel | None = None
    equalizer: Equalizer | None = None
    precode: bool = False
    ideal_feedback: bool = False
    linewidth_symbol_period: float = 0.0
    carrier_recovery: CarrierRecovery | None = None
    differential: bool = False
    position: int = field(default=0, init=False)
    _chunk_symbols: int = field(default=CHUNK_SYMBOLS, repr=False)

    def __post_init__(self):
        if not isinstance(self.fmt, (PAM, QAM)):
            raise TypeError(f"fmt must be a photolink PAM or QAM format, got {type(self.fmt).__name__} {self.fmt!r}")
        self._chunk_symbols = v.integer("_chunk_symbols", self._chunk_symbols, lo=1024, hi=1 << 24)
        self.snr_db = v.real("snr_db", self.snr_db, lo=-30, hi=80)
        if isinstance(self.fmt, QAM):
            self._coherent_config()
            return
        for name in ("linewidth_symbol_period", "carrier_recovery", "differential"):
            if not v.unset(getattr(self, name)):
                raise ValueError(f"{name} applies to QAM formats only, got {getattr(self, name)!r} with {self.fmt}")
        if self.channel is not None and not isinstance(self.channel, Channel):
            raise TypeError(f"channel must be a photolink.Channel or None, got {type(self.channel).__name__}")
        if self.equalizer is not None and not isinstance(self.equalizer, Equalizer):
            raise TypeError(f"equalizer must be a photolink.Equalizer or None, got {type(self.equalizer).__name__}")
        for name in ("precode", "ideal_feedback"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        self._ss = _rng.seed_sequence(self.seed)
        self._kernel = self._pam_kernel()

    def _coherent_config(self) -> None:
        """Validate the QAM options and fix the arguments of the coherent kernel."""
        for name, default in (("channel", None), ("equalizer", None), ("precode", False),
                              ("ideal_feedback", False)):
            value = getattr(self, name)
            if value is not None if default is None else not v.unset(value):
                raise ValueError(f"{name} applies to PAM formats only, got {getattr(self, name)!r} with {self.fmt}")
        self.linewidth_symbol_period = v.real("linewidth_symbol_period", self.linewidth_symbol_period,
                                              lo=0.0, hi=0.1)
        if not isinstance(self.differential, (bool, np.bool_)):
            raise TypeError(f"differential must be a bool, got {self.differential!r}")
        cr = self.carrier_recovery
        if cr is None and self.linewidth_symbol_period > 0:
            cr = CarrierRecovery.for_format(self.fmt, self.linewidth_symbol_period)
        if cr is not None:
            if not isinstance(cr, CarrierRecovery):
                raise TypeError(f"carrier_recovery must be a photolink.symbols.coherent.CarrierRecovery or None, "
                                f"got {type(cr).__name__} {cr!r}")
            cr.check_format(self.fmt)
            if cr.pilot_period and self.differential:
                raise ValueError(f"differential must be False with pilot symbols (pilot_period="
                                 f"{cr.pilot_period}): the pilots resolve the quadrant ambiguity")
        self.carrier_recovery = cr
        self._ss = _rng.seed_sequence(self.seed)
        self._kernel = _qam_stream.QamKernel(
            m=self.fmt.M, polarizations=self.fmt.polarizations, noise_sigma=self.fmt.noise_sigma(self.snr_db),
            phase_sigma=phase_step_sigma(self.linewidth_symbol_period),
            cpr=_qam_stream.CPR_CODES[cr.method if cr else None], window=cr.window if cr else 1,
            test_phases=cr.test_phases if cr else 1, differential=bool(self.differential),
            pilot_period=cr.pilot_period if cr else 0, pilot_average=cr.pilot_average if cr else 1)

    def _pam_kernel(self) -> _pam_stream.PamKernel:
        """The C kernel of the stream, built once: its configuration is the same for every chunk."""
        sigma = self.fmt.noise_sigma(self.snr_db)
        if self.channel is None and self.equalizer is None and not self.precode:
            return _pam_stream.PamKernel(levels=self.fmt.M, noise_sigma=sigma)
        ch = self.channel or Channel((1.0,))
        eq = self.equalizer or Equalizer()
        delay = eq.delay(ch)
        gain = float(eq.combined(ch)[delay])
        if not gain >= 1e-200:
            raise ValueError(f"the equalised main cursor must be > 0 (at least 1e-200; only tap ratios "
                             f"matter: scale the taps), got {gain!r}: check the FFE taps")
        ffe = None if eq.ffe == (1.0,) else np.asarray(eq.ffe)
        dfe = np.asarray(eq.dfe) if eq.dfe else None
        return _pam_stream.PamKernel(levels=self.fmt.M, noise_sigma=sigma * ch.main, channel=np.asarray(ch.taps),
                                     ffe=ffe, dfe=dfe, delay=delay, slicer_gain=gain,
                                     precode=bool(self.precode), ideal_feedback=bool(self.ideal_feedback))

    def run(self, n_symbols: int, *, n_threads: int = 1, return_errors: bool = False) -> BerResult:
        """Simulate the next ``n_symbols`` symbols of the stream and count their errors.

        Parameters
        ----------
        n_symbols : int
            1 to 1e14 symbols; with ``return_errors`` at most :data:`MAX_SYMBOLS_WITH_ERRORS`
            (2.1e8: their worst-case error records, 10 bytes per symbol, must fit in
            :data:`MAX_ERROR_RECORD_BYTES`, 2 GiB); run longer streams in pieces.
        n_threads : int
            Worker threads (1 to 256); the counts do not depend on it.
        return_errors : bool
            Also return the index and bit pattern of every symbol error.
        """
        if not isinstance(return_errors, (bool, np.bool_)):
            raise TypeError(f"return_errors must be a bool, got {type(return_errors).__name__} {return_errors!r}")
        n = v.integer("n_symbols", n_symbols, lo=1, hi=MAX_SYMBOLS)
        if return_errors:
            v.within_result_cap("n_symbols", n, ERROR_RECORD_BYTES,
                                "error records with return_errors=True, up to one per symbol,",
                                "run the stream in pieces (SymbolStream.run continues where the "
                                "last call stopped)", upper_bound=True)
        n_threads = v.integer("n_threads", n_threads, lo=1, hi=256)
        start, stop = self.position, self.position + n
        chunk = self._chunk_symbols
        first, last = start // chunk, (stop - 1) // chunk
        pieces = [(c, max(start - c * chunk, 0), min(stop - c * chunk, chunk))
                  for c in range(first, last + 1)]

        def one(piece):
            c, lo, hi = piece
            hist = np.zeros(BURST_BINS, np.uint64)
            out = self._kernel.run_chunk(_rng.chunk_bit_generator(self._ss, c), chunk, lo, hi,
                                         c * chunk, hist, return_errors)
            return out, hist

        if n_threads == 1 or len(pieces) == 1:
            parts = map(one, pieces)
        else:
            pool = ThreadPoolExecutor(min(n_threads, len(pieces)))
            parts = pool.map(one, pieces)
        symbols = symbol_errors = bit_errors = slips = 0
        hist = np.zeros(BURST_BINS, np.int64)
        index, bits = _Grow(np.int64), _Grow(np.uint16)
        for (s, se, be, sl, idx, b), h in parts:
            symbols += s
            symbol_errors += se
            bit_errors += be
            slips += sl
            hist += h.astype(np.int64)
            if return_errors:
                index.append(idx)
                bits.append(b)
                del idx, b
        if n_threads > 1 and len(pieces) > 1:
            pool.shutdown()
        self.position = stop
        k = self.fmt.bits_per_symbol
        return BerResult(
            format=self.fmt.name, snr_db=self.snr_db, symbols=int(symbols),
            symbol_errors=int(symbol_errors), bits=int(symbols) * k, bit_errors=int(bit_errors),
            burst_hist=hist,
            error_index=index.result() if return_errors else None,
            error_bits=bits.result() if return_errors else None,
            seed_entropy=self._ss.entropy if not self._ss.spawn_key else None,
            cycle_slips=int(slips) if isinstance(self.fmt, QAM) else None,
        )


def simulate_ber(fmt: PAM | QAM, snr_db: float, n_symbols: int, *, seed: _rng.SeedLike,
                 channel: Channel | None = None, equalizer: Equalizer | None = None,
                 precode: bool = False, ideal_feedback: bool = False, n_threads: int = 1,
                 return_errors: bool = False, linewidth_symbol_period: float = 0.0,
                 carrier_recovery: CarrierRecovery | None = None, differential: bool = False,
                 _chunk_symbols: int = CHUNK_SYMBOLS) -> BerResult:
    """Stream ``n_symbols`` symbols through noise (and ISI and equaliser) and count errors.

    Parameters
    ----------
    fmt : PAM or QAM
        Modulation format, e.g. ``photolink.PAM4`` or ``photolink.DP_16QAM``.
    snr_db : float
        SNR in dB: mean symbol power over noise power at the decision point for an ideal
        channel; referred to the main cursor at the receiver input with a channel. For QAM,
        per polarisation with circular complex noise ([ref:snr-convention]).
    n_symbols : int
        Number of symbols, 1 to 1e14 (QAM: dual-polarisation symbols); memory use does not
        grow with it.
    seed : int, SeedSequence, Generator or None
        The result depends on it alone.
    channel, equalizer, precode, ideal_feedback
        PAM only; see :class:`SymbolStream`.
    linewidth_symbol_period, carrier_recovery, differential
        QAM only; see :class:`SymbolStream`.
    n_threads : int
        Worker threads; the counts do not depend on it.
    return_errors : bool
        Also return the position and bit pattern of every symbol error (for exact FEC).
    _chunk_symbols : int
        Private (tests): symbols per chunk; default :data:`CHUNK_SYMBOLS`. See
        :class:`SymbolStream`.

    Returns
    -------
    BerResult

    Examples
    --------
    >>> import photolink as pl
    >>> r = pl.simulate_ber(pl.PAM4, 17.0, 10**6, seed=2)
    >>> r.bits, r.bit_errors
    (2000000, 1151)
    >>> r.ci[0] <= pl.PAM4.ber_awgn(17.0) <= r.ci[1]
    True
    >>> q = pl.simulate_ber(pl.DP_16QAM, 16.0, 10**5, seed=1)
    >>> q.ci[0] <= pl.DP_16QAM.ber_awgn(16.0) <= q.ci[1]
    True
    """
    stream = SymbolStream(fmt, snr_db, seed=seed, channel=channel, equalizer=equalizer,
                          precode=precode, ideal_feedback=ideal_feedback,
                          linewidth_symbol_period=linewidth_symbol_period,
                          carrier_recovery=carrier_recovery, differential=differential,
                          _chunk_symbols=_chunk_symbols)
    return stream.run(n_symbols, n_threads=n_threads, return_errors=return_errors)
