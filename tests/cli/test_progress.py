"""Progress (issue 15, item 6): tqdm.auto bars when someone can see them, none with --quiet or
in a pipe."""
import sys

import pytest

from photolink._util import progress
from photolink.cli import main

ARGV = ["ber", "--snr-from", "14", "--snr-to", "16", "--symbols", "1000"]


def test_not_interactive_means_no_bar(capsys):
    assert not progress.interactive()                     # pytest captures stderr: not a terminal
    assert main(ARGV) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("how", ["terminal", "notebook"])
def test_bar_when_interactive_and_quiet_hides_it(capsys, monkeypatch, how):
    if how == "terminal":
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    else:
        monkeypatch.setitem(sys.modules, "ipykernel", sys)
    assert progress.interactive()
    assert main(ARGV) == 0
    assert "3/3" in capsys.readouterr().err
    assert main([*ARGV, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_silent_bar_has_the_same_calls():
    with progress.bar(range(3), enabled=False) as b:
        assert list(b) == [0, 1, 2]
        b.update(1)
        b.set_postfix_str("x")


# -- regress record|check and link --simulate (issue 15, item 6) --------------------------------
SMALL = ('seed = 3\n[ber.a]\nformat = "PAM4"\nsnr_db = 14.0\nn_symbols = 3000\n'
         '[ber.b]\nformat = "NRZ"\nsnr_db = 8.0\nn_symbols = 3000\n')


def _terminal(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)


@pytest.mark.parametrize("action", ["record", "check"])
def test_regress_shows_progress_and_quiet_hides_it(tmp_path, capsys, monkeypatch, action):
    cfg, base = tmp_path / "r.toml", tmp_path / "b.json"
    cfg.write_text(SMALL)
    argv = ["regress", action, str(cfg), "--baseline", str(base)]
    if action == "check":
        assert main(["regress", "record", str(cfg), "--baseline", str(base)]) == 0
    capsys.readouterr()
    assert main(argv) == 0
    assert capsys.readouterr().err == ""                 # not interactive: no bar
    _terminal(monkeypatch)
    assert main(argv) == 0
    assert "2/2" in capsys.readouterr().err              # one chunk per case, two cases
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_link_simulate_shows_progress_and_quiet_hides_it(capsys, monkeypatch):
    argv = ["link", "dr4-800g", "--simulate", "--symbols", "20000", "--json", "-"]
    assert main(argv) == 0
    assert "100%" not in capsys.readouterr().err
    _terminal(monkeypatch)
    assert main(argv) == 0
    assert "100/100" in capsys.readouterr().err
    assert main([*argv, "--quiet"]) == 0
    assert "100/100" not in capsys.readouterr().err


@pytest.mark.parametrize("preset", ["dr4-800g", "zr-400g"])
def test_link_simulate_progress_hook_reaches_its_total(preset):
    import photolink as pl
    calls = []
    r = pl.links.preset(preset).simulate(20000, seed=1, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1] and r.method == "simulate"
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    with pytest.raises(TypeError, match="progress"):
        pl.links.preset(preset).simulate(20000, seed=1, progress="yes")


def test_compare_shows_progress_and_quiet_hides_it(capsys, monkeypatch):
    argv = ["compare", "dac-800g", "dr4-800g", "cpo-800g"]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""
    _terminal(monkeypatch)
    assert main(argv) == 0
    assert "3/3" in capsys.readouterr().err
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
