"""The CLI's conventions, one test per finding of issues 15 (item 5) and 16 (items 1, 10, exit
codes): --version, help on every option, one flag per concept, errors that name the flag, refused
empty ranges, "did you mean", exit codes CI can trust, no traceback for bad input."""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import photolink
from photolink.cli import build_parser, common, main
from photolink.cli import links as cli_links

ROOT = Path(__file__).resolve().parents[2]


def err_of(capsys, *argv, code=2):
    assert main([str(a) for a in argv]) == code
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return out.err


def leaves(parser, prefix=()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
    for a in subs:
        for name, p in a.choices.items():
            yield from leaves(p, prefix + (name,))


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"photolink {photolink.__version__}"


def test_every_option_has_help_and_a_stated_default():
    for cmd, p in leaves(build_parser()):
        fmt = p._get_formatter()
        for a in p._actions:
            if a.help == argparse.SUPPRESS or isinstance(a, argparse._HelpAction):
                continue
            assert a.help, f"{' '.join(cmd)} {a.option_strings or a.dest}: no help text"
            if a.option_strings and not a.required \
                    and not any(a.default is x for x in (None, False, True, argparse.SUPPRESS)):
                assert "default" in fmt._get_help_string(a), (cmd, a.option_strings)


def test_help_documents_the_exit_codes(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for line in ("0    success", "1    regress check", "2    usage or input error",
                 "4    internal error"):
        assert line in out
    assert main(["compare", "--help"]) == 0
    assert "exit codes" in capsys.readouterr().out


def test_one_flag_name_per_concept():
    """--format is the modulation; threads/processes are --workers; a count of symbols is --symbols."""
    by_cmd = {" ".join(cmd): {s for a in p._actions for s in a.option_strings} for cmd, p in
              leaves(build_parser())}
    assert "--format" not in by_cmd["demo"] and "--image-format" in by_cmd["demo"]
    for cmd in ("ber", "run", "sweep", "regress", "plot waterfall", "plot sweep"):
        assert "--workers" in by_cmd[cmd], cmd
    ber = dict(leaves(build_parser()))[("ber",)]
    hidden = [a for a in ber._actions if "--threads" in a.option_strings]
    assert hidden[0].help == argparse.SUPPRESS and hidden[0].dest == "workers"   # old spelling
    assert "--symbols" in by_cmd["link"] and "--symbols" in by_cmd["ber"]
    assert "--simulate" in by_cmd["link"]
    usage = build_parser().format_help()
    assert "--threads" not in usage


def test_errors_name_the_flag(capsys):
    err = err_of(capsys, "fabric", "cpo-800g", "--gpus", 0, "--links-per-gpu", 3, "--gpu-power-w", 1000)
    assert "argument --gpus: must be an integer in [1," in err
    err = err_of(capsys, "link", "dac-800g", "--length-m", -1)
    assert "argument --length-m" in err
    assert "argument --levels: must be a power of two" in err_of(capsys, "ber", "--levels", 3)
    assert "argument --channel: must be numbers" in err_of(
        capsys, "plot", "histogram", "--channel", "1,2,abc")
    assert "argument --links-per-gpu" in err_of(capsys, "fabric", "zr-400g", "--gpus", 8,
                                                "--links-per-gpu", 0, "--gpu-power-w", 10)
    # the API's own range check, rewritten to the flag
    assert "--length-m must be in [0, 7] m" in err_of(capsys, "link", "dac-800g", "--length-m", 1e6)
    # an error raised by the API is rewritten to the flag
    assert common.flag_for(build_parser()._subparsers._group_actions[0].choices["fabric"],
                           "n_gpus must be an integer", {"n_gpus": "--gpus"}) \
        == "--gpus (n_gpus) must be an integer"


@pytest.mark.parametrize("argv, says", [
    (["ber", "--snr-from", 19, "--snr-to", 12], "--snr-to 12 is below --snr-from 19"),
    (["ber", "--snr-step", 0], "argument --snr-step: must be a number in (0,"),
    (["ber", "--snr-step", -1], "argument --snr-step"),
    (["plot", "waterfall", "--snr-from", 16, "--snr-to", 12], "the range is empty"),
    (["ber", "--snr-from", 0, "--snr-to", 50, "--snr-step", 0.001], "at most 1000"),
])
def test_empty_or_reversed_ranges_are_refused(capsys, argv, says):
    assert says in err_of(capsys, *argv)


@pytest.mark.parametrize("argv, says", [
    (["demoo"], "did you mean 'demo'?"),
    (["compare", "dac-800g", "--lenght-m", 2], "did you mean '--length-m'?"),
    (["link", "dac-800x"], "did you mean 'dac-800g'?"),
    (["plot", "waterfal"], "did you mean 'waterfall'?"),
    (["sweep", "x.toml", "--wokers", 2], "did you mean '--workers'?"),
])
def test_did_you_mean(capsys, argv, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.toml").write_text("")
    err = err_of(capsys, *argv)
    assert says in err
    if "--" in says:                              # the subcommand's usage, not the top level's
        assert f"usage: photolink {argv[0]}" in err


@pytest.mark.slow
def test_link_simulate_explains_its_margin(capsys):
    assert main(["link", "dac-800g", "--length-m", "1.9", "--simulate", "--symbols", "100000"]) == 0
    out = capsys.readouterr().out
    assert "margin" in out and "measured" in out and "effective SNR" in out
    assert "upper 95% bound of the simulated BER" in out
    assert main(["link", "dac-800g"]) == 0
    out = capsys.readouterr().out
    assert "before its pre-FEC BER reaches the FEC threshold" in out


# -- issue 16: hangs and edge cases ---------------------------------------------------------------
@pytest.mark.parametrize("address", ["local:0", "local:-1", "local:x", "nonsense"])
def test_dask_without_workers_is_refused_before_work(capsys, address, tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text('[sweep]\nkind = "ber"\nfixed = {format = "PAM4", n_symbols = 10_000}\n'
                   'grid = {snr_db = [12.0]}\n')
    assert "argument --dask" in err_of(capsys, "sweep", cfg, "--no-store", "--dask", address)


def test_dask_unreachable_scheduler_is_a_usage_error(capsys, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from photolink.cli import ops
    monkeypatch.setattr(ops, "DASK_TIMEOUT_S", 1)
    cfg = tmp_path / "s.toml"
    cfg.write_text('[sweep]\nkind = "ber"\nfixed = {format = "PAM4", n_symbols = 10_000}\n'
                   'grid = {snr_db = [12.0]}\n')
    err = err_of(capsys, "sweep", cfg, "--no-store", "--quiet", "--dask", "tcp://127.0.0.1:1")
    assert "--dask tcp://127.0.0.1:1: no Dask scheduler answered" in err


@pytest.mark.parametrize("n", ["0", "-3", "1.5"])
def test_workers_zero_is_refused_not_replaced(capsys, n, tmp_path):
    (tmp_path / "x.toml").write_text("")
    assert "argument --workers" in err_of(capsys, "sweep", tmp_path / "x.toml", "--workers", n)


def test_outputs_are_checked_before_any_work(capsys, tmp_path):
    assert "directory /nonexistent does not exist" in err_of(
        capsys, "compare", "dac-800g", "--csv", "/nonexistent/x.csv")
    assert "is a directory" in err_of(capsys, "compare", "dac-800g", "--json", tmp_path)
    assert "does not exist" in err_of(capsys, "plot", "bathtub", "--out", tmp_path / "no/dir/x.png")
    assert not (tmp_path / "no").exists()
    assert "must end in .png, .svg or .pdf" in err_of(capsys, "plot", "bathtub", "--out", tmp_path / "x.txt")


def test_config_inputs_are_bounded(capsys, tmp_path):
    assert "not a regular file" in err_of(capsys, "run", "/dev/zero")
    big = tmp_path / "big.toml"
    big.write_text("#" * (common.MAX_CONFIG_BYTES + 1))
    assert "a config is at most" in err_of(capsys, "run", big)
    assert "no such file" in err_of(capsys, "run", tmp_path / "absent.toml")


@pytest.mark.slow
def test_non_utf8_file_name_is_a_clean_error(tmp_path):
    name = os.fsdecode(b"caf\xe9.toml")
    r = subprocess.run([sys.executable, "-m", "photolink", "run", str(tmp_path / name)], cwd=ROOT,
                       capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2 and b"not valid UTF-8" in r.stderr and b"Traceback" not in r.stderr


# -- exit codes ------------------------------------------------------------------------------------
def test_internal_error_has_its_own_code_and_debug_shows_the_traceback(capsys, monkeypatch):
    def broken(args):
        raise KeyError("events")
    parser = build_parser()
    monkeypatch.setattr("photolink.cli.build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["compare"].set_defaults(func=broken)
    assert main(["compare"]) == common.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error: KeyError" in err and "--debug" in err and "Traceback" not in err
    assert main(["--debug", "compare"]) == common.EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err
    assert main(["compare", "--debug"]) == common.EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.slow
def test_exit_codes_through_the_console_script(tmp_path):
    def rc(*argv):
        return subprocess.run([sys.executable, "-m", "photolink", *map(str, argv)], cwd=ROOT,
                              capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert rc("--version").returncode == 0
    r = rc("link", "nope")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = rc("ber", "--snr-step", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr


# -- outputs ---------------------------------------------------------------------------------------
def test_every_table_command_writes_csv_and_json():
    for cmd, p in leaves(build_parser()):
        if cmd[0] in ("plot", "demo"):
            continue                       # figures
        flags = {s for a in p._actions for s in a.option_strings}
        assert {"--csv", "--json"} <= flags, cmd


def test_ber_csv_json_and_warnings_to_stderr(capsys, tmp_path):
    assert main(["ber", "--snr-from", 14, "--snr-to", 15, "--symbols", "1e5", "--quiet",
                 "--csv", tmp_path / "b.csv", "--json", tmp_path / "b.json"]) == 0
    head = (tmp_path / "b.csv").read_text().splitlines()[0].split(",")
    doc = json.loads((tmp_path / "b.json").read_text())
    assert head == list(doc["rows"][0]) and "ber_ci_low" in head and doc["warnings"] == []
    capsys.readouterr()
    assert main(["link", "dac-800g", "--length-m", 3, "--json", tmp_path / "l.json"]) == 0
    out = capsys.readouterr()
    assert "warning: dac-800g: " in out.err and "warning" not in out.out
    doc = json.loads((tmp_path / "l.json").read_text())
    assert doc["warnings"] and doc["warnings"][0]["row"] == "dac-800g"
    assert (tmp_path / "l.json").read_text().endswith("}\n")


def test_fabric_json_ends_with_a_newline(capsys, tmp_path):
    assert main(["fabric", "cpo-800g", "--gpus", 8, "--links-per-gpu", 1, "--gpu-power-w", 700,
                 "--json", "-"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("}\n") and json.loads(out)["rows"][0]["n_gpus"] == 8


def test_link_simulate_keeps_the_presets_precoding_unless_told():
    parse = build_parser().parse_args
    assert parse(["link", "dac-800g", "--simulate"]).precode is None
    assert parse(["link", "dac-800g", "--simulate", "--precode"]).precode is True
    assert parse(["link", "dac-800g", "--simulate", "--no-precode"]).precode is False


def test_compare_prints_an_underflowed_probability_as_a_bound_not_zero():
    assert cli_links._cell(0.0, "frame_loss", "{:.1e}") == "<1e-300"
    assert cli_links._cell(2e-12, "frame_loss", "{:.1e}") == "2.0e-12"
    assert cli_links._cell(0.0, "margin_db", "{:.2f}") == "0.00"


def test_integer_flags_are_exact_up_to_the_largest_seed():
    parse = common.int_in(0, 2**63 - 1)
    assert parse(str(2**63 - 1)) == 2**63 - 1           # a float would round it to 2**63 and refuse it
    assert parse("9007199254740993") == 9007199254740993
    assert parse("1e6") == 1_000_000 and parse("1_000") == 1000
    for bad in ("1.5", "nan", "x", str(2**63)):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)
