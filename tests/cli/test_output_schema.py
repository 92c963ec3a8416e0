"""One output schema (issue 15, item 4): CSV columns, JSON rows, to_dict() and to_dataframe()
use the same snake_case names with units; CSV cells hold no JSON; nested data has its own table."""
import csv
import io
import json
import re

import pytest

import photolink as pl
from photolink import links
from photolink._util import tables
from photolink.cli import main


def keys(rows):
    return list(dict.fromkeys(k for r in rows for k in r))


NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_.-]+)*$")     # key, or parent.child of a mapping


def no_blobs(path):
    for row in csv.reader(open(path)):
        for cell in row:
            assert not cell.startswith(("[", "{")), (path, cell)


def test_tidy_rules():
    rows, t = tables.tidy_rows([{"name": "a", "x_ci": [1.0, 2.0], "e": {"p": 1.0, "q": 2.0},
                                 "segments": [{"name": "s", "ber": 1e-3}], "taps": [0.1, 1.0],
                                 "warnings": ["w"], "n": None}])
    assert rows == [{"name": "a", "x_ci_low": 1.0, "x_ci_high": 2.0, "e.p": 1.0, "e.q": 2.0,
                     "taps.0": 0.1, "taps.1": 1.0, "n": None}]
    assert t == {"segments": [{"row": "a", "index": 0, "name": "s", "ber": 1e-3}],
                 "warnings": [{"row": "a", "message": "w"}]}
    assert tables.finite({"a": float("inf"), "b": [float("nan")]}) == {"a": "inf", "b": ["nan"]}


def test_compare_csv_json_and_to_dict_share_one_schema(tmp_path, capsys):
    # at 2.5 m the copper link is past its rated reach and below the 3 dB COM pass mark: warnings
    assert main(["compare", "dac-800g", "lpo-800g", "--length-m", "2.5", "--quiet",
                 "--csv", str(tmp_path / "c.csv"), "--json", str(tmp_path / "c.json")]) == 0
    header = next(csv.reader(open(tmp_path / "c.csv")))
    doc = json.loads((tmp_path / "c.json").read_text())
    expected, _ = tables.tidy_rows([links.preset(n).with_length(2.5).evaluate().to_dict()
                                         for n in ("dac-800g", "lpo-800g")])
    assert header == keys(doc["rows"]) == keys(expected)
    for k in ("energy_pj_per_bit", "power_w", "pre_fec_ber", "margin_db", "latency_ns", "reach_m"):
        assert k in header
    assert all(NAME.match(k) for k in header), [k for k in header if not NAME.match(k)]
    no_blobs(tmp_path / "c.csv")
    seg = list(csv.DictReader(open(tmp_path / "c.segments.csv")))
    assert {r["row"] for r in seg} == {"dac-800g", "lpo-800g"} and doc["segments"]
    assert doc["warnings"] and all({"row", "message"} == set(w) for w in doc["warnings"])
    assert "warning: dac-800g" in capsys.readouterr().err


def test_sweep_to_csv_json_dataframe_share_one_schema(tmp_path):
    res = pl.sweep("link", cases=[{"preset": "dac-800g"}, {"preset": "dr4-800g"}], seed=1,
                   store=None, workers=1, progress=False)
    text = res.to_csv(tmp_path / "s.csv")
    header = next(csv.reader(io.StringIO(text)))
    doc = json.loads(res.to_json(tmp_path / "s.json"))
    rows, _ = res.tidy()
    assert header == keys(doc["rows"]) == keys(rows) == keys(tables.tidy(r) for r in res.to_dict()["rows"])
    assert "segments" not in header and "energy_breakdown_pj_per_bit.host_serdes" in header
    no_blobs(tmp_path / "s.csv")
    assert (tmp_path / "s.segments.csv").exists() and doc["segments"]
    assert isinstance(doc["warnings"], list)
    pd = pytest.importorskip("pandas")
    df = res.to_dataframe()
    assert list(df.columns) == header
    assert isinstance(df, pd.DataFrame)


def test_every_json_output_ends_with_a_newline_and_has_warnings(tmp_path, capsys):
    for argv in (["fabric", "cpo-800g", "--gpus", "8", "--links-per-gpu", "1", "--gpu-power-w", "700"],
                 ["link", "cpo-800g"],
                 ["ber", "--snr-from", "14", "--snr-to", "14", "--symbols", "1000"]):
        out = tmp_path / f"{argv[0]}.json"
        assert main([*argv, "--json", str(out), "--csv", str(tmp_path / f"{argv[0]}.csv")]) == 0
        text = out.read_text()
        assert text.endswith("\n") and "warnings" in json.loads(text)
        no_blobs(tmp_path / f"{argv[0]}.csv")
    capsys.readouterr()


def test_csv_to_stdout_keeps_the_warnings_on_stderr(capsys):
    assert main(["link", "dac-800g", "--length-m", "3", "--csv", "-"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("name,") and "warning: dac-800g" in out.err
