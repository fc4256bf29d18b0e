"""Scanning on a Dask cluster: the rows of a single-process import, whatever fails.

Contract: an import with ``--dask`` stores exactly the rows, rejects, checkpoints and counts
that a single-process import of the same inputs stores, including redirect paths confirmed
in one file and used by the next, and copies of content already seen; a worker killed in the
middle of a task is replaced and the task run again, with nothing lost or doubled; a client
killed in the middle of a run leaves whole files only, and the next run finishes the rest.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from cloud import CB, UID, alb_body, alb_key, combined_line, run_cli
from smartcar_logs.importer import import_paths
from smartcar_logs.store import open_db


def snapshot(db) -> dict:
    out = {}
    for table in ("redirects", "launches", "rejects", "redirect_paths", "events", "attempts"):
        cols = [c for c in db[table].columns_dict if c not in ("id", "import_id", "first_import_id")]
        out[table] = sorted(db.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr)
    cols = (
        "fingerprint",
        "head_hash",
        "fp_len",
        "path",
        "bytes_done",
        "tail_hash",
        "lines",
        "redirects",
        "launches",
        "ordinary",
        "rejected",
        "first_ts",
        "last_ts",
        "format",
    )
    out["sources"] = sorted(db.execute(f"SELECT {', '.join(cols)} FROM sources").fetchall(), key=repr)
    return out


def counts(res) -> list:
    keys = (
        "status",
        "lines",
        "redirects",
        "inserted",
        "duplicates",
        "launches",
        "ordinary",
        "rejected",
        "ignored_callbacks",
        "reject_reasons",
        "fingerprint",
        "format",
    )
    return [tuple(getattr(f, k) for k in keys) for f in res.files]


@pytest.fixture
def client(dask_cluster):
    from distributed import Client

    with Client(dask_cluster) as c:
        yield c


def tricky_inputs(tmp_path) -> list[str]:
    """Files whose import depends on the files before them, as in a serial run."""
    d = tmp_path / "in"
    d.mkdir()

    def write(name, lines):
        (d / name).write_bytes("".join(lines).encode())
        return str(d / name)

    # 1: an empty redirect on a path nobody has confirmed yet (ordinary), other OAuth callbacks
    one = write(
        "a1.log",
        [
            combined_line("/connect/cb", 0),
            combined_line("/auth/google/cb?code=4/0A&state=g", 1),
            "not a log line but user_id= is in it\n",
        ]
        + [combined_line(f"/p/{i}", i) for i in range(2, 200)],
    )
    # 2: confirms /connect/cb with Smartcar evidence
    two = write(
        "a2.log",
        [combined_line(f"/p/{i}", i) for i in range(100)]
        + [combined_line(f"/connect/cb?user_id={UID}&state=c{i}", i) for i in range(3)],
    )
    # 3: empty redirects on /connect/cb now count, though this file shows no evidence itself
    three = write(
        "a3.log",
        [combined_line("/connect/cb", i) if i % 10 == 0 else combined_line(f"/q/{i}", i) for i in range(150)],
    )
    # 4: a copy of 2 under another name (same content: nothing new), 5: a gzip of 3
    four = write("a4.log", [(d / "a2.log").read_text()])
    five = str(d / "a5.log.gz")
    (d / "a5.log.gz").write_bytes(gzip.compress((d / "a3.log").read_bytes(), mtime=0))
    return [one, two, three, four, five]


def test_dask_gives_the_single_process_rows(client, tmp_path, s3):
    fs, bucket = s3
    inputs = tricky_inputs(tmp_path)
    for n, day in enumerate(("2026-10-01", "2026-10-02")):
        fs.pipe(f"{bucket}/{alb_key(day, 0)}", gzip.compress(alb_body(day, 400, seed=n), mtime=0))
    inputs.append(f"s3://{bucket}/AWSLogs/")
    serial_db = open_db(tmp_path / "serial.db")
    serial = import_paths(serial_db, inputs, launch_paths=["/connect/smartcar"], jobs=1)
    dask_db = open_db(tmp_path / "dask.db")
    par = import_paths(dask_db, inputs, launch_paths=["/connect/smartcar"], dask=client)
    assert [f.path for f in par.files] == [f.path for f in serial.files]
    assert counts(par) == counts(serial)
    assert snapshot(dask_db) == snapshot(serial_db)
    empties = dask_db.execute(
        "SELECT count(*) FROM redirects WHERE path = '/connect/cb' AND outcome = 'empty'"
    )
    assert empties.fetchone()[0] == 15 * 1  # file 3 only: its gzip copy adds nothing
    assert par.files[3].inserted == 0 and par.rejected == 1

    # and again: nothing new, the objects skipped from the listing
    again = import_paths(dask_db, inputs, dask=client)
    assert again.inserted == 0 and again.objects_skipped == 2
    assert snapshot(dask_db) == snapshot(serial_db) | {"sources": snapshot(dask_db)["sources"]}


def test_a_worker_killed_mid_task_is_retried_without_loss_or_doubles(client, tmp_path):
    d = tmp_path / "big"
    d.mkdir()
    paths = []
    for n in range(3):
        p = d / f"access-{n}.log"
        with p.open("w") as f:
            for i in range(120_000):  # ~0.5 s of work each: long enough to be killed in
                f.write(combined_line(f"{CB}?user_id={UID}&state={n}-{i}" if i % 50 == 0 else f"/p/{i}", i))
        paths.append(str(p))
    serial_db = open_db(tmp_path / "serial.db")
    serial = import_paths(serial_db, paths, jobs=1)

    pids = client.run(os.getpid)
    killed = []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
            for addr, keys in client.processing().items():
                if keys and addr in pids:
                    os.kill(pids[addr], signal.SIGKILL)
                    killed.append(addr)
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    db = open_db(tmp_path / "dask.db")
    res = import_paths(db, paths, dask=client)
    killer.join()
    assert killed, "no worker was busy to be killed"
    assert os.getpid() not in pids.values()
    assert counts(res) == counts(serial)
    assert snapshot(db) == snapshot(serial_db)
    assert db.execute("SELECT count(*), count(DISTINCT state) FROM redirects").fetchone() == (7_200, 7_200)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it: the cluster is whole again


def test_a_client_killed_mid_run_resumes_on_the_next_run(dask_cluster, tmp_path, s3):
    fs, bucket = s3
    days = [f"2026-10-{d:02d}" for d in range(1, 8)]
    for n, day in enumerate(days):
        fs.pipe(f"{bucket}/{alb_key(day, 0)}", gzip.compress(alb_body(day, 3_000, seed=n), mtime=0))
    db_path = tmp_path / "k.db"
    url = f"s3://{bucket}/AWSLogs/"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smartcar_logs.cli",
            "import",
            "--db",
            str(db_path),
            "-q",
            "--dask",
            dask_cluster.scheduler_address,
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    done = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if db_path.exists():
            try:  # read-only: the poll must not take the client's write lock
                with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as ro:
                    done = ro.execute("SELECT count(*) FROM objects").fetchone()[0]
            except sqlite3.Error:
                done = 0
            if done >= 1:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 1 <= done < len(days), "the client was not killed in the middle of the run"

    after_kill = open_db(db_path)
    stored = after_kill.execute("SELECT count(*) FROM objects").fetchone()[0]
    res = run_cli(
        "import",
        "--db",
        db_path,
        "--json",
        url,
        env={"DASK_SCHEDULER_ADDRESS": dask_cluster.scheduler_address},
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["objects_skipped"] == stored and len(out["files"]) == len(days) - stored

    serial_db = open_db(tmp_path / "serial.db")
    import_paths(serial_db, [url], jobs=1)
    db = open_db(db_path)
    assert snapshot(db)["redirects"] == snapshot(serial_db)["redirects"]
    assert db.execute("SELECT count(*) - count(DISTINCT state) FROM redirects").fetchone()[0] == 0


def test_a_task_that_fails_for_good_is_an_error_naming_the_file_not_a_traceback(client, tmp_path):
    good = tmp_path / "good.log"
    good.write_text(combined_line(f"{CB}?user_id={UID}&state=x", 1))
    # An unknown format name fails inside the task on the worker, on every retry.
    res = import_paths(open_db(None), [str(good)], fmt="no-such-format", dask=client)
    [f] = res.files
    assert f.status == "error" and f.path == str(good)
    assert f.message.startswith(f"{good}: the scan failed on the cluster: ValueError: unknown format")
    assert res.inserted == 0 and res.errors == 1
