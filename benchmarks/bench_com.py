"""COM benchmark: Touchstone -> pulse response -> COM for a 4-port, 2000-point channel, against PyChOpMarg.

The same .s4p thru and far-end aggressor (written by scikit-rf from
:func:`photolink.symbols.pulse.synthetic_network`), the same COM parameters (802.3ck-like at
53.125 GBd: the transmitter grid of :meth:`photolink.links.com.ComParams.ieee_802_3ck`, a 12-tap
receiver FFE with 3 pre-cursors, 1 DFE tap; CTLE g_DC 0 to -20 dB and g_DC2 0 to -6 dB in 2 dB
steps), PyChOpMarg in its PRZF mode with its package and die reduced to nothing and a 0.02 GHz
system grid, on one process. Each contender reads the file, builds its pulses and searches its
equaliser; the ratio of wall-clock times is what to read (the machine is shared).
Goal: >= 5x, and photolink under 1 s. Run:  python benchmarks/bench_com.py [--quick], or as a
pytest-benchmark suite: pytest benchmarks/bench_com.py --benchmark-only [--bench-quick]
"""
from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
import tempfile
import time

import numpy as np
from _bench import peer, photolink_seconds_and_result, record

import photolink as pl
from photolink.links import com as C
from photolink.symbols import pulse as pu

RS = 53.125


def params(quick: bool) -> C.ComParams:
    p = C.ComParams.ieee_802_3ck(RS)
    if quick:
        ctle = dataclasses.replace(p.ctle, g_dc_db=(0.0, -4.0, -8.0, -12.0), g_dc2_db=(0.0, -2.0))
    else:
        ctle = dataclasses.replace(p.ctle, g_dc_db=tuple(float(-g) for g in range(0, 21, 2)),
                                   g_dc2_db=(0.0, -2.0, -4.0, -6.0))
    return dataclasses.replace(p, ctle=ctle)


def pychopmarg_params(p: C.ComParams, fstep_ghz: float):
    from pychopmarg.config.template import COMParams
    t = p.tx_ffe
    pad = [0.0] * (3 - t.n_post)       # PyChOpMarg: pre-cursor taps, then exactly 3 post-cursor taps
    tiny = [0.001]
    return COMParams(
        fb=RS, fstep=fstep_ghz, L=4, M=32, DER_0=p.der0, T_r=p.t_r_ns, RLM=p.rlm, A_v=p.a_v,
        A_fe=p.a_fe, A_ne=p.a_ne, R_0=50.0, A_DD=p.a_dd_ui, SNR_TX=p.snr_tx_db,
        eta_0=p.eta0_v2_per_ghz, sigma_Rj=p.sigma_rj_ui, f_z=p.ctle.f_z_ghz, f_p1=p.ctle.f_p1_ghz,
        f_p2=p.ctle.f_p2_ghz, f_LF=p.ctle.f_lf_ghz, g_DC=list(p.ctle.g_dc_db),
        g_DC2=list(p.ctle.g_dc2_db), tx_taps_min=list(t.taps_min) + pad,
        tx_taps_max=list(t.taps_max) + pad, tx_taps_step=list(t.taps_step) + pad, c0_min=t.c0_min,
        f_r=p.f_r, dfe_min=np.array(p.dfe_min), dfe_max=np.array(p.dfe_max),
        rx_taps_min=np.array(p.rx_ffe_min), rx_taps_max=np.array(p.rx_ffe_max), dw=p.rx_ffe_pre,
        R_d=np.array([50.0]), C_d=[1e-6, 1e-6], C_b=[0.0, 0.0], C_p=[1e-6, 1e-6], L_s=[0.01, 0.01],
        z_c=[50.0, 50.0], z_p=tiny, gamma0=1e-7, a1=1e-7, a2=1e-7, tau=1e-7, zp_tx=tiny, zp_rx=tiny,
        zp_next=tiny, zp_fext=tiny)


def _setup(folder: pathlib.Path, length_m: float, quick: bool):
    """Write the channel's Touchstone files; return (params, ours, theirs-or-None)."""
    pu.synthetic_network(length_m, n_points=2000).write_touchstone(str(folder / "thru"))
    pu.synthetic_network(length_m, n_points=2000, coupling=0.1).write_touchstone(str(folder / "fext"))
    p = params(quick)

    def ours():
        thru = pl.Channel.from_touchstone(folder / "thru.s4p", RS)
        fext = pl.Channel.from_touchstone(folder / "fext.s4p", RS, check=False)
        return C.com(thru, p, fext=[fext])

    def theirs():
        import pychopmarg.com as pcm
        from pychopmarg.common import NormMode, OptMode
        peer = pcm.COM(pychopmarg_params(p, 0.02), {"THRU": [folder / "thru.s4p"],
                                                    "FEXT": [folder / "fext.s4p"], "NEXT": []})
        peer.n_procs = 1
        return peer(opt_mode=OptMode.PRZF, norm_mode=NormMode.P8023dj, unit_amp=True)

    return p, ours, theirs


def test_com_vs_pychopmarg(benchmark, request, quick, tmp_path):
    """COM of a 0.3 m 4-port channel (2000 points): COMs per second against PyChOpMarg (goal >= 5x)."""
    peer("pychopmarg")
    _, ours, theirs = _setup(tmp_path, 0.3, quick)
    t_pl, mine = photolink_seconds_and_result(benchmark, ours, 3)
    com_ours = mine.com_db
    t0 = time.perf_counter()
    com_peer = theirs()
    t_peer = time.perf_counter() - t0
    record(request, benchmark, photolink_rate=1 / t_pl, peer_rate=1 / t_peer, unit="COM/s",
           target=5.0, peer_name="PyChOpMarg", photolink_com_db=com_ours, peer_com_db=float(com_peer))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller CTLE grid (8 settings)")
    ap.add_argument("--length-m", type=float, default=0.3)
    args = ap.parse_args()
    try:
        import pychopmarg.com  # noqa: F401
    except ImportError:
        print("skipped: PyChOpMarg is not installed (pip install pychopmarg, or pip install -e '.[bench]')")
        return 0
    folder = pathlib.Path(tempfile.mkdtemp())
    p, ours, theirs = _setup(folder, args.length_m, args.quick)
    n_eq = len(p.ctle.g_dc_db) * len(p.ctle.g_dc2_db) * len(p.tx_ffe.combinations())

    ours()                                                  # warm-up (imports, caches)
    t_pl = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        r = ours()
        t_pl = min(t_pl, time.perf_counter() - t0)
    t0 = time.perf_counter()
    com_peer = theirs()
    t_peer = time.perf_counter() - t0
    print(f"channel: {args.length_m} m, 4 ports, 2000 points, IL {r.loss_at_nyquist_db:.1f} dB at Nyquist; "
          f"{n_eq} equaliser settings (CTLE x Tx FFE)")
    print(f"photolink  COM {r.com_db:6.2f} dB  in {t_pl:7.3f} s (best of 3)")
    print(f"PyChOpMarg COM {com_peer:6.2f} dB  in {t_peer:7.3f} s (one process)")
    print(f"ratio {t_peer / t_pl:.1f}x (goal >= 5x; photolink < 1 s: {'yes' if t_pl < 1 else 'no'}); "
          f"COM difference {r.com_db - com_peer:+.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
