"""Package surface: light import, lazy names, everything in __all__ reachable."""
import subprocess
import sys

import pytest

import photolink as pl


def test_import_stays_light():
    # The stream core must not pull scipy.stats (~50 MB): a 1e9-symbol run stays < 100 MB RSS.
    code = "import sys, photolink; print('scipy.stats' in sys.modules, 'photolink.links' in sys.modules)"
    out = subprocess.check_output([sys.executable, "-c", code], text=True).split()
    assert out == ["False", "False"]


def test_every_public_name_resolves():
    for name in pl.__all__:
        assert getattr(pl, name) is not None
    assert pl.fec.KP4.n == 544 and pl.Link.ideal(100).link_model().rate_gbps == 100
    assert "Path" in dir(pl)
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        pl.nonsense  # noqa: B018
