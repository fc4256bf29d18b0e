"""The SQL views and Datasette's stored queries at scale, beside the analysis functions they equal.

Builds (or reuses) the database of bench_analysis.py: about a million redirects and as many
launches (--quick: a tenth), then times ``SELECT * FROM view`` for every view in
``smartcar_logs.views.VIEWS``, each stored query in ``smartcar_logs.serve.QUERIES``, and the
analysis call each view is tested equal to.

    python benchmarks/bench_views.py             # 2M lines
    python benchmarks/bench_views.py --quick     # 200k lines
    python benchmarks/bench_views.py --db X.db   # an existing database

Datasette stops a query after 1 s by default (``--setting sql_time_limit_ms``): a view slower
than that on your data needs the setting raised.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_analysis import OUT, build, timed  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200k lines")
    ap.add_argument("--db", help="time this database instead of generating one")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db_path = Path(args.db) if args.db else build(200_000 if args.quick else 2_000_000)

    from smartcar_logs import analysis as a
    from smartcar_logs.serve import QUERIES
    from smartcar_logs.views import VIEWS

    db = a.connect(db_path)
    (events,) = db.execute("SELECT COUNT(*) FROM events").fetchone()
    (attempts,) = db.execute("SELECT COUNT(*) FROM attempts").fetchone()
    equal = {
        "daily_outcomes": lambda: a.outcome_counts(db, period="day", by="error_code"),
        "daily_rates": lambda: a.rates(db, period="day"),
        "weekly_rates": lambda: a.rates(db, period="week"),
        "daily_funnel": lambda: a.funnel_summary(db, period="day"),
        "incompatible_vehicles": lambda: a.incompatible_vehicles(db, by="make_model"),
    }
    rows = []
    for name in VIEWS:
        t, c = timed(lambda name=name: db.execute(f"SELECT * FROM {name}").fetchall())
        f = timed(equal[name]) if name in equal else None
        rows.append((f"view `{name}`", t, c, f))
    for name, q in QUERIES.items():
        t, c = timed(lambda q=q: db.execute(q["sql"]).fetchall())
        rows.append((f"stored query `{name}`", t, c, None))
    print(
        f"On {events:,} events and {attempts:,} attempts (load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores):\n"
    )
    print("| read | wall | CPU | its analysis function (wall) |")
    print("|---|---:|---:|---:|")
    for label, t, c, f in rows:
        print(f"| {label} | {t:.2f} s | {c:.2f} s | {'' if f is None else f'{f[0]:.2f} s'} |")


if __name__ == "__main__":
    main()
