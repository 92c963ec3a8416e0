"""Regenerate the Touchstone files in this folder (python tests/data/make_channels.py).

A 0.3 m differential channel with connector discontinuities and a via stub, and one far-end
crosstalk aggressor, built with skrf.media by :func:`photolink.symbols.pulse.synthetic_network`.
"""
import pathlib

from photolink.symbols.pulse import synthetic_network

HERE = pathlib.Path(__file__).resolve().parent

if __name__ == "__main__":
    synthetic_network(0.3, n_points=500, name="via_stub_thru").write_touchstone(
        str(HERE / "via_stub_thru"), form="ri")
    synthetic_network(0.3, n_points=500, coupling=0.1, name="via_stub_fext").write_touchstone(
        str(HERE / "via_stub_fext"), form="ri")
