"""CSV export: every row out, spreadsheet formulas neutralised (OWASP CSV injection)."""

from __future__ import annotations

import csv
import shutil
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixtures_analysis import IMG_MODEL, SCRIPT_MAKE
from smartcar_logs.export import DEFAULT_TABLES, FORMULA_PREFIXES, export_csv, safe_cell
from smartcar_logs.store import StoreError, open_db


def _read(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("AUDI", "AUDI"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-5, -5),
        (2.5, 2.5),
        (b"=x\xff", "'=x\ufffd"),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


@given(st.text())
def test_safe_cell_never_leaves_a_formula_start(text):
    out = safe_cell(text)
    assert not out.startswith(FORMULA_PREFIXES)
    assert out == text or out == "'" + text


def test_export_writes_every_table(analysis_db, tmp_path):
    paths = export_csv(analysis_db, tmp_path / "out")
    assert [p.name for p in paths] == [f"{t}.csv" for t in DEFAULT_TABLES]
    counts = {p.stem: len(_read(p)) for p in paths}
    assert counts == {"redirects": 27, "launches": 13, "sources": 1, "rejects": 1}
    for p in paths:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600  # VINs and IPs: owner only
        assert p.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel


def test_export_round_trips_hostile_text_and_neutralises_formulas(analysis_db_path, tmp_path):
    copy = tmp_path / "copy.db"
    shutil.copyfile(analysis_db_path, copy)  # the module's database stays untouched
    db = open_db(copy)
    db["redirects"].insert(
        {
            "source_fp": "evil", "line_no": 1, "byte_offset": 1, "outcome": "error",
            "error_code": "vehicle_incompatible", "make": "=cmd|' /C calc'!A0",
            "model": "+SUM(1,2)", "error_description": "-1\n=2, \"quoted\"", "user_agent": "@evil",
            "state": "\tx", "year": -1,
        }
    )  # fmt: skip
    (path,) = export_csv(db, tmp_path, tables=["redirects"])
    db.conn.close()
    rows = _read(path)
    evil = [r for r in rows if r["source_fp"] == "evil"][0]
    assert evil["make"] == "'=cmd|' /C calc'!A0"
    assert evil["model"] == "'+SUM(1,2)"
    assert evil["error_description"] == '\'-1\n=2, "quoted"'
    assert evil["user_agent"] == "'@evil"
    assert evil["state"] == "'\tx"
    assert evil["year"] == "-1"  # a number stays a number
    html_row = [r for r in rows if r["make"] == SCRIPT_MAKE][0]
    assert html_row["model"] == IMG_MODEL  # not a formula: unchanged
    for row in rows:
        for value in row.values():
            assert not value.startswith(FORMULA_PREFIXES) or value.lstrip("-").isdigit()


def test_reject_raw_line_is_neutralised(analysis_db, tmp_path):
    (path,) = export_csv(analysis_db, tmp_path, tables=("rejects",))
    assert _read(path)[0]["raw"] == '\'=HYPERLINK("http://evil")'


def test_unknown_table_and_missing_db(analysis_db, tmp_path):
    with pytest.raises(ValueError, match="no such table: nope"):
        export_csv(analysis_db, tmp_path, tables=("redirects", "nope"))
    assert not (tmp_path / "redirects.csv").exists()
    with pytest.raises(StoreError):
        export_csv(tmp_path / "missing.db", tmp_path)


def test_export_from_a_path(analysis_db_path, tmp_path):
    (path,) = export_csv(str(analysis_db_path), tmp_path / "a" / "b", tables=["launches"])
    assert path == tmp_path / "a" / "b" / "launches.csv"
    assert len(_read(path)) == 13
