"""The bad-input matrix and injection: every hostile input has one clear, asserted outcome.

Each case either imports what can be imported and says what was rejected and why, or stops
with a one-line message naming the file; never a traceback, never a half-written file.
"""

from __future__ import annotations

import builtins
import gzip
import json
import os
import random
import sqlite3
import subprocess
import sys
import time

import pytest

import smartcar_logs.store as store
from helpers_hostile import GOOD, cli_subprocess, count, one_line_error, rows, run, unprivileged_prefix
from logs import CB, UID, clf, write
from smartcar_logs.importer import discovery, inputs
from smartcar_logs.store import open_db


def imported(tmp_path, name: str, data: bytes, *extra: str):
    """Import one file through the CLI with --json; return (result, json output)."""
    log = write(tmp_path, name, data)
    r = run("import", "--db", tmp_path / "x.db", "--json", *extra, log)
    return r, json.loads(r.stdout)


def stored(
    tmp_path, sql: str = "SELECT state, user_id, client_ip, user_agent FROM redirects ORDER BY byte_offset"
):
    conn = sqlite3.connect(tmp_path / "x.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- not a log at all: stop with one line naming the file ---------------------------------------


@pytest.mark.parametrize(
    "name, data",
    [
        ("garbage.bin", random.Random(1).randbytes(64 * 1024)),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(2).randbytes(4000)),
        # A capture of raw TLS ClientHellos sent to a plain-HTTP port.
        ("tls.cap", (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + random.Random(3).randbytes(500)) * 20),
    ],
)
def test_not_a_log_stops_with_one_line_naming_the_file(tmp_path, name, data):
    log = write(tmp_path, name, data)
    good = write(tmp_path, "good.log", GOOD)
    r = run("import", "--db", tmp_path / "x.db", log, good)
    assert r.exit_code == 1
    msg = one_line_error(r, name, "not an access log in a known format")
    assert "\x1b" not in msg and all(c >= " " for c in msg)
    assert count(tmp_path / "x.db", "redirects") == 2  # the good file still imported
    conn = sqlite3.connect(tmp_path / "x.db")
    assert conn.execute("SELECT count(*) FROM sources WHERE path LIKE ?", (f"%{name}",)).fetchone()[0] == 0


def test_tls_handshake_as_request_line(tmp_path):
    # nginx logs the bytes escaped: an ordinary line (no redirect needle), nothing rejected.
    escaped = b'198.51.100.7 - - [01/Oct/2026:09:00:02 +0200] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03" 400 157 "-" "-"\n'
    # A raw, unescaped handshake that happens to contain a needle: rejected with a reason.
    raw = b'198.51.100.7 - - [01/Oct/2026:09:00:03 +0200] "\x16\x03\x01\x02\x00user_id=\x01\xfc\x03\x03" 400 157 "-" "-"\n'
    r, out = imported(tmp_path, "tls.log", GOOD + escaped + raw)
    assert r.exit_code == 0  # rejects are recorded, not a failure (--strict: 65)
    assert out["lines_read"] == 5 and out["redirects"] == 2
    assert out["ordinary"] == 2 and out["rejected"] == 1
    assert out["files"][0]["reject_reasons"] == {"malformed request line": 1}
    human = run("import", "--db", tmp_path / "y.db", tmp_path / "tls.log")
    assert "rejected 1: malformed request line" in human.stdout


def test_nul_bytes(tmp_path):
    # A zero-filled block left by a crash, then a redirect on the same "line"; NULs inside a
    # value (raw in the user agent, %00 in the state) are data and are kept.
    data = GOOD + b"\0" * 5000 + clf(f"{CB}?user_id={UID}&state=nul%00x", ua=b"U\0A", ip="198.51.100.1")
    r, out = imported(tmp_path, "nul.log", data)
    assert r.exit_code == 0
    assert out["redirects"] == 3 and out["rejected"] == 0
    last = stored(tmp_path)[-1]
    assert last == ("nul\x00x", UID, "198.51.100.1", "U\x00A")
    s = run("summary", "--db", tmp_path / "x.db")
    assert "\x00" not in s.stdout


def test_one_megabyte_lines(tmp_path):
    plain = clf("/static/" + "a" * (1 << 20), status=200)
    redirect = clf(f"{CB}?user_id={UID}&state=" + "b" * (1 << 20))
    assert len(plain) > 1 << 20 and len(redirect) > 1 << 20
    r, out = imported(tmp_path, "big.log", GOOD + plain + redirect + GOOD)
    assert r.exit_code == 0  # rejects are recorded, not a failure (--strict: 65)
    assert out["lines_read"] == 8
    assert out["redirects"] == 4 and out["ordinary"] == 3 and out["rejected"] == 1
    assert out["files"][0]["reject_reasons"] == {"line too long (over 64 KiB)": 1}
    conn = sqlite3.connect(tmp_path / "x.db")
    (raw,) = conn.execute("SELECT raw FROM rejects").fetchone()
    assert len(raw) <= 1000  # the reject keeps a capped excerpt, not a megabyte
    assert max(len(v or "") for (v,) in conn.execute("SELECT state FROM redirects")) < 100


def test_invalid_utf8(tmp_path):
    data = GOOD + clf(f"{CB}?user_id={UID}&state=caf\xe9".encode("latin-1"), ua=b"bad \xff\xfe ua")
    data += clf(f"{CB}?user_id={UID}&state=%C3%28".encode())
    r, out = imported(tmp_path, "utf.log", data)
    assert r.exit_code == 0 and out["redirects"] == 4 and out["rejected"] == 0
    got = stored(tmp_path, "SELECT state, user_agent, flags FROM redirects ORDER BY byte_offset")
    assert got[2][0] == "caf\ufffd" and got[2][1] == "bad \ufffd\ufffd ua"
    assert "invalid_utf8" in json.loads(got[2][2]) and "invalid_utf8" in json.loads(got[3][2])


def _lf_reference(tmp_path, data: bytes):
    ref = tmp_path / "ref"
    ref.mkdir()
    imported(ref, "lf.log", data)
    return rows(ref / "x.db", "redirects", drop=("id", "import_id", "source_fp"))


def test_crlf_line_endings_read_like_lf(tmp_path):
    data = GOOD + clf(f"{CB}?error=vehicle_incompatible&make=VW&state=s3")
    expected = _lf_reference(tmp_path, data)
    r, out = imported(tmp_path, "crlf.log", data.replace(b"\n", b"\r\n"))
    assert r.exit_code == 0 and out["lines_read"] == 4 and out["rejected"] == 0
    got = rows(tmp_path / "x.db", "redirects", drop=("id", "import_id", "source_fp", "byte_offset"))
    assert got == [e[:1] + e[2:] for e in expected]  # same rows; offsets shift by the \r bytes
    assert all("\r" not in str(v) for row in got for v in row)


def test_bare_cr_line_endings_read_as_line_breaks(tmp_path):
    # Decision (importer/inputs.py): a file with \r but no \n at all has classic Mac line endings;
    # every \r is a line break, byte for byte, so offsets equal the LF file's.
    data = GOOD + clf(f"{CB}?error=vehicle_incompatible&make=VW&state=s3")
    expected = _lf_reference(tmp_path, data)
    log = write(tmp_path, "cr.log", data.replace(b"\n", b"\r"))
    r = run("import", "--db", tmp_path / "x.db", "--json", log)
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["lines_read"] == 4 and out["redirects"] == 3
    assert "read each \\r as a line break" in r.stderr
    assert rows(tmp_path / "x.db", "redirects", drop=("id", "import_id", "source_fp")) == expected
    again = json.loads(run("import", "--db", tmp_path / "x.db", "--json", log).stdout)
    assert again["inserted"] == 0 and again["lines_read"] == 0


def test_lone_cr_inside_a_lf_file_is_data(tmp_path):
    data = GOOD + clf(f"{CB}?user_id={UID}&state=a", ua=b"x\ry")
    r, out = imported(tmp_path, "mixed.log", data)
    assert out["lines_read"] == 4 and out["redirects"] == 3
    # stored as sent; the terminal never sees it raw (clean() strips \r)
    assert stored(tmp_path)[-1][3] == "x\ry"


def test_empty_file(tmp_path):
    log = write(tmp_path, "empty.log", b"")
    r = run("import", "--db", tmp_path / "x.db", log)
    assert r.exit_code == 0
    assert "empty.log: empty file: nothing to import" in r.stdout
    assert count(tmp_path / "x.db", "sources") == 0


def test_directory_without_logs(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    r = run("import", "--db", tmp_path / "x.db", d)
    assert r.exit_code == 1
    one_line_error(r, "logs", "is a directory")


def test_unreadable_directory_is_one_line(tmp_path, monkeypatch):
    d = tmp_path / "locked"
    d.mkdir()
    real = os.listdir

    def listdir(p="."):
        if os.fspath(p) == str(d):
            raise PermissionError(13, "Permission denied", str(p))
        return real(p)

    monkeypatch.setattr(discovery.os, "listdir", listdir)
    good = write(tmp_path, "good.log", GOOD)
    r = run("import", "--db", tmp_path / "x.db", d, good)
    assert r.exit_code == 1
    one_line_error(r, "locked")
    assert count(tmp_path / "x.db", "redirects") == 2


def test_file_without_read_permission_simulated(tmp_path, monkeypatch):
    """Root ignores permission bits, so the denial is simulated at open()."""
    bad = write(tmp_path, "secret.log", GOOD)
    good = write(tmp_path, "good.log", GOOD.replace(b"s1", b"t1").replace(b"s2", b"t2"))
    real_open = builtins.open

    def fake_open(file, *a, **k):
        if os.fspath(file) == bad:
            raise PermissionError(13, "Permission denied", file)
        return real_open(file, *a, **k)

    monkeypatch.setattr(inputs, "open", fake_open, raising=False)
    r = run("import", "--db", tmp_path / "x.db", "--json", bad, good)
    assert r.exit_code == 1
    one_line_error(r, "secret.log", "cannot read: Permission denied")
    out = json.loads(r.stdout)
    assert out["errors"] == 1 and out["inserted"] == 2
    assert [f["status"] for f in out["files"]] == ["error", "imported"]


UNPRIVILEGED = unprivileged_prefix()
needs_real_permissions = pytest.mark.skipif(
    UNPRIVILEGED is None,
    reason="root without setpriv: permission bits cannot be made to apply",
)


@needs_real_permissions
def test_file_without_read_permission_for_real(tmp_path):
    bad = write(tmp_path, "secret.log", GOOD)
    good = write(tmp_path, "good.log", GOOD)
    os.chmod(bad, 0o000)
    r = cli_subprocess("import", "--db", tmp_path / "x.db", "--json", bad, good, prefix=UNPRIVILEGED)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    errs = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(errs) == 1 and "secret.log" in errs[0] and "Permission denied" in errs[0]
    assert json.loads(r.stdout)["inserted"] == 2


@needs_real_permissions
def test_read_only_database_for_real(tmp_path):
    db = tmp_path / "x.db"
    log = write(tmp_path, "a.log", GOOD)
    open_db(db).conn.close()
    db.chmod(0o444)
    before = db.read_bytes()
    r = cli_subprocess("import", "--db", db, log, prefix=UNPRIVILEGED)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    errs = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(errs) == 1 and "x.db" in errs[0] and "read-only" in errs[0], r.stderr
    assert db.read_bytes() == before
    assert count(db, "imports") == 0 and count(db, "redirects") == 0


def test_truncated_gzip_imports_the_readable_part(tmp_path):
    rnd = random.Random(5)
    data = b"".join(clf(f"{CB}?user_id={UID}&state={rnd.getrandbits(64):x}") for _ in range(2000))
    gz = gzip.compress(data)
    log = write(tmp_path, "cut.log.gz", gz[: len(gz) // 2])
    r = run("import", "--db", tmp_path / "x.db", "--json", log)
    out = json.loads(r.stdout)
    assert r.exit_code == 0
    assert "compressed stream is truncated" in r.stderr and "cut.log.gz" in r.stderr
    assert 0 < out["inserted"] < 2000 and out["rejected"] == 0
    # The whole archive later: the rest is added, and the result equals one clean import.
    write(tmp_path, "cut.log.gz", gz)
    run("import", "--db", tmp_path / "x.db", log)
    ref = tmp_path / "ref"
    ref.mkdir()
    run("import", "--db", ref / "x.db", write(ref, "cut.log.gz", gz))
    assert rows(tmp_path / "x.db", "redirects") == rows(ref / "x.db", "redirects")


# --- the database -----------------------------------------------------------------------------------


def test_database_in_missing_folder(tmp_path):
    log = write(tmp_path, "a.log", GOOD)
    r = run("import", "--db", tmp_path / "no" / "x.db", log)
    assert r.exit_code == 1
    one_line_error(r, "x.db", "does not exist")
    assert not (tmp_path / "no").exists()


def test_database_below_a_file(tmp_path):
    log = write(tmp_path, "a.log", GOOD)
    r = run("import", "--db", tmp_path / "a.log" / "x.db", log)
    assert r.exit_code == 1
    one_line_error(r, "x.db", "is not a folder")


def test_database_path_is_a_directory(tmp_path):
    log = write(tmp_path, "a.log", GOOD)
    r = run("import", "--db", tmp_path, log)
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_database_that_is_not_a_database_is_left_alone(tmp_path):
    log = write(tmp_path, "a.log", GOOD)
    r = run("import", "--db", log, log)  # the log itself given as --db
    assert r.exit_code == 1
    one_line_error(r, "a.log", "not a database")
    assert (tmp_path / "a.log").read_bytes() == GOOD
    assert not (tmp_path / "a.log-wal").exists()


def test_damaged_database_is_one_line(tmp_path):
    log = write(tmp_path, "a.log", GOOD)
    run("import", "--db", tmp_path / "x.db", log)
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = (tmp_path / "x.db").read_bytes()
    (tmp_path / "x.db").write_bytes(data[:100] + b"\xff" * 3000 + data[3100:])
    r = run("import", "--db", tmp_path / "x.db", log)
    assert r.exit_code == 1
    one_line_error(r, "x.db")


def _ro_connect(monkeypatch):
    real = sqlite3.connect

    def connect(database, *a, **k):
        return real(f"file:{database}?mode=ro", *a, uri=True, **k)

    monkeypatch.setattr(store.sqlite3, "connect", connect)


def test_read_only_database_simulated(tmp_path, monkeypatch):
    log = write(tmp_path, "a.log", GOOD)
    open_db(tmp_path / "x.db").conn.close()
    before = rows(tmp_path / "x.db", "imports", drop=())
    _ro_connect(monkeypatch)
    r = run("import", "--db", tmp_path / "x.db", log)
    assert r.exit_code == 1
    one_line_error(r, "x.db", "read-only")
    monkeypatch.undo()
    assert rows(tmp_path / "x.db", "imports", drop=()) == before
    assert count(tmp_path / "x.db", "redirects") == 0


def test_new_database_that_cannot_be_set_up_is_not_left_behind(tmp_path, monkeypatch):
    log = write(tmp_path, "a.log", GOOD)
    _ro_connect(monkeypatch)
    r = run("import", "--db", tmp_path / "new.db", log)
    assert r.exit_code == 1
    one_line_error(r, "new.db")
    assert not list(tmp_path.glob("new.db*"))


_LOCKER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
c.execute("INSERT INTO meta (key, value) VALUES ('locker', 'x')")
print("locked", flush=True)
sys.stdin.read()
c.execute("ROLLBACK")
"""


@pytest.fixture
def locked_db(tmp_path):
    """A database another process holds with BEGIN EXCLUSIVE until the test ends."""
    db = tmp_path / "x.db"
    open_db(db).conn.close()
    p = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert p.stdout.readline().strip() == "locked"
    yield db
    p.stdin.close()
    p.wait(timeout=10)


@pytest.mark.parametrize("how", ["option", "env"])
def test_locked_database_fails_fast_with_one_line(tmp_path, locked_db, how):
    log = write(tmp_path, "a.log", GOOD)
    t0 = time.monotonic()
    if how == "option":
        r = run("import", "--db", locked_db, "--busy-timeout", "1", log)
    else:
        r = run("import", "--db", locked_db, log, env={"SMARTCAR_LOGS_BUSY_TIMEOUT": "1"})
    took = time.monotonic() - t0
    assert r.exit_code == 1
    one_line_error(r, "x.db", "locked by another process", "1 s")
    assert took < 15  # not the 60 s default


def test_locked_database_leaves_nothing_half_written(tmp_path, locked_db):
    log = write(tmp_path, "a.log", GOOD)
    before = {t: rows(locked_db, t, drop=()) for t in ("imports", "sources", "redirects")}
    r = run("import", "--db", locked_db, "--busy-timeout", "0.5", log)
    assert r.exit_code == 1
    assert {t: rows(locked_db, t, drop=()) for t in before} == before


def test_summary_reads_while_another_process_writes(tmp_path, locked_db):
    """ensure_schema writes nothing on an existing database, so readers never wait."""
    t0 = time.monotonic()
    r = run("summary", "--db", locked_db)
    assert r.exit_code == 0 and time.monotonic() - t0 < 5


def test_busy_timeout_default_and_env(monkeypatch):
    assert store._busy_timeout(None) == 60
    monkeypatch.setenv("SMARTCAR_LOGS_BUSY_TIMEOUT", "2.5")
    assert store._busy_timeout(None) == 2.5
    assert store._busy_timeout(7) == 7


# --- injection ------------------------------------------------------------------------------------

SQL = "'; DROP TABLE redirects; --"
TRICKY = [SQL, 'Robert"); DROP TABLE launches;--', "a' OR '1'='1", "\\'; SELECT 1; --", "x\"y'z`w"]


@pytest.mark.parametrize("value", TRICKY)
def test_sql_in_query_values_stays_data(tmp_path, value):
    from urllib.parse import quote_plus

    q = quote_plus(value)
    ua = value.replace("\\", "\\x5C").replace('"', "\\x22")  # as nginx escapes them
    data = (
        GOOD
        + clf(
            f"{CB}?error=vehicle_incompatible&make={q}&model={q}&error_description={q}&state={q}&{q}={q}",
            ua=ua,
        )
        + clf(f"/launch?state={q}", status=302)
    )
    log = write(tmp_path, f"{value[:3]}.log".replace("/", "_"), data)
    r = run("import", "--db", tmp_path / "x.db", "--json", "--launch-path", "/launch", log)
    assert r.exit_code == 0
    conn = sqlite3.connect(tmp_path / "x.db")
    tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"redirects", "launches", "rejects", "sources", "imports", "meta"} <= tables
    row = conn.execute(
        "SELECT make_raw, model, error_description, state, extras, user_agent"
        " FROM redirects WHERE error_code = 'vehicle_incompatible'"
    ).fetchone()
    assert row[:4] == (value, value, value, value)
    assert json.loads(row[4]) == {value: value}
    assert row[5] == value
    assert conn.execute("SELECT state FROM launches").fetchone() == (value,)
    assert conn.execute("SELECT count(*) FROM redirects").fetchone()[0] == 3


def test_sql_in_file_name_stays_data(tmp_path):
    name = "x'; DROP TABLE sources; --.log"
    log = write(tmp_path, name, GOOD)
    r = run("import", "--db", tmp_path / "x.db", log)
    assert r.exit_code == 0
    conn = sqlite3.connect(tmp_path / "x.db")
    assert conn.execute("SELECT path FROM sources").fetchone()[0].endswith(name)


# --- the terminal ---------------------------------------------------------------------------------

ESC = "\x1b[2J\x1b]0;pwned\x07\x1b[31m"


def _no_control(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "\u202e" not in text and "\r" not in text


def test_terminal_output_from_log_strings_is_clean(tmp_path):
    from urllib.parse import quote

    e = quote(ESC)
    data = (
        GOOD
        # unknown error code, odd path, make, model: all reach the summary tables
        + clf(f"{CB}?error=vehicle_incompatible&make={e}VW&model=M{e}&year=2020&state=a")
        + clf(f"{CB}?error={e}weird{quote(chr(0x202E))}&state=b")
        # a rejected line whose text is escape-laden (the reason is printed)
        + b"\x1b[31m garbage user_id="
        + ESC.encode()
        + b"\n"
        # an OAuth-looking path without evidence, printed in the "OAuth-looking requests" line
        + clf(f"/oauth{e}/cb?code=x&state=y")
        + clf(f"/cb{e}?user_id={UID}&state=c")
    )
    name = "evil\x1b[31m\u202e.log"
    log = write(tmp_path, name, data)
    r = run("import", "--db", tmp_path / "x.db", log)
    _no_control(r.stdout)
    _no_control(r.stderr)
    assert "evil" in r.stdout and "rejected 1" in r.stdout
    s = run("summary", "--db", tmp_path / "x.db")
    _no_control(s.stdout)
    assert "VW" in s.stdout


def test_error_messages_quoting_lines_and_names_are_clean(tmp_path):
    name = "bad\x1b[2J\nname.log"
    log = write(tmp_path, name, b"\x1b]0;title\x07 \x9b31m not a log line at all\n" * 5)
    missing = str(tmp_path / "gone\x1b[31m.log")
    r = run("import", "--db", tmp_path / "x.db", log, missing)
    assert r.exit_code == 1
    _no_control(r.stdout)
    _no_control(r.stderr)
    errors = [ln for ln in r.stderr.splitlines() if ln]
    assert len(errors) == 2  # one line each: the newline in the name cannot split a message
    assert "not an access log" in errors[0] and "gone" in errors[1]


def test_clean_strips_escapes_controls_and_bidi():
    from smartcar_logs._console import clean

    assert clean("a\x1b[31mb\x1b]0;t\x07c\x1bPd") == "abcd"
    assert clean("x\r\x08\x7f\x9b\x85y") == "xy"
    assert clean("one\ntwo\tthree") == "one two three"
    assert clean("a\u202eb\u2066c\u2028d") == "abc d"
    assert clean(None) == "None"


def test_json_output_escapes_controls(tmp_path):
    name = "j\x1b[31m.log"
    log = write(tmp_path, name, GOOD)
    r = run("import", "--db", tmp_path / "x.db", "--json", log)
    _no_control(r.stdout)
    assert json.loads(r.stdout)["files"][0]["path"].endswith(name)


# --- CSV export and HTML tables (only when those modules exist) ---------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
]


def _hostile_db(tmp_path):
    from urllib.parse import quote

    data = GOOD
    for i, v in enumerate(FORMULAS):
        e = quote(v, safe="")
        data += clf(
            f"{CB}?error=vehicle_incompatible&make={e}&model={e}&year=2020"
            f"&error_description={e}&state={e}&x{i}={e}",
            ua=v.replace("\t", " ").replace("\r", " ").replace('"', "'"),
        )
    data += b"=cmd|' /C calc'!A0 user_id=1\n"  # a rejected line starting with a formula
    log = write(tmp_path, "f.log", data)
    r = run("import", "--db", tmp_path / "x.db", log)
    assert r.exit_code == 0  # rejects are recorded, not a failure (--strict: 65)
    return tmp_path / "x.db"


def test_csv_export_neutralises_formulas_from_logs(tmp_path):
    export = pytest.importorskip("smartcar_logs.export")
    import csv

    db = _hostile_db(tmp_path)
    files = export.export_csv(str(db), tmp_path / "csv")
    seen = 0
    for f in files:
        with open(f, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (f.name, cell)
                    seen += cell.startswith("'=") or cell.startswith("'+") or cell.startswith("'@")
    assert seen >= 10  # the values are there, neutralised, not dropped


def test_html_tables_render_log_strings_as_text(tmp_path):
    display = pytest.importorskip("smartcar_logs.display")
    import pandas as pd

    db = _hostile_db(tmp_path)
    conn = sqlite3.connect(db)
    frame = pd.read_sql(
        "SELECT make, model, error_description, state, user_agent, extras FROM redirects", conn
    )
    conn.close()
    html = display.html_table(frame, caption="<script>cap</script>").data
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
