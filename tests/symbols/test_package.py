"""The Annex 93A / 178A die-and-package model against PyChOpMarg's own (an independent implementation)."""
import numpy as np
import pytest

import photolink as pl
from photolink.symbols.package import DevicePackage

rf = pytest.importorskip("skrf")
pu = pytest.importorskip("photolink.symbols.pulse")


def test_package_matches_pychopmarg_ladder_and_lines():
    sp = pytest.importorskip("pychopmarg.utility.sparams")
    f = np.linspace(0.0, 60e9, 301)
    for pkg in (DevicePackage.ieee_802_3dj_class_a(12.0), DevicePackage.ieee_802_3dj_class_a(33.0)):
        f1 = f[1:]
        die = rf.network.cascade_list([sp.sDieLadderSegment(f1, (50.0, cd * 1e-9, ls * 1e-9))
                                       for cd, ls in zip(pkg.c_d_nf, pkg.l_s_nh)])
        ref = (die ** sp.sCshunt(f1, pkg.c_b_nf * 1e-9, 50.0)
               ** sp.sPkgTline(f1, 50.0, pkg.a1, pkg.a2, pkg.tau_ns_per_mm, pkg.gamma0_per_mm,
                               list(pkg.segments))
               ** sp.sCshunt(f1, pkg.c_p_nf * 1e-9, 50.0))
        ours = pkg.s_params(f)
        np.testing.assert_allclose(ours[1:], ref.s, atol=1e-12)
        length = sum(z for _, z in pkg.segments)          # at DC: the line's gamma0 loss only
        assert abs(abs(ours[0, 1, 0]) - np.exp(-pkg.gamma0_per_mm * length)) < 2e-3


def test_package_is_passive_reciprocal_and_longer_is_lossier():
    f = np.linspace(1e8, 60e9, 200)
    short = DevicePackage.ieee_802_3dj_class_a(12.0).s_params(f)
    long_ = DevicePackage.ieee_802_3dj_class_a(33.0).s_params(f)
    for s in (short, long_):
        np.testing.assert_allclose(s[:, 0, 1], s[:, 1, 0])
        assert np.linalg.svd(s, compute_uv=False).max() <= 1 + 1e-9
    assert np.all(np.abs(long_[100:, 1, 0]) < np.abs(short[100:, 1, 0]))
    # with nothing in it the model is a thru
    empty = DevicePackage(c_d_nf=(), l_s_nh=(), c_b_nf=0.0, segments=((100.0, 0.0),), c_p_nf=0.0)
    np.testing.assert_allclose(empty.s_params(f)[:, 1, 0], 1.0, atol=1e-12)


def test_channel_with_the_package_loses_more_and_is_selectable():
    net = pu.synthetic_network(0.2, n_points=300)
    pkg = DevicePackage.ieee_802_3dj_class_a()
    bare = pl.Channel.from_network(net, 53.125)
    with_pkg = pl.Channel.from_network(net, 53.125, tx_package=pkg, rx_package=pkg)
    direct = pl.Channel.from_network(net, 53.125, tx_package=pkg.network(net.frequency),
                                     rx_package=pkg.network(net.frequency, rx=True))
    np.testing.assert_allclose(with_pkg.samples, direct.samples, atol=1e-12)
    extra = pu.loss_at_db(np.asarray(with_pkg.samples), 32) - pu.loss_at_db(np.asarray(bare.samples), 32)
    assert 1.0 < extra < 15.0


def test_bad_package_input():
    with pytest.raises(ValueError, match="c_d_nf"):
        DevicePackage(c_d_nf=(1e-5, 1e-5), l_s_nh=(0.1,))
    with pytest.raises(ValueError, match="segments"):
        DevicePackage(segments=((87.5,),))
    with pytest.raises(ValueError, match="c_p_nf"):
        DevicePackage(c_p_nf=-1.0)
    assert DevicePackage().to_dict()["segments"] == ((87.5, 12.0), (92.5, 1.8))


def test_package_reference_impedance_is_two_r0():
    """802.3dj's R_0 = R_d = 46.25 ohm: the channel is renormalised to 92.5 ohm before the cascade."""
    net = pu.synthetic_network(0.2, n_points=200)
    pkg = DevicePackage.ieee_802_3dj_class_a(r0_ohm=46.25)
    got = pu.with_packages(net, pkg, pkg)
    chan = pu.differential_network(net)
    chan.renormalize(92.5)
    expect = pkg.network(chan.frequency) ** chan ** pkg.network(chan.frequency, rx=True)
    np.testing.assert_allclose(got.s, expect.s, atol=1e-12)
    assert np.allclose(got.z0, 92.5)
    with pytest.raises(ValueError, match="r0_ohm"):
        pu.with_packages(net, pkg, DevicePackage.ieee_802_3dj_class_a())
