"""Analysis and report benchmark: every public analysis function, `summary` and `report` at scale.

Generates a log with about a million Connect redirects and as many launches (2M lines, half
of them redirects), imports it through the real command line (the derived events and
attempts tables are built in that import), then times each public function of
``smartcar_logs.analysis`` on the whole range, ``smartcar-logs summary`` and
``smartcar-logs report`` (interpreter and kernel start included).

    python benchmarks/bench_analysis.py             # 2M lines (make bench)
    python benchmarks/bench_analysis.py --quick     # 200k lines: a smoke run
    python benchmarks/bench_analysis.py --db X.db   # time an existing database instead
    python benchmarks/bench_analysis.py --readme    # also rewrite the README's table

Figures vary with the machine and its load (`uptime` is printed with them): the targets of
issue 12 are under 1 s per function and under 10 s for the report on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
BIN = Path(sys.executable).parent
CLI = (
    [str(BIN / "smartcar-logs")]
    if (BIN / "smartcar-logs").exists()
    else [sys.executable, "-m", "smartcar_logs.cli"]
)


def timed(fn, repeat: int = 2) -> tuple[float, float]:
    """Best wall and CPU seconds of *repeat* calls (CPU time says more on a loaded machine)."""
    best, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return best, cpu


def build(lines: int) -> Path:
    from smartcar_logs.synthetic import generate_file

    log = OUT / f"analysis-{lines}.log"
    db = OUT / f"analysis-{lines}.db"
    if not log.exists():
        t0 = time.perf_counter()
        generate_file(str(log), lines=lines, redirect_share=0.5, seed=3, days=90)
        print(f"  generated {log.name} in {time.perf_counter() - t0:.0f} s", flush=True)
    if not db.exists():
        t0 = time.perf_counter()
        subprocess.run(
            [*CLI, "import", "--db", str(db), "--launch-path", "/connect/smartcar", str(log)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"  imported in {time.perf_counter() - t0:.0f} s (derived tables included)", flush=True)
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200k lines (smoke run)")
    ap.add_argument("--db", help="time this database instead of generating one")
    ap.add_argument("--readme", action="store_true", help="rewrite the README's analysis table")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db_path = Path(args.db) if args.db else build(200_000 if args.quick else 2_000_000)

    from smartcar_logs import analysis as a

    db = a.connect(db_path)
    (redirects,) = db.execute("SELECT COUNT(*) FROM redirects").fetchone()
    (launches,) = db.execute("SELECT COUNT(*) FROM launches").fetchone()
    calls = {
        "data_range": lambda: a.data_range(db),
        "choose_period": lambda: a.choose_period(db),
        "summary": lambda: a.summary(db),
        "outcome_counts (week, category)": lambda: a.outcome_counts(db, period="week", by="category"),
        "rates (week)": lambda: a.rates(db, period="week"),
        "error_codes": lambda: a.error_codes(db),
        "compare_latest (week)": lambda: a.compare_latest(db, period="week"),
        "compare_periods": lambda: a.compare_periods(
            db, ("2026-10-01", "2026-11-01"), ("2026-11-01", "2026-12-01")
        ),
        "attempt_summary": lambda: a.attempt_summary(db),
        "attempt_summary (week)": lambda: a.attempt_summary(db, period="week"),
        "attempts (one row per attempt)": lambda: a.attempts(db),
        "funnel_summary": lambda: a.funnel_summary(db),
        "funnel_summary (week)": lambda: a.funnel_summary(db, period="week"),
        "funnel": lambda: a.funnel(db),
        "time_to_complete": lambda: a.time_to_complete(db),
        "incompatible_vehicles (make_model)": lambda: a.incompatible_vehicles(db, by="make_model"),
        "incompatible_vehicles (make_year)": lambda: a.incompatible_vehicles(db, by="make_year"),
        "vin_agreement": lambda: a.vin_agreement(db),
        "vehicle_disagreements": lambda: a.vehicle_disagreements(db),
    }
    times = {}
    for name, fn in calls.items():
        times[name] = timed(fn)
        print(f"  {name:38s} {times[name][0]:6.2f} s  (cpu {times[name][1]:.2f} s)", flush=True)

    def cli(*argv: str) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([*CLI, *argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return time.perf_counter() - t0, cpu

    t_summary = min(cli("summary", "--db", str(db_path)) for _ in range(2))
    t_report = cli("report", "--db", str(db_path), "--out", str(OUT / "analysis-report.html"))
    load = os.getloadavg()[0]
    lines = [
        f"On {redirects:,} redirects and {launches:,} launches (load average {load:.1f} on "
        f"{os.cpu_count()} cores while measuring):",
        "",
        "| call | wall | CPU |",
        "|---|---:|---:|",
        *[f"| `analysis.{name}` | {t:.2f} s | {c:.2f} s |" for name, (t, c) in times.items()],
        f"| `smartcar-logs summary` (command) | {t_summary[0]:.2f} s | {t_summary[1]:.2f} s |",
        f"| `smartcar-logs report` (command, kernel start included) | {t_report[0]:.1f} s "
        f"| {t_report[1]:.1f} s |",
    ]
    table = "\n".join(lines)
    print()
    print(table)
    if args.readme:
        readme = ROOT / "benchmarks" / "README.md"  # where the speed tables live
        text = readme.read_text()
        new = re.sub(
            r"(<!-- bench-analysis -->\n).*?(\n<!-- /bench-analysis -->)",
            lambda m: m.group(1) + table + m.group(2),
            text,
            flags=re.S,
        )
        readme.write_text(new)
        print("benchmarks/README.md updated")


if __name__ == "__main__":
    main()
