"""The IEEE 802.3 Annex 93A / 178A die-and-package model, as COM builds it.

Each end of a COM channel is a device: the die (a ladder of shunt capacitances ``C_d`` and series
inductances ``L_s``, then the bump capacitance ``C_b``), the package transmission line (one or more
segments of differential impedance ``z_c`` and length ``z_p``, 93A-9..14) and the ball-pad
capacitance ``C_p`` at the board (93A-8). Each leg is single-ended at ``R_0``; with identical,
uncoupled legs the differential S-parameters at ``2 R_0`` equal the single-ended ones, which is
how the model is returned (a differential 2-port referenced to ``2 R_0``, port 1 towards the
transmitter). Feed it to :meth:`photolink.Channel.from_network` as ``tx_package`` /
``rx_package``.

The package line's propagation constant per mm (f in GHz) is, as 93A-9..11,
``gamma(f) = gamma0 + a1 (1 + j) sqrt(f) + a2 (1 - j (2/pi) ln f) f + j 2 pi tau f``, and each
segment's S-parameters follow from ``rho = (z_c - 2 R_0) / (z_c + 2 R_0)`` (93A-13, 14).
Parameters of :meth:`DevicePackage.ieee_802_3dj_class_a` come from the P802.3dj tables
[ref:dj-package-model]. The die terminations ``R_d`` are taken equal to ``R_0`` (no reflection at
the die; so is 802.3dj, R_d = R_0 = 46.25 ohm: pass ``r0_ohm=46.25`` and the channel is
renormalised to 92.5 ohm before the cascade), a simplification against the 93A tables whose
R_d differs from R_0.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._util import validate as v
from .pulse import _skrf


@dataclass(frozen=True)
class DevicePackage:
    """Die and package of one end of a COM channel (IEEE 802.3 Annex 93A / 178A).

    Parameters
    ----------
    c_d_nf, l_s_nh : tuple of float
        Die ladder: shunt capacitance (nF) and series inductance (nH) of each segment, die first.
    c_b_nf : float
        Bump capacitance (nF).
    segments : tuple of (float, float)
        Package transmission line segments ``(z_c_ohm, z_p_mm)``, die side first.
    gamma0_per_mm, a1, a2, tau_ns_per_mm : float
        Line loss and delay (93A-9..11; a1 in sqrt(ns)/mm, a2 in ns/mm).
    c_p_nf : float
        Ball-pad capacitance at the board (nF).
    r0_ohm : float
        Single-ended reference impedance (the network is returned at ``2 r0_ohm`` differential).
    """

    c_d_nf: tuple = (40e-6, 90e-6, 110e-6)
    l_s_nh: tuple = (0.13, 0.15, 0.14)
    c_b_nf: float = 30e-6
    segments: tuple = ((87.5, 12.0), (92.5, 1.8))
    gamma0_per_mm: float = 5e-4
    a1: float = 8.9e-4
    a2: float = 2e-4
    tau_ns_per_mm: float = 6.141e-3
    c_p_nf: float = 40e-6
    r0_ohm: float = 50.0

    def __post_init__(self):
        cd = v.real_array("c_d_nf", self.c_d_nf, lo=0.0, hi=1e-2)
        ls = v.real_array("l_s_nh", self.l_s_nh, lo=0.0, hi=10.0)
        if cd.ndim != 1 or cd.shape != ls.shape:
            raise ValueError(f"c_d_nf and l_s_nh must be sequences of one length, got {cd.size} and {ls.size}")
        seg = v.real_array("segments", self.segments, lo=0.0, hi=1e3)
        if seg.ndim != 2 or seg.shape[1] != 2 or np.any(seg[:, 0] < 1.0):
            raise ValueError(f"segments must be (z_c_ohm >= 1, z_p_mm >= 0) pairs, got {self.segments!r}")
        v.real("c_b_nf", self.c_b_nf, lo=0.0, hi=1e-2)
        v.real("c_p_nf", self.c_p_nf, lo=0.0, hi=1e-2)
        for name in ("gamma0_per_mm", "a1", "a2", "tau_ns_per_mm"):
            v.real(name, getattr(self, name), lo=0.0, hi=1.0)
        v.real("r0_ohm", self.r0_ohm, lo=1.0, hi=500.0)
        object.__setattr__(self, "c_d_nf", tuple(cd.tolist()))
        object.__setattr__(self, "l_s_nh", tuple(ls.tolist()))
        object.__setattr__(self, "segments", tuple(tuple(r) for r in seg.tolist()))

    @classmethod
    def ieee_802_3dj_class_a(cls, z_p_mm: float = 12.0, **changes) -> DevicePackage:
        """P802.3dj class A device (Table 178-14): 3-segment die ladder, C_b 30 fF, lines of 87.5 ohm
        (``z_p_mm``: 12 mm test 2, 33 mm test 1) and 92.5 ohm x 1.8 mm, C_p 40 fF [ref:dj-package-model]."""
        z = v.real("z_p_mm", z_p_mm, lo=0.0, hi=1e3)
        return cls(segments=((87.5, z), (92.5, 1.8)), **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def s_params(self, f_hz) -> np.ndarray:
        """S-parameters (frequencies x 2 x 2), port 1 towards the die."""
        f = v.real_array("f_hz", f_hz, lo=0.0, hi=1e13)
        r0 = self.r0_ohm
        s = _thru(f.size)
        for cd, ls in zip(self.c_d_nf, self.l_s_nh):
            s = _cascade(s, _shunt_c(f, cd * 1e-9, r0))
            s = _cascade(s, _series_l(f, ls * 1e-9, r0))
        s = _cascade(s, _shunt_c(f, self.c_b_nf * 1e-9, r0))
        g = self.gamma_per_mm(f)
        for zc, zp in self.segments:
            s = _cascade(s, _line(g, zc, zp, r0))
        return _cascade(s, _shunt_c(f, self.c_p_nf * 1e-9, r0))

    def gamma_per_mm(self, f_hz) -> np.ndarray:
        """Propagation constant of the package line per mm (93A-9..11)."""
        f = np.asarray(f_hz, dtype=np.float64) / 1e9
        safe = np.where(f > 0, f, 1.0)
        g = (self.gamma0_per_mm + self.a1 * (1 + 1j) * np.sqrt(safe)
             + (self.a2 * (1 - 1j * (2 / np.pi) * np.log(safe)) + 2j * np.pi * self.tau_ns_per_mm) * safe)
        return np.where(f > 0, g, self.gamma0_per_mm + 0j)

    def network(self, frequency, *, rx: bool = False):
        """The differential 2-port (skrf.Network at ``2 r0_ohm``) on ``frequency`` (a ``skrf.Frequency``);
        ``rx=True`` flips it so port 1 faces the channel (the receiver end)."""
        s = self.s_params(frequency.f)
        if rx:
            s = s[:, ::-1, ::-1].copy()
        return _skrf().Network(frequency=frequency, s=s, z0=2 * self.r0_ohm, name="package")


def _thru(n: int) -> np.ndarray:
    s = np.zeros((n, 2, 2), dtype=complex)
    s[:, 0, 1] = s[:, 1, 0] = 1.0
    return s


def _sym(s11, s21) -> np.ndarray:
    out = np.empty((np.size(s11), 2, 2), dtype=complex)
    out[:, 0, 0] = out[:, 1, 1] = s11
    out[:, 0, 1] = out[:, 1, 0] = s21
    return out


def _shunt_c(f, c, r0):
    y = 2j * np.pi * f * r0 * c
    return _sym(-y / (2 + y), 2 / (2 + y))


def _series_l(f, ind, r0):
    z = 2j * np.pi * f * ind / r0
    return _sym(z / (2 + z), 2 / (2 + z))


def _line(g, zc, zp, r0):
    rho = (zc - 2 * r0) / (zc + 2 * r0)
    e1, e2 = np.exp(-g * zp), np.exp(-2 * g * zp)
    den = 1 - rho**2 * e2
    return _sym(rho * (1 - e2) / den, (1 - rho**2) * e1 / den)


def _cascade(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cascade of two 2-ports' S-parameters (Redheffer star product)."""
    d = 1 - a[:, 1, 1] * b[:, 0, 0]
    out = np.empty_like(a)
    out[:, 0, 0] = a[:, 0, 0] + a[:, 0, 1] * b[:, 0, 0] * a[:, 1, 0] / d
    out[:, 0, 1] = a[:, 0, 1] * b[:, 0, 1] / d
    out[:, 1, 0] = b[:, 1, 0] * a[:, 1, 0] / d
    out[:, 1, 1] = b[:, 1, 1] + b[:, 1, 0] * a[:, 1, 1] * b[:, 0, 1] / d
    return out
