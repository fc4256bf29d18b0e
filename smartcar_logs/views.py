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

from ._sqlite import write_transaction
from .redirect import UNKNOWN

__all__ = [
    "VIEWS",
    "RETIRED_VIEWS",
    "CONVERSION_WINDOW_MINUTES",
    "ensure_views",
    "wilson_ctes",
    "wilson_columns",
    "WILSON",
]

#: A redirect more than this many minutes after its launch is ``late`` in the funnel.
#: Connect is done in one sitting, so an hour is generous.
CONVERSION_WINDOW_MINUTES = 60

#: z of the 95 % interval every rate view carries (analysis' default alpha = 0.05).
_Z = NormalDist().inv_cdf(1 - 0.05 / 2)


_NEWTON_STEPS = 5


def _guess(w: str) -> str:
    """A first guess of sqrt(*w*) for Newton's method: the chord of the root over the band
    [16^j, 16^(j+1)) that holds *w*, exact at the ends and at most 20 % low inside, so five
    steps reach double precision (0.2 -> 2.5e-2 -> 3e-4 -> 5e-8 -> 1e-15 -> 0). Eight bands
    cover n up to about 10^10; above, the arithmetic mean (too high) still converges."""
    bands = " ".join(
        f"WHEN {w} < {16 ** (j + 1)} THEN {4**j} + ({w} - {16**j}) / {5 * 4**j}.0" for j in range(8)
    )
    return f"CASE {bands} ELSE ({2**16} + {w} / {2**16}) / 2.0 END"


def wilson_ctes(source: str, rates: list[tuple[str, str, str]]) -> str:
    """Common table expressions that add, to the rows of *source*, each rate's
    ``sqrt(k (n - k) / n + z²/4)`` as ``root_NAME``, for :func:`wilson_columns`.

    *rates* are ``(name, k, n)`` column names. Plain SQL: SQLite has ``sqrt`` only when built
    with math functions, so the root is Newton's method, one CTE per step (each names the
    last step once; nested in one expression the SQL grew as 2 to the number of steps).
    """
    z2 = _Z * _Z
    w = ", ".join(f"1.0 * {k} * ({n} - {k}) / {n} + {z2 / 4!r} AS w_{name}" for name, k, n in rates)
    ctes = [
        "-- Wilson bounds; the square root by Newton's method (SQLite's needs math functions)\n"
        f"wilson_0 AS (SELECT *, {w} FROM {source})"
    ]
    guess = ", ".join(f"{_guess(f'w_{name}')} AS x_{name}_0" for name, _, _ in rates)
    ctes.append(f"wilson_1 AS (SELECT *, {guess} FROM wilson_0)")
    for i in range(1, _NEWTON_STEPS + 1):
        step = ", ".join(
            f"(x_{name}_{i - 1} + w_{name} / x_{name}_{i - 1}) / 2 AS "
            + (f"root_{name}" if i == _NEWTON_STEPS else f"x_{name}_{i}")
            for name, _, _ in rates
        )
        ctes.append(f"wilson_{i + 1} AS (SELECT *, {step} FROM wilson_{i})")
    return ",\n".join(ctes)


#: The CTE of :func:`wilson_ctes` to select from.
WILSON = f"wilson_{_NEWTON_STEPS + 1}"


def wilson_columns(name: str, k: str, n: str) -> str:
    """``NAME`` (k / n), ``NAME_lo`` and ``NAME_hi`` (its 95 % Wilson bounds), selected from
    :data:`WILSON`: the numbers of :func:`smartcar_logs.analysis.wilson_interval`, NULL where
    n = 0, exactly 0 for k = 0 and 1 for k = n.  ``(k + z²/2) / (n + z²) ± z / (n + z²) · root``.
    """
    z2 = _Z * _Z
    centre = f"(({k} + {z2 / 2!r}) / ({n} + {z2!r}))"
    half = f"({_Z!r} / ({n} + {z2!r}) * root_{name})"
    return (
        f"CASE WHEN {n} > 0 THEN 1.0 * {k} / {n} END AS {name},\n"
        f"       CASE WHEN {n} <= 0 THEN NULL WHEN {k} <= 0 THEN 0.0"
        f" ELSE max(0.0, {centre} - {half}) END AS {name}_lo,\n"
        f"       CASE WHEN {n} <= 0 THEN NULL WHEN {k} >= {n} THEN 1.0"
        f" ELSE min(1.0, {centre} + {half}) END AS {name}_hi"
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
),
{wilson_ctes("per", [("denial_rate", "denied", "n"), ("failure_rate", "errors", "n")])}
SELECT {unit}, n, success, errors, denied, empty,
       {wilson_columns("denial_rate", "denied", "n")},
       {wilson_columns("failure_rate", "errors", "n")}
FROM {WILSON}
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

_FUNNEL_RATES = [("abandonment_rate", "abandoned", "launched"), ("conversion_rate", "succeeded", "launched")]
# Launch cohorts by the day of their first launch line, plus the launches without a state
# (which cannot be followed) by their own day: analysis.funnel_summary(period="day").
_DAILY_FUNNEL = f"""CREATE VIEW daily_funnel AS
WITH parts AS (
    SELECT substr(launched, 1, 10) AS day,
           launch_lines AS state_lines, 1 AS launched, first_ts IS NOT NULL AS returned,
           COALESCE(secs_redirect > {CONVERSION_WINDOW_MINUTES} * 60.0, 0) AS late,
           first_success_ts IS NOT NULL AS succeeded, 0 AS launches_without_state,
           launch_stateless AS launched_inferred,
           launch_stateless AND first_ts IS NOT NULL AS returned_inferred,
           launch_stateless AND first_success_ts IS NOT NULL AS succeeded_inferred,
           0 AS launches_unmeasurable
    FROM attempts WHERE launch_lines > 0 AND is_test = 0
    UNION ALL
    SELECT substr(ts, 1, 10), 0, 0, 0, 0, 0, 1, 0, 0, 0, client_ip IS NULL AND user_agent IS NULL
    FROM launches WHERE state IS NULL OR state = ''
),
days AS (
    -- A stateless launch with a client is an attempt of its own (state_lines counts it); one
    -- without a client is in no attempt, and only in launch_lines and launches_unmeasurable.
    SELECT day, SUM(state_lines) + SUM(launches_unmeasurable) AS launch_lines,
           SUM(launches_without_state) AS launches_without_state,
           SUM(state_lines) - SUM(launched) AS launch_reloads,
           SUM(launched) AS launched, SUM(returned) AS returned, SUM(late) AS late,
           SUM(succeeded) AS succeeded, SUM(launched) - SUM(returned) AS abandoned,
           SUM(launched_inferred) AS launched_inferred, SUM(returned_inferred) AS returned_inferred,
           SUM(succeeded_inferred) AS succeeded_inferred,
           SUM(launches_unmeasurable) AS launches_unmeasurable
    FROM parts GROUP BY day
),
{wilson_ctes("days", _FUNNEL_RATES)}
SELECT day, launch_lines, launches_without_state, launch_reloads, launched, returned, late, succeeded,
       abandoned,
       {wilson_columns("abandonment_rate", "abandoned", "launched")},
       {wilson_columns("conversion_rate", "succeeded", "launched")},
       launched_inferred, returned_inferred, succeeded_inferred,
       1.0 * returned_inferred / NULLIF(launched_inferred, 0) AS paired_share,
       launches_unmeasurable
FROM {WILSON}
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
    with write_transaction(conn):
        if _stale(conn):  # another process may have done it while we waited for the lock
            for name in (*VIEWS, *RETIRED_VIEWS):
                conn.execute(f"DROP VIEW IF EXISTS {name}")
            for sql in VIEWS.values():
                conn.execute(sql)
