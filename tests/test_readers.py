"""Readers and a running import: a reader never takes the write lock from the import.

``summary``, a notebook's ``analysis.connect`` and ``check`` open the database while an import
may be running in another process. The import commits file by file and refreshes the derived
tables after its last file; a reader that refreshed the files it found pending (as opening
did before) held the write lock the import needed for its next file. The rule
(store/derived.py): only an import, or ``open_db(..., refresh=True)``, refreshes; readers read
what the last refresh left and are told how many files it leaves out.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from helpers_derived import derived_tables, rebuilt_tables
from logs import LAUNCH, write
from smartcar_logs import analysis, import_paths, store
from smartcar_logs.check import run_check
from smartcar_logs.store import StoreError, open_db
from smartcar_logs.summary import summarize
from smartcar_logs.synthetic import generate_file

ROOT = Path(__file__).resolve().parent.parent

# What a notebook does: connect by path and read.
_NOTEBOOK = """
import sys, warnings
from smartcar_logs import analysis
warnings.simplefilter("error")  # told, not silently behind
try:
    analysis.summary(analysis.connect(sys.argv[1]))
except UserWarning as w:
    print(w)
"""


def _parts(tmp_path, n: int, lines: int = 4000, share: float = 0.4) -> list[str]:
    whole = tmp_path / "whole.log"
    generate_file(str(whole), lines=lines, redirect_share=share, seed=5, days=1)
    data = whole.read_bytes().splitlines(keepends=True)
    return [write(tmp_path, f"access.log.{i}", b"".join(data[i::n])) for i in range(n)]


class _Killed(Exception):
    pass


def _killed_before_its_refresh(path: Path, parts: list[str]) -> None:
    """*path* as an import leaves it when killed after committing every file, before its
    refresh: the rows are there, the derived tables do not cover them."""
    db = open_db(path)
    n = []

    def on_file(_):
        n.append(1)
        if len(n) == len(parts):
            raise _Killed

    try:
        import_paths(db, parts, launch_paths=[LAUNCH], on_file=on_file)
    except _Killed:
        pass
    assert store.pending_files(db.conn) == len(parts)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _read_everything(path: Path) -> int:
    """What the three readers do on open; the files they were told are not counted yet."""
    db = open_db(path, create=False, busy_timeout=30)
    try:
        lag = summarize(db)["files_not_in_analysis"]
        result = run_check(db, at="2030-01-01T00:00:00")
        assert (lag > 0) == any("not counted yet" in m for m in result.messages)
    finally:
        db.conn.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nb = analysis.connect(path)
        analysis.summary(nb)
        nb.conn.close()
    assert (lag > 0) == any("not in the analysis yet" in str(w.message) for w in caught)
    return lag


def test_readers_in_other_processes_never_take_the_write_lock(tmp_path):
    # A pending file big enough that refreshing it holds the write lock for a while (a
    # refreshing reader held it for about a second here); this process is the import, which
    # asks for the lock (as each of its files does) without waiting, again and again, for as
    # long as each reader runs.
    path = tmp_path / "busy.db"
    _killed_before_its_refresh(path, _parts(tmp_path, 1, lines=40_000, share=1.0))
    importer = sqlite3.connect(path, isolation_level=None, timeout=0)
    readers = {
        "summary": ["-m", "smartcar_logs.cli", "summary", "--db", str(path)],
        "check": ["-m", "smartcar_logs.cli", "check", "--db", str(path), "--at", "2030-01-01T00:00:00"],
        "notebook": ["-c", _NOTEBOOK, str(path)],
    }
    for name, args in readers.items():
        proc = subprocess.Popen(
            [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
        )
        took, refused = 0, 0
        while proc.poll() is None:
            try:
                importer.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                assert "locked" in str(e)
                refused += 1
            else:
                importer.execute("ROLLBACK")
                took += 1
            time.sleep(0.002)
        out, err = proc.communicate()
        assert "Traceback" not in err, (name, err)
        assert took > 0 and refused == 0, (name, took, refused)
        # ... and each reader was told what it leaves out.
        assert "1 imported file" in out, (name, out)
    assert store.pending_files(importer) == 1
    importer.close()
    # The next writer brings the file in, equal to a rebuild.
    db = open_db(path, refresh=True)
    assert store.pending_files(db.conn) == 0
    assert derived_tables(db.conn) == rebuilt_tables(db.conn)


def test_a_reader_writes_nothing_to_a_database_with_pending_files(tmp_path):
    # The files a killed run committed stay pending after any number of readers, in this
    # process and in others (the CLI's summary and check): only a writer brings them in.
    parts = _parts(tmp_path, 3)
    path = tmp_path / "killed.db"
    _killed_before_its_refresh(path, parts)
    before = Path(path).read_bytes()
    assert _read_everything(path) == 3
    for cmd in (["summary"], ["check", "--at", "2030-01-01T00:00:00"]):
        r = subprocess.run(
            [sys.executable, "-m", "smartcar_logs.cli", *cmd, "--db", str(path)],
            capture_output=True,
            text=True,
            env=_env(),
        )
        assert "Traceback" not in r.stderr, r.stderr
        if cmd == ["summary"]:
            assert r.returncode == 0 and "3 imported files are not counted yet" in r.stdout, r.stdout
    assert Path(path).read_bytes() == before
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # nothing written, not even to the log
    writer = open_db(path, refresh=True)
    assert store.pending_files(writer.conn) == 0


def test_an_open_that_must_refresh_says_so_when_the_import_holds_the_lock(tmp_path):
    # refresh=True is a writer's open: it waits for the lock like an import, and when it
    # cannot have it, it says so in one line (no traceback, the database unchanged).
    path = tmp_path / "locked.db"
    _killed_before_its_refresh(path, _parts(tmp_path, 2))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        why = "cannot refresh the derived tables: database is locked by another process .gave up after 0 s"
        with pytest.raises(StoreError, match=why):
            open_db(path, refresh=True, busy_timeout=0)
    finally:
        other.execute("ROLLBACK")
        other.close()
    db = open_db(path, create=False)
    assert store.pending_files(db.conn) == 2
