"""Studies: jobs (named kinds of run), sweeps over grids, the result store, TOML configs,
regression baselines and the demo comparison.
"""
