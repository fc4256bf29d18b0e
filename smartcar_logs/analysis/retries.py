"""Attempts and retries: the redirects that share a ``state``, their reloads, retries and recoveries
(notebook 01, with the funnel)."""

from __future__ import annotations

from typing import Any

import pandas as pd

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

__all__ = ["attempts", "attempt_summary"]


def _attempt_ctes(since: Any, until: Any, include_test: bool) -> tuple[str, list[Any]]:
    where, params = filters(since, until, include_test)
    cte = f"""
    WITH base AS (SELECT ts, state, outcome, error_code FROM redirects WHERE {where}),
    ev AS (
        SELECT state, outcome, lower(COALESCE(error_code, '')) AS ec,
               MIN(ts) AS first_ts, COUNT(*) AS hits
        FROM base WHERE {HAS_STATE}
        GROUP BY state, outcome, ec
    ),
    att AS (
        SELECT state, MIN(first_ts) AS first_ts, MAX(first_ts) AS last_ts,
               COUNT(*) AS events, SUM(hits) AS redirects,
               SUM(outcome = 'success') AS success_events,
               SUM(outcome = 'error') AS error_events,
               MIN(CASE WHEN outcome = 'error' THEN first_ts END) AS first_error_ts,
               MAX(CASE WHEN outcome = 'success' THEN first_ts END) AS last_success_ts
        FROM ev GROUP BY state
    )"""
    return cte, params


def attempts(db: DbLike, since: Any = None, until: Any = None, include_test: bool = False) -> pd.DataFrame:
    """One row per attempt: the redirects that share a ``state``.

    An *attempt* is one ``state`` value (one Connect launch).  Its redirects are collapsed into
    *events*: a reload (same outcome and error code again) is not a new event, a different
    outcome is a *retry* (the user ran Connect again under the same ``state``, as the JS SDK
    does within one page).  Stateless redirects are not attempts; :func:`attempt_summary`
    counts them.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Only redirects in this range are looked at (an attempt across the boundary is cut).
    include_test : bool, default False

    Returns
    -------
    pandas.DataFrame
        ``state``, ``first_ts``, ``last_ts`` (first timestamp of the last event),
        ``redirects`` (log lines), ``events``, ``reloads`` (= redirects - events), ``retries``
        (= events - 1), ``success_events``, ``error_events``, ``first_outcome``,
        ``final_outcome`` and ``final_error_code`` (of the first and last event) and
        ``recovered`` (a success came after an error).  Sorted by ``first_ts``.

    Examples
    --------
    >>> attempts(db).query("retries > 0")  # doctest: +SKIP
    """
    db = connect(db)
    cte, params = _attempt_ctes(since, until, include_test)
    frame = query(
        db,
        f"""{cte},
        ranked AS (
            SELECT state, outcome, ec,
                   ROW_NUMBER() OVER (PARTITION BY state ORDER BY first_ts, outcome, ec) AS first_rank,
                   ROW_NUMBER() OVER (PARTITION BY state ORDER BY first_ts DESC, outcome DESC, ec DESC)
                       AS last_rank
            FROM ev
        )
        SELECT att.state, att.first_ts, att.last_ts, att.redirects, att.events,
               att.redirects - att.events AS reloads, att.events - 1 AS retries,
               att.success_events, att.error_events,
               f.outcome AS first_outcome, l.outcome AS final_outcome,
               NULLIF(l.ec, '') AS final_error_code,
               COALESCE(att.error_events > 0 AND att.last_success_ts > att.first_error_ts, 0)
                   AS recovered
        FROM att
        JOIN ranked f ON f.state = att.state AND f.first_rank = 1
        JOIN ranked l ON l.state = att.state AND l.last_rank = 1
        ORDER BY att.first_ts, att.state""",
        params,
    )
    frame["recovered"] = frame["recovered"].astype(bool)
    return frame


def attempt_summary(
    db: DbLike,
    since: Any = None,
    until: Any = None,
    period: str | None = None,
    include_test: bool = False,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Attempt-level numbers: reloads, retries, recovery after an error, stateless redirects.

    Definitions (see :func:`attempts`): an attempt is a ``state``; ``recovered`` counts the
    attempts in which a success arrived after an error (strictly later first timestamp), and
    ``recovered_share`` = recovered / attempts with an error: *of the attempts that hit an
    error, how many still ended up connected*.  A retry under a new ``state`` cannot be linked
    to the first one and is a separate attempt.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Inclusive start and exclusive end (UTC).
    period : {"day", "week", "month"} or None, default None
        Group attempts by the period of their first redirect (stateless redirects by their
        own timestamp); None gives one row.
    include_test : bool, default False
    alpha : float, default 0.05

    Returns
    -------
    pandas.DataFrame
        ``period`` (if requested), ``redirects`` (all lines), ``stateless_redirects``,
        ``stated_redirects``, ``reloads``, ``attempts``, ``attempts_with_retry``, ``retries``,
        ``attempts_succeeded``, ``attempts_with_error``, ``recovered``, ``recovered_share``
        with ``_lo``/``_hi`` Wilson bounds, and ``attempt_success_rate`` (attempts with a
        success over attempts) with bounds.

    Examples
    --------
    >>> attempt_summary(db).loc[0, "recovered_share"]  # doctest: +SKIP
    0.5
    """
    check_period(period, allow_none=True)
    db = connect(db)
    cte, params = _attempt_ctes(since, until, include_test)
    att = query(
        db,
        f"""{cte}
        SELECT {period_expr(period, "first_ts")} AS period,
               COUNT(*) AS attempts,
               SUM(redirects) AS stated_redirects,
               SUM(redirects - events) AS reloads,
               SUM(events > 1) AS attempts_with_retry,
               SUM(events - 1) AS retries,
               SUM(success_events > 0) AS attempts_succeeded,
               SUM(error_events > 0) AS attempts_with_error,
               SUM(error_events > 0 AND last_success_ts > first_error_ts) AS recovered
        FROM att GROUP BY 1""",
        params,
    )
    stateless = query(
        db,
        f"""{cte}
        SELECT {period_expr(period)} AS period, COUNT(*) AS stateless_redirects
        FROM base WHERE {NO_STATE} GROUP BY 1""",
        params,
    )
    frame = att.merge(stateless, on="period", how="outer")
    if frame.empty:
        frame = pd.DataFrame([{"period": "all"}])
    counts = [
        "stateless_redirects", "stated_redirects", "reloads", "attempts",
        "attempts_with_retry", "retries", "attempts_succeeded", "attempts_with_error",
        "recovered",
    ]  # fmt: skip
    frame = frame.reindex(columns=["period", *counts])
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame.insert(1, "redirects", frame["stateless_redirects"] + frame["stated_redirects"])
    add_rate(frame, "recovered_share", "recovered", "attempts_with_error", alpha)
    add_rate(frame, "attempt_success_rate", "attempts_succeeded", "attempts", alpha)
    if period is None:
        return frame.drop(columns="period")
    frame["period"] = pd.to_datetime(frame["period"])
    return frame.sort_values("period").reset_index(drop=True)
