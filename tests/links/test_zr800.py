"""The 800ZR preset: DP-16QAM at 118.2 GBd with oFEC [ref:800zr-oif]."""
import pytest

from photolink import fec, links
from photolink.links.link import required_osnr_db


def test_800zr_runs_118_gbd_with_ofec_far_below_threshold_back_to_back():
    link = links.preset("zr-800g")
    assert link.fec is fec.OFEC_800ZR and link.fmt.name == "DP-16QAM"
    b2b = link.with_length(0.0).evaluate()
    assert b2b.symbol_rate_gbd == pytest.approx(118.2, abs=0.01)
    assert b2b.pre_fec_ber < b2b.threshold_ber / 10                     # far below 2e-2
    assert b2b.margin_kind == "osnr-db"
    need = required_osnr_db(link)
    assert need - required_osnr_db(link, allowances=False) == pytest.approx(3.7)
    assert need > required_osnr_db(links.preset("zr-400g")) + 2.0        # twice the symbol rate


def test_800zr_margin_shrinks_with_length_within_a_span():
    link = links.preset("zr-800g")
    margins = [link.with_length(x).evaluate(reach=False).margin_db for x in (10e3, 40e3, 80e3)]
    assert margins[0] > margins[1] > margins[2] >= 3.0
    assert link.evaluate().rated_reach_m <= link.evaluate().reach_m
