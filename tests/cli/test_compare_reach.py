"""``compare`` names rated reach, physics reach, what limits each and the margin of each technology."""
import pytest

from photolink import links
from photolink.cli import main
from photolink.cli.links import format_table


def _rows(capsys, *names):
    assert main(["compare", *names]) == 0
    lines = capsys.readouterr().out.splitlines()
    return lines[0], {line.split()[0]: line for line in lines[1:]}


@pytest.mark.slow
def test_compare_shows_rated_and_physics_reach_with_their_limits(capsys):
    header, rows = _rows(capsys, "dac-800g", "dr4-800g", "zr-400g")
    for col in ("rated m", "rated by", "reach m", "limited by", "margin dB", "margin of"):
        assert col in header
    assert "datasheet" in rows["dac-800g"] and "COM 3 dB" in rows["dac-800g"] and "COM-like" in rows["dac-800g"]
    assert " spec " in rows["dr4-800g"] and "FEC threshold" in rows["dr4-800g"]
    assert "optical loss" in rows["dr4-800g"]
    assert "estimate" in rows["zr-400g"] and "medium" in rows["zr-400g"] and "OSNR" in rows["zr-400g"]


def test_compare_names_dispersion_and_the_rating_basis():
    r = links.preset("dr4-800g").evaluate()
    assert (r.rated_reach_limit, r.reach_limit) == ("spec", "fec-threshold")
    assert r.rated_reach_m <= r.reach_m
    table = format_table([r])
    assert "spec" in table and "FEC threshold" in table


@pytest.mark.slow
def test_every_rating_is_within_the_physics_reach_and_named():
    for name in links.presets():                       # a rating never exceeds the physics
        rep = links.preset(name).evaluate()
        assert rep.rated_reach_limit in links.link.RATED_REACH_BASES
        assert rep.rated_reach_m <= rep.reach_m * (1 + 1e-6), name
