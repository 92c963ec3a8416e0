"""docs/references.md is the project's table of sourced figures, and every citation resolves.

A citation is a row id after ``ref:``, in square brackets (see the top of docs/references.md).
This test parses the table, then checks every citation in the package, the tests and the README,
and that each preset's ``source`` cites at least one row. (This file spells the opening of a
citation as ``OPEN`` so that its own code is not taken for one.)
"""
import pathlib
import re

from photolink import fec
from photolink.links import catalog

ROOT = pathlib.Path(__file__).resolve().parent.parent
REFERENCES = ROOT / "docs" / "references.md"
PACKAGE = ROOT / "photolink"
MARKS = {"S", "D", "P", "E"}
#: A citation: anything between OPEN and the next closing bracket, so that a malformed id is caught too.
OPEN = "[" + "ref:"
CITATION = re.compile(re.escape(OPEN) + r"([^\]\n]*)\]")
#: A table row whose first cell is a row id in backticks.
ROW = re.compile(r"^\|\s*`([^`]*)`\s*\|(.*)\|\s*$")
ROW_ID = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")
#: Text files of the package that may cite rows (compiled extensions and generated C are skipped).
TEXT_SUFFIXES = {".py", ".pyx", ".pyi", ".pxd", ".toml", ".md", ".txt"}


def parse_rows(text: str) -> list[dict]:
    """The rows of docs/references.md that start with a backticked id, with their cells."""
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = ROW.match(line)
        if m:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", m.group(2))]
            rows.append({"id": m.group(1), "cells": cells, "line": lineno})
    return rows


def row_ids() -> set[str]:
    return {r["id"] for r in parse_rows(REFERENCES.read_text(encoding="utf-8"))}


def cited_files() -> list[pathlib.Path]:
    files = sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    files += sorted(p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix in {".pyx", ".pyi", ".pxd", ".toml"})
    return files + [ROOT / "README.md"]


def citations(path: pathlib.Path) -> list[tuple[int, str]]:
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        out.extend((lineno, m.group(1)) for m in CITATION.finditer(line))
    return out


def test_rows_are_well_formed_and_unique():
    rows = parse_rows(REFERENCES.read_text(encoding="utf-8"))
    assert len(rows) >= 50
    seen = {}
    for r in rows:
        where = f"docs/references.md:{r['line']} ({r['id']})"
        assert ROW_ID.fullmatch(r["id"]), f"{where}: row id must be kebab-case"
        assert r["id"] not in seen, f"{where}: duplicate of line {seen[r['id']]}"
        seen[r["id"]] = r["line"]
        assert len(r["cells"]) == 4, f"{where}: expected id | quantity | value | source | mark"
        quantity, value, source, mark = r["cells"]
        assert quantity and value, f"{where}: empty quantity or value"
        assert source, f"{where}: no source"
        assert mark.split(" ", 1)[0] in MARKS, f"{where}: mark {mark!r} is not one of {sorted(MARKS)}"


def test_sections_cover_the_groups():
    headings = re.findall(r"^## (.+)$", REFERENCES.read_text(encoding="utf-8"), flags=re.M)
    for group in ("Closed forms", "FEC", "Energy and power", "Reach", "Latency", "Channel", "Coherent",
                  "photolink's own estimates"):
        assert group in headings


def test_every_citation_names_an_existing_row():
    ids = row_ids()
    missing = [f"{p.relative_to(ROOT)}:{lineno}: {OPEN}{rid}]"
               for p in cited_files() for lineno, rid in citations(p) if rid not in ids]
    assert not missing, "citations of rows that docs/references.md does not have:\n" + "\n".join(missing)


def test_the_package_cites_rows():
    assert sum(len(citations(p)) for p in cited_files()) >= 50


def test_no_mention_of_the_external_reference_file():
    files = [p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
             and not p.name.endswith(".c")]
    files.append(ROOT / "README.md")
    stale = [str(p.relative_to(ROOT)) for p in files if "REFERENCE.md" in p.read_text(encoding="utf-8")]
    assert not stale, f"files still citing REFERENCE.md (outside the repository): {stale}"


def _sourced_objects():
    """Every preset with a ``source``: the catalogue's links, their parts and media, and the FEC codes."""
    found = {}
    for name, link in catalog.PRESETS.items():
        found[f"link {name}"] = link
        for part in link.parts:
            found[f"link {name}, part {part.name}"] = part
    for name, obj in vars(catalog).items():
        if not name.startswith("_") and not isinstance(obj, type) and isinstance(getattr(obj, "source", None), str):
            found[f"catalog.{name}"] = obj
    for name in ("KR4", "KP4", "RS272", "KP4_INNER_HAMMING", "KP4_INNER_CHASE", "CFEC_400ZR", "OFEC"):
        found[f"fec.{name}"] = getattr(fec, name)
    return found


def test_every_preset_source_cites_a_row():
    objects = _sourced_objects()
    assert any(k.startswith("link ") for k in objects), "no link preset found"
    ids = row_ids()
    bad = []
    for what, obj in objects.items():
        cited = CITATION.findall(obj.source)
        if not cited:
            bad.append(f"{what}: no citation in {obj.source!r}")
        bad.extend(f"{what}: {OPEN}{rid}] is not a row" for rid in cited if rid not in ids)
    assert not bad, "\n".join(bad)
