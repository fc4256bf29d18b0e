"""Parsing in worker processes gives exactly the rows of a serial pass."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from logs import UID, clf
from smartcar_logs.importer import import_paths, scan
from smartcar_logs.store import open_db
from smartcar_logs.synthetic import generate_log


def snapshot(db):
    out = {}
    for table in ("redirects", "launches", "rejects"):
        cols = [c for c in db[table].columns_dict if c not in ("id", "import_id")]
        out[table] = sorted(db.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr)
    return out


@pytest.fixture
def tricky_log(tmp_path):
    buf = io.BytesIO()
    generate_log(buf, lines=20_000, seed=11)
    body = buf.getvalue().splitlines(keepends=True)
    # Early on: an empty redirect before its path is known (ordinary), Google callbacks
    # (dropped at the end), a rejected line; later: the path is confirmed and empty
    # redirects on it count, including ones in blocks parsed before the confirmation.
    head = [
        clf("/connect/cb"),
        clf("/auth/google/callback?code=4/0AX&state=g"),
        b"garbage with user_id= in it\n",
    ]
    mid = [clf(f"/connect/cb?user_id={UID}&state=z1")]
    tail = [
        clf("/connect/cb"),
        clf("/connect/cb?state=only"),
        clf("/auth/google/callback?code=4/0AY&state=h"),
    ]
    lines = head + body[:5000] + mid + body[5000:15000] + tail + body[15000:] + tail
    p = tmp_path / "tricky.log"
    p.write_bytes(b"".join(lines))
    return p


def test_workers_give_the_serial_rows(tmp_path, tricky_log, monkeypatch):
    serial_db = open_db(tmp_path / "serial.db")
    serial = import_paths(
        serial_db, [str(tricky_log)], launch_paths=["/connect/smartcar"], chunk_size=64 * 1024, jobs=1
    )
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    parallel_db = open_db(tmp_path / "parallel.db")
    calls = []
    real = scan._Dispatcher._complete_one
    monkeypatch.setattr(scan._Dispatcher, "_complete_one", lambda self: calls.append(1) or real(self))
    par = import_paths(
        parallel_db, [str(tricky_log)], launch_paths=["/connect/smartcar"], chunk_size=64 * 1024, jobs=2
    )
    assert len(calls) > 10  # blocks really went through the worker processes
    assert par.files[0].status == "imported"
    for k in ("lines_read", "redirects", "inserted", "launches", "ordinary", "rejected"):
        assert getattr(par, k) == getattr(serial, k), k
    assert par.files[0].ignored_callbacks == serial.files[0].ignored_callbacks
    assert snapshot(parallel_db) == snapshot(serial_db)
    empties = parallel_db.execute(
        "SELECT count(*) FROM redirects WHERE path = '/connect/cb' AND outcome = 'empty'"
    ).fetchone()[0]
    assert empties == 4  # the two tails; the one before confirmation stays ordinary
    assert (
        serial.rejected == 1
        and serial.lines_read == serial.redirects + serial.launches + serial.ordinary + serial.rejected
    )


def test_pool_only_for_big_files(tmp_path):
    small = tmp_path / "s.log"
    small.write_bytes(clf(f"/cb?user_id={UID}&state=a"))
    assert scan._make_workers([str(small)], 2) is None
    assert scan._make_workers([str(small)], 1) is None


def test_rotated_files_under_the_threshold_share_one_pool(tmp_path, tricky_log, monkeypatch):
    # Rotated logs, each smaller than the threshold and together over it: the run forks the
    # pool once and every file of at least two pieces is parsed in it.
    lines = tricky_log.read_bytes().splitlines(keepends=True)
    parts = []
    for i in range(3):
        p = tmp_path / f"access.log.{3 - i}"
        p.write_bytes(b"".join(lines[i * len(lines) // 3 : (i + 1) * len(lines) // 3]))
        parts.append(str(p))
    tiny = tmp_path / "access.log"
    tiny.write_bytes(clf(f"/connect/cb?user_id={UID}&state=last"))  # one piece: parsed here
    chunk = 64 * 1024
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", sum(Path(p).stat().st_size for p in parts))
    assert scan._make_workers(parts[:2], 2) is None  # two files: under the threshold
    assert scan._make_workers([str(tiny)] * 1000, 2) is None  # files under two pieces never count

    used = []
    real_init = scan._Dispatcher.__init__

    def init(self, s, workers=None, piece=None):
        used.append(workers is not None)
        real_init(self, s, workers, piece)

    monkeypatch.setattr(scan._Dispatcher, "__init__", init)
    par_db = open_db(tmp_path / "par.db")
    import_paths(par_db, [*parts, str(tiny)], launch_paths=["/connect/smartcar"], chunk_size=chunk, jobs=2)
    assert used == [True, True, True, False]
    serial_db = open_db(tmp_path / "serial.db")
    import_paths(serial_db, [*parts, str(tiny)], launch_paths=["/connect/smartcar"], chunk_size=chunk, jobs=1)
    assert snapshot(par_db) == snapshot(serial_db)


def test_a_file_smaller_than_a_block_per_worker_is_shared_in_pieces(tmp_path, tricky_log, monkeypatch):
    # A 4 MB log read in one 4 MiB block would keep one worker busy and the other idle: it
    # goes out in pieces, one per worker and one more, and gives the serial rows.
    serial_db = open_db(tmp_path / "serial.db")
    import_paths(serial_db, [str(tricky_log)], launch_paths=["/connect/smartcar"], jobs=1)
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    pieces = []
    real = scan._Dispatcher._submit
    monkeypatch.setattr(
        scan._Dispatcher, "_submit", lambda self, b, *a: pieces.append(len(b)) or real(self, b, *a)
    )
    par_db = open_db(tmp_path / "parallel.db")
    import_paths(par_db, [str(tricky_log)], launch_paths=["/connect/smartcar"], jobs=2)
    size = tricky_log.stat().st_size
    assert size < 4 << 20 and len(pieces) == 3 and sum(pieces) == size
    assert snapshot(par_db) == snapshot(serial_db)
