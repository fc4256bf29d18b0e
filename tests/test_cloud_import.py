"""Importing straight from object storage, as from local files, and exactly once by listing.

Contract: ``smartcar-logs import s3://bucket/prefix/`` (and gs://, az://, quoted globs) stores
exactly the rows a local import of the same files stores, whatever the format or
compression; a re-import lists the prefix and reads no object it has read before (the
summary counts them); an object rewritten under the same key (new ETag) is read again like a
rewritten file, and only its new lines are added; --since/--until leave out objects by the
date in their key before reading them.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
import sys
from datetime import date

import pytest
import zstandard

from cloud import CB, UID, alb_body, alb_key, combined_line, run_cli
from smartcar_logs.importer import import_paths
from smartcar_logs.store import open_db


def rows(db) -> list[tuple]:
    """Every stored row, without what names the run or the place it was read from."""
    out = []
    for table in ("redirects", "launches", "rejects"):
        cols = [c for c in db[table].columns_dict if c not in ("id", "import_id", "path")]
        out += sorted((table, *r) for r in db.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall())
    return out


def bucket_of_logs() -> dict[str, bytes]:
    """Keys and bytes: ALB (gzip) over three days, a zstd combined log, a plain JSON-lines sink."""
    objs = {}
    for n, day in enumerate(("2026-09-30", "2026-10-01", "2026-10-02")):
        for hour in (0, 12):
            objs[alb_key(day, hour)] = gzip.compress(alb_body(day, 300, seed=n * 10 + hour), mtime=0)
    web = "".join(
        combined_line(f"{CB}?user_id={UID}&state=w{i}" if i % 5 == 0 else f"/p/{i}", i) for i in range(400)
    )
    objs["nginx/2026/10/01/access.log.zst"] = zstandard.ZstdCompressor().compress(web.encode())
    sink = "".join(
        json.dumps(
            {
                "httpRequest": {
                    "requestMethod": "GET",
                    "status": 302,
                    "requestUrl": f"https://app.example.com{CB}?error=access_denied&state=g{i}",
                    "remoteIp": "203.0.113.9",
                    "userAgent": "UA",
                },
                "timestamp": f"2026-10-01T10:00:{i:02d}Z",
            }
        )
        + "\n"
        for i in range(40)
    )
    objs["requests/2026/10/01/10:00:00_10:59:59_S0.json"] = sink.encode()
    return objs


class RequestLog(logging.Handler):
    """The object GETs moto's server answers (its werkzeug access log), to prove what was read."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):  # called under the handler's own lock
        self.lines.append(record.getMessage())

    def gets(self, bucket: str) -> list[str]:
        with self.lock:
            # An object read is a GET of /bucket/key; a listing is a GET of /bucket?list-type=2.
            return [m for m in self.lines if f"GET /{bucket}/" in m]  # werkzeug colours some lines


@pytest.fixture
def requests_seen(s3_endpoint):
    log = logging.getLogger("werkzeug")
    handler = RequestLog()
    old_level, old_prop = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    yield handler
    log.removeHandler(handler)
    log.setLevel(old_level)
    log.propagate = old_prop


def test_s3_import_is_the_local_import_and_reimport_reads_nothing(s3, tmp_path, requests_seen):
    fs, bucket = s3
    objs = bucket_of_logs()
    for key, data in objs.items():
        fs.pipe(f"{bucket}/{key}", data)
        local = tmp_path / "local" / key
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
    local_db = open_db(tmp_path / "local.db")
    local_res = import_paths(local_db, [str(tmp_path / "local" / k) for k in sorted(objs)])
    assert local_res.errors == 0 and local_res.inserted > 100

    db_path = tmp_path / "s3.db"
    first = run_cli("import", "--db", db_path, "--json", f"s3://{bucket}/")
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert [f["path"] for f in out["files"]] == [f"s3://{bucket}/{k}" for k in sorted(objs)]
    assert {f["format"] for f in out["files"]} == {"alb", "combined", "gcp"}
    assert out["objects_skipped"] == 0 and out["inserted"] == local_res.inserted
    assert rows(open_db(db_path)) == rows(local_db)
    assert "testing" not in first.stdout + first.stderr  # the (fake) keys are never printed

    read = len(requests_seen.gets(bucket))
    assert read >= len(objs)
    # Nothing to read: not even the Dask cluster is contacted (nothing listens on port 9).
    again = run_cli("import", "--db", db_path, "--json", "--dask", "tcp://127.0.0.1:9", f"s3://{bucket}/")
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert out["objects_listed"] == len(objs) and out["objects_skipped"] == len(objs)
    assert out["files"] == [] and out["inserted"] == 0
    assert len(requests_seen.gets(bucket)) == read  # listed only: not one object was read
    summary = run_cli("import", "--db", db_path, f"s3://{bucket}/")
    assert f"{len(objs)} objects already imported (skipped from the listing)" in summary.stdout


def test_the_s3_endpoint_can_come_from_aws_endpoint_url_s3(s3, tmp_path):
    fs, bucket = s3
    fs.pipe(f"{bucket}/{alb_key('2026-10-01', 0)}", gzip.compress(alb_body("2026-10-01", 50, seed=1)))
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env["AWS_ENDPOINT_URL_S3"] = os.environ["AWS_ENDPOINT_URL"]
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "smartcar_logs.cli",
            "import",
            "--db",
            str(tmp_path / "e.db"),
            "--json",
            f"s3://{bucket}/",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["inserted"] == 7


def test_since_until_prune_by_key_date_before_reading(s3, tmp_path, requests_seen):
    fs, bucket = s3
    for key, data in bucket_of_logs().items():
        fs.pipe(f"{bucket}/{key}", data)
    res = run_cli(
        "import",
        "--db",
        tmp_path / "d.db",
        "--json",
        "--since",
        "2026-10-01",
        "--until",
        "2026-10-02",
        f"s3://{bucket}/AWSLogs/*/elasticloadbalancing/*/2026/*/*/*.log.gz",
    )
    assert res.returncode == 0, res.stderr
    files = [f["path"] for f in json.loads(res.stdout)["files"]]
    assert files == [f"s3://{bucket}/{alb_key('2026-10-01', h)}" for h in (0, 12)]
    assert all("/2026/10/01/" in line for line in requests_seen.gets(bucket))


def test_a_rewritten_object_adds_only_its_new_lines(s3, tmp_path):
    fs, bucket = s3
    key = f"{bucket}/web/access.log"
    lines = [
        combined_line(f"{CB}?user_id={UID}&state=s{i}" if i % 3 == 0 else f"/p/{i}", i) for i in range(300)
    ]
    fs.pipe(key, "".join(lines[:200]).encode())
    db = open_db(tmp_path / "o.db")
    first = import_paths(db, [f"s3://{bucket}/web/"])
    assert first.inserted == 67 and first.objects_skipped == 0
    # The same key written again with more lines: a new ETag, the old lines already stored.
    fs.pipe(key, "".join(lines).encode())
    second = import_paths(db, [f"s3://{bucket}/web/"])
    assert second.objects_skipped == 0 and second.files[0].resumed_from > 0
    assert (second.inserted, second.duplicates) == (33, 0)
    # Rewritten with different content under the same key: read from the start as new content.
    fs.pipe(key, "".join(combined_line(f"{CB}?user_id={UID}&state=n{i}", i) for i in range(10)).encode())
    third = import_paths(db, [f"s3://{bucket}/web/"])
    assert third.inserted == 10
    assert db.execute("SELECT count(DISTINCT state), count(*) FROM redirects").fetchone() == (110, 110)
    assert import_paths(db, [f"s3://{bucket}/web/"]).objects_skipped == 1


@pytest.mark.parametrize("store", ["gcs", "azure"])
def test_gcs_and_azure_import_like_local(store, request, tmp_path):
    fs, bucket = request.getfixturevalue(store)
    scheme = {"gcs": "gs", "azure": "az"}[store]
    objs = bucket_of_logs()
    for key, data in objs.items():
        fs.pipe(f"{bucket}/{key}", data)
    local = []
    for key, data in sorted(objs.items()):
        p = tmp_path / key.replace("/", "_")
        p.write_bytes(data)
        local.append(str(p))
    local_db = open_db(None)
    import_paths(local_db, local)
    db = open_db(tmp_path / f"{store}.db")
    res = import_paths(db, [f"{scheme}://{bucket}"], since=date(2026, 10, 1))
    assert res.errors == 0 and len(res.files) == len(objs) - 2  # the 2026-09-30 objects pruned
    assert res.inserted > 0
    assert set(rows(db)) <= set(rows(local_db))
    assert (
        import_paths(db, [f"{scheme}://{bucket}"], since=date(2026, 10, 1)).objects_skipped == len(objs) - 2
    )


def test_a_setting_changed_rereads_objects_when_their_bucket_is_imported_again(s3, tmp_path):
    fs, bucket = s3
    lines = [combined_line(f"{CB}?user_id={UID}&state=s{i}", i) for i in range(5)]
    lines += [combined_line(f"/connect/go?state=s{i}", i) for i in range(5)]
    fs.pipe(f"{bucket}/web/access.log", "".join(lines).encode())
    db = open_db(tmp_path / "o.db")
    assert import_paths(db, [f"s3://{bucket}/web/"]).launches == 0
    without_files = import_paths(db, [], launch_paths=["/connect/go"])
    assert without_files.not_reread and "imported again" in without_files.not_reread[0]["why"]
    again = import_paths(db, [f"s3://{bucket}/web/"])  # the flag is remembered
    assert again.objects_skipped == 0 and again.files[0].reread and again.not_reread == []
    assert db.execute("SELECT count(*) FROM launches").fetchone()[0] == 5
    assert db.execute("SELECT count(*) FROM redirects").fetchone()[0] == 5
    assert import_paths(db, [f"s3://{bucket}/web/"]).objects_skipped == 1
