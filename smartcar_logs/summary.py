"""Database-wide totals for ``smartcar-logs summary``: plain data, no printing."""

from __future__ import annotations

import sqlite_utils

from .redirect import UNKNOWN
from .store import pending_files

__all__ = ["summarize"]


def summarize(db: sqlite_utils.Database, *, top: int = 10, include_test: bool = False) -> dict:
    """Totals by outcome and error code, the denial rate and the top incompatible vehicles.

    Counts are of redirects with reloads counted once (the same ``state``, outcome and
    error code), exactly as in the analysis layer and the report; ``redirect_lines`` is the
    raw number of log lines. The denial rate is ``access_denied / (success + error)``;
    ``empty`` redirects carry no outcome and stay out of the denominator. Test traffic
    (test VINs, simulated vehicles) is excluded unless *include_test*.
    """
    # Reloads (same state, outcome and error code) count once, as in the analysis layer: both
    # read the events table the importer keeps, one pass over its covering index.
    conn = db.conn
    by_outcome: dict[str, int] = {}
    by_error: dict[str, int] = {}
    by_category: dict[str, int] = {}
    lines = test_rows = 0
    for outcome, code, category, is_test, n, hits in conn.execute(
        "SELECT outcome, error_code, MIN(category), is_test, COUNT(*), SUM(hits) FROM events"
        " GROUP BY outcome, error_code, is_test ORDER BY 5 DESC"
    ):
        if is_test:
            test_rows += hits
            if not include_test:
                continue
        lines += hits
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
        by_category[category] = by_category.get(category, 0) + n
        if outcome == "error":
            by_error[code] = by_error.get(code, 0) + n
    decided = by_outcome.get("success", 0) + by_outcome.get("error", 0)
    denied = by_error.get("access_denied", 0)
    test = "" if include_test else "AND is_test = 0"
    incompatible = f"error_code = 'vehicle_incompatible' {test}"
    makes = [
        {"make": m, "n": n}
        for m, n in conn.execute(
            f"SELECT coalesce(make, '{UNKNOWN}'), COUNT(*) FROM events WHERE {incompatible}"
            " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
            [top],
        )
    ]
    models = [
        {"make": m, "model": mo, "n": n}
        for m, mo, n in conn.execute(
            f"SELECT coalesce(make, '{UNKNOWN}'), coalesce(model, '{UNKNOWN}'), COUNT(*)"
            f" FROM events WHERE {incompatible} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT ?",
            [top],
        )
    ]
    where = "" if include_test else "WHERE is_test = 0"
    first, last = conn.execute(f"SELECT min(ts), max(ts) FROM redirects {where}").fetchone()
    counts = {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("redirects", "launches", "rejects", "sources", "imports")
    }
    # Sources whose last line is waiting for its newline (see importer/run.py).
    waiting = conn.execute("SELECT count(*) FROM sources WHERE waiting > 0").fetchone()[0]
    return {
        "waiting_lines": waiting,
        # Files an import still running (or killed) committed and has not brought into the
        # derived tables yet: the counts above leave them out (see store.derived).
        "files_not_in_analysis": pending_files(conn),
        "redirects": sum(by_outcome.values()),
        "redirect_lines": lines,
        "reloads": lines - sum(by_outcome.values()),
        "by_outcome": by_outcome,
        "by_error_code": by_error,
        "by_category": by_category,
        "denial_rate": (denied / decided) if decided else None,
        "denied": denied,
        "decided": decided,
        "top_incompatible_makes": makes,
        "top_incompatible_models": models,
        "first_ts": first,
        "last_ts": last,
        "test_redirects_excluded": 0 if include_test else test_rows,
        "tables": counts,
    }
