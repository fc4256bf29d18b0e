"""One owner per table layout: the row tuples the importer builds match store's declarations.

A silent wrong-column bug (two tuples drifting apart) would store a VIN as a make or a
state as a user agent; these tests put a distinct value in every column and read it back
by name.
"""

from __future__ import annotations

import json
import sqlite3

from smartcar_logs import privacy
from smartcar_logs.formats import LogEntry, get_format
from smartcar_logs.importer.scan import _parse_line, _ParseContext, _row
from smartcar_logs.redirect import FIELDS, normalize
from smartcar_logs.store import _SCHEMA, LAUNCHES, REDIRECT_COLUMNS, REDIRECTS, REJECTS, SETTINGS, SOURCES

VIN = "5YJ3E1EA7KF317000"
TARGET = (
    b"/smartcar/callback?error=vehicle_incompatible&error_description=Nope&state=st-1"
    b"&vin=" + VIN.encode() + b"&make=TESLA&model=Model%203&year=2019&foo=bar%ZZ"
)


def _ctx(**kw) -> _ParseContext:
    base = dict(
        fmt=get_format("combined"),
        fp="fp-1",
        import_id=7,
        label="a.log",
        explicit=False,
        redirect_paths=frozenset(),
        launch_paths=frozenset({"/connect/smartcar"}),
        confirmed={"/smartcar/callback"},
        redaction=privacy.Redaction(),
    )
    base.update(kw)
    return _ParseContext(**base)


def test_schema_columns_are_the_declared_ones():
    conn = sqlite3.connect(":memory:")
    conn.executescript(_SCHEMA)
    for t in (REDIRECTS, LAUNCHES, REJECTS, SOURCES, SETTINGS):
        cols = tuple(r[1] for r in conn.execute(f"PRAGMA table_info({t.name})"))
        assert cols == (("id",) if t.rowid else ()) + t.names
    assert REDIRECT_COLUMNS == REDIRECTS.names
    # Every stored record field has its column (evidence only decides, path comes from the URL).
    assert set(FIELDS) - {"evidence"} <= set(REDIRECT_COLUMNS)


def test_redirect_row_is_in_column_order():
    rec = normalize(TARGET)
    assert rec["vin"] == VIN and rec["extras"] and rec["flags"]  # the row exercises every kind
    entry = LogEntry(
        target=TARGET,
        ts="2026-10-01T07:00:01+00:00",
        method="GET",
        status=302,
        client_ip="203.0.113.9",
        user_agent="UA/1",
    )
    row = _row(_ctx(), rec, entry, "/smartcar/callback", 1234, 56)
    assert len(row) == len(REDIRECT_COLUMNS)
    got = dict(zip(REDIRECT_COLUMNS, row))
    assert (got["source_fp"], got["line_no"], got["byte_offset"], got["import_id"]) == ("fp-1", 56, 1234, 7)
    assert (
        got["ts"],
        got["method"],
        got["path"],
        got["http_status"],
        got["client_ip"],
        got["user_agent"],
    ) == (entry.ts, "GET", "/smartcar/callback", 302, "203.0.113.9", "UA/1")
    for f in FIELDS:
        if f in ("path", "evidence"):
            continue
        want = rec[f]
        if f == "flags":
            want = json.dumps(want)
        elif f == "extras":
            want = json.dumps(want, ensure_ascii=False)
        elif isinstance(want, bool):
            want = int(want)
        assert got[f] == want, f


def test_launch_and_reject_rows_are_in_column_order():
    ctx = _ctx()
    line = (
        b'203.0.113.9 - - [01/Oct/2026:09:00:01 +0200] "GET /connect/smartcar?state=st-9 HTTP/1.1"'
        b' 302 0 "-" "UA/2"'
    )
    kind, row, ts = _parse_line(ctx, line, 99, 3)
    assert kind == "L" and len(row) == len(LAUNCHES.names)
    got = dict(zip(LAUNCHES.names, row))
    assert got == {
        "source_fp": "fp-1",
        "line_no": 3,
        "byte_offset": 99,
        "import_id": 7,
        "ts": ts,
        "method": "GET",
        "path": "/connect/smartcar",
        "http_status": 302,
        "client_ip": "203.0.113.9",
        "user_agent": "UA/2",
        "state": "st-9",
    }
    kind, row = _parse_line(ctx, b"garbage user_id=1 code=secretcode", 5, 4)
    assert kind == "X" and len(row) == len(REJECTS.names)
    got = dict(zip(REJECTS.names, row))
    assert (got["source_fp"], got["path"], got["line_no"], got["byte_offset"], got["import_id"]) == (
        "fp-1",
        "a.log",
        4,
        5,
        7,
    )
    assert got["reason"] and "secretcode" not in got["raw"] and "garbage" in got["raw"]


def test_privacy_takes_positions_by_name():
    red = privacy.Redaction({"state": "drop", "vin": "drop", "user_agent": "drop"}, salt="s")
    launch = tuple(f"v{i}" for i in range(len(LAUNCHES.names)))
    got = dict(zip(LAUNCHES.names, red.launch_row(launch)))
    assert (
        got["state"] is None
        and got["user_agent"] is None
        and got["method"] == launch[LAUNCHES.index("method")]
    )
    reject = ("fp", "a.log", 1, 0, 7, "bad ?code=abc", "raw ?code=abc")
    got = dict(zip(REJECTS.names, red.reject_row(reject)))
    assert got["raw"] is None  # an active policy never keeps raw text
    assert "abc" not in got["reason"] and got["path"] == "a.log"


def test_retired_indexes_are_dropped_from_older_databases(tmp_path):
    from smartcar_logs.store import RETIRED_INDEXES, open_db

    def indexes(db) -> set[str]:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()}

    path = tmp_path / "old.db"
    db = open_db(path)
    assert not indexes(db) & set(RETIRED_INDEXES)  # a new database never has them
    db.execute("CREATE INDEX redirects_error_code ON redirects (error_code)")
    db.execute("CREATE INDEX redirects_make ON redirects (make)")
    db.conn.commit()
    db.conn.close()
    again = open_db(path)
    assert not indexes(again) & set(RETIRED_INDEXES)
    assert {"redirects_ts", "redirects_state"} <= indexes(again)


def test_docs_schema_lists_every_table_and_view_with_its_columns():
    """docs/schema.md is the schema's one page (issue 23): generated from descriptions.py and
    holding every table and view a fresh database has, each with all its columns."""
    import re
    from pathlib import Path

    from smartcar_logs.descriptions import schema_markdown
    from smartcar_logs.store import open_db

    db = open_db()
    page = (Path(__file__).resolve().parent.parent / "docs" / "schema.md").read_text(encoding="utf-8")
    sections = {
        m.group(1): m.group(2) for m in re.finditer(r"^## (\w+)\n(.*?)(?=^## |\Z)", page, re.S | re.M)
    }
    names = db.table_names() + db.view_names()
    assert set(sections) == set(names)
    for name in names:
        listed = re.findall(r"^\| `(\w+)` \| (.+) \|$", sections[name], re.M)
        assert [c for c, _ in listed] == [c.name for c in db[name].columns], name
        assert all(text.strip() for _, text in listed)
    assert set(db.view_names()) >= {"daily_outcomes", "daily_rates", "weekly_rates", "daily_funnel"}
    assert page == schema_markdown(db.conn), (
        "regenerate: python -m smartcar_logs.descriptions > docs/schema.md"
    )


def test_readme_schema_section_lists_every_table_and_view():
    """The README's database section is the one place a user sees every table and view with its
    columns (issue 23): generated by descriptions.schema_overview from a fresh database."""
    from pathlib import Path

    from smartcar_logs.descriptions import schema_overview
    from smartcar_logs.store import open_db

    db = open_db()
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("tests/test_layout.py checks it -->\n", 1)[1].split("<!-- /schema -->", 1)[0]
    for name in db.table_names() + db.view_names():
        row = next(line for line in block.splitlines() if line.startswith(f"| `{name}`"))
        assert row.split(" | ")[-1].rstrip(" |").split(", ") == [c.name for c in db[name].columns], name
    assert block == schema_overview(db.conn), "regenerate the README block with descriptions.schema_overview"
