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
