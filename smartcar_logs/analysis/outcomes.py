"""What happened to the redirects: headline numbers, outcomes, denial and failure rates, error
codes, and whether a rate changed between two periods (notebook 02)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from ._sql import (
    DENIED,
    INCOMPATIBLE,
    NO_STATE,
    PANDAS_FREQ,
    DbLike,
    bounds,
    check_period,
    connect,
    data_range,
    day_expr,
    events_cte,
    filters,
    period_index,
    query,
    roll_up,
)
from .stats import add_rate, compare_proportions, holm

__all__ = [
    "MIN_N",
    "summary",
    "outcome_counts",
    "rates",
    "error_codes",
    "compare_periods",
    "compare_latest",
    "partial_periods",
]

#: Periods with fewer events than this are drawn hollow in the rate charts: their rates swing.
MIN_N = 10


def summary(db: DbLike, since: Any = None, until: Any = None, include_test: bool = False) -> pd.DataFrame:
    """Headline numbers for a date range, as one row.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Inclusive start and exclusive end (UTC).
    include_test : bool, default False
        Count test redirects in the numbers.

    Returns
    -------
    pandas.DataFrame
        One row: ``first_ts``, ``last_ts``, ``redirects`` (log lines), ``test_redirects``
        (test lines in the range, excluded unless *include_test*), ``reloads``, ``events``
        (reloads collapsed), ``success``, ``errors``, ``empty``, ``denied``, ``incompatible``,
        ``stateless_redirects``, ``launches`` (launch lines in the range), ``denial_rate`` and
        ``failure_rate`` (over events, with ``_lo``/``_hi`` Wilson bounds).

    Examples
    --------
    >>> summary(db, "2026-10-01", "2026-11-01").loc[0, "denial_rate"]  # doctest: +SKIP
    0.25
    """
    db = connect(db)
    # One pass over the events with test traffic, keeping it out of every sum but one: the
    # count of test lines excluded costs no second scan.
    cte, params = events_cte(since, until, True, True, ("is_test",))
    keep = "1" if include_test else "is_test = 0"

    def count(expr: str) -> str:
        return f"COALESCE(SUM(({expr}) AND {keep}), 0)"

    row = query(
        db,
        f"""{cte}
        SELECT MIN(CASE WHEN {keep} THEN ts END) AS first_ts,
               MAX(CASE WHEN {keep} THEN ts END) AS last_ts,
               COALESCE(SUM(CASE WHEN {keep} THEN hits END), 0) AS redirects,
               COALESCE(SUM(CASE WHEN {keep} THEN hits - 1 END), 0) AS reloads,
               {count("1")} AS events,
               {count("outcome = 'success'")} AS success,
               {count("outcome = 'error'")} AS errors,
               {count("outcome = 'empty'")} AS empty,
               {count(DENIED)} AS denied,
               {count(INCOMPATIBLE)} AS incompatible,
               {count(NO_STATE)} AS stateless_redirects,
               COALESCE(SUM(CASE WHEN is_test = 1 THEN hits END), 0) AS test_redirects
        FROM ev""",
        params,
    )
    where_l, params_l = filters(since, until, True, test_col=None)
    row["launches"] = db.execute(f"SELECT COUNT(*) FROM launches WHERE {where_l}", params_l).fetchone()[0]
    row["attempted"] = row["success"] + row["errors"]
    add_rate(row, "denial_rate", "denied", "attempted", 0.05)
    add_rate(row, "failure_rate", "errors", "attempted", 0.05)
    return row


_BY_EXPR = {
    "outcome": "outcome",
    "category": "COALESCE(category, outcome)",
    "error_code": "CASE WHEN outcome = 'error' THEN lower(COALESCE(error_code, '')) ELSE outcome END",
}


def outcome_counts(
    db: DbLike,
    since: Any = None,
    until: Any = None,
    period: str | None = "day",
    by: str = "outcome",
    include_test: bool = False,
    dedupe: bool = True,
) -> pd.DataFrame:
    """Redirect counts and shares per period, by outcome, category or error code.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Inclusive start and exclusive end (UTC).
    period : {"hour", "day", "week", "month"} or None, default "day"
        None gives one row per key for the whole range.
    by : {"outcome", "category", "error_code"}, default "outcome"
        ``outcome`` is success/error/empty; ``category`` is the chart bucket (success,
        denied, exited, incompatible, account, system, other, empty); ``error_code`` is the
        lowercased code for errors and the outcome (``success``, ``empty``) otherwise.
    include_test : bool, default False
    dedupe : bool, default True
        Count reloads once (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Columns ``period`` (when *period* is not None), *by*, ``n`` and ``share`` (n over all
        events of the period, ``empty`` included).  Sorted by period, then n descending.

    Examples
    --------
    >>> outcome_counts(db, period="week", by="category")  # doctest: +SKIP
          period      category  n     share
    0 2026-10-05       success  4  0.363636
    """
    check_period(period, allow_none=True)
    if by not in _BY_EXPR:
        raise ValueError(f"by: expected one of {', '.join(_BY_EXPR)}, got {by!r}")
    db = connect(db)
    cte, params = events_cte(since, until, include_test, dedupe)
    where_ts = "WHERE ts IS NOT NULL" if period else ""
    frame = query(
        db,
        f"""{cte}
        SELECT {day_expr(period)} AS period, {_BY_EXPR[by]} AS "{by}", COUNT(*) AS n
        FROM ev {where_ts}
        GROUP BY 1, 2""",
        params,
    )
    frame = roll_up(frame, period, [by])
    frame["n"] = frame["n"].astype("int64")
    totals = frame.groupby("period")["n"].transform("sum")
    frame["share"] = frame["n"] / totals
    frame = frame.sort_values(["period", "n", by], ascending=[True, False, True])
    if period is None:
        frame = frame.drop(columns="period")
    else:
        frame["period"] = pd.to_datetime(frame["period"])
    return frame.reset_index(drop=True)


def rates(
    db: DbLike,
    since: Any = None,
    until: Any = None,
    period: str | None = "week",
    include_test: bool = False,
    dedupe: bool = True,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Denial rate and failure rate per period, each with a Wilson interval.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Inclusive start and exclusive end (UTC).
    period : {"hour", "day", "week", "month"} or None, default "week"
        None gives a single row for the whole range.  Periods in the range without any
        redirect are present with n = 0 and NaN rates, so charts show the gap.
    include_test : bool, default False
    dedupe : bool, default True
        Count reloads once.
    alpha : float, default 0.05
        1 - confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        ``period``, ``n`` (success + error events), ``success``, ``errors``, ``denied``,
        ``empty``, ``denial_rate``, ``denial_rate_lo``, ``denial_rate_hi``, ``failure_rate``,
        ``failure_rate_lo``, ``failure_rate_hi``.

    Examples
    --------
    >>> r = rates(db, "2026-10-05", "2026-10-19", period="week")  # doctest: +SKIP
    >>> r[["period", "n", "denied", "denial_rate"]]  # doctest: +SKIP
          period  n  denied  denial_rate
    0 2026-10-05  9       3     0.333333
    """
    check_period(period, allow_none=True)
    db = connect(db)
    cte, params = events_cte(since, until, include_test, dedupe)
    where_ts = "WHERE ts IS NOT NULL" if period else ""
    frame = query(
        db,
        f"""{cte}
        SELECT {day_expr(period)} AS period,
               COALESCE(SUM(outcome IN ('success', 'error')), 0) AS n,
               COALESCE(SUM(outcome = 'success'), 0) AS success,
               COALESCE(SUM(outcome = 'error'), 0) AS errors,
               COALESCE(SUM({DENIED}), 0) AS denied,
               COALESCE(SUM(outcome = 'empty'), 0) AS empty
        FROM ev {where_ts}
        GROUP BY 1 ORDER BY 1""",
        params,
    )
    frame = roll_up(frame, period)
    counts = ["n", "success", "errors", "denied", "empty"]
    if period is None:
        if frame.empty:
            frame = pd.DataFrame([{"period": "all", **{c: 0 for c in counts}}])
        frame = frame.drop(columns="period")
    else:
        frame["period"] = pd.to_datetime(frame["period"])
        index = period_index(db, period, since, until, frame["period"])
        frame = (
            frame.set_index("period")
            .reindex(index.union(pd.DatetimeIndex(frame["period"])), fill_value=0)
            .rename_axis("period")
            .reset_index()
        )
    frame[counts] = frame[counts].astype("int64")
    add_rate(frame, "denial_rate", "denied", "n", alpha)
    add_rate(frame, "failure_rate", "errors", "n", alpha)
    return frame


def error_codes(
    db: DbLike,
    since: Any = None,
    until: Any = None,
    include_test: bool = False,
    dedupe: bool = True,
) -> pd.DataFrame:
    """Error redirects by error code, with their category and an example description.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Inclusive start and exclusive end (UTC).
    include_test : bool, default False
    dedupe : bool, default True

    Returns
    -------
    pandas.DataFrame
        ``error_code`` (lowercased), ``category``, ``known`` (a documented Connect code),
        ``n``, ``share`` (of error redirects) and ``example_description`` (the most frequent
        description; log text, escape it before putting it in HTML).  Most frequent first.

    Examples
    --------
    >>> error_codes(db).head()  # doctest: +SKIP
    """
    db = connect(db)
    cte, params = events_cte(
        since, until, include_test, dedupe, ("error_known", "error_description"), where="outcome = 'error'"
    )
    # One grouped pass; the most frequent description per code is picked here (a window
    # function in a correlated subquery recomputed itself per code: 6 s at a million).
    parts = query(
        db,
        f"""{cte}
        SELECT COALESCE(error_code, '') AS error_code, error_description AS description,
               MIN(category) AS category, MAX(error_known) AS known, COUNT(*) AS n
        FROM ev WHERE outcome = 'error' GROUP BY 1, 2""",
        params,
    )
    frame = parts.groupby("error_code", as_index=False, sort=False).agg(
        category=("category", "min"), known=("known", "max"), n=("n", "sum")
    )
    described = parts.dropna(subset=["description"]).sort_values(
        ["error_code", "n", "description"], ascending=[True, False, True]
    )
    example = described.drop_duplicates("error_code").set_index("error_code")["description"]
    frame["example_description"] = frame["error_code"].map(example)
    frame = frame.sort_values(["n", "error_code"], ascending=[False, True]).reset_index(drop=True)
    frame["n"] = frame["n"].astype("int64")
    frame["known"] = pd.array(
        [None if v is None or pd.isna(v) else bool(v) for v in frame["known"]], dtype="boolean"
    )
    frame.insert(4, "share", frame["n"] / frame["n"].sum() if len(frame) else [])
    return frame


def _rate_counts(
    db: sqlite_utils.Database, since: Any, until: Any, include_test: bool, dedupe: bool
) -> dict[str, int]:
    row = rates(db, since, until, period=None, include_test=include_test, dedupe=dedupe)
    return {k: int(row.loc[0, k]) for k in ("n", "denied", "errors")}


def compare_periods(
    db: DbLike,
    before: tuple[Any, Any],
    after: tuple[Any, Any],
    include_test: bool = False,
    dedupe: bool = True,
    alpha: float = 0.05,
    method: str = "auto",
) -> pd.DataFrame:
    """Compare the denial and failure rates of two date ranges and say if the change is significant.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    before, after : (since, until) tuples
        The two ranges, each inclusive start / exclusive end.
    include_test : bool, default False
    dedupe : bool, default True
    alpha : float, default 0.05
        Significance level, also used for the interval of the difference.
    method : {"auto", "ztest", "fisher"}, default "auto"
        ``ztest`` is the pooled two-proportion z-test
        (``statsmodels.stats.proportion.proportions_ztest``); ``fisher`` is Fisher's exact
        test (``scipy.stats.fisher_exact``).  ``auto`` uses Fisher when any expected cell count
        is below 5, where the normal approximation is poor, and the z-test otherwise.

    Returns
    -------
    pandas.DataFrame
        Indexed by metric (``denial_rate``, ``failure_rate``), columns ``k_before``,
        ``n_before``, ``rate_before``, ``k_after``, ``n_after``, ``rate_after``, ``diff``
        (after - before), ``diff_lo``, ``diff_hi`` (Newcombe interval of the difference,
        ``confint_proportions_2indep``), ``test``, ``p_value``, ``p_holm`` (Holm-adjusted over
        the two rates, since both are tested at once) and ``significant`` (p_holm < alpha).
        When either range has n = 0 the test is ``"n/a"`` and nothing is significant.

    Examples
    --------
    >>> compare_periods(db, ("2026-09-01", "2026-10-01"), ("2026-10-01", "2026-11-01"))
    ... # doctest: +SKIP
    """
    if method not in ("auto", "ztest", "fisher"):
        raise ValueError(f"method: expected auto, ztest or fisher, got {method!r}")
    db = connect(db)
    a = _rate_counts(db, before[0], before[1], include_test, dedupe)
    b = _rate_counts(db, after[0], after[1], include_test, dedupe)
    return _compare_counts(a, b, alpha, method)


def _compare_counts(a: dict[str, int], b: dict[str, int], alpha: float, method: str) -> pd.DataFrame:
    """The tests of :func:`compare_periods` on counts, Holm-corrected over the rates tested."""
    rows = []
    for metric, key in (("denial_rate", "denied"), ("failure_rate", "errors")):
        k1, n1, k2, n2 = a[key], a["n"], b[key], b["n"]
        row: dict[str, Any] = {
            "metric": metric,
            "k_before": k1,
            "n_before": n1,
            "rate_before": k1 / n1 if n1 else np.nan,
            "k_after": k2,
            "n_after": n2,
            "rate_after": k2 / n2 if n2 else np.nan,
        }
        row["diff"] = row["rate_after"] - row["rate_before"]
        if n1 == 0 or n2 == 0:
            row.update(diff_lo=np.nan, diff_hi=np.nan, test="n/a", p_value=np.nan)
        else:
            row.update(compare_proportions(k1, n1, k2, n2, alpha, method))
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("metric")
    frame["p_holm"] = holm(frame["p_value"].to_numpy())
    frame["significant"] = (frame["test"] != "n/a") & (frame["p_holm"] < alpha)
    return frame


def partial_periods(
    db: DbLike,
    periods: Any,
    period: str,
    since: Any = None,
    until: Any = None,
    include_test: bool = False,
) -> list[pd.Timestamp]:
    """The periods of *periods* that the data does not cover whole.

    A period is complete when it starts on or after the start of the range (*since*, else the
    first record's day, or its hour by hour) and ends on or before the end of the range
    (*until*, else the day, or hour, of the last record, which is taken as still running).
    Charts mark the others; :func:`compare_latest` leaves them out.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    periods : iterable of date-like
        Period starts, as in the ``period`` column of :func:`rates`.
    period : {"hour", "day", "week", "month"}
    since, until : date-like, optional
    include_test : bool, default False

    Returns
    -------
    list of pandas.Timestamp
        In the order given.

    Examples
    --------
    >>> partial_periods(db, rates(db, period="week")["period"], "week")  # doctest: +SKIP
    [Timestamp('2026-09-28 00:00:00'), Timestamp('2026-10-26 00:00:00')]
    """
    check_period(period)
    step = pd.tseries.frequencies.to_offset(PANDAS_FREQ[period])
    lo, hi = bounds(since, until)
    first, last = data_range(connect(db), include_test)
    cut = 13 if period == "hour" else 10
    start = pd.Timestamp((lo or first or "1970-01-01")[:cut])
    if hi is not None and period == "hour":
        end = pd.Timestamp(hi[:19])
    elif hi is not None:
        end = pd.Timestamp(hi[:10]) + (pd.Timedelta(days=1) if len(hi) > 10 else pd.Timedelta(0))
    else:
        end = pd.Timestamp((last or "1970-01-01")[:cut])
    starts = [pd.Timestamp(p) for p in periods]
    return [p for p in starts if not (p >= start and p + step <= end)]


def compare_latest(
    db: DbLike,
    since: Any = None,
    until: Any = None,
    period: str = "week",
    include_test: bool = False,
    dedupe: bool = True,
    alpha: float = 0.05,
    per_period: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Compare the last two *complete* periods that have redirects.

    A period is complete when the data covers all of it: it starts on or after the first day
    of the range (*since*, else the first redirect's day) and ends on or before its end
    (*until*, else the day of the last redirect, which is taken as still running).  A partial
    period is never compared: three days against a full week reads as a change when the
    true rate never moved.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        The range the two periods are taken from.
    period : {"hour", "day", "week", "month"}, default "week"
    include_test, dedupe, alpha
        As in :func:`compare_periods`.
    per_period : pandas.DataFrame, optional
        :func:`rates` for these same arguments, when the caller already has it (the report
        charts it first): saves a second pass over the events.

    Returns
    -------
    pandas.DataFrame
        :func:`compare_periods` with the columns ``before`` and ``after`` (each period's
        first day) added; empty when fewer than two complete periods have redirects.
        ``attrs["partial"]`` lists the periods left out as partial, ``attrs["complete"]``
        counts the complete periods with redirects.

    Examples
    --------
    >>> compare_latest(db, period="week")["significant"]  # doctest: +SKIP
    """
    check_period(period)
    db = connect(db)
    per = rates(db, since, until, period, include_test, dedupe, alpha) if per_period is None else per_period
    per = per[per["n"] > 0]
    partial = partial_periods(db, per["period"], period, since, until, include_test)
    complete = per[~per["period"].isin(partial)]
    if len(complete) < 2:
        res = pd.DataFrame()
    else:
        prev, cur = complete.iloc[-2], complete.iloc[-1]
        res = _compare_counts(
            {k: int(prev[k]) for k in ("n", "denied", "errors")},
            {k: int(cur[k]) for k in ("n", "denied", "errors")},
            alpha,
            "auto",
        )
        res.insert(0, "before", prev["period"])
        res.insert(1, "after", cur["period"])
    res.attrs["partial"] = partial
    res.attrs["complete"] = len(complete)
    return res
