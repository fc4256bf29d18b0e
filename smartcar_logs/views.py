"""The SQL views: the report's numbers for anyone with ``sqlite3``, Datasette or a BI tool.

Each view counts the way :mod:`smartcar_logs.analysis` does (tests/test_views.py holds them
equal): reloads of one redirect count once (they read the ``events`` table, not
``redirects``), test traffic is left out, rates are over success + error events and come with
their 95 % Wilson interval.  ``raw_daily_outcomes`` is the one exception, named as such: log
lines as they are, test traffic included.

The views are plain SQLite (no extension functions, not even ``sqrt``, which needs a build
with math functions), so every SQLite reads them.  :func:`ensure_views` (called by
:func:`smartcar_logs.store.ensure_schema`) creates them and replaces the ones an older
version made.
"""

from __future__ import annotations

import sqlite3
from statistics import NormalDist

from .redirect import UNKNOWN

__all__ = ["VIEWS", "RETIRED_VIEWS", "CONVERSION_WINDOW_MINUTES", "ensure_views", "wilson_sql"]

#: A redirect more than this many minutes after its launch is ``late`` in the funnel.
#: Connect is done in one sitting, so an hour is generous.
CONVERSION_WINDOW_MINUTES = 60

#: z of the 95 % interval every rate view carries (analysis' default alpha = 0.05).
_Z = NormalDist().inv_cdf(1 - 0.05 / 2)


def _sqrt_sql(w: str) -> str:
    """SQL for the square root of *w* (an expression >= 0.9 and < 4**32) without ``sqrt``.

    Newton's method from a guess that is exact at every power of 4 and within 6 % between
    them (the chord of the root over the band); four steps take that to double precision
    (error 0.06 -> 2e-3 -> 2e-6 -> 2e-12 -> 0). Written as nested expressions of a CTE-free
    ``(SELECT ... FROM (SELECT ...))`` so each step names the last one once.
    """
    bands = " ".join(f"WHEN w < {4 ** (j + 1)} THEN (2.0 * {2**j} + w / {2**j}) / 3" for j in range(32))
    x = f"(SELECT CASE {bands} ELSE w END AS x, w FROM (SELECT {w} AS w))"
    for _ in range(4):
        x = f"(SELECT (x + w / x) / 2 AS x, w FROM {x})"
    return f"(SELECT x FROM {x})"


def wilson_sql(k: str, n: str) -> tuple[str, str]:
    """SQL for the lower and upper 95 % Wilson bounds of *k* / *n* (column names).

    The same numbers as :func:`smartcar_logs.analysis.wilson_interval`: NULL where n = 0,
    exactly 0 for k = 0 and 1 for k = n; ``(k + z²/2) / (n + z²) ± z / (n + z²) ·
    sqrt(k (n - k) / n + z²/4)``.
    """
    z2 = _Z * _Z
    centre = f"(({k} + {z2 / 2!r}) / ({n} + {z2!r}))"
    half = f"({_Z!r} / ({n} + {z2!r}) * {_sqrt_sql(f'(1.0 * {k} * ({n} - {k}) / {n} + {z2 / 4!r})')})"
    lo = f"CASE WHEN {n} <= 0 THEN NULL WHEN {k} <= 0 THEN 0.0 ELSE max(0.0, {centre} - {half}) END"
    hi = f"CASE WHEN {n} <= 0 THEN NULL WHEN {k} >= {n} THEN 1.0 ELSE min(1.0, {centre} + {half}) END"
    return lo, hi


def _rate(name: str, k: str, n: str) -> str:
    lo, hi = wilson_sql(k, n)
    return (
        f"CASE WHEN {n} > 0 THEN 1.0 * {k} / {n} END AS {name},\n"
        f"           {lo} AS {name}_lo,\n           {hi} AS {name}_hi"
    )


# The events the report counts: reloads collapsed (the events table), test traffic out.
_EVENTS = "events WHERE is_test = 0"
_DENIED = "(outcome = 'error' AND error_code = 'access_denied')"
# The Monday that starts the ISO week of a day (back 6 days, then on to the next Monday).
_WEEK = "date({}, '-6 days', 'weekday 1')"


def _rates_view(name: str, unit: str, key: str, step: str) -> str:
    """Rates per *unit* (day or week) for every period from the first to the last with an
    event, gaps included with n = 0, as :func:`smartcar_logs.analysis.rates` gives them."""
    return f"""CREATE VIEW {name} AS
WITH counts AS (
    SELECT {key} AS {unit},
           COALESCE(SUM(outcome IN ('success', 'error')), 0) AS n,
           COALESCE(SUM(outcome = 'success'), 0) AS success,
           COALESCE(SUM(outcome = 'error'), 0) AS errors,
           COALESCE(SUM({_DENIED}), 0) AS denied,
           COALESCE(SUM(outcome = 'empty'), 0) AS empty
    FROM {_EVENTS} AND ts IS NOT NULL
    GROUP BY 1
),
periods({unit}) AS (
    SELECT MIN({unit}) FROM counts
    UNION ALL
    SELECT date({unit}, '{step}') FROM periods WHERE {unit} < (SELECT MAX({unit}) FROM counts)
),
per AS (
    SELECT p.{unit}, COALESCE(c.n, 0) AS n, COALESCE(c.success, 0) AS success,
           COALESCE(c.errors, 0) AS errors, COALESCE(c.denied, 0) AS denied, COALESCE(c.empty, 0) AS empty
    FROM periods AS p LEFT JOIN counts AS c USING ({unit})
    WHERE p.{unit} IS NOT NULL
)
SELECT {unit}, n, success, errors, denied, empty,
       {_rate("denial_rate", "denied", "n")},
       {_rate("failure_rate", "errors", "n")}
FROM per
ORDER BY {unit}"""


_DAILY_OUTCOMES = f"""CREATE VIEW daily_outcomes AS
SELECT substr(ts, 1, 10) AS day,
       outcome,
       COALESCE(category, outcome) AS category,
       CASE WHEN outcome = 'error' THEN COALESCE(error_code, '') END AS error_code,
       COUNT(*) AS n,
       SUM(hits) AS lines
FROM {_EVENTS} AND ts IS NOT NULL
GROUP BY 1, 2, 3, 4
ORDER BY day, n DESC"""

_RAW_DAILY_OUTCOMES = """CREATE VIEW raw_daily_outcomes AS
SELECT substr(ts, 1, 10) AS day, outcome, category, error_code, is_test, COUNT(*) AS lines
FROM redirects
GROUP BY 1, 2, 3, 4, 5
ORDER BY day, lines DESC"""

# Launch cohorts by the day of their first launch line, plus the launches without a state
# (which cannot be followed) by their own day: analysis.funnel_summary(period="day").
_DAILY_FUNNEL = f"""CREATE VIEW daily_funnel AS
WITH parts AS (
    SELECT substr(launched, 1, 10) AS day,
           launch_lines AS state_lines, 1 AS launched, first_ts IS NOT NULL AS returned,
           COALESCE(secs_redirect > {CONVERSION_WINDOW_MINUTES} * 60.0, 0) AS late,
           first_success_ts IS NOT NULL AS succeeded, 0 AS launches_without_state
    FROM attempts WHERE launch_lines > 0 AND is_test = 0
    UNION ALL
    SELECT substr(ts, 1, 10), 0, 0, 0, 0, 0, 1
    FROM launches WHERE state IS NULL OR state = ''
),
days AS (
    SELECT day, SUM(state_lines) + SUM(launches_without_state) AS launch_lines,
           SUM(launches_without_state) AS launches_without_state,
           SUM(state_lines) - SUM(launched) AS launch_reloads,
           SUM(launched) AS launched, SUM(returned) AS returned, SUM(late) AS late,
           SUM(succeeded) AS succeeded, SUM(launched) - SUM(returned) AS abandoned
    FROM parts GROUP BY day
)
SELECT day, launch_lines, launches_without_state, launch_reloads, launched, returned, late, succeeded,
       abandoned,
       {_rate("abandonment_rate", "abandoned", "launched")},
       {_rate("conversion_rate", "succeeded", "launched")}
FROM days
ORDER BY day"""

_INCOMPATIBLE_VEHICLES = f"""CREATE VIEW incompatible_vehicles AS
WITH inc AS (
    SELECT COALESCE(NULLIF(make, ''), NULLIF(vin_make, ''), '{UNKNOWN}') AS make,
           COALESCE(NULLIF(model, ''), '{UNKNOWN}') AS model,
           COALESCE(year, vin_year) AS year,
           NULLIF(make, '') IS NULL AND NULLIF(vin_make, '') IS NOT NULL AS make_from_vin,
           (NULLIF(make, '') IS NULL AND vin_make IS NOT NULL) OR (year IS NULL AND vin_year IS NOT NULL)
               AS from_vin
    FROM {_EVENTS} AND outcome = 'error' AND error_code = 'vehicle_incompatible'
)
SELECT make, model, year, COUNT(*) AS n,
       1.0 * COUNT(*) / (SELECT COUNT(*) FROM inc) AS share,
       SUM(make_from_vin) AS make_from_vin, SUM(from_vin) AS from_vin
FROM inc
GROUP BY make, model, year
ORDER BY n DESC, make, model, year"""

#: name -> ``CREATE VIEW`` statement, exactly as SQLite keeps it in ``sqlite_master.sql``.
VIEWS: dict[str, str] = {
    "daily_outcomes": _DAILY_OUTCOMES,
    "raw_daily_outcomes": _RAW_DAILY_OUTCOMES,
    "daily_rates": _rates_view("daily_rates", "day", "substr(ts, 1, 10)", "+1 day"),
    "weekly_rates": _rates_view("weekly_rates", "week", _WEEK.format("substr(ts, 1, 10)"), "+7 days"),
    "daily_funnel": _DAILY_FUNNEL,
    "incompatible_vehicles": _INCOMPATIBLE_VEHICLES,
}

#: Views older versions made and nothing replaces: dropped when found.
RETIRED_VIEWS: tuple[str, ...] = ()


def _stale(conn: sqlite3.Connection) -> bool:
    have = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
    return any(have.get(name) != sql for name, sql in VIEWS.items()) or any(n in have for n in RETIRED_VIEWS)


def ensure_views(conn: sqlite3.Connection) -> None:
    """Create the views, replacing any whose definition differs from :data:`VIEWS`.

    Reads only when they are as declared: ``summary`` must not take the write lock an import
    in another process holds. A change is made in one transaction (the caller's, if open).
    """
    if not _stale(conn):
        return
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        if _stale(conn):  # another process may have done it while we waited for the lock
            for name in (*VIEWS, *RETIRED_VIEWS):
                conn.execute(f"DROP VIEW IF EXISTS {name}")
            for sql in VIEWS.values():
                conn.execute(sql)
        if own:
            conn.execute("COMMIT")
    except BaseException:
        if own and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
