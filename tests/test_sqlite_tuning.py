"""SQLite tuned for the import (issue 25): the page size and cache of new databases, old
databases left as they are, and secondary indexes built after a load into empty tables
without a reader or a failure ever seeing the tables without them."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest

from logs import UID, clf
from smartcar_logs import store
from smartcar_logs.importer import _bulk, import_paths, scan
from smartcar_logs.store import open_db


def indexes(conn) -> dict:
    return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"))


def log(tmp_path, name: str, n: int = 30, state: str = "s") -> str:
    p = tmp_path / name
    p.write_bytes(
        b"".join(clf(f"/smartcar/callback?user_id={UID}&state={state}{i}") for i in range(n))
        + b"".join(clf(f"/connect/smartcar?state={state}{i}") for i in range(n))
    )
    return str(p)


def test_a_new_database_has_large_pages_and_cache(tmp_path):
    db = open_db(tmp_path / "new.db")
    assert db.execute("PRAGMA page_size").fetchone()[0] == store.PAGE_SIZE == 16384
    assert db.execute("PRAGMA cache_size").fetchone()[0] == -store.CACHE_KIB
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_old_database_keeps_its_pages_and_imports(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("CREATE TABLE early (x)")  # written before the tuning existed
    conn.close()
    db = open_db(path)
    assert db.execute("PRAGMA page_size").fetchone()[0] == 4096
    res = import_paths(db, [log(tmp_path, "a.log")], launch_paths=["/connect/smartcar"])
    assert (res.inserted, res.launches) == (30, 30)


def test_indexes_are_the_same_after_a_load_into_empty_tables(tmp_path, monkeypatch):
    db = open_db(tmp_path / "a.db")
    before = indexes(db.conn)
    dropped = []
    real = _bulk.deferred_indexes

    @contextmanager
    def spy(conn):
        with real(conn):
            # Inside the file's transaction: the secondary indexes are gone while rows go in.
            dropped.extend(set(before) - set(indexes(conn)))
            yield

    monkeypatch.setattr("smartcar_logs.importer.file.deferred_indexes", spy)
    import_paths(db, [log(tmp_path, "a.log")], launch_paths=["/connect/smartcar"])
    # every secondary index of the two tables an import fills (the unique keys stay)
    secondary = [
        name
        for (name,) in db.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('redirects', 'launches')"
        )
    ]
    assert {"launches_state", "launches_ts", "redirects_state", "redirects_ts"} <= set(secondary)
    assert sorted(dropped) == sorted(secondary)
    assert indexes(db.conn) == before
    # A second file goes into tables that hold rows: nothing is dropped.
    dropped.clear()
    import_paths(db, [log(tmp_path, "b.log", state="t")], launch_paths=["/connect/smartcar"])
    assert dropped == [] and indexes(db.conn) == before
    assert db.execute("SELECT count(*) FROM redirects").fetchone()[0] == 60


def test_a_failed_load_rolls_the_drop_back(tmp_path, monkeypatch):
    db = open_db(tmp_path / "a.db")
    before = indexes(db.conn)

    def broken(*a, **kw):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(scan._FileScan, "flush", broken)
    res = import_paths(db, [log(tmp_path, "a.log")], launch_paths=["/connect/smartcar"])
    assert res.errors == 1
    assert indexes(db.conn) == before
    # and another connection (a reader) sees them too
    other = sqlite3.connect(tmp_path / "a.db")
    assert indexes(other) == before


@pytest.mark.parametrize("table", _bulk.TABLES)
def test_a_reader_never_sees_the_indexes_gone(tmp_path, table):
    db = open_db(tmp_path / "a.db")
    before = indexes(db.conn)
    reader = sqlite3.connect(tmp_path / "a.db")
    db.conn.execute("BEGIN IMMEDIATE")
    with _bulk.deferred_indexes(db.conn):
        assert not any(n.startswith(table + "_") for n in indexes(db.conn) if "autoindex" not in n)
        assert indexes(reader) == before
    db.conn.execute("COMMIT")
    assert indexes(db.conn) == indexes(reader) == before
