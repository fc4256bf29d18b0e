"""Growing, rotated, compressed and concurrently imported logs: nothing lost, nothing twice."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from logs import CB, UID, T, clf
from smartcar_logs.importer import expand_inputs, import_paths
from smartcar_logs.store import open_db


def line(i: int, target: str | None = None, t: str = T) -> bytes:
    """Line *i*: a redirect with state s{i:06d} unless *target* is given; distinct user agents."""
    return clf(target or f"{CB}?user_id={UID}&state=s{i:06d}", ua=f"UA {i}", t=t)


def block(start: int, n: int, every: int = 3) -> bytes:
    """n lines, one redirect every *every* lines, distinct states."""
    return b"".join(line(i) if i % every == 0 else line(i, f"/page/{i}") for i in range(start, start + n))


def states(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT state FROM redirects ORDER BY state")]


def table_snapshot(db) -> list[tuple]:
    cols = [c for c in db["redirects"].columns_dict if c not in ("id", "import_id")]
    return sorted(db.execute(f"SELECT {', '.join(cols)} FROM redirects").fetchall(), key=repr)


def test_rotation_chain_is_recognised(tmp_path):
    db = open_db(tmp_path / "r.db")
    live = tmp_path / "access.log"
    live.write_bytes(block(0, 300))
    assert import_paths(db, [str(live)]).inserted == 100
    # logrotate: access.log -> access.log.1 (with 30 more lines written before rotation)
    with live.open("ab") as f:
        f.write(block(300, 30))
    live.rename(tmp_path / "access.log.1")
    live.write_bytes(block(1000, 60))  # the new live file
    res = import_paths(db, [str(tmp_path / "access.log.1"), str(live)])
    assert [f.inserted for f in res.files] == [10, 20]
    assert res.files[0].resumed_from > 0
    # next rotation: access.log.1 -> access.log.2.gz, access.log -> access.log.1
    one = tmp_path / "access.log.1"
    (tmp_path / "access.log.2.gz").write_bytes(gzip.compress(one.read_bytes()))
    one.unlink()
    live.rename(one)
    live.write_bytes(b"")
    res = import_paths(db, [str(tmp_path)])
    by_name = {Path(f.path).name: f for f in res.files}
    assert by_name["access.log.2.gz"].status == "up to date"
    assert by_name["access.log.1"].status == "up to date"
    assert by_name["access.log"].status == "empty"
    assert res.inserted == 0
    assert len(states(db)) == 130 and len(set(states(db))) == 130


def test_directory_is_expanded_oldest_first(tmp_path):
    for name in ("access.log", "access.log.1", "access.log.2.gz", "access.log.10.gz", "error.log", "x.db"):
        (tmp_path / name).write_bytes(b"")
    names = [Path(p).name for p in expand_inputs([str(tmp_path)])]
    assert names == ["access.log.10.gz", "access.log.2.gz", "access.log.1", "access.log"]


def test_glob_pattern_is_expanded(tmp_path):
    for name in ("a.log", "b.log", "c.txt"):
        (tmp_path / name).write_bytes(block(0, 3))
    assert sorted(Path(p).name for p in expand_inputs([str(tmp_path / "*.log")])) == ["a.log", "b.log"]


def test_copytruncate_is_detected_and_read_from_start(tmp_path):
    db = open_db(tmp_path / "c.db")
    live = tmp_path / "access.log"
    live.write_bytes(block(0, 300))
    import_paths(db, [str(live)])
    shutil.copy(live, tmp_path / "access.log.1")
    live.write_bytes(block(5000, 30))  # truncated in place, new lines written
    res = import_paths(db, [str(tmp_path / "access.log.1"), str(live)])
    assert res.files[0].status == "up to date"
    assert res.files[1].resumed_from == 0 and res.files[1].inserted == 10
    assert len(states(db)) == 110


def test_copytruncate_with_identical_head_is_a_new_generation(tmp_path):
    db = open_db(tmp_path / "c.db")
    live = tmp_path / "access.log"
    head = block(0, 30)  # > 1 KiB, identical in both generations
    live.write_bytes(head + block(100, 60))
    import_paths(db, [str(live)])
    live.write_bytes(head + block(900, 30))  # shorter than before: truncated and rewritten
    res = import_paths(db, [str(live)])
    assert res.files[0].resumed_from == 0
    assert any("truncated or rewritten" in w for w in res.files[0].warnings)
    # The rewritten content is read whole as a new generation (and said so, above):
    # its rows never overwrite, nor are hidden by, the first generation's.
    assert res.inserted == 20
    assert db.execute("SELECT count(DISTINCT source_fp) FROM redirects").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 2


@pytest.mark.parametrize(
    "name,compress",
    [
        ("gz", gzip.compress),
        ("bz2", bz2.compress),
        ("xz", lzma.compress),
        ("zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_compressed_inputs_by_content(tmp_path, name, compress):
    db = open_db(tmp_path / "z.db")
    data = block(0, 90)
    p = tmp_path / "log.data"
    p.write_bytes(compress(data))
    res = import_paths(db, [str(p)])
    assert res.files[0].compression == {"gz": "gzip", "zst": "zstd"}.get(name, name)
    assert res.lines_read == 90 and res.inserted == 30


def test_multi_member_gzip(tmp_path):
    db = open_db(tmp_path / "m.db")
    p = tmp_path / "multi.gz"
    p.write_bytes(gzip.compress(block(0, 30)) + gzip.compress(block(30, 30)))
    res = import_paths(db, [str(p)])
    assert res.lines_read == 60 and res.inserted == 20


def test_truncated_gzip_yields_readable_lines_and_a_warning(tmp_path):
    db = open_db(tmp_path / "t.db")
    full = gzip.compress(block(0, 3000), compresslevel=1)
    p = tmp_path / "cut.gz"
    p.write_bytes(full[: len(full) // 2])
    res = import_paths(db, [str(p)])
    f = res.files[0]
    assert f.status == "imported"
    assert any("truncated" in w for w in f.warnings)
    assert 0 < f.lines < 3000
    assert f.lines == f.redirects + f.ordinary + f.rejected
    # exactly the complete lines that were readable, nothing half-written
    assert f.inserted == len([i for i in range(f.lines) if i % 3 == 0])
    assert all(s.startswith("s") and len(s) == 7 for s in states(db))


def test_grown_short_file_keeps_its_identity(tmp_path):
    db = open_db(tmp_path / "s.db")
    p = tmp_path / "access.log"
    p.write_bytes(block(0, 3))  # < 1 KiB: fingerprinted on what it has
    import_paths(db, [str(p)])
    with p.open("ab") as f:
        f.write(block(3, 300))
    res = import_paths(db, [str(p)])
    assert res.files[0].resumed_from > 0 and res.lines_read == 300
    assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 1
    assert len(states(db)) == 101


_DRIVER = """
import sys
from smartcar_logs.store import open_db
from smartcar_logs.importer import import_paths
db = open_db(sys.argv[1])
r = import_paths(db, sys.argv[2:])
print(r.inserted, r.errors)
"""


def _run_import(db_path, *files):
    return subprocess.Popen(
        [sys.executable, "-c", _DRIVER, str(db_path), *map(str, files)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_concurrent_imports_lose_and_double_nothing(tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(block(0, 30_000))
    b.write_bytes(block(100_000, 30_000))
    db_path = tmp_path / "conc.db"
    open_db(db_path)
    p1 = _run_import(db_path, a, b)
    p2 = _run_import(db_path, b, a)
    out1, err1 = p1.communicate(timeout=120)
    out2, err2 = p2.communicate(timeout=120)
    assert p1.returncode == 0 and p2.returncode == 0, err1 + err2
    inserted = [int(o.split()[0]) for o in (out1, out2)]
    assert sum(inserted) == 20_000
    db = open_db(db_path)
    assert db.execute("SELECT count(*), count(DISTINCT state) FROM redirects").fetchone() == (20_000, 20_000)


def test_kill_9_mid_import_then_rerun_gives_one_clean_run(tmp_path):
    files = []
    for k in range(3):
        p = tmp_path / f"part{k}.log"
        p.write_bytes(block(k * 1_000_000, 60_000))
        files.append(p)
    clean_db = tmp_path / "clean.db"
    p = _run_import(clean_db, *files)
    assert p.wait(timeout=300) == 0
    expected = table_snapshot(open_db(clean_db))
    assert len(expected) == 60_000

    for delay in (0.05, 0.25, 0.5, 0.8):
        db_path = tmp_path / f"killed{delay}.db"
        p = _run_import(db_path, *files)
        time.sleep(delay)
        p.kill()
        p.wait()
        rerun = _run_import(db_path, *files)
        out, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, err
        assert table_snapshot(open_db(db_path)) == expected
        os.remove(db_path)
