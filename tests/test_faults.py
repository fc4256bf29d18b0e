"""Faults: kill -9 at any moment, I/O errors and a full disk mid-import.

A killed run plus a rerun must end with exactly the rows of one clean run; a file whose
read or write fails is rolled back and reported, the other files are still imported and the
exit status is non-zero.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from helpers_hostile import GOOD, ROOT, rows, run
from logs import CB, UID, clf, write
from smartcar_logs.importer import import_paths, inputs
from smartcar_logs.store import ensure_schema, open_db

LAUNCH = "/connect/smartcar"
CHUNK = 64 << 10
# Tables whose rows must equal a clean run's, and the run-specific columns left out.
COMPARED = {
    "redirects": ("id", "import_id"),
    "launches": ("id", "import_id"),
    "rejects": ("id", "import_id"),
    # last_status/note describe the latest run ("up to date" after a rerun), not the data.
    "sources": ("first_import_id", "last_import_id", "last_status", "note"),
    "redirect_paths": ("first_import_id",),
}


def snapshot(db_path) -> dict:
    return {t: rows(db_path, t, drop=d) for t, d in COMPARED.items()}


def _make_logs(d: Path, n_files: int = 3, lines: int = 10_000) -> list[str]:
    paths = []
    try:
        from smartcar_logs.synthetic import generate_file
    except ImportError:  # pragma: no cover - the generator is optional for these tests
        generate_file = None
    for i in range(n_files):
        p = d / f"access-{i}.log"
        if generate_file is not None:
            generate_file(p, lines=lines, seed=100 + i, redirect_share=0.05)
        else:  # pragma: no cover
            p.write_bytes(
                b"".join(
                    clf(f"{CB}?user_id={UID}&state=f{i}-{k}")
                    if k % 20 == 0
                    else clf(f"/page/{k}", status=200)
                    for k in range(lines)
                )
            )
        with open(p, "ab") as f:  # a few rejects too, so every table is exercised
            f.write(b"broken line with user_id=1\n" * 3)
        paths.append(str(p))
    return paths


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    d = tmp_path_factory.mktemp("faultlogs")
    paths = _make_logs(d)
    ref = d / "ref.db"
    res = import_paths(open_db(ref), paths, launch_paths=[LAUNCH], chunk_size=CHUNK)
    assert res.errors == 0 and res.redirects > 1000 and res.rejected == 9
    assert len(paths) == 3
    return paths, snapshot(ref)


# --- kill -9 ---------------------------------------------------------------------------------------

_DRIVER = r"""
import sys, time
from smartcar_logs.importer import import_paths
from smartcar_logs.store import open_db

db_path, stop_at, *files = sys.argv[1:]
stop_at = int(stop_at)
n = 0

def mark(kind):
    global n
    n += 1
    print(n, kind, flush=True)
    if n == stop_at:
        time.sleep(600)  # the test kills us here

db = open_db(db_path)
mark("opened")
import_paths(db, files, launch_paths=["/connect/smartcar"], chunk_size=64 << 10,
             progress=lambda b: mark("chunk"), on_file=lambda r: mark("file " + r.status))
mark("done")
"""


def _env():
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def _events(tmp_path, files) -> list[str]:
    """The driver's event sequence for a clean run (same callbacks, in-process)."""
    events = ["opened"]
    import_paths(
        open_db(tmp_path / "probe.db"),
        files,
        launch_paths=[LAUNCH],
        chunk_size=CHUNK,
        progress=lambda b: events.append("chunk"),
        on_file=lambda r: events.append("file " + r.status),
    )
    return events + ["done"]


def _kill_at(db_path, files, stop_at: int) -> str:
    p = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, str(db_path), str(stop_at), *files],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    last = ""
    try:
        for line in p.stdout:
            last = line.strip()
            if int(last.split()[0]) == stop_at:
                break
        os.kill(p.pid, signal.SIGKILL)
    finally:
        p.wait(timeout=30)
        p.stdout.close()
    assert p.returncode == -signal.SIGKILL
    return last


def test_kill_minus_9_at_many_points_then_rerun_equals_one_clean_run(tmp_path, logs):
    files, expected = logs
    events = _events(tmp_path, files)
    chunks = [i + 1 for i, e in enumerate(events) if e == "chunk"]
    file_ends = [i + 1 for i, e in enumerate(events) if e.startswith("file")]
    points = {
        1,  # database open, run not yet recorded
        chunks[1],  # inside the first file's transaction, rows already written
        file_ends[0] + 3,  # the first file committed, inside the second file's transaction
        chunks[-1],  # the last file's last chunk, before its commit
        file_ends[-1],  # every file committed, the run's totals not yet written
    }
    for k in sorted(points):
        db = tmp_path / f"kill-{k}.db"
        where = _kill_at(db, files, k)
        res = import_paths(open_db(db), files, launch_paths=[LAUNCH], chunk_size=CHUNK)
        assert res.errors == 0, where
        assert snapshot(db) == expected, f"killed at {where}"
        # The interrupted run stays visible as an unfinished import, nothing more.
        conn = sqlite3.connect(db)
        unfinished = conn.execute("SELECT count(*) FROM imports WHERE finished_at IS NULL").fetchone()[0]
        conn.close()
        assert unfinished == (0 if k == 1 else 1), where


def test_kill_minus_9_of_the_cli_after_various_delays(tmp_path, logs):
    files, expected = logs
    cmd = [sys.executable, "-m", "smartcar_logs.cli", "import", "-q", "--launch-path", LAUNCH]
    for i, delay in enumerate((0.0, 0.15, 0.4)):
        db = tmp_path / f"cli-{i}.db"
        p = subprocess.Popen(
            [*cmd, "--db", str(db), *files], env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while not Path(f"{db}-wal").exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)  # the import has begun writing
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        r = run(*cmd[3:], "--db", db, *files)
        assert r.exit_code in (0, 65)  # 65: the generated rejects, when not yet stored
        assert snapshot(db) == expected, f"killed {delay}s after the import began"


# --- read errors -------------------------------------------------------------------------------------


class _FailingStream:
    """A stream whose reads raise OSError(err) after *ok* successful reads."""

    def __init__(self, inner, ok: int, err: int):
        self._inner, self._ok, self._err = inner, ok, err

    def _tick(self):
        if self._ok <= 0:
            raise OSError(self._err, os.strerror(self._err))
        self._ok -= 1

    def read(self, n=-1):
        self._tick()
        return self._inner.read(n)

    def read1(self, n=-1):
        self._tick()
        return getattr(self._inner, "read1", self._inner.read)(n)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _fail_reads_of(monkeypatch, name: str, ok: int, err: int):
    real = inputs.open_input

    def open_input(path, stdin=None):
        stream, raw, comp = real(path, stdin)
        if os.path.basename(path) == name:
            stream = _FailingStream(stream, ok, err)
        return stream, raw, comp

    monkeypatch.setattr(inputs, "open_input", open_input)


@pytest.mark.parametrize("err", [errno.EIO, errno.ENOSPC])
def test_read_error_mid_file_rolls_back_that_file_only(tmp_path, monkeypatch, logs, err):
    files, expected = logs
    bad = os.path.basename(files[1])
    _fail_reads_of(monkeypatch, bad, ok=6, err=err)
    db = tmp_path / "x.db"
    res = import_paths(open_db(db), files, launch_paths=[LAUNCH], chunk_size=CHUNK)
    assert [f.status for f in res.files] == ["imported", "error", "imported"]
    msg = res.files[1].message
    assert bad in msg and "rolled back" in msg and os.strerror(err) in msg
    assert res.exit_code == 1
    conn = sqlite3.connect(db)
    bad_fp = res.files[1].fingerprint
    for t in ("redirects", "launches", "rejects", "sources"):
        col = "fingerprint" if t == "sources" else "source_fp"
        assert conn.execute(f"SELECT count(*) FROM {t} WHERE {col} = ?", (bad_fp,)).fetchone()[0] == 0
    assert conn.execute("SELECT errors, finished_at IS NOT NULL FROM imports").fetchone() == (1, 1)
    conn.close()
    # Once the device is healthy again, a rerun completes the database.
    monkeypatch.undo()
    import_paths(open_db(db), files, launch_paths=[LAUNCH], chunk_size=CHUNK)
    assert snapshot(db) == expected


def test_read_error_through_the_cli_is_one_line_and_exit_1(tmp_path, monkeypatch):
    good = write(tmp_path, "good.log", GOOD)
    big = write(tmp_path, "flaky.log", GOOD * 2_000)
    _fail_reads_of(monkeypatch, "flaky.log", ok=1, err=errno.EIO)
    r = run("import", "--db", tmp_path / "x.db", "--json", big, good)
    assert r.exit_code == 1
    errs = [ln for ln in r.stderr.splitlines() if ln.startswith("error")]
    assert len(errs) == 1 and "flaky.log" in errs[0] and "Input/output error" in errs[0]
    out = json.loads(r.stdout)
    assert out["errors"] == 1 and out["inserted"] == 2


def test_damaged_archive_is_a_warning_but_a_device_error_is_not(tmp_path, monkeypatch):
    import gzip

    gz = gzip.compress(GOOD * 2000)
    path = write(tmp_path, "a.log.gz", gz)
    _fail_reads_of(monkeypatch, "a.log.gz", ok=0, err=errno.EIO)
    res = import_paths(open_db(tmp_path / "x.db"), [path])
    assert res.files[0].status == "error" and "Input/output error" in res.files[0].message


# --- write errors ------------------------------------------------------------------------------------


def test_full_disk_rolls_back_that_file_and_imports_the_others(tmp_path):
    small1 = write(tmp_path, "small1.log", GOOD)
    big = write(
        tmp_path,
        "big.log",
        b"".join(clf(f"{CB}?user_id={UID}&state=s{i}&error_description={'x' * 200}") for i in range(6_000)),
    )
    small2 = write(tmp_path, "small2.log", GOOD.replace(b"s1", b"t1").replace(b"s2", b"t2"))
    dbp = tmp_path / "x.db"
    db = open_db(dbp)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 40}")  # room for the small files only
    res = import_paths(db, [small1, big, small2], chunk_size=CHUNK)
    assert [f.status for f in res.files] == ["imported", "error", "imported"]
    msg = res.files[1].message
    assert "big.log" in msg and "full" in msg and "rolled back" in msg
    assert "no transaction is active" not in msg
    assert res.exit_code == 1 and res.inserted == 4
    conn = sqlite3.connect(dbp)
    assert conn.execute("SELECT count(*) FROM redirects").fetchone()[0] == 4
    assert conn.execute("SELECT count(*) FROM sources").fetchone()[0] == 2
    conn.close()
    # Space again: the rerun adds exactly the big file.
    db.execute("PRAGMA max_page_count = 1073741823")
    again = import_paths(db, [small1, big, small2], chunk_size=CHUNK)
    assert again.inserted == 6_000 and again.errors == 0


class _FailingConnection(sqlite3.Connection):
    """executemany fails (as an I/O error would) for rows carrying a marker."""

    def executemany(self, sql, seq):
        seq = list(seq)
        if any("boom-state" in str(row) for row in seq):
            raise sqlite3.OperationalError("disk I/O error")
        return super().executemany(sql, seq)


def test_sqlite_error_from_executemany_rolls_back_that_file(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.db", factory=_FailingConnection, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    db = sqlite_utils.Database(conn)
    ensure_schema(db)
    a = write(tmp_path, "a.log", GOOD)
    b = write(
        tmp_path,
        "b.log",
        GOOD.replace(b"s1", b"b1") * 50
        + clf(f"{CB}?user_id={UID}&state=boom-state")
        + GOOD.replace(b"s1", b"b3") * 50,
    )
    c = write(tmp_path, "c.log", GOOD.replace(b"s1", b"c1").replace(b"s2", b"c2"))
    res = import_paths(db, [a, b, c], chunk_size=1024)
    assert [f.status for f in res.files] == ["imported", "error", "imported"]
    assert "b.log" in res.files[1].message and "disk I/O error" in res.files[1].message
    assert res.exit_code == 1
    assert db.execute("SELECT count(*) FROM redirects WHERE state LIKE 'b%'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM redirects").fetchone()[0] == 4
