"""Where an import's time goes, on bench_compare's inputs: the floor under issue 14's targets.

Each input is imported into a fresh database in a fresh process, with timers around the
importer's two pieces of per-record work that happen in the main process whatever the
parsing costs: writing the rows (``_FileScan.flush``: redirects, launches, rejects) and
refreshing the derived tables analysis reads (``store.refresh_pending``: ``events`` and
``attempts``, their indexes, the retry links). The rest is the byte scan, parsing (in the
worker processes for files over one block, when the run is big enough), format detection,
checkpoints and commits. Interpreter start is not included (bench_compare's times are).

The derived tables are also timed in CPU seconds and set against the import's CPU seconds (this
process and its worker processes), the measure of issue 25's budget (the upkeep at most 20% of
the import): on a machine shared with other work, wall times of one phase move with the load.

The last columns set those two pieces against issue 14's targets, computed from
bench_compare's figures for GoAccess and the DuckDB one-liner when it ran in the same
``make bench`` (``benchmarks/out/compare.json``): when writing rows and the derived tables
alone take longer than the target, no parser, however fast, reaches it.

    python benchmarks/bench_phases.py              # median of 3 per input (make bench)
    python benchmarks/bench_phases.py --readme     # also rewrite benchmarks/README.md's table
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench_compare import INPUTS, LAUNCH, OUT, ensure_input, fresh, typical, update_readme

#: Issue 14's targets as shares of GoAccess's time and multiples of the DuckDB one-liner's,
#: by input label (the rotated files share the export's).
TARGETS = {
    "1M-line mix": (0.10, 2.0),
    "redirect-only export": (0.5, None),
    "the export in 4 rotated files": (0.5, None),
    "the export, stateless launches": (0.5, None),
}


def _child(db: str, paths: list[str]) -> None:
    """Run one import here with the timers in place; print the phases as JSON."""
    from smartcar_logs import store
    from smartcar_logs.importer import run, scan
    from smartcar_logs.store import open_db

    spent = {"rows": 0.0, "derived": 0.0, "derived_cpu": 0.0}

    def timed(owner, name: str, phase: str) -> None:
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return real(*args, **kwargs)
            finally:
                spent[phase] += time.perf_counter() - t0
                if phase == "derived":
                    spent["derived_cpu"] += time.process_time() - c0

        setattr(owner, name, wrapper)

    timed(scan._FileScan, "flush", "rows")
    timed(run, "refresh_pending", "derived")  # as run.py calls it
    timed(store, "refresh_pending", "derived")
    t0, c0 = time.perf_counter(), time.process_time()
    res = run.import_paths(open_db(db), paths, launch_paths=[LAUNCH])
    spent["total"] = time.perf_counter() - t0
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool is joined by now
    spent["cpu"] = time.process_time() - c0 + workers.ru_utime + workers.ru_stime
    spent["records"] = res.redirects + res.launches
    spent["parser"] = res.parser
    print(json.dumps(spent))


def measure(paths: list[Path], repeat: int, parser: str = "compiled") -> dict:
    """The median of *repeat* imports with the *parser* hot loop (compiled or pure)."""
    runs = []
    env = {**os.environ, "SMARTCAR_LOGS_PURE": str(int(parser == "pure"))}
    for _ in range(repeat):
        db = fresh(OUT / "phases.db")
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(db), *map(str, paths)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        r["seconds"] = r["total"]
        runs.append(r)
    return typical(runs)


def _compared() -> dict:
    """bench_compare's last figures by input label, when it wrote them."""
    try:
        return {r["label"]: r for r in json.loads((OUT / "compare.json").read_text())}
    except (OSError, ValueError):
        return {}


def table(rows: list[tuple[str, dict]]) -> str:
    compared = _compared()
    lines = [
        "| input | import (in process) | writing rows | derived tables | both | the rest: scan, parse, "
        "checkpoints | target | both / target | import (CPU, with workers) | derived tables (CPU) "
        "| derived / import (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in rows:
        both = r["rows"] + r["derived"]
        share, duck = TARGETS.get(label, (None, None))
        c = compared.get(label, {})
        limits = []
        if share is not None and c.get("goaccess"):
            limits.append(share * c["goaccess"])
        if duck is not None and c.get("duckdb"):
            limits.append(duck * c["duckdb"])
        target = min(limits) if limits else None
        lines.append(
            f"| {label} ({r['records']:,} records), {r['parser']} | {r['total']:.2f} s | {r['rows']:.2f} s"
            f" | {r['derived']:.2f} s | {both:.2f} s | {r['total'] - both:.2f} s"
            + (f" | {target:.2f} s | {both / target:.2f} |" if target else " | | |")
            + f" {r['cpu']:.2f} s | {r['derived_cpu']:.2f} s | {r['derived_cpu'] / r['cpu']:.0%} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readme", action="store_true", help="rewrite the README's phases table")
    ap.add_argument("--repeat", type=int, default=3, help="runs per input; the median is kept")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], args.child[1:])
        return
    OUT.mkdir(parents=True, exist_ok=True)
    from smartcar_logs.importer import _speed

    parsers = ("compiled", "pure") if _speed.available() else ("pure",)
    rows = []
    for label, name, gen_args, parts in INPUTS:
        for parser in parsers:
            rows.append((label, measure(ensure_input(name, gen_args, parts), args.repeat, parser)))
    block = table(rows)
    print()
    print(block)
    if args.readme:
        ok = update_readme(block, "bench-phases")
        where = "benchmarks/README.md"
        print(f"{where} updated" if ok else f"{where} has no <!-- bench-phases --> block")


if __name__ == "__main__":
    main()
