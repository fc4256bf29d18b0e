"""The importer end to end: log bytes in, rows and exact bookkeeping out."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from logs import UID, write
from logs import clf_text as clf
from smartcar_logs.importer import import_paths
from smartcar_logs.store import open_db

DATA = Path(__file__).parent / "data"
REAL = DATA / "apache_logs_elastic_examples.log.gz"


def rows(db, sql="SELECT * FROM redirects ORDER BY byte_offset"):
    return [dict(r) for r in db.query(sql)]


def check_sum(res):
    for f in res.files:
        assert f.lines == f.redirects + f.launches + f.ordinary + f.rejected, f
    assert res.lines_read == res.redirects + res.launches + res.ordinary + res.rejected


@pytest.fixture
def db(tmp_path):
    return open_db(tmp_path / "t.db")


def test_seed_page_redirects_into_rows(tmp_path, db):
    log = (
        clf("/index.html", status=200)
        + clf(f"/home?user_id={UID}&state=0facda3319")
        + clf(
            "/home?error=access_denied&error_description=User+denied+access+to+application.&state=0facda3319",
            t="01/Oct/2026:09:05:00 +0200",
        )
    )
    res = import_paths(db, [write(tmp_path, "a.log", log)])
    check_sum(res)
    got = rows(db)
    assert [(r["outcome"], r["error_code"], r["state"]) for r in got] == [
        ("success", None, "0facda3319"),
        ("error", "access_denied", "0facda3319"),
    ]
    assert got[0]["user_id"] == UID
    assert got[0]["ts"] == "2026-10-01T07:00:01+00:00"
    assert got[1]["ts"] == "2026-10-01T07:05:00+00:00"
    assert got[1]["error_description"] == "User denied access to application."
    assert got[0]["line_no"] == 2 and got[1]["line_no"] == 3
    assert got[0]["http_status"] == 302 and got[0]["path"] == "/home"
    assert res.by_outcome["success"] == 1 and res.by_outcome["access_denied"] == 1
    assert res.by_outcome["vehicle_incompatible"] == 0
    assert res.redirect_paths == {"/home": 2}


def test_time_zone_offsets_become_utc(tmp_path, db):
    log = (
        clf(f"/cb?user_id={UID}&state=a", t="01/Oct/2026:00:30:00 +0530")
        + clf(f"/cb?user_id={UID}&state=b", t="30/Sep/2026:22:00:00 -0700")
        + clf(f"/cb?user_id={UID}&state=c", t="31/Dec/2026:23:59:59 -0100")
    )
    import_paths(db, [write(tmp_path, "tz.log", log)])
    assert [r["ts"] for r in rows(db)] == [
        "2026-09-30T19:00:00+00:00",
        "2026-10-01T05:00:00+00:00",
        "2027-01-01T00:59:59+00:00",
    ]


def test_nginx_and_apache_escapes(tmp_path, db):
    # nginx writes a quote as \x22 and high bytes as \xHH; Apache writes \" and \xhh.
    nginx = (
        '198.51.100.1 - - [01/Oct/2026:09:00:01 +0000] "GET /cb?error=vehicle_incompatible'
        '&make=Citro\\xC3\\xABn&model=C\\x224&state=n1 HTTP/1.1" 302 0 "-" "curl \\x22x\\x22"\n'
    )
    apache = (
        '198.51.100.2 - - [01/Oct/2026:09:00:02 +0000] "GET /cb?error=vehicle_incompatible'
        '&make=Tesla&model=Model\\"S\\"&state=a\\xc3\\xa91 HTTP/1.1" 302 0 "-" "UA \\"quoted\\""\n'
    )
    res = import_paths(db, [write(tmp_path, "esc.log", nginx + apache)])
    check_sum(res)
    assert res.rejected == 0
    a, b = rows(db)
    assert a["make_raw"] == "Citroën" and a["model"] == 'C"4' and a["user_agent"] == 'curl "x"'
    assert b["model"] == 'Model"S"' and b["state"] == "aé1" and b["user_agent"] == 'UA "quoted"'


def test_vhost_and_common_formats(tmp_path, db):
    vhost = clf(f"/cb?user_id={UID}&state=v", vhost="app.example.com:443")
    common = (
        f'203.0.113.9 - frank [01/Oct/2026:09:00:01 +0000] "GET /cb2?user_id={UID}&state=c HTTP/1.0" 302 -\n'
    )
    r1 = import_paths(db, [write(tmp_path, "v.log", vhost * 3)])
    r2 = import_paths(db, [write(tmp_path, "c.log", common)])
    assert r1.files[0].format == "combined" and r1.inserted == 3
    assert r2.files[0].format == "common" and r2.inserted == 1
    assert {r["path"] for r in rows(db)} == {"/cb", "/cb2"}
    assert rows(db)[0]["client_ip"] == "203.0.113.9"


def test_url_list(tmp_path, db):
    urls = (
        f"https://example.com/home?user_id={UID}&state=0facda3319\n"
        "/home?error=no_vehicles&error_description=No%20vehicles%20found.\n"
        "https://example.com/about\n"
    )
    res = import_paths(db, [write(tmp_path, "urls.txt", urls)])
    check_sum(res)
    assert res.files[0].format == "urls"
    assert [r["error_code"] for r in rows(db)] == [None, "no_vehicles"]
    assert rows(db)[0]["ts"] is None


def test_gzip_by_magic_bytes_not_name(tmp_path, db):
    text = clf(f"/cb?user_id={UID}&state=g") + clf("/x", status=200)
    p = tmp_path / "rotated.1"  # no .gz suffix: detection must use the magic bytes
    p.write_bytes(gzip.compress(text.encode()))
    res = import_paths(db, [str(p)])
    assert res.files[0].compression == "gzip"
    assert res.inserted == 1 and res.lines_read == 2


def test_reimport_adds_nothing(tmp_path, db):
    text = "".join(clf(f"/cb?user_id={UID}&state=s{i}") for i in range(50))
    path = write(tmp_path, "a.log", text)
    first = import_paths(db, [path])
    again = import_paths(db, [path])
    copy = tmp_path / "copy.log"
    shutil.copy(path, copy)
    third = import_paths(db, [str(copy)])
    assert first.inserted == 50
    assert again.inserted == 0 and again.files[0].status == "up to date"
    assert third.inserted == 0
    assert db.execute("SELECT count(*) FROM redirects").fetchone()[0] == 50
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 1


def test_rescan_from_zero_is_deduplicated_by_unique_key(tmp_path, db):
    text = "".join(clf(f"/cb?user_id={UID}&state=s{i}") for i in range(10))
    path = write(tmp_path, "a.log", text)
    import_paths(db, [path])
    db.execute(
        "UPDATE sources SET bytes_done = 0, lines = 0, tail_hash = NULL"
    )  # as if the checkpoint were lost
    db.conn.commit()
    res = import_paths(db, [path])
    assert res.redirects == 10 and res.inserted == 0 and res.duplicates == 10
    assert db.execute("SELECT count(*) FROM redirects").fetchone()[0] == 10


def test_growing_file_imports_only_new_lines(tmp_path, db):
    p = tmp_path / "grow.log"
    p.write_text("".join(clf(f"/cb?user_id={UID}&state=a{i}") for i in range(30)))
    import_paths(db, [str(p)])
    with p.open("a") as f:
        f.write(clf(f"/cb?user_id={UID}&state=new"))
        f.write(clf("/page", status=200))
    res = import_paths(db, [str(p)])
    check_sum(res)
    assert res.lines_read == 2 and res.inserted == 1
    assert rows(db)[-1]["state"] == "new" and rows(db)[-1]["line_no"] == 31


def test_partial_last_line_left_for_next_run(tmp_path, db):
    p = tmp_path / "p.log"
    full = clf(f"/cb?user_id={UID}&state=one")
    half = clf(f"/cb?user_id={UID}&state=two")
    p.write_text(full + half[:40])
    res = import_paths(db, [str(p)])
    assert res.inserted == 1 and res.files[0].partial_line
    p.write_text(full + half)
    res2 = import_paths(db, [str(p)])
    assert res2.inserted == 1
    assert [r["state"] for r in rows(db)] == ["one", "two"]


def test_google_callback_is_not_taken(tmp_path, db):
    log = (
        clf("/auth/google/callback?code=4/0AX4XfWhSECRET&state=g1&scope=email%20profile")
        + clf("/auth/google/callback?error=access_denied&state=g2")
        + clf(f"/smartcar/callback?user_id={UID}&state=s1")
        + clf("/smartcar/callback?error=access_denied&state=s2")
        + clf("/auth/google/callback?code=4/0AX4XfWhOTHER&state=g3")
    )
    res = import_paths(db, [write(tmp_path, "oauth.log", log)])
    check_sum(res)
    assert {r["path"] for r in rows(db)} == {"/smartcar/callback"}
    assert res.inserted == 2 and res.ordinary == 3
    assert res.files[0].ignored_callbacks == {"/auth/google/callback": 3}
    assert "SECRET" not in str(rows(db))


def test_explicit_redirect_path_takes_legacy_code_flow(tmp_path, db):
    log = clf("/exchange?code=90abecb6-e7ab-4b85-864a-e1c8bf67f2ad&state=x") + clf("/other?code=1&state=y")
    res = import_paths(
        db, [write(tmp_path, "c.log", log)], redirect_paths=["https://app.example.com/exchange"]
    )
    got = rows(db)
    assert res.inserted == 1 and got[0]["flow"] == "code" and got[0]["has_code"] == 1
    assert "90abecb6" not in str(got)
    assert db.execute("SELECT how FROM redirect_paths WHERE path='/exchange'").fetchone()[0] == "explicit"


def test_empty_redirect_on_known_path(tmp_path, db):
    log = clf(f"/smartcar/callback?user_id={UID}&state=a") + clf("/smartcar/callback")
    import_paths(db, [write(tmp_path, "e.log", log)])
    assert [r["outcome"] for r in rows(db)] == ["success", "empty"]


def test_launches_counted_and_stored(tmp_path, db):
    log = clf("/connect/smartcar?state=abc") + clf(f"/smartcar/callback?user_id={UID}&state=abc")
    res = import_paths(db, [write(tmp_path, "l.log", log)], launch_paths=["/connect/smartcar"])
    check_sum(res)
    assert res.launches == 1
    assert [dict(r) for r in db.query("SELECT state, path FROM launches")] == [
        {"state": "abc", "path": "/connect/smartcar"}
    ]


def test_rejects_keep_reason_and_redacted_raw(tmp_path, db):
    log = (
        clf(f"/cb?user_id={UID}&state=a")
        + "this is not a log line but has error=access_denied&code=TOPSECRET\n"
        + clf(f"/cb?user_id={UID}&state=b", t="99/Foo/2026:09:00:01 +0200")
    )
    res = import_paths(db, [write(tmp_path, "r.log", log)])
    check_sum(res)
    assert res.rejected == 2 and res.exit_code == 0 and res.exit_status(strict=True) == 65
    rej = rows(db, "SELECT line_no, reason, raw FROM rejects ORDER BY line_no")
    assert [r["line_no"] for r in rej] == [2, 3]
    assert rej[0]["reason"] == "not a combined log line"
    assert rej[1]["reason"] == "bad timestamp"
    assert "TOPSECRET" not in rej[0]["raw"] and "code=<redacted>" in rej[0]["raw"]


def test_unreadable_file_among_good_ones(tmp_path, db):
    good = write(tmp_path, "good.log", clf(f"/cb?user_id={UID}&state=a"))
    (tmp_path / "empty-dir").mkdir()
    res = import_paths(db, [str(tmp_path / "missing.log"), good, str(tmp_path / "empty-dir")])
    assert [f.status for f in res.files] == ["error", "imported", "error"]
    assert "missing.log" in res.files[0].message
    assert "is a directory" in res.files[2].message
    assert res.inserted == 1 and res.exit_code == 1


def test_real_apache_log_has_no_redirects_and_mixing_finds_exactly_ours(tmp_path, db):
    real = gzip.decompress(REAL.read_bytes())
    res = import_paths(db, [write(tmp_path, "real.log", real)])
    check_sum(res)
    assert res.lines_read == 10_000 and res.redirects == 0 and res.rejected == 0
    lines = real.splitlines(keepends=True)
    mixed = b"".join(
        line + (clf(f"/cb?user_id={UID}&state=m{i}").encode() if i % 100 == 0 else b"")
        for i, line in enumerate(lines)
    )
    res2 = import_paths(db, [write(tmp_path, "mixed.log", mixed)])
    check_sum(res2)
    assert res2.lines_read == 10_100 and res2.inserted == 100 and res2.rejected == 0


def test_stdin(tmp_path, db):
    import io

    data = io.BufferedReader(io.BytesIO((clf(f"/cb?user_id={UID}&state=a") + clf("/x", status=200)).encode()))
    res = import_paths(db, ["-"], stdin=data)
    assert res.inserted == 1 and res.files[0].path == "<stdin>"


@pytest.mark.parametrize("chunk_size", [64, 1000, 1 << 20])
def test_chunk_boundaries_do_not_change_results(tmp_path, chunk_size):
    import io

    from smartcar_logs.synthetic import generate_log

    buf = io.BytesIO()
    truth = generate_log(buf, lines=3000, seed=7)
    p = write(tmp_path, "g.log", buf.getvalue())
    db = open_db(tmp_path / f"c{chunk_size}.db")
    res = import_paths(db, [p], launch_paths=["/connect/smartcar"], chunk_size=chunk_size)
    check_sum(res)
    assert res.lines_read == 3000
    assert res.redirects == truth["redirects"]
    assert res.launches == truth["launches"]
    assert res.rejected == 0
