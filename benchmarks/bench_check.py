"""`smartcar-logs check` benchmark: false alarms on clean traffic, detection of each injected
incident, and the time of one check on the million-redirect database.

1. False-alarm rate: SYNTHETIC logs at constant rates (about 100 redirects an hour, 8 days, one
   per seed) are checked every 10 minutes over their last day with the defaults (1h window, 7d
   baseline); every status other than OK is a false alarm. Windows 10 minutes apart overlap,
   so the checks are not independent: the figure is the rate a cron job would see.
2. Detection: for each incident kind (generate --incident KIND@-1h), one log per seed, checked
   at its end: how often the status and the first signal named are the expected ones.
3. Speed: `check` on the 2M-line, ~1M-redirect database of bench_analysis.py (built by it,
   reused when present), as a library call and as the command (interpreter start included);
   and false alarms on that database's traffic, which has a daily rhythm (one check an hour
   over its last week).

    python benchmarks/bench_check.py              # 20 clean seeds, 5 per incident (make bench)
    python benchmarks/bench_check.py --seeds 100  # a tighter false-alarm figure
    python benchmarks/bench_check.py --quick      # 4 clean seeds, 2 per incident, no 1M database
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "check"
sys.path.insert(0, str(ROOT / "benchmarks"))

DAYS = 8
START = datetime.fromisoformat("2026-10-01T00:00:00+00:00")
END = START + timedelta(days=DAYS)
INCIDENTS = {  # kind -> (expected status, expected first signal)
    "server_error@-1h": ("CRITICAL", "server_error"),
    "denial@-1h": ("WARNING", "access_denied"),
    "config_break@-1h": ("CRITICAL", "silence"),
    "incompatible:FIAT@-1h": ("WARNING", "incompatible:FIAT"),
}


def build(seed: int, incidents: tuple[str, ...] = ()) -> Path:
    from smartcar_logs.importer import import_paths
    from smartcar_logs.store import open_db
    from smartcar_logs.synthetic import generate_file

    tag = "clean" if not incidents else incidents[0].replace(":", "-").replace("@", "")
    db_path = OUT / f"{tag}-{seed}.db"
    if db_path.exists():
        return db_path
    log = OUT / f"{tag}-{seed}.log"
    generate_file(
        log,
        lines=DAYS * 24 * 100 * 10 // 3,  # redirects are 30% of the lines: ~100 an hour
        redirect_share=0.3,
        seed=seed,
        start=START.isoformat(),
        days=DAYS,
        flat=True,
        incidents=incidents,
    )
    db = open_db(db_path)
    import_paths(db, [str(log)], launch_paths=["/connect/smartcar"], redirect_paths=["/smartcar/callback"])
    db.conn.close()
    log.unlink()
    return db_path


def false_alarms(seeds: int) -> None:
    from smartcar_logs.check import nagios_text, run_check
    from smartcar_logs.store import open_db

    checks = alarms = 0
    by_status: dict[str, int] = {}
    t0 = time.perf_counter()
    for seed in range(1, seeds + 1):
        db = open_db(build(seed), create=False)
        for step in range(0, 24 * 6):
            at = END - timedelta(days=1) + timedelta(minutes=10 * (step + 1))
            r = run_check(db, at=at)
            checks += 1
            if r.status:
                alarms += 1
                by_status[r.status_name] = by_status.get(r.status_name, 0) + 1
                print(f"    false alarm, seed {seed}, at {at:%H:%M}: {nagios_text(r).splitlines()[0][:160]}")
        db.conn.close()
    print(
        f"  false alarms: {alarms} of {checks:,} checks on clean traffic ({alarms / checks:.2%} of checks;"
        f" {seeds} seeds x 144 checks, every 10 min over the last day) {by_status or ''}"
        f"  [{time.perf_counter() - t0:.0f} s]",
        flush=True,
    )


def detection(seeds: int) -> None:
    from smartcar_logs.check import run_check
    from smartcar_logs.store import open_db

    for incident, (want_status, want_first) in INCIDENTS.items():
        right = named = 0
        for seed in range(1, seeds + 1):
            db = open_db(build(seed, (incident,)), create=False)
            r = run_check(db, at=END)
            db.conn.close()
            first = r.alerts[0].name if r.alerts else None
            named += first == want_first
            right += first == want_first and r.status_name == want_status
        print(
            f"  {incident:24s} {right}/{seeds} runs {want_status} naming {want_first} first"
            f" ({named}/{seeds} named it first)",
            flush=True,
        )


def speed(db_path: Path) -> None:
    from smartcar_logs.check import run_check
    from smartcar_logs.store import open_db

    db = open_db(db_path, create=False)
    (redirects,) = db.execute("SELECT COUNT(*) FROM redirects").fetchone()
    (last,) = db.execute("SELECT max(ts) FROM events").fetchone()
    at = datetime.fromisoformat(last).replace(minute=0, second=0)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        r = run_check(db, at=at)
        best = min(best, time.perf_counter() - t0)
    # the same database has a daily rhythm (and weekends): one check an hour over its last week
    alarms = sum(run_check(db, at=at - timedelta(hours=h)).status != 0 for h in range(168))
    db.conn.close()
    print(f"  false alarms on its daily-rhythm traffic: {alarms} of 168 hourly checks over the last week")
    print(
        f"  run_check on {redirects:,} redirects: {best * 1000:.0f} ms (best of 3; window {r.redirects:,}"
        f" and baseline {r.baseline_redirects:,} redirects; status {r.status_name})",
        flush=True,
    )
    # -m, not the console script: the script may belong to another checkout than this one
    cli = [sys.executable, "-m", "smartcar_logs.cli", "check", "--db", str(db_path), "--at", at.isoformat()]
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        done = subprocess.run(cli, capture_output=True, text=True)
        best = min(best, time.perf_counter() - t0)
        if done.returncode > 3 or not done.stdout.startswith("CONNECT "):  # 0-3 are the plugin's
            sys.exit(f"check failed: {done.stdout}{done.stderr}")
    print(f"  smartcar-logs check (command, interpreter start included): {best:.2f} s (best of 3)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20, help="clean logs for the false-alarm rate")
    ap.add_argument("--incident-seeds", type=int, default=5, help="logs per incident kind")
    ap.add_argument("--quick", action="store_true", help="4 clean seeds, 2 per incident, no 1M database")
    ap.add_argument("--db", help="time check on this database instead of bench_analysis's")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.quick:
        args.seeds, args.incident_seeds = 4, 2
    print(f"check (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):", flush=True)
    false_alarms(args.seeds)
    detection(args.incident_seeds)
    if args.db or not args.quick:
        if args.db:
            db_path = Path(args.db)
        else:
            from bench_analysis import build as build_big

            db_path = build_big(2_000_000)
        speed(db_path)


if __name__ == "__main__":
    main()
