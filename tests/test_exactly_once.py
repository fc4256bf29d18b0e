"""Exactly once for real (issue 10): tiny appends, prefixes, unfinished last lines, long lines.

Examples of the rules in importer/checkpoint.py and importer/run.py; the lifecycle model in
test_lifecycle.py explores their combinations.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time

from logs import CB, UID, clf
from smartcar_logs.importer import import_paths
from smartcar_logs.importer.inputs import LONG_LINE_BYTES, _GzipStream
from smartcar_logs.store import open_db


def red(i: int) -> bytes:
    return clf(f"{CB}?user_id={UID}&state=s{i}")


def page(i: int) -> bytes:
    return clf(f"/page/{i}")


def states(db) -> list[str]:
    return sorted(r[0] for r in db.execute("SELECT state FROM redirects"))


def imp(db, *paths, **kw):
    return import_paths(db, [str(p) for p in paths], redirect_paths=[CB], **kw)


def test_tiny_appends_are_imported_once(tmp_path):
    """The repro of issue 10: each run reads ~150 bytes; the next run must still resume."""
    db = open_db(tmp_path / "t.db")
    log = tmp_path / "access.log"
    log.write_bytes(b"".join(page(i) for i in range(49)) + red(0))
    imp(db, log)
    for i in (1, 2, 3):
        with log.open("ab") as f:
            f.write(red(i))
        r = imp(db, log)
        assert r.files[0].resumed_from > 0 and not r.files[0].warnings, r.files[0]
        assert r.inserted == 1
    assert states(db) == ["s0", "s1", "s2", "s3"]
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 1


def test_tiny_file_grows_by_single_lines(tmp_path):
    db = open_db(tmp_path / "t.db")
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    for i in range(12):  # crosses the head (1 KiB), the tail window and the 2 KiB mark
        with log.open("ab") as f:
            f.write(red(i))
        assert imp(db, log).inserted == 1
    assert len(states(db)) == 12 == len(set(states(db)))


def test_rotation_after_tiny_appends(tmp_path):
    db = open_db(tmp_path / "t.db")
    log = tmp_path / "access.log"
    log.write_bytes(red(0))
    imp(db, log)
    with log.open("ab") as f:
        f.write(red(1))
    imp(db, log)
    with log.open("ab") as f:
        f.write(red(2))
    log.rename(tmp_path / "access.log.1")
    log.write_bytes(red(3))
    r = imp(db, tmp_path)
    assert r.inserted == 2
    one = tmp_path / "access.log.1"
    (tmp_path / "access.log.2.gz").write_bytes(gzip.compress(one.read_bytes()))
    one.unlink()
    log.rename(one)
    log.write_bytes(b"")
    r = imp(db, tmp_path)
    assert r.inserted == 0 and r.duplicates == 0
    assert states(db) == ["s0", "s1", "s2", "s3"]


def test_prefix_copies_add_nothing(tmp_path):
    db = open_db(tmp_path / "t.db")
    log = tmp_path / "access.log"
    log.write_bytes(red(0) + red(1))
    shutil.copy(log, tmp_path / "early-copy.log")  # taken at two lines, imported later
    with log.open("ab") as f:
        f.write(b"".join(page(i) for i in range(40)) + red(2) + red(3))
    imp(db, log)
    (tmp_path / "no-newline.log").write_bytes(log.read_bytes()[:-1])
    (tmp_path / "half.log").write_bytes(log.read_bytes()[: log.stat().st_size // 2])
    for name in ("early-copy.log", "no-newline.log", "half.log"):
        r = imp(db, tmp_path / name, final=True)
        assert r.files[0].status == "up to date", (name, r.files[0])
        assert r.inserted == r.duplicates == r.lines_read == 0
    assert states(db) == ["s0", "s1", "s2", "s3"]
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 1


def test_empty_and_tiny_files_match_nothing(tmp_path):
    db = open_db(tmp_path / "t.db")
    (tmp_path / "empty.log").write_bytes(b"")
    assert imp(db, tmp_path / "empty.log").files[0].status == "empty"
    other = tmp_path / "other.log"
    other.write_bytes(red(7))
    r = imp(db, other)
    assert r.inserted == 1 and r.files[0].resumed_from == 0
    assert db.execute("SELECT count(*) FROM sources WHERE fp_len = 0").fetchone()[0] == 0


def test_unterminated_line_waits_then_is_imported_once(tmp_path):
    db = open_db(tmp_path / "t.db")
    log = tmp_path / "access.log"
    log.write_bytes(red(0) + red(1)[:-1])  # s1 without its newline
    r = imp(db, log)
    assert r.inserted == 1 and r.files[0].partial_line
    assert any("1 line waiting for its newline" in w for w in r.files[0].warnings)
    assert db.execute("SELECT waiting FROM sources").fetchone()[0] == len(red(1)) - 1
    with log.open("ab") as f:
        f.write(b"\n" + red(2))
    r = imp(db, log)
    assert r.inserted == 2 and not r.files[0].partial_line
    assert states(db) == ["s0", "s1", "s2"]
    assert db.execute("SELECT waiting, lines FROM sources").fetchone() == (0, 3)


def test_unterminated_line_taken_when_final_or_settled_and_not_again(tmp_path):
    db = open_db(tmp_path / "t.db")
    log = tmp_path / "access.log"
    log.write_bytes(red(0) + red(1)[:-1])
    assert imp(db, log, final=True).inserted == 2
    with log.open("ab") as f:  # the newline arrives after all
        f.write(b"\n" + red(2)[:-1])
    r = imp(db, log)
    assert r.inserted == 0 and r.lines_read == 0  # s1 is not counted again; s2 waits
    old = time.time() - 3600
    os.utime(log, (old, old))  # unchanged for an hour: a finished file
    r = imp(db, log)
    assert r.inserted == 1 and r.lines_read == 1
    assert states(db) == ["s0", "s1", "s2"]
    assert db.execute("SELECT lines FROM sources").fetchone()[0] == 3
    assert db.execute("SELECT sum(lines_read), sum(inserted) FROM imports").fetchone() == (3, 3)


def test_archive_of_a_waiting_line_takes_it(tmp_path):
    db = open_db(tmp_path / "t.db")
    log = tmp_path / "access.log"
    log.write_bytes(red(0) + red(1)[:-1])
    imp(db, log)
    (tmp_path / "access.log.2.gz").write_bytes(gzip.compress(log.read_bytes()))
    r = imp(db, tmp_path / "access.log.2.gz")
    assert r.inserted == 1 and r.files[0].resumed_from == len(red(0))
    assert states(db) == ["s0", "s1"]


def test_over_long_line_is_skipped_to_its_newline(tmp_path):
    db = open_db(tmp_path / "t.db")
    log = tmp_path / "access.log"
    huge = b"x" * (3 * LONG_LINE_BYTES)
    cand = b"GET /smartcar/callback?user_id=1 " + b"y" * (3 * LONG_LINE_BYTES)
    log.write_bytes(red(0) + huge + b"\n" + cand + b"\n" + red(1) + huge)
    r = imp(db, log, chunk_size=64 * 1024)
    f = r.files[0]
    assert f.lines == 4 and f.inserted == 2 and f.rejected == 1 and f.ordinary == 1
    assert list(f.reject_reasons) == ["line too long (over 64 KiB)"]
    assert f.partial_line  # the last huge line waits for its newline, unbuffered
    raw = db.execute("SELECT raw FROM rejects").fetchone()[0]
    assert raw.startswith("GET /smartcar/callback") and len(raw) <= 1000
    with log.open("ab") as fh:
        fh.write(b"\n" + red(2))
    r = imp(db, log, chunk_size=64 * 1024)
    assert r.files[0].lines == 2 and r.inserted == 1 and r.files[0].ordinary == 1
    assert states(db) == ["s0", "s1", "s2"]


def test_gzip_output_is_bounded_per_read(tmp_path):
    p = tmp_path / "bomb.gz"
    p.write_bytes(gzip.compress(b"a" * (64 << 20)) + gzip.compress(red(0)))
    with open(p, "rb") as f:
        g = _GzipStream(f)
        sizes = []
        while b := g.read1(-1):
            sizes.append(len(b))
    assert max(sizes) <= 1 << 20 and sum(sizes) == (64 << 20) + len(red(0))


def test_gzip_bomb_is_not_an_access_log(tmp_path):
    db = open_db(tmp_path / "t.db")
    p = tmp_path / "bomb.gz"
    p.write_bytes(gzip.compress(b"a" * (32 << 20)))
    r = imp(db, p)
    assert r.files[0].status == "error" and "not an access log" in r.files[0].message


def test_single_unterminated_line_taken_then_finished(tmp_path):
    """Found by the lifecycle model: the only line of a file, taken with --final, then its
    newline arrives; the grown file must still be recognised (its head has no line end)."""
    db = open_db(tmp_path / "t.db")
    log = tmp_path / "access.log"
    log.write_bytes(red(1)[:-1])
    assert imp(db, log, final=True).inserted == 1
    with log.open("ab") as f:
        f.write(b"\n" + red(2))
    r = imp(db, log)
    assert r.inserted == 1 and r.duplicates == 0 and r.lines_read == 1
    assert states(db) == ["s1", "s2"]


def test_copy_taken_before_the_newline_came_adds_nothing(tmp_path):
    """Found by the lifecycle model: a copy of a one-line file made before the line's
    newline, imported with --final after the original (now with its newline) was."""
    db = open_db(tmp_path / "t.db")
    log = tmp_path / "access.log"
    log.write_bytes(red(1)[:-1])
    shutil.copy(log, tmp_path / "copy.log")
    with log.open("ab") as f:
        f.write(b"\n")
    imp(db, log)
    r = imp(db, tmp_path / "copy.log", final=True)
    assert r.files[0].status == "up to date" and r.inserted == 0 and r.lines_read == 0
    assert states(db) == ["s1"]


def test_database_from_before_head_table_resumes(tmp_path):
    """A database written before source_heads, marks and waiting existed: opening it adds
    them (heads backfilled from sources) and a grown file still resumes at its checkpoint."""
    import sqlite3

    path = tmp_path / "old.db"
    db = open_db(path)
    log = tmp_path / "access.log"
    log.write_bytes(b"".join(page(i) for i in range(20)) + red(0))
    imp(db, log)
    db.conn.close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE source_heads;"
        " ALTER TABLE sources DROP COLUMN marks; ALTER TABLE sources DROP COLUMN waiting;"
    )
    conn.close()
    db = open_db(path)
    assert db.execute("SELECT count(*) FROM source_heads").fetchone()[0] == 1
    with log.open("ab") as f:
        f.write(red(1))
    r = imp(db, log)
    assert r.files[0].resumed_from > 0 and r.inserted == 1 and r.lines_read == 1
    assert states(db) == ["s0", "s1"]
