"""Privacy: --redact keep|hash|drop per field, salted hashes that still join, codes never stored."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest

from helpers_hostile import ROOT, all_text, count, run
from logs import CB, UID, UID2, clf, write
from smartcar_logs.importer import import_paths
from smartcar_logs.privacy import (
    FIELDS,
    HASH_CHARS,
    Redaction,
    RedactionError,
    hash_value,
    parse_redact,
    policy_conflicts,
    scrub_codes,
)
from smartcar_logs.store import get_salt, open_db

VIN = "1HGCM82633A004352"
IP1, IP2 = "198.51.100.23", "2001:db8::7"
UA1 = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"

#: A launch and its redirects sharing states, from two clients, with a VIN.
LOG = (
    clf("/connect/smartcar?state=st-1", ip=IP1, ua=UA1, status=302)
    + clf(f"{CB}?user_id={UID}&state=st-1", ip=IP1, ua=UA1)
    + clf(f"{CB}?user_id={UID}&state=st-1", ip=IP1, ua=UA1)  # a reload: same values again
    + clf("/connect/smartcar?state=st-2", ip=IP2, ua="curl/8.5")
    + clf(
        f"{CB}?error=vehicle_incompatible&vin={VIN}&make=Honda&model=Accord&year=2003&state=st-2",
        ip=IP2,
        ua="curl/8.5",
    )
    + clf(f"{CB}?user_id={UID2}&state=st-3", ip=IP2, ua="curl/8.5")
    + b"not a log line but user_id="
    + UID.encode()
    + b" from "
    + IP1.encode()
    + b"\n"
)

COLUMNS = {
    "vin": ["vin"],
    "user_id": ["user_id"],
    "client_ip": ["client_ip"],
    "user_agent": ["user_agent"],
    "state": ["state"],
}


def imp(tmp_path: Path, *redact: str, log: bytes = LOG, name: str = "a.log", db: str = "x.db"):
    path = write(tmp_path, name, log)
    args = ["import", "--db", tmp_path / db, "--json", "--launch-path", "/connect/smartcar"]
    for r in redact:
        args += ["--redact", r]
    r = run(*args, path)
    assert r.exit_code in (0, 65), r.output
    return r


def q(tmp_path: Path, sql: str, db: str = "x.db"):
    conn = sqlite3.connect(tmp_path / db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- the policy -------------------------------------------------------------------------------------


def test_parse_redact():
    assert parse_redact(None) == dict.fromkeys(FIELDS, "keep")
    assert parse_redact(["vin=hash"])["vin"] == "hash"
    p = parse_redact(["all=hash", "client_ip=drop"])
    assert p == {"vin": "hash", "user_id": "hash", "client_ip": "drop", "user_agent": "hash", "state": "hash"}
    assert parse_redact(["ip=drop", "USER-ID=Hash"])["client_ip"] == "drop"
    assert parse_redact({"state": "drop"})["state"] == "drop"
    for bad in (["vin"], ["vin=scramble"], ["email=hash"], ["=hash"]):
        with pytest.raises(RedactionError):
            parse_redact(bad)


@pytest.mark.parametrize("spec", ["vin", "vin=scramble", "password=hash"])
def test_bad_redact_is_a_usage_error(tmp_path, spec):
    r = run("import", "--db", tmp_path / "x.db", "--redact", spec, write(tmp_path, "a.log", LOG))
    assert r.exit_code == 2 and "--redact" in r.stderr
    assert not (tmp_path / "x.db").exists() or count(tmp_path / "x.db", "redirects") == 0


def test_keep_is_the_default_and_stores_clear_values(tmp_path):
    imp(tmp_path)
    assert {r[0] for r in q(tmp_path, "SELECT user_id FROM redirects WHERE user_id IS NOT NULL")} == {
        UID,
        UID2,
    }
    assert (VIN,) in q(tmp_path, "SELECT vin FROM redirects")
    assert q(tmp_path, "SELECT count(*) FROM rejects WHERE raw LIKE '%user_id=%'") == [(1,)]


def _is_hash(v) -> bool:
    return isinstance(v, str) and re.fullmatch(f"[0-9a-f]{{{HASH_CHARS}}}", v) is not None


def test_hash_all_fields(tmp_path):
    r = imp(tmp_path, "all=hash")
    salt = q(tmp_path, "SELECT value FROM meta WHERE key = 'salt'")[0][0]
    got = q(tmp_path, "SELECT vin, user_id, client_ip, user_agent, state FROM redirects ORDER BY byte_offset")
    for row in got:
        for v in row:
            assert v is None or _is_hash(v), row
    # Equal values hash equally (counts and joins work), different values differ.
    assert got[0] == got[1]
    assert got[0][1] == hash_value(salt, UID) and got[3][1] == hash_value(salt, UID2)
    assert got[2][0] == hash_value(salt, VIN) and got[0][2] == hash_value(salt, IP1)
    assert got[0][4] == hash_value(salt, "st-1") != got[2][4]
    # No clear value of any covered field anywhere in the database.
    conn = sqlite3.connect(tmp_path / "x.db")
    for table, col, v in all_text(conn):
        v = v.replace(str(tmp_path), "<tmp>")  # pytest's folder name can hold "st-1" (pytest-103)
        for clear in (VIN, UID, UID2, IP1, IP2, UA1, "curl/8.5", "st-1", "st-2", "st-3"):
            assert clear not in v, (table, col, v)
    out = json.loads(r.stdout)
    assert out["redirects"] == 4 and out["launches"] == 2 and out["rejected"] == 1


def test_hashed_state_still_joins_launches_to_redirects(tmp_path):
    sql = "SELECT count(*), count(DISTINCT l.state) FROM launches l JOIN redirects r ON r.state = l.state"
    imp(tmp_path, db="clear.db")
    imp(tmp_path, "state=hash", db="hashed.db")
    clear = q(tmp_path, sql, db="clear.db")
    assert clear == [(3, 2)]
    assert q(tmp_path, sql, db="hashed.db") == clear
    from smartcar_logs.analysis import funnel_summary  # the analysis layer works unchanged

    fc = funnel_summary(open_db(tmp_path / "clear.db"))
    fh = funnel_summary(open_db(tmp_path / "hashed.db"))
    assert repr(fc) == repr(fh)


def test_hashes_differ_between_databases(tmp_path):
    imp(tmp_path, "user_id=hash", db="one.db")
    imp(tmp_path, "user_id=hash", db="two.db")
    one = q(tmp_path, "SELECT user_id FROM redirects ORDER BY byte_offset", db="one.db")
    two = q(tmp_path, "SELECT user_id FROM redirects ORDER BY byte_offset", db="two.db")
    assert one != two  # each database has its own salt


def test_drop_fields(tmp_path):
    imp(tmp_path, "vin=drop", "client_ip=drop", "user_agent=drop")
    got = q(
        tmp_path,
        "SELECT vin, client_ip, user_agent, user_id, state, vin_make, vin_year, vin_valid,"
        " make, model, year FROM redirects WHERE vin_make IS NOT NULL",
    )
    # The VIN itself is gone; its coarse attributes (make, model year, validity) stay.
    assert got == [(None, None, None, None, "st-2", "HONDA", 2003, 1, "HONDA", "Accord", 2003)]
    assert q(tmp_path, "SELECT DISTINCT client_ip, user_agent FROM redirects") == [(None, None)]
    assert q(tmp_path, "SELECT DISTINCT client_ip, user_agent FROM launches") == [(None, None)]
    assert q(tmp_path, "SELECT count(*) FROM redirects WHERE user_id IS NOT NULL") == [(3,)]


def test_rejected_lines_keep_no_raw_text_under_a_policy(tmp_path):
    imp(tmp_path, "client_ip=hash")
    ((reason, raw, line_no),) = q(tmp_path, "SELECT reason, raw, line_no FROM rejects")
    assert raw is None and line_no == 7 and reason


def test_policy_recorded_in_imports(tmp_path):
    imp(tmp_path, "all=hash", "client_ip=drop")
    opts = json.loads(q(tmp_path, "SELECT options FROM imports")[0][0])
    assert opts["redact"] == {
        "vin": "hash",
        "user_id": "hash",
        "client_ip": "drop",
        "user_agent": "hash",
        "state": "hash",
    }


def test_library_accepts_a_policy(tmp_path):
    db = open_db(tmp_path / "x.db")
    import_paths(
        db, [write(tmp_path, "a.log", LOG)], launch_paths=["/connect/smartcar"], redaction={"user_id": "hash"}
    )
    salt = get_salt(db)
    assert {r[0] for r in db.execute("SELECT user_id FROM redirects WHERE user_id IS NOT NULL")} == {
        hash_value(salt, UID),
        hash_value(salt, UID2),
    }
    import_paths(
        db, [write(tmp_path, "b.log", LOG.replace(b"st-", b"zz-"))], redaction=Redaction(["all=drop"])
    )
    assert db.execute("SELECT count(*) FROM redirects WHERE state LIKE 'zz-%'").fetchone()[0] == 0


def test_changing_the_policy_warns(tmp_path):
    imp(tmp_path, "user_id=hash")
    same = imp(tmp_path, "user_id=hash", name="b.log", log=LOG.replace(b"st-", b"b-"))
    assert "warning" not in same.stderr
    # Without --redact the remembered policy stands: no change, no warning, ids still hashed.
    forgot = imp(tmp_path, name="c.log", log=LOG.replace(b"st-", b"c-"))
    assert "warning" not in forgot.stderr
    ids = [u for (u,) in q(tmp_path, "SELECT user_id FROM redirects WHERE state LIKE 'c-%'")]
    assert ids and not any(u == UID for u in ids)
    looser = imp(tmp_path, "user_id=keep", name="d.log", log=LOG.replace(b"st-", b"d-"))
    assert "applies to rows written from now on" in looser.stderr
    warn = [ln for ln in looser.stderr.splitlines() if ln.startswith("warning")]
    assert len(warn) == 1
    assert "user_id=keep" in warn[0] and "user_id=hash" in warn[0] and "mixes" in warn[0]
    db = open_db(tmp_path / "x.db")
    assert policy_conflicts(db, parse_redact(["user_id=hash"]))  # earlier import kept clear ids
    assert any(
        w.startswith("--redact vin=drop")
        for w in policy_conflicts(db, parse_redact(["user_id=hash", "vin=drop"]))
    )


def test_hash_needs_a_salt():
    with pytest.raises(RedactionError):
        Redaction(["vin=hash"])


# --- authorization codes -------------------------------------------------------------------------

SECRETS = [f"SECRET{i:02d}x9Qz" for i in range(20)]


def _code_lines() -> bytes:
    s = SECRETS
    lines = [
        clf(f"{CB}?user_id={UID}&code={s[0]}&state=c0"),  # the real thing
        clf(f"{CB}?code={s[1]}&state=c1"),  # legacy code-only flow
        clf(f"/oauth/google/callback?code={s[2]}&state=g"),  # another provider's callback
        clf(f"/some/page?code={s[3]}", status=200),  # a non-redirect path
        clf(f"/connect/smartcar?state=c4&code={s[4]}"),  # a launch
        clf(f"{CB}?user_id={UID}&next={quote(f'/x?code={s[5]}&a=b', safe='')}"),  # nested, in extras
        clf(f"{CB}?user_id={UID}&CODE={s[6]}"),
        clf(f"{CB}?user_id={UID}&code%20={s[7]}"),
        clf(f"{CB}?user_id={UID}&x=%2563ode%253D{s[8]}"),  # double-encoded key inside a value
        clf(f"{CB}?error=access_denied&error_description=bad+code%3D{s[9]}+sent&state=c9"),
        clf(f"{CB}?error=code={s[10]}&user_id={UID}"),  # unknown error code carrying one
        clf(f"{CB};code={s[11]}?user_id={UID}&state=c11"),  # in the path
        clf(f"{CB}?user_id={UID}&state=code%3D{s[12]}"),  # in the state
        clf(f"{CB}?user_id={UID}&state=c13", ua=f"bot code={s[13]}"),  # in the user agent
        b"broken line user_id=1 code=" + s[14].encode() + b"\n",  # rejected lines
        b'broken "code":"' + s[15].encode() + b'" user_id=1\n',
        b"broken next=%2Fcb%3Fcode%3D" + s[16].encode() + b" user_id=1\n",
        b"broken %63ode%3D" + s[17].encode() + b" error=x\n",
        clf(f"{CB}?error_description=invalid+%22code%3D{s[18]}%22&error=server_error&Code={s[18]}"),
        clf(f"{CB}?user_id={UID}&redirect_uri=https%3A%2F%2Fa.example%2Fcb%3Fcode%3D{s[19]}"),
    ]
    return b"".join(lines)


def _assert_no_secret(tmp_path: Path, *outputs: str) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    for table, col, v in all_text(conn):
        for s in SECRETS:
            assert s not in v, (table, col, v)
    conn.close()
    for f in tmp_path.glob("x.db*"):  # not in free pages or the WAL either
        data = f.read_bytes()
        for s in SECRETS:
            assert s.encode() not in data, (f.name, s)
    for out in outputs:
        for s in SECRETS:
            assert s not in out


@pytest.mark.parametrize(
    "policy", [[], ["all=keep"], ["all=hash"], ["all=drop"], ["state=hash", "user_id=drop"]]
)
def test_authorization_codes_are_never_stored(tmp_path, policy):
    r = imp(tmp_path, *policy, log=_code_lines())
    out = json.loads(r.stdout)
    assert out["rejected"] == 4 and out["launches"] == 1
    assert out["redirects"] == 13  # the Google callback and /some/page are not redirects
    _assert_no_secret(tmp_path, r.stdout, r.stderr)
    # The code's presence is still recorded.
    assert q(tmp_path, "SELECT count(*) FROM redirects WHERE has_code = 1")[0][0] >= 1


def test_code_in_the_first_line_of_a_non_log_is_not_echoed(tmp_path):
    log = write(tmp_path, "a.log", f"%63ode%3D{SECRETS[0]} and more\n".encode() * 3)
    r = run("import", "--db", tmp_path / "x.db", log)
    assert r.exit_code == 1 and "not an access log" in r.stderr
    _assert_no_secret(tmp_path, r.stdout, r.stderr)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("code=abc", "code=<redacted>"),
        ("a&code=abc&b=1", "a&code=<redacted>&b=1"),
        ("CODE = abc", "CODE = <redacted>"),
        ("/x?code%3Dabc", "/x?code%3D<redacted>"),
        ('{"code": "abc"}', '{"code": "<redacted>"}'),
        ("%63ode%3Dabc", "code=<redacted>"),
        ("error_code=abc&status_code=200", "error_code=abc&status_code=200"),
        ("zipcode=12345", "zipcode=12345"),
        ("status code: 403", "status code: 403"),
        ("Model 3", "Model 3"),
    ],
)
def test_scrub_codes(text, expected):
    assert scrub_codes(text) == expected
    assert scrub_codes(expected) == expected  # idempotent


# --- files --------------------------------------------------------------------------------------


def test_new_database_files_are_private_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        imp(tmp_path)
    finally:
        os.umask(old)
    files = list(tmp_path.glob("x.db*"))
    assert {f.name for f in files} >= {"x.db"}
    for f in files:
        assert f.stat().st_mode & 0o077 == 0, (f.name, oct(f.stat().st_mode))


def test_privacy_doc_describes_what_is_stored():
    doc = ROOT / "README.md"
    text = doc.read_text() if doc.exists() and "What is stored" in doc.read_text() else ""
    text += (ROOT / "docs" / "privacy.md").read_text() if (ROOT / "docs" / "privacy.md").exists() else ""
    assert "What is stored and how to minimise it" in text
    for word in (
        "--redact",
        "all=hash",
        "salt",
        "client_ip",
        "user_agent",
        "vin",
        "user_id",
        "state",
        "code",
        "0600",
    ):
        assert word in text, word
