"""The connection funnel: Connect launched → redirect received → success, and how long it
takes (notebook 01).  Needs launches (import with ``--launch-path``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from ._sql import (
    HAS_STATE,
    NO_STATE,
    DbLike,
    check_period,
    connect,
    filters,
    period_expr,
    query,
)
from .stats import add_rate

__all__ = [
    "CONVERSION_WINDOW_MINUTES",
    "funnel_summary",
    "funnel",
    "time_to_complete",
]

#: Connect is done in one sitting, so an hour is generous.
CONVERSION_WINDOW_MINUTES = 60


def _funnel_cte(since: Any, until: Any, include_test: bool) -> tuple[str, list[Any]]:
    """``l``: launch attempts (distinct states) in range; ``j``: l joined to their redirects."""
    where, params = filters(since, until, True, test_col=None)
    test_and = "" if include_test else "AND is_test = 0"
    not_test = (
        ""
        if include_test
        else f"AND state NOT IN (SELECT state FROM redirects WHERE is_test = 1 AND {HAS_STATE})"
    )
    cte = f"""
    WITH l AS (
        SELECT state, MIN(ts) AS launched, COUNT(*) AS hits
        FROM launches WHERE {where} AND {HAS_STATE} {not_test}
        GROUP BY state
    ),
    r AS (
        -- one aggregate only, so SQLite takes category/outcome from the first redirect's row
        SELECT state, MIN(ts) AS first_redirect, COALESCE(category, outcome) AS outcome
        FROM redirects
        WHERE state IN (SELECT state FROM l) {test_and}
        GROUP BY state
    ),
    s AS (
        SELECT state, MIN(ts) AS first_success
        FROM redirects
        WHERE state IN (SELECT state FROM l) AND outcome = 'success' {test_and}
        GROUP BY state
    ),
    j AS (
        SELECT l.state, l.launched, l.hits, r.first_redirect, s.first_success, r.outcome,
               ROUND((julianday(r.first_redirect) - julianday(l.launched)) * 86400.0, 3)
                   AS secs_redirect,
               ROUND((julianday(s.first_success) - julianday(l.launched)) * 86400.0, 3)
                   AS secs_success
        FROM l LEFT JOIN r ON r.state = l.state
        LEFT JOIN s ON s.state = l.state
    )"""
    return cte, params


def funnel_summary(
    db: DbLike,
    since: Any = None,
    until: Any = None,
    period: str | None = None,
    include_test: bool = False,
    window_minutes: int = CONVERSION_WINDOW_MINUTES,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Launch → redirect → success counts, abandonment and conversion, by launch period.

    Needs launches (import with ``--launch-path``).  The unit is the launch ``state``: a launch
    page loaded twice with one ``state`` is one launch attempt.  Launches are bucketed by the
    date of their first launch line (cohort), and their redirects are looked up whenever they
    came, so a late return still counts; ``late`` flags returns more than *window_minutes*
    after the launch.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Range of launch timestamps (inclusive, exclusive), and of the redirects counted as
        orphans.
    period : {"day", "week", "month"} or None, default None
    include_test : bool, default False
        When False, launches whose ``state`` came back on a test redirect are dropped.
    window_minutes : int, default :data:`CONVERSION_WINDOW_MINUTES`
    alpha : float, default 0.05

    Returns
    -------
    pandas.DataFrame
        ``period`` (if requested), ``launch_lines``, ``launches_without_state``,
        ``launch_reloads``, ``launched`` (distinct states), ``returned`` (any redirect came
        back), ``late``, ``succeeded``, ``abandoned`` (= launched - returned),
        ``abandonment_rate`` and ``conversion_rate`` (succeeded / launched) with Wilson
        bounds; with period None also ``orphan_redirect_states`` (redirect states in range with
        no launch at all, a data-quality count kept out of the rates) and
        ``stateless_redirects``.

    Examples
    --------
    >>> funnel_summary(db).loc[0, ["launched", "returned", "succeeded"]]  # doctest: +SKIP
    """
    check_period(period, allow_none=True)
    db = connect(db)
    cte, params = _funnel_cte(since, until, include_test)
    frame = query(
        db,
        f"""{cte}
        SELECT {period_expr(period, "launched")} AS period,
               SUM(hits) AS state_lines,
               COUNT(*) AS launched,
               SUM(first_redirect IS NOT NULL) AS returned,
               SUM(secs_redirect > ? * 60.0) AS late,
               SUM(first_success IS NOT NULL) AS succeeded
        FROM j GROUP BY 1""",
        [*params, window_minutes],
    )
    where_l, params_l = filters(since, until, True, test_col=None)
    stateless = query(
        db,
        f"""SELECT {period_expr(period)} AS period, COUNT(*) AS launches_without_state
        FROM launches WHERE {where_l} AND {NO_STATE} GROUP BY 1""",
        params_l,
    )
    frame = frame.merge(stateless, on="period", how="outer")
    if frame.empty and period is None:
        frame = pd.DataFrame([{"period": "all"}])
    counts = ["state_lines", "launches_without_state", "launched", "returned", "late", "succeeded"]
    frame = frame.reindex(columns=["period", *counts])
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame.insert(1, "launch_lines", frame["state_lines"] + frame["launches_without_state"])
    frame.insert(3, "launch_reloads", frame["state_lines"] - frame["launched"])
    frame = frame.drop(columns="state_lines")
    frame["abandoned"] = frame["launched"] - frame["returned"]
    add_rate(frame, "abandonment_rate", "abandoned", "launched", alpha)
    add_rate(frame, "conversion_rate", "succeeded", "launched", alpha)
    if period is not None:
        frame["period"] = pd.to_datetime(frame["period"])
        return frame.sort_values("period").reset_index(drop=True)
    frame = frame.drop(columns="period")
    where_r, params_r = filters(since, until, include_test)
    frame["orphan_redirect_states"] = db.execute(
        f"""SELECT COUNT(DISTINCT state) FROM redirects
        WHERE {where_r} AND {HAS_STATE}
          AND NOT EXISTS (SELECT 1 FROM launches WHERE launches.state = redirects.state)""",
        params_r,
    ).fetchone()[0]
    frame["stateless_redirects"] = db.execute(
        f"SELECT COUNT(*) FROM redirects WHERE {where_r} AND {NO_STATE}", params_r
    ).fetchone()[0]
    return frame


def funnel(
    db: DbLike,
    since: Any = None,
    until: Any = None,
    include_test: bool = False,
) -> pd.DataFrame:
    """The connection funnel as steps: Connect launched → redirect received → success.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Range of launch timestamps (inclusive, exclusive).
    include_test : bool, default False

    Returns
    -------
    pandas.DataFrame
        Three rows, columns ``step``, ``n``, ``share_of_launches`` (overall conversion) and
        ``share_of_previous`` (relative to the step before).  All zero when no launches were
        imported.

    Examples
    --------
    >>> funnel(db)  # doctest: +SKIP
                    step  n  share_of_launches  share_of_previous
    0   Connect launched  8              1.000              1.000
    1  Redirect received  5              0.625              0.625
    2            Success  3              0.375              0.600
    """
    s = funnel_summary(db, since, until, None, include_test)
    n = [int(s.loc[0, c]) for c in ("launched", "returned", "succeeded")]
    frame = pd.DataFrame({"step": ["Connect launched", "Redirect received", "Success"], "n": n})
    first = n[0]
    frame["share_of_launches"] = [v / first if first else np.nan for v in n]
    frame["share_of_previous"] = [
        1.0 if first else np.nan,
        *[(b / a if a else np.nan) for a, b in zip(n, n[1:])],
    ]
    return frame


def _grouped_quantiles(
    db: sqlite_utils.Database,
    cte: str,
    values: str,
    params: Sequence[Any],
    qs: Sequence[float],
) -> dict[str, tuple[int, list[float]]]:
    """Per-group n and quantiles (linear interpolation, as pandas) computed inside SQLite.

    *values* is a SELECT of ``grp, x`` rows (after *cte*); NULL and negative x are skipped.
    SQLite numbers the sorted values per group with a window function and only the (at most
    two) rows around each quantile position come back to Python.
    """
    positions = []
    for q in qs:
        positions.append(f"i = CAST((n - 1) * {float(q)!r} AS INTEGER)")
        positions.append(f"i = CAST((n - 1) * {float(q)!r} AS INTEGER) + 1")
    rows = db.execute(
        f"""{cte}, v AS ({values}),
        o AS (SELECT grp, x, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY x) - 1 AS i,
                     COUNT(*) OVER (PARTITION BY grp) AS n
              FROM v WHERE x >= 0)
        SELECT grp, n, i, x FROM o WHERE {" OR ".join(positions)}""",
        list(params),
    ).fetchall()
    by_group: dict[str, tuple[int, dict[int, float]]] = {}
    for grp, n, i, x in rows:
        by_group.setdefault(grp, (n, {}))[1][i] = x
    out = {}
    for grp, (n, vals) in by_group.items():
        result = []
        for q in qs:
            pos = (n - 1) * q
            lo = int(math.floor(pos))
            lo_val = vals[lo]
            hi_val = vals.get(lo + 1, lo_val)
            result.append(lo_val + (hi_val - lo_val) * (pos - lo))
        out[grp] = (n, result)
    return out


def time_to_complete(
    db: DbLike, since: Any = None, until: Any = None, include_test: bool = False
) -> pd.DataFrame:
    """Seconds from launch to the first redirect with the same ``state``, by that redirect's outcome.

    Only launches with a ``state`` that came back count; a redirect logged before its launch
    (clock skew between servers) is left out of the timing.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Range of launch timestamps (inclusive, exclusive).
    include_test : bool, default False

    Returns
    -------
    pandas.DataFrame
        One row ``all``, one per first-redirect category (success, denied, …) and one
        ``to success`` (launch to the first success, retries included); columns ``outcome``,
        ``n``, ``median_s``, ``p90_s``.  The median and 90th percentile, not the mean: the
        tail is long.

    Examples
    --------
    >>> time_to_complete(db)  # doctest: +SKIP
          outcome  n  median_s   p90_s
    0         all  8      60.0  2244.0
    """
    db = connect(db)
    cte, params = _funnel_cte(since, until, include_test)
    # One pass over j (referencing it several times makes SQLite recompute it).
    values = """
        SELECT CASE g.grp WHEN 'outcome' THEN j.outcome ELSE g.grp END AS grp,
               CASE g.grp WHEN 'to success' THEN j.secs_success ELSE j.secs_redirect END AS x
        FROM j CROSS JOIN (SELECT 'all' AS grp UNION ALL SELECT 'outcome'
                           UNION ALL SELECT 'to success') AS g"""
    stats = _grouped_quantiles(db, cte, values, params, (0.5, 0.9))
    middle = sorted(k for k in stats if k not in ("all", "to success"))
    rows = [
        {"outcome": k, "n": int(stats[k][0]), "median_s": stats[k][1][0], "p90_s": stats[k][1][1]}
        for k in ["all", *middle, "to success"]
        if k in stats
    ]
    return pd.DataFrame(rows, columns=["outcome", "n", "median_s", "p90_s"])
