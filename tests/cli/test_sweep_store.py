"""Issue 15, item 8 through the CLI: the sweep's store is passed explicitly (the config's, else
CONFIG.sqlite next to the working directory) and printed; --no-store writes nothing."""
from photolink.cli import main

CONFIG = ('[sweep]\nkind = "ber"\nfixed = { format = "PAM4", n_symbols = 2000 }\n'
          'grid = { snr_db = [14.0] }\n')


def test_cli_names_the_store_it_writes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wf.toml").write_text(CONFIG)
    assert main(["sweep", "wf.toml", "--workers", "1", "--no-store"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wf.toml"]
    assert "in memory" in capsys.readouterr().out
    assert main(["sweep", "wf.toml", "--workers", "1"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wf.sqlite", "wf.toml"]
    assert str(tmp_path / "wf.sqlite") in capsys.readouterr().out
