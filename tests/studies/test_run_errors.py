"""Issue 16, item 9: an error raised while a config's case runs names the config file and the
entry's key (not only the API parameter)."""
import pytest

from photolink.cli import main
from photolink.studies import config, jobs, regress
from photolink.studies.config import ConfigError
from photolink.studies.sweeps import CaseFailed

TEXT = ('seed = 3\n[ber.good]\nformat = "PAM4"\nsnr_db = 14.0\nn_symbols = 3000\n'
        '[ber.bad]\nformat = "NRZ"\nsnr_db = 8.0\nn_symbols = 3000\n'
        '[sweep]\nkind = "ber"\nname = "wf"\nfixed = { format = "NRZ", n_symbols = 3000 }\n'
        'grid = { snr_db = [7.0, 8.0] }\n')


@pytest.fixture
def failing(monkeypatch):
    """NRZ at 8 dB fails at run time (as a check only the API can make would)."""
    state = {"error": ValueError("snr_db 8.0 is refused by the run")}

    def run_chunk(self, s, ss, chunk, _orig=jobs.BerKind.run_chunk):
        if s["format"] == "PAM2" and s["snr_db"] == 8.0:
            raise state["error"]
        return _orig(self, s, ss, chunk)
    monkeypatch.setattr(jobs.BerKind, "run_chunk", run_chunk)
    return state


def test_run_cases_names_file_and_entry(tmp_path, failing):
    p = tmp_path / "c.toml"
    p.write_text(TEXT)
    cfg = config.load(p)
    with pytest.raises(ConfigError, match=r"c\.toml: ber\.bad: while running: ValueError: snr_db 8.0") as e:
        config.run_cases(cfg, "ber", cfg.entries, seed=1, store=None, workers=1, progress=False)
    assert e.value.key == "ber.bad" and e.value.path == p
    with pytest.raises(ConfigError, match=r"c\.toml: sweep \(case 'wf\[snr_db=8\]'\): while running"):
        config.run_cases(cfg, "ber", cfg.sweep.cases, seed=1, store=None, workers=1, progress=False)
    failing["error"] = RuntimeError("a bug")                 # not bad input: still names file and key
    with pytest.raises(CaseFailed, match=r"c\.toml: ber\.bad: while running: RuntimeError: a bug"):
        config.run_cases(cfg, "ber", cfg.entries, seed=1, store=None, workers=1, progress=False)


def test_regress_and_cli_name_file_and_entry(tmp_path, failing, capsys):
    p = tmp_path / "c.toml"
    p.write_text(TEXT)
    with pytest.raises(ConfigError, match=r"c\.toml: ber\.bad: while running"):
        regress.record(p, tmp_path / "b.json", progress=False)
    assert main(["run", str(p), "--workers", "1", "--no-store"]) == 2
    err = capsys.readouterr().err
    assert f"{p}: ber.bad: while running: ValueError: snr_db 8.0" in err and "Traceback" not in err
    assert main(["sweep", str(p), "--workers", "1", "--no-store"]) == 2
    assert f"{p}: sweep (case 'wf[snr_db=8]')" in capsys.readouterr().err
