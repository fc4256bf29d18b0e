"""What a stored row costs in SQLite, and what the tuning of issue 25 changes.

Two figures, in CPU microseconds per row (process time, median of interleaved repeats):

* a narrow in-memory table (an integer and two short texts), ``executemany`` in one
  transaction, without and with an index on one text column: what Python's sqlite3 costs
  per row at the least (the README once said 7 us; issue 25 measured 0.9-2.1 us);
* the real thing: the redirect and launch rows of the 200k-line export (parsed once,
  in memory) written the importer's way (``scan._insert_compact``, grouped by the columns
  they fill) into a new database file, with SQLite's defaults (4 KiB pages, 2 MiB cache),
  with store's tuning (16 KiB pages, 64 MiB cache), and tuned with the secondary indexes
  built after the rows (``importer._bulk.deferred_indexes``), commit included.

    python benchmarks/bench_sqlite.py            # make bench
    python benchmarks/bench_sqlite.py --repeat 5
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_compare import INPUTS, OUT, ensure_input, fresh  # noqa: E402


def narrow(n: int = 200_000, index: bool = False) -> float:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (a INTEGER, b TEXT, c TEXT)")
    if index:
        conn.execute("CREATE INDEX t_b ON t (b)")
    rows = [(i, f"state-{i * 7919 % n:08d}", "success") for i in range(n)]
    t0 = time.process_time()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    conn.execute("COMMIT")
    return (time.process_time() - t0) / n * 1e6


def parsed_rows(path: Path) -> tuple[list, list]:
    """The export's redirect rows (as ``(mask, values)``) and launch rows, parsed once."""
    from smartcar_logs import privacy
    from smartcar_logs.formats.clf import CombinedFormat
    from smartcar_logs.importer import scan

    buf = path.read_bytes()
    ctx = scan._ParseContext(
        CombinedFormat(), "f" * 32, 1, "x", False, frozenset(), frozenset({"/connect/smartcar"}),
        frozenset(), privacy.Redaction(), True,
    )  # fmt: skip
    needles = sorted(set(scan.AUTO_NEEDLES) | {b"/connect/smartcar"})
    items = scan._parse(ctx, buf, sorted(scan._search(buf, needles).items()), 0, 0)
    return [i[5] for i in items if i[0] == "R"], [i[1] for i in items if i[0] == "L"]


def write(rows: list, launches: list, tuned: bool, deferred: bool) -> float:
    from smartcar_logs import store
    from smartcar_logs.importer import _bulk, scan

    saved = store.PAGE_SIZE, store.CACHE_KIB
    if not tuned:
        store.PAGE_SIZE = store.CACHE_KIB = None
    try:
        db = store.open_db(fresh(OUT / "rows.db"))
    finally:
        store.PAGE_SIZE, store.CACHE_KIB = saved
    conn = db.conn
    conn.execute("INSERT INTO imports (id, started_at) VALUES (1, '2026-01-01')")
    t0 = time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    if deferred:
        with _bulk.deferred_indexes(conn):
            scan._insert_compact(conn, store.REDIRECTS, store.REDIRECT_COLUMNS, rows)
            conn.executemany(store.LAUNCHES.insert_sql(), launches)
    else:
        scan._insert_compact(conn, store.REDIRECTS, store.REDIRECT_COLUMNS, rows)
        conn.executemany(store.LAUNCHES.insert_sql(), launches)
    conn.execute("COMMIT")
    spent = time.process_time() - t0
    conn.close()
    return spent / (len(rows) + len(launches)) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--input", type=Path, help="another combined log instead of the generated export")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    label, name, gen_args, _ = INPUTS[1]
    rows, launches = parsed_rows(args.input or ensure_input(name, gen_args)[0])

    def w(tuned: bool, deferred: bool) -> float:
        return write(rows, launches, tuned, deferred)

    cases = {
        "narrow in-memory table (int, 2 texts)": lambda: narrow(),
        "narrow in-memory table, one text index": lambda: narrow(index=True),
        "redirects + launches, SQLite defaults (4 KiB pages, 2 MiB cache)": lambda: w(False, False),
        "redirects + launches, tuned (16 KiB pages, 64 MiB cache)": lambda: w(True, False),
        "redirects + launches, tuned, indexes built after the rows": lambda: w(True, True),
    }
    got: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.repeat):
        for k, fn in cases.items():
            got[k].append(fn())
    print(f"\nCPU us per row, median of {args.repeat} (min-max); the real rows: {label}, "
          f"{len(rows):,} redirects + {len(launches):,} launches")  # fmt: skip
    print("\n| rows written | us/row | range |\n|---|---:|---:|")
    for k, v in got.items():
        print(f"| {k} | {statistics.median(v):.2f} | {min(v):.2f}-{max(v):.2f} |")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{OUT / 'rows.db'}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
