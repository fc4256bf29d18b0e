"""Settings that stick (importer/settings.py), through the command a user types.

Each repro of issue 22 ends with the data imported: launches appear when ``--launch-path`` is
added later, the ``/sc/cb`` redirects appear when the hint's own command is run, the
``--format alb`` mistake is undone by running without ``--format``, and a run that forgets a
flag changes nothing. The state-over-time version of these is the lifecycle model
(tests/test_lifecycle.py: "change a setting", "forget a flag").
"""

from __future__ import annotations

import json
import re
import shlex
import sqlite3

from click.testing import CliRunner

from logs import CB, LAUNCH, UID, clf, write
from smartcar_logs.cli import cli
from smartcar_logs.importer import import_paths, plan_inputs
from smartcar_logs.importer.settings import load
from smartcar_logs.store import open_db

EVIDENCE = clf(f"{CB}?error=vehicle_incompatible&error_description=x&state=e1&make=TESLA&model=S&year=2020")
LOG = (
    clf(f"{LAUNCH}?state=s1")
    + clf(f"{CB}?code=abc&state=s1&user_id={UID}")
    + EVIDENCE
    + clf("/sc/cb?code=c1&state=s2")
    + clf("/sc/cb?code=c2&state=s3")
    + clf("/page", status=200)
)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def rows(db, sql: str) -> list:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def count(db, table: str) -> int:
    return rows(db, f"SELECT count(*) FROM {table}")[0][0]


def test_a_launch_path_added_later_applies_to_what_was_imported(tmp_path):
    log, db = write(tmp_path, "access.log", LOG), tmp_path / "mine.db"
    assert run("import", "--db", db, log).exit_code == 0
    assert count(db, "launches") == 0
    r = run("import", "--db", db, "--launch-path", LAUNCH, log)
    assert r.exit_code == 0, r.output
    assert "up to date" not in r.stdout and "re-read from the start" in r.stdout
    assert f"settings: launch paths: added {LAUNCH}" in r.stderr
    assert rows(db, "SELECT state FROM launches") == [("s1",)]
    # Nothing doubled, and the funnel sees the launch.
    assert count(db, "redirects") == 2
    assert rows(db, "SELECT launch_lines FROM attempts WHERE state = 's1'") == [(1,)]
    (reread,) = rows(db, "SELECT sum(reread) FROM imports")[0]
    assert reread == 6  # the lines read again, so the imports still add up to the sources


def test_settings_flags_without_files_reread_what_was_imported(tmp_path):
    log, db = write(tmp_path, "access.log", LOG), tmp_path / "mine.db"
    run("import", "--db", db, log)
    r = run("import", "--db", db, "--launch-path", LAUNCH)  # no FILES
    assert r.exit_code == 0, r.output
    assert count(db, "launches") == 1
    again = run("import", "--db", db)
    assert again.exit_code == 0 and "nothing to re-read" in again.stderr


def test_the_redirect_path_hint_names_the_command_that_applies_it(tmp_path):
    log, db = write(tmp_path, "access.log", LOG), tmp_path / "mine.db"
    first = run("import", "--db", db, log)
    assert count(db, "redirects") == 2  # the /sc/cb lines have no Smartcar evidence
    hint = re.search(r"smartcar-logs (import [^\n]*--redirect-path /sc/cb)", first.stdout)
    assert hint, first.stdout
    r = run(*shlex.split(hint.group(1)))  # the very command the hint names
    assert r.exit_code == 0, r.output
    got = sorted(rows(db, "SELECT path, state FROM redirects"))
    # The path evidence confirmed is kept beside the one added (explicit paths end detection).
    assert got == [("/sc/cb", "s2"), ("/sc/cb", "s3"), (CB, "e1"), (CB, "s1")]
    assert "confirmed by evidence kept" in r.stderr
    assert load(open_db(db).conn).redirect_paths == ("/sc/cb", CB)


def test_the_format_alb_mistake_is_undone_by_running_without_it(tmp_path):
    log, db = write(tmp_path, "access.log", LOG), tmp_path / "mine.db"
    wrong = run("import", "--db", db, "--format", "alb", log)
    assert "drop --format" in wrong.stderr and "not kept as a setting" in wrong.stderr
    assert count(db, "redirects") == 0
    r = run("import", "--db", db, log)
    assert r.exit_code == 0 and "re-read from the start" in r.stdout
    assert count(db, "redirects") == 2 and count(db, "rejects") == 0
    assert json.loads(run("settings", "--db", db, "--json").stdout)["settings"]["format"] == "auto"


def test_a_contradicted_format_never_replaces_rows_that_fitted(tmp_path):
    log, db = write(tmp_path, "access.log", LOG), tmp_path / "mine.db"
    run("import", "--db", db, log)
    r = run("import", "--db", db, "--format", "alb", log)
    assert "not re-read: --format alb does not fit it" in r.stderr
    assert count(db, "redirects") == 2 and count(db, "rejects") == 0
    assert load(open_db(db).conn).format == "auto"


def test_a_run_that_forgets_a_flag_changes_nothing(tmp_path):
    db = tmp_path / "mine.db"
    log = write(tmp_path, "access.log", LOG)
    run(
        "import", "--db", db, "--launch-path", LAUNCH, "--redirect-path", CB, "--redirect-path", "/sc/cb", log
    )
    before = count(db, "redirects"), count(db, "launches")
    with open(log, "ab") as f:  # cron: the log grew; the line forgets every flag
        f.write(clf(f"{LAUNCH}?state=s9") + clf("/sc/cb?code=c9&state=s9"))
    r = run("import", "--db", db, log)
    assert r.exit_code == 0 and "settings:" not in r.stderr and "re-read" not in r.stdout
    assert (count(db, "redirects"), count(db, "launches")) == (before[0] + 1, before[1] + 1)


def test_removing_takes_an_explicit_option(tmp_path):
    log, db = write(tmp_path, "access.log", LOG), tmp_path / "mine.db"
    run("import", "--db", db, "--launch-path", LAUNCH, log)
    r = run("import", "--db", db, "--no-launch-path", LAUNCH)
    assert f"launch paths: removed {LAUNCH}" in r.stderr
    assert count(db, "launches") == 0 and count(db, "attempts WHERE launch_lines > 0") == 0
    run("import", "--db", db, "--launch-path", LAUNCH)
    r = run("import", "--db", db, "--reset-settings")
    assert "reset" in r.stderr and count(db, "launches") == 0
    shown = json.loads(run("settings", "--db", db, "--json").stdout)
    assert shown["settings"]["launch_paths"] == [] and shown["stored"] is True


def test_an_input_that_cannot_be_reread_keeps_its_rows_and_says_so(tmp_path):
    db = tmp_path / "mine.db"
    gone = write(tmp_path, "access.log.1", LOG)
    here = write(tmp_path, "other.log", clf(f"{LAUNCH}?state=o1"))
    run("import", "--db", db, gone, here)
    (tmp_path / "access.log.1").unlink()  # rotated away
    r = run("import", "--db", db, "--json", "--launch-path", LAUNCH)
    out = json.loads(r.stdout)
    assert [f["path"] for f in out["files"]] == [str(tmp_path / "other.log")] and out["reread"]
    assert out["not_reread"] == [{"path": str(tmp_path / "access.log.1"), "why": out["not_reread"][0]["why"]}]
    assert "rotated away" in out["not_reread"][0]["why"]
    assert "could not be re-read and keep their rows" in r.stderr
    assert rows(db, "SELECT state FROM launches") == [("o1",)]
    assert count(db, "redirects") == 2  # kept as they were


def test_a_database_from_before_settings_takes_its_last_run_as_them(tmp_path):
    log, db = write(tmp_path, "access.log", LOG), tmp_path / "mine.db"
    run("import", "--db", db, log)
    conn = sqlite3.connect(db)
    with conn:  # as an older version left it: no settings, sources unmarked
        conn.execute("DELETE FROM settings")
        conn.execute("UPDATE sources SET settings = NULL")
    conn.close()
    r = run("import", "--db", db, "--launch-path", LAUNCH, log)
    assert "re-read from the start" in r.stdout and count(db, "launches") == 1


def test_settings_command_prints_them(tmp_path):
    log, db = write(tmp_path, "access.log", LOG), tmp_path / "mine.db"
    run("import", "--db", db, "--launch-path", LAUNCH, "--redact", "vin=hash", log)
    out = run("settings", "--db", db).stdout
    assert f"launch paths:   {LAUNCH}" in out and "vin=hash" in out and f"confirmed by evidence: {CB}" in out
    assert run("settings", "--db", tmp_path / "none.db").exit_code == 1


def test_the_library_reports_the_planned_bytes_and_the_json(tmp_path):
    a, b = write(tmp_path, "a.log", LOG), write(tmp_path, "b.log", clf("/x", status=200))
    plan = plan_inputs([str(tmp_path)])
    assert plan.paths == (a, b) and plan.total_bytes == len(LOG) + len(clf("/x", status=200))
    totals = []
    res = import_paths(open_db(tmp_path / "x.db"), plan, on_total=totals.append, jobs=1)
    assert totals == [plan.total_bytes]
    out = res.to_json("x.db")
    assert out["db"] == "x.db" and out["inserted"] == 2 and len(out["files"]) == 2
    assert out["settings"]["format"] == "auto" and out["reread"] == [] and out["not_reread"] == []


def test_a_rereading_run_imports_nothing_new(tmp_path):
    log, db = write(tmp_path, "access.log", LOG), tmp_path / "mine.db"
    run("import", "--db", db, log)
    write(tmp_path, "access.log", clf(f"{LAUNCH}?state=new"))  # truncated and rewritten since
    out = json.loads(run("import", "--db", db, "--json", "--launch-path", LAUNCH).stdout)
    assert [f["status"] for f in out["files"]] == ["not re-read"]
    assert "no longer matches what was imported" in out["not_reread"][0]["why"]
    assert count(db, "launches") == 0 and count(db, "redirects") == 2  # kept; nothing new read
    r = run("import", "--db", db, log)  # named: the new content is imported as usual
    assert r.exit_code == 0 and rows(db, "SELECT state FROM launches") == [("new",)]


def test_a_reread_killed_before_its_refresh_leaves_readers_reading_and_the_next_import_rebuilds(tmp_path):
    """A re-read deletes rows and asks for a whole rebuild in the same transaction. If the run
    dies before its end-of-run refresh, a reader's open neither rebuilds (that would take the
    write lock from an import) nor hides the lag; the next import (or refresh=True) rebuilds.
    Found by `make soak`: a reader's open rebuilt the tables after a killed re-read."""
    from helpers_derived import derived_tables, rebuilt_tables
    from smartcar_logs.store import mark_derived_stale, pending_files

    log = write(tmp_path, "access.log", LOG)
    db_path = tmp_path / "x.db"
    db = open_db(db_path)
    import_paths(db, [log])
    before = derived_tables(db.conn)
    with db.conn:  # what the re-read's own transaction writes, the run then killed
        db.conn.execute("DELETE FROM redirects WHERE path = '/smartcar/callback'")
        mark_derived_stale(db.conn)
    db.conn.close()
    reader = open_db(db_path)
    assert pending_files(reader.conn) == 1  # summary, check, notebooks say the tables lag
    assert derived_tables(reader.conn) == before  # and nothing was written
    reader.conn.close()
    db = open_db(db_path, refresh=True)
    assert pending_files(db.conn) == 0
    assert derived_tables(db.conn) == rebuilt_tables(db.conn) != before
