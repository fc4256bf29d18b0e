"""Attempts and retries: the redirects that share a ``state``, their reloads, retries and
recoveries, and retries under a new ``state`` linked by client (notebook 01, with the funnel)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..store import RETRY_WINDOW_MINUTES
from ._sql import (
    STATE_ATTEMPT,
    DbLike,
    check_period,
    connect,
    day_expr,
    filters,
    query,
    roll_up,
)
from .stats import add_rate

__all__ = ["RETRY_WINDOW_MINUTES", "attempts", "attempt_summary"]


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
        Attempts whose first redirect is in this range (all of their redirects count).
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
    where, params = filters(since, until, include_test, ts="first_ts")
    frame = query(
        db,
        f"""SELECT state, first_ts, last_ts, redirects, events, redirects - events AS reloads,
               events - 1 AS retries, success_events, error_events, first_outcome, final_outcome,
               final_error_code,
               COALESCE(error_events > 0 AND last_success_ts > first_error_ts, 0) AS recovered
        FROM attempts WHERE events > 0 AND {STATE_ATTEMPT} AND {where}
        ORDER BY first_ts, state""",
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
    error, how many still ended up connected under the same state*.

    Most retries get a new ``state`` (the app starts Connect afresh), so they are separate
    attempts.  They are linked by inference: an attempt that *ended* in an error is
    ``retried_inferred`` when the same client (client IP + user agent, or ``user_id``) started
    another attempt within :data:`RETRY_WINDOW_MINUTES` after the error, and
    ``recovered_inferred`` when that retry succeeded.  ``linkable`` counts the attempts ending
    in an error that have a client at all; the inferred shares are over those, and are NaN
    (cannot be measured) when the logs carry no client.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Inclusive start and exclusive end (UTC).
    period : {"hour", "day", "week", "month"} or None, default None
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
        success over attempts) with bounds; ``ended_in_error``, ``linkable``,
        ``retried_inferred``, ``recovered_inferred``, and ``linkable_share`` (linkable /
        ended_in_error), ``retried_share`` and ``recovered_inferred_share`` (over linkable),
        each with bounds.

    Examples
    --------
    >>> attempt_summary(db).loc[0, "recovered_share"]  # doctest: +SKIP
    0.5
    """
    check_period(period, allow_none=True)
    db = connect(db)
    where, params = filters(since, until, include_test, ts="first_ts")
    att = query(
        db,
        f"""SELECT {day_expr(period, "first_ts")} AS period,
               COUNT(*) AS attempts,
               SUM(redirects) AS stated_redirects,
               SUM(redirects - events) AS reloads,
               SUM(events > 1) AS attempts_with_retry,
               SUM(events - 1) AS retries,
               SUM(success_events > 0) AS attempts_succeeded,
               SUM(error_events > 0) AS attempts_with_error,
               SUM(error_events > 0 AND last_success_ts > first_error_ts) AS recovered
        FROM attempts WHERE events > 0 AND {STATE_ATTEMPT} AND {where} GROUP BY 1""",
        params,
    )
    att = roll_up(att, period)
    where_s, params_s = filters(since, until, include_test)
    stateless = roll_up(
        query(
            db,
            f"""SELECT {day_expr(period)} AS period, COUNT(*) AS stateless_redirects
            FROM events WHERE state IS NULL AND {where_s} GROUP BY 1""",
            params_s,
        ),
        period,
    )
    linked = query(
        db,
        f"""SELECT {day_expr(period, "first_ts")} AS period, COUNT(*) AS ended_in_error,
               SUM(client IS NOT NULL OR user_id IS NOT NULL) AS linkable,
               COALESCE(SUM(retried), 0) AS retried_inferred,
               COALESCE(SUM(retry_succeeded), 0) AS recovered_inferred
        FROM attempts WHERE final_outcome = 'error' AND events > 0 AND {STATE_ATTEMPT} AND {where}
        GROUP BY 1""",
        params,
    )
    linked = roll_up(linked, period)
    att = att.merge(linked, on="period", how="outer")
    frame = att.merge(stateless, on="period", how="outer")
    if frame.empty:
        frame = pd.DataFrame([{"period": "all"}])
    counts = [
        "stateless_redirects", "stated_redirects", "reloads", "attempts",
        "attempts_with_retry", "retries", "attempts_succeeded", "attempts_with_error",
        "recovered", "ended_in_error", "linkable", "retried_inferred", "recovered_inferred",
    ]  # fmt: skip
    frame = frame.reindex(columns=["period", *counts])
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame.insert(1, "redirects", frame["stateless_redirects"] + frame["stated_redirects"])
    add_rate(frame, "recovered_share", "recovered", "attempts_with_error", alpha)
    add_rate(frame, "attempt_success_rate", "attempts_succeeded", "attempts", alpha)
    add_rate(frame, "linkable_share", "linkable", "ended_in_error", alpha)
    # Over the attempts that could be linked at all: an attempt without a client cannot show
    # a retry, and counting it would read as "did not retry".
    add_rate(frame, "retried_share", "retried_inferred", "linkable", alpha)
    add_rate(frame, "recovered_inferred_share", "recovered_inferred", "linkable", alpha)
    if period is None:
        return frame.drop(columns="period")
    frame["period"] = pd.to_datetime(frame["period"])
    return frame.sort_values("period").reset_index(drop=True)
