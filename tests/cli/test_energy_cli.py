"""The CLI states the energy convention (per port, one end; a link draws two ports) and simulates
coherent links with or without laser phase noise."""
from photolink.cli import main
from photolink.links import energy


def test_the_cli_says_per_port_and_two_ports_per_link(capsys):
    assert main(["compare", "dac-800g", "cpo-800g"]) == 0
    out = capsys.readouterr().out
    assert energy.ENERGY_CONVENTION in out
    assert main(["fabric", "cpo-800g", "--gpus", "8", "--links-per-gpu", "1", "--gpu-power-w", "700"]) == 0
    assert "two per link, one at each end" in capsys.readouterr().out
    assert main(["link", "zr-400g"]) == 0
    assert "W per port (one end; the link draws two ports)" in capsys.readouterr().out


def test_the_cli_simulates_a_coherent_link_with_or_without_phase_noise(capsys):
    assert main(["link", "zr-400g", "--simulate", "--symbols", "20000"]) == 0
    assert "0 cycle slips" in capsys.readouterr().out
    assert main(["link", "zr-400g", "--simulate", "--symbols", "20000", "--ideal-carrier"]) == 0
    assert "ideal carrier" in capsys.readouterr().out
