"""Object-storage import benchmark: S3 (moto's server on 127.0.0.1) with and without Dask.

Writes gzip ALB logs to a moto S3 bucket (the layout AWS delivers), then imports the same
objects through the real command line into a fresh database each time:

* one process, reading the objects itself;
* ``--dask tcp://...`` with a LocalCluster of 1 and then 2 worker processes started
  beforehand (as a real cluster would be), so the figures are the scan, not cluster start-up.

Prints wall time, throughput in uncompressed MB/s (what the scanner reads), lines/s, and the
client's own peak RSS (the workers are not its children). Throughput per worker is the
figure the README's cluster estimate uses.

    python benchmarks/bench_cloud.py            # 24 objects x 16 MB (make bench)
    python benchmarks/bench_cloud.py --quick    # 8 objects x 4 MB: a smoke run

Everything runs on this machine: moto, the workers and the client share its cores, so the
2-worker figure is a floor for what 2 machines would do.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLI = (
    [str(BIN / "smartcar-logs")]
    if (BIN / "smartcar-logs").exists()
    else [sys.executable, "-m", "smartcar_logs.cli"]
)
UID = "725146a3-69f4-46c8-965d-54b3b6f81eb7"
UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/129.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile",
    "okhttp/4.12.0",
)


def alb_object(day: str, seed: int, target_bytes: int) -> tuple[bytes, int]:
    """Gzip ALB log of about *target_bytes* uncompressed; 1 line in 100 a Connect redirect."""
    lines, size, i = [], 0, 0
    while size < target_bytes:
        n = seed * 1_000_003 + i
        if i % 100 == 0:
            target = f"/smartcar/callback?user_id={UID}&state=s{n}"
        elif i % 100 == 50:
            target = f"/smartcar/callback?error=access_denied&error_description=User+denied+access&state=d{n}"
        else:
            target = f"/api/v2/items/{n % 9973}?page={n % 7}"
        line = (
            f"https {day}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{n % 999999:06d}Z "
            f"app/my-lb/50dc6c495c0c9188 198.51.{n % 250}.{n % 199}:{40000 + n % 9999} 10.0.1.{n % 200}:80 "
            f"0.001 0.0{n % 90:02d} 0.000 200 200 {n % 900} {n % 50000} "
            f'"GET https://app.example.com:443{target} HTTP/1.1" "{UAS[n % 3]}" '
            "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 "
            "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/web/73e2d6bc24d8a067 "
            f'"Root=1-{n:08x}-1d84f3d73c47ec4e58577259" "app.example.com" '
            '"arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" '
            f'0 {day}T00:00:00.000000Z "forward" "-" "-" "10.0.1.{n % 200}:80" "200" "-" "-"\n'
        )
        lines.append(line)
        size += len(line)
        i += 1
    raw = "".join(lines).encode()
    return gzip.compress(raw, compresslevel=6, mtime=0), len(raw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_rss(cmd: list[str], env: dict) -> tuple[float, float, int]:
    """Run *cmd*; (wall seconds, its own peak RSS in MB, exit code)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 65):
        raise RuntimeError(f"{' '.join(cmd)} failed with {code}: {err.decode(errors='replace')[-2000:]}")
    return time.perf_counter() - t0, ru.ru_maxrss / 1024, code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="8 objects of 4 MB")
    ap.add_argument("--objects", type=int, default=None)
    ap.add_argument("--mb", type=float, default=None, help="uncompressed MB per object")
    args = ap.parse_args()
    n_obj = args.objects or (8 if args.quick else 24)
    mb = args.mb or (4 if args.quick else 16)

    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    os.environ.update(env)
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env["AWS_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("bench")
    raw_total = gz_total = 0
    t0 = time.perf_counter()
    for k in range(n_obj):
        day = f"2026-10-{1 + k // 8:02d}"
        data, raw = alb_object(day, k, int(mb * 1e6))
        y, m, d = day.split("-")
        key = (
            f"AWSLogs/123456789012/elasticloadbalancing/us-east-2/{y}/{m}/{d}/123456789012_"
            f"elasticloadbalancing_us-east-2_app.my-lb.50dc6c495c0c9188_"
            f"{y}{m}{d}T{k % 24:02d}05Z_10.0.0.{k}_x.log.gz"
        )
        fs.pipe(f"bench/{key}", data)
        raw_total += raw
        gz_total += len(data)
    print(
        f"moto S3 on 127.0.0.1: {n_obj} ALB objects, {raw_total / 1e6:,.0f} MB uncompressed, "
        f"{gz_total / 1e6:,.1f} MB gzip (written in {time.perf_counter() - t0:.1f} s)"
    )
    print(f"machine: {os.cpu_count()} cores; moto, the workers and the client share them\n")

    url = "s3://bench/AWSLogs/"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:

        def one(label: str, extra: list[str], client=None) -> None:
            db = os.path.join(tmp, f"{len(rows)}.db")
            busy = tasks = None
            if client is None:
                wall, rss, _ = run_rss([*CLI, "import", "--db", db, "-q", *extra, url], env)
            else:  # also what the workers spent in the scan tasks themselves
                from distributed import get_task_stream

                with get_task_stream(client=client) as ts:
                    wall, rss, _ = run_rss([*CLI, "import", "--db", db, "-q", *extra, url], env)
                stream = [t for t in ts.data if "smartcar-scan" in str(t["key"])]
                tasks = len(stream)
                busy = sum(
                    s["stop"] - s["start"]
                    for t in stream
                    for s in t["startstops"]
                    if s["action"] == "compute"
                )
            again, _, _ = run_rss([*CLI, "import", "--db", db, "-q", *extra, url], env)
            rows.append((label, wall, raw_total / 1e6 / wall, rss, again, tasks, busy))

        one("one process (no Dask)", [])
        from distributed import Client, LocalCluster

        for n in (1, 2):
            with (
                LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                ) as cluster,
                Client(cluster) as client,
            ):
                client.run(exec, "import smartcar_logs.importer.cluster, s3fs")  # warm, as a live cluster is
                one(f"Dask, {n} worker{'s' if n > 1 else ''}", ["--dask", cluster.scheduler_address], client)
    server.stop()

    print(
        f"{'import from S3':<24}{'wall s':>9}{'MB/s':>9}{'client RSS MB':>15}{'re-import s':>13}"
        f"{'tasks':>7}{'MB/s per busy worker':>22}"
    )
    for label, wall, mbs, rss, again, tasks, busy in rows:
        per = f"{raw_total / 1e6 / busy:>22.1f}" if busy else f"{'':>22}"
        print(f"{label:<24}{wall:>9.2f}{mbs:>9.1f}{rss:>15.0f}{again:>13.2f}{tasks or '':>7}{per}")
    per_worker = raw_total / 1e6 / rows[1][6]
    print(
        f"\nper worker (scan tasks only, 1 worker): {per_worker:.1f} MB/s of uncompressed ALB log, "
        f"{per_worker * 86400 / 1e6:.2f} TB/day per worker process; {n_obj} objects took "
        f"{rows[1][5]} tasks (more: a task rerun because an earlier file confirmed a redirect path)"
    )
    print(f"load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print("re-import: lists the bucket and skips every object (nothing read)")


if __name__ == "__main__":
    main()
