"""Analysis of the Connect redirects in the database: outcomes, rates, attempts, funnel, vehicles.

Every function here takes the database (a :class:`sqlite_utils.Database` or a path to one) and
returns a :class:`pandas.DataFrame`.  The aggregation runs in SQLite (``GROUP BY``), so only
summary rows reach pandas, however large the database is.

Conventions shared by all functions
-----------------------------------
Date range
    ``since`` is inclusive and ``until`` is exclusive: ``since="2026-10-01", until="2026-11-01"``
    is the whole of October.  Either may be None (open-ended).  Accepts an ISO date string
    (``"2026-10-01"``), an ISO datetime string, a :class:`datetime.date` or a
    :class:`datetime.datetime` (naive means UTC).  Timestamps in the database are UTC, so days,
    weeks and months are UTC calendar periods.
Period
    ``"day"``, ``"week"`` (ISO weeks, starting Monday) or ``"month"``.  The ``period`` column
    holds the first day of each period as a pandas timestamp.  Where ``period=None`` is allowed,
    the result is one row for the whole range.
Test traffic
    Redirects with ``is_test = 1`` (Smartcar test VINs, the ``SIMULATED`` make) are left out
    unless ``include_test=True``.  A launch whose ``state`` came back on a test redirect is test
    traffic too.
Reloads
    A redirect that arrives again with the same ``state``, ``outcome`` and error code (a browser
    reload, a replayed link) is one *event*: it counts once, at its first timestamp.  Pass
    ``dedupe=False`` to count raw log lines instead.  Redirects without a ``state`` cannot be
    matched, so each one counts as its own event; functions that group by ``state`` report them
    as ``stateless_redirects`` rather than dropping them.
Rates
    *denial rate* = ``access_denied`` / (success + error), *failure rate* = errors /
    (success + error).  ``empty`` redirects (no recognised keys) are in neither numerator nor
    denominator.  Each rate comes with a Wilson score interval (95 % by default).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import date, datetime, timezone
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from .store import open_db

__all__ = [
    "PERIODS",
    "CONVERSION_WINDOW_MINUTES",
    "MIN_N",
    "UNKNOWN",
    "connect",
    "wilson_interval",
    "choose_period",
    "data_range",
    "summary",
    "outcome_counts",
    "error_codes",
    "rates",
    "compare_periods",
    "compare_latest",
    "attempts",
    "attempt_summary",
    "funnel",
    "funnel_summary",
    "time_to_complete",
    "incompatible_vehicles",
    "vin_agreement",
    "vehicle_disagreements",
]

#: The period names every function accepts.
PERIODS = ("day", "week", "month")

#: A redirect later than this after its launch is flagged ``late`` in the funnel.
#: Connect is done in one sitting, so an hour is generous.
CONVERSION_WINDOW_MINUTES = 60

#: Label of a missing make or model in the vehicle tables.
UNKNOWN = "(unknown)"

#: Periods with fewer events than this are drawn hollow in the rate charts: their rates swing.
MIN_N = 10

_PERIOD_SQL = {
    "day": "substr({ts}, 1, 10)",
    # %w is 0 for Sunday; (w + 6) % 7 is the number of days since Monday.
    "week": (
        "date(substr({ts}, 1, 10), '-' || ((CAST(strftime('%w', substr({ts}, 1, 10)) AS INTEGER)"
        " + 6) % 7) || ' days')"
    ),
    "month": "substr({ts}, 1, 7) || '-01'",
}
_PANDAS_FREQ = {"day": "D", "week": "W-MON", "month": "MS"}

_DENIED = "(outcome = 'error' AND lower(error_code) = 'access_denied')"
_INCOMPATIBLE = "(outcome = 'error' AND lower(error_code) = 'vehicle_incompatible')"
_HAS_STATE = "(state IS NOT NULL AND state <> '')"
_NO_STATE = "(state IS NULL OR state = '')"

DbLike = sqlite_utils.Database | str | os.PathLike


# --- plumbing ------------------------------------------------------------------------------


def connect(db: DbLike) -> sqlite_utils.Database:
    """Return *db* as a :class:`sqlite_utils.Database`, opening it when it is a path.

    Parameters
    ----------
    db : sqlite_utils.Database or str or os.PathLike
        An open database, or the path of an existing database file.

    Returns
    -------
    sqlite_utils.Database

    Raises
    ------
    smartcar_logs.store.StoreError
        The path does not exist or is not a database.

    Examples
    --------
    >>> from smartcar_logs.analysis import connect
    >>> db = connect(open_db())  # doctest: +SKIP
    """
    if isinstance(db, sqlite_utils.Database):
        return db
    return open_db(db, create=False)


def _bound(value: Any, name: str) -> str | None:
    """Normalise a ``since``/``until`` value to a string comparable with ``redirects.ts``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(timespec="seconds") + "+00:00"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
        try:
            return _bound(datetime.fromisoformat(text.replace("Z", "+00:00")), name)
        except ValueError:
            pass
    raise ValueError(f"{name}: expected an ISO date such as 2026-10-01, got {value!r}")


def _check_period(period: str | None, allow_none: bool = False) -> None:
    if period is None and allow_none:
        return
    if period not in PERIODS:
        choices = ", ".join(PERIODS) + (" or None" if allow_none else "")
        raise ValueError(f"period: expected one of {choices}, got {period!r}")


def _period_expr(period: str | None, ts: str = "ts") -> str:
    if period is None:
        return "'all'"
    return _PERIOD_SQL[period].format(ts=ts)


def _filters(
    since: Any, until: Any, include_test: bool, *, ts: str = "ts", test_col: str | None = "is_test"
) -> tuple[str, list[Any]]:
    """SQL conditions (joined with AND, never empty) and their parameters."""
    clauses, params = ["1 = 1"], []
    lo, hi = _bound(since, "since"), _bound(until, "until")
    if lo is not None:
        clauses.append(f"{ts} >= ?")
        params.append(lo)
    if hi is not None:
        clauses.append(f"{ts} < ?")
        params.append(hi)
    if not include_test and test_col:
        clauses.append(f"{test_col} = 0")
    return " AND ".join(clauses), params


def _events_cte(
    since: Any, until: Any, include_test: bool, dedupe: bool, columns: Sequence[str] = ()
) -> tuple[str, list[Any]]:
    """``base`` (filtered redirects) and ``events`` (reloads collapsed) common table expressions.

    ``events`` has ts, state, outcome, category, error_code, hits and *columns*.  With
    *dedupe*, redirects sharing state + outcome + error code become one event at their first
    timestamp (SQLite takes the bare columns from the row that holds the MIN); stateless
    redirects are always one event each.
    """
    where, params = _filters(since, until, include_test)
    cols = ", ".join(["ts", "state", "outcome", "category", "error_code", *columns])
    extra = "".join(f", {c}" for c in columns)
    if dedupe:
        events = f"""
            SELECT MIN(ts) AS ts, state, outcome, category, error_code, COUNT(*) AS hits{extra}
            FROM base WHERE {_HAS_STATE}
            GROUP BY state, outcome, lower(COALESCE(error_code, ''))
            UNION ALL
            SELECT ts, state, outcome, category, error_code, 1 AS hits{extra}
            FROM base WHERE {_NO_STATE}"""
    else:
        events = f"SELECT ts, state, outcome, category, error_code, 1 AS hits{extra} FROM base"
    cte = f"WITH base AS (SELECT {cols} FROM redirects WHERE {where}), events AS ({events})"
    return cte, params


def _query(db: sqlite_utils.Database, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    cursor = db.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return pd.DataFrame.from_records(cursor.fetchall(), columns=names)


def _period_index(
    db: sqlite_utils.Database,
    period: str,
    since: Any,
    until: Any,
    observed: pd.Series,
) -> pd.DatetimeIndex:
    """All periods from *since* (or the first observed) to *until* (or the last observed)."""
    lo, hi = _bound(since, "since"), _bound(until, "until")
    obs = pd.to_datetime(observed.dropna())
    start = pd.Timestamp(lo[:10]) if lo else (obs.min() if len(obs) else None)
    if hi:
        end = pd.Timestamp(hi[:10])
        if len(hi) == 10:  # exclusive date bound: the last included day is the one before
            end -= pd.Timedelta(days=1)
    else:
        end = obs.max() if len(obs) else None
    if start is None or end is None or end < start:
        return pd.DatetimeIndex(obs.unique()).sort_values()
    start = _floor(start, period)
    end = _floor(end, period)
    return pd.date_range(start, end, freq=_PANDAS_FREQ[period])


def _floor(ts: pd.Timestamp, period: str) -> pd.Timestamp:
    ts = pd.Timestamp(ts).normalize()
    if period == "week":
        return ts - pd.Timedelta(days=ts.weekday())
    if period == "month":
        return ts.replace(day=1)
    return ts


def wilson_interval(k: Any, n: Any, alpha: float = 0.05) -> tuple[Any, Any]:
    """Wilson score interval for a binomial proportion *k* / *n*.

    Parameters
    ----------
    k : int or array-like
        Number of successes (e.g. denials).
    n : int or array-like
        Number of trials.  Where n is 0 the bounds are NaN.
    alpha : float, default 0.05
        1 - confidence level; 0.05 gives a 95 % interval.

    Returns
    -------
    (lower, upper) : tuple of float or numpy.ndarray
        Always inside [0, 1], also for k = 0 and k = n.

    Notes
    -----
    ``centre = (p + z²/2n) / (1 + z²/n)``, ``half = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²)``
    with ``z = Φ⁻¹(1 - α/2)``.  Identical to
    ``statsmodels.stats.proportion.proportion_confint(k, n, method="wilson")`` (whose default
    method is the Wald interval, which is wrong at small n); see Newcombe (1998), method 3.

    Examples
    --------
    >>> lo, hi = wilson_interval(81, 263)
    >>> round(lo, 4), round(hi, 4)
    (0.2553, 0.3662)
    >>> wilson_interval(0, 20)[0]
    0.0
    """
    scalar = np.ndim(k) == 0 and np.ndim(n) == 0
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k_arr / n_arr
        denom = 1 + z * z / n_arr
        centre = (p + z * z / (2 * n_arr)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n_arr + z * z / (4 * n_arr * n_arr))
        # exact at the ends (the formula leaves rounding dust like 1e-18 there)
        lo = np.where(k_arr <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        hi = np.where(k_arr >= n_arr, 1.0, np.clip(centre + half, 0.0, 1.0))
    lo = np.where(n_arr > 0, lo, np.nan)
    hi = np.where(n_arr > 0, hi, np.nan)
    if scalar:
        return float(lo), float(hi)
    return lo, hi


def _add_rate(frame: pd.DataFrame, name: str, k: str, n: str, alpha: float) -> pd.DataFrame:
    kk = frame[k].astype(float)
    nn = frame[n].astype(float)
    lo, hi = wilson_interval(kk.to_numpy(), nn.to_numpy(), alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame[name] = np.where(nn > 0, kk / nn, np.nan)
    frame[f"{name}_lo"] = lo
    frame[f"{name}_hi"] = hi
    return frame


# --- overview ------------------------------------------------------------------------------


def data_range(db: DbLike, include_test: bool = False) -> tuple[str | None, str | None]:
    """First and last redirect or launch timestamp in the database.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    include_test : bool, default False
        Count test redirects too.

    Returns
    -------
    (first, last) : tuple of str or None
        ISO timestamps as stored; ``(None, None)`` for an empty database.

    Examples
    --------
    >>> data_range(db)  # doctest: +SKIP
    ('2026-10-05T09:00:10+00:00', '2026-10-16T12:00:00+00:00')
    """
    db = connect(db)
    test = "" if include_test else "WHERE is_test = 0"
    row = db.execute(
        f"""SELECT MIN(lo), MAX(hi) FROM (
              SELECT MIN(ts) AS lo, MAX(ts) AS hi FROM redirects {test}
              UNION ALL SELECT MIN(ts), MAX(ts) FROM launches)"""
    ).fetchone()
    return row[0], row[1]


def choose_period(db: DbLike, since: Any = None, until: Any = None) -> str:
    """Pick a readable period for a date range: day up to 6 weeks, week up to a year, else month.

    Parameters
    ----------
    db : sqlite_utils.Database or path
        Used for the ends of the range that are None.
    since, until : date-like, optional
        The range (inclusive, exclusive).

    Returns
    -------
    str
        ``"day"``, ``"week"`` or ``"month"``.

    Examples
    --------
    >>> choose_period(db, "2026-10-01", "2026-10-15")  # doctest: +SKIP
    'day'
    """
    lo, hi = _bound(since, "since"), _bound(until, "until")
    if lo is None or hi is None:
        first, last = data_range(db, include_test=True)
        lo = lo or first
        hi = hi or last
    if not lo or not hi:
        return "day"
    days = (pd.Timestamp(hi[:10]) - pd.Timestamp(lo[:10])).days
    if days <= 42:
        return "day"
    if days <= 366:
        return "week"
    return "month"


def summary(
    db: DbLike, since: Any = None, until: Any = None, include_test: bool = False
) -> pd.DataFrame:
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
    cte, params = _events_cte(since, until, include_test, True)
    row = _query(
        db,
        f"""{cte}
        SELECT MIN(ts) AS first_ts, MAX(ts) AS last_ts,
               COALESCE(SUM(hits), 0) AS redirects,
               COALESCE(SUM(hits), 0) - COUNT(*) AS reloads,
               COUNT(*) AS events,
               COALESCE(SUM(outcome = 'success'), 0) AS success,
               COALESCE(SUM(outcome = 'error'), 0) AS errors,
               COALESCE(SUM(outcome = 'empty'), 0) AS empty,
               COALESCE(SUM({_DENIED}), 0) AS denied,
               COALESCE(SUM({_INCOMPATIBLE}), 0) AS incompatible,
               COALESCE(SUM({_NO_STATE}), 0) AS stateless_redirects
        FROM events""",
        params,
    )
    where_all, params_all = _filters(since, until, True)
    row["test_redirects"] = db.execute(
        f"SELECT COUNT(*) FROM redirects WHERE {where_all} AND is_test = 1", params_all
    ).fetchone()[0]
    where_l, params_l = _filters(since, until, True, test_col=None)
    row["launches"] = db.execute(
        f"SELECT COUNT(*) FROM launches WHERE {where_l}", params_l
    ).fetchone()[0]
    row["attempted"] = row["success"] + row["errors"]
    _add_rate(row, "denial_rate", "denied", "attempted", 0.05)
    _add_rate(row, "failure_rate", "errors", "attempted", 0.05)
    return row


# --- outcomes and rates --------------------------------------------------------------------

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
    period : {"day", "week", "month"} or None, default "day"
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
    _check_period(period, allow_none=True)
    if by not in _BY_EXPR:
        raise ValueError(f"by: expected one of {', '.join(_BY_EXPR)}, got {by!r}")
    db = connect(db)
    cte, params = _events_cte(since, until, include_test, dedupe)
    where_ts = "WHERE ts IS NOT NULL" if period else ""
    frame = _query(
        db,
        f"""{cte}
        SELECT {_period_expr(period)} AS period, {_BY_EXPR[by]} AS "{by}", COUNT(*) AS n
        FROM events {where_ts}
        GROUP BY 1, 2""",
        params,
    )
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
    period : {"day", "week", "month"} or None, default "week"
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
    _check_period(period, allow_none=True)
    db = connect(db)
    cte, params = _events_cte(since, until, include_test, dedupe)
    where_ts = "WHERE ts IS NOT NULL" if period else ""
    frame = _query(
        db,
        f"""{cte}
        SELECT {_period_expr(period)} AS period,
               COALESCE(SUM(outcome IN ('success', 'error')), 0) AS n,
               COALESCE(SUM(outcome = 'success'), 0) AS success,
               COALESCE(SUM(outcome = 'error'), 0) AS errors,
               COALESCE(SUM({_DENIED}), 0) AS denied,
               COALESCE(SUM(outcome = 'empty'), 0) AS empty
        FROM events {where_ts}
        GROUP BY 1 ORDER BY 1""",
        params,
    )
    counts = ["n", "success", "errors", "denied", "empty"]
    if period is None:
        if frame.empty:
            frame = pd.DataFrame([{"period": "all", **{c: 0 for c in counts}}])
        frame = frame.drop(columns="period")
    else:
        frame["period"] = pd.to_datetime(frame["period"])
        index = _period_index(db, period, since, until, frame["period"])
        frame = (
            frame.set_index("period")
            .reindex(index.union(pd.DatetimeIndex(frame["period"])), fill_value=0)
            .rename_axis("period")
            .reset_index()
        )
    frame[counts] = frame[counts].astype("int64")
    _add_rate(frame, "denial_rate", "denied", "n", alpha)
    _add_rate(frame, "failure_rate", "errors", "n", alpha)
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
    cte, params = _events_cte(
        since, until, include_test, dedupe, ("error_known", "error_description")
    )
    frame = _query(
        db,
        f"""{cte},
        e AS (SELECT lower(COALESCE(error_code, '')) AS error_code, category, error_known,
                     error_description FROM events WHERE outcome = 'error'),
        d AS (SELECT error_code, error_description, COUNT(*) AS dn,
                     ROW_NUMBER() OVER (PARTITION BY error_code
                                        ORDER BY COUNT(*) DESC, error_description) AS rn
              FROM e WHERE error_description IS NOT NULL GROUP BY error_code, error_description)
        SELECT e.error_code, MIN(e.category) AS category, MAX(e.error_known) AS known,
               COUNT(*) AS n,
               (SELECT d.error_description FROM d WHERE d.error_code = e.error_code AND d.rn = 1)
                   AS example_description
        FROM e GROUP BY e.error_code ORDER BY n DESC, e.error_code""",
        params,
    )
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
        ``confint_proportions_2indep``), ``test``, ``p_value`` and ``significant``
        (p < alpha).  When either range has n = 0 the test is ``"n/a"`` and nothing is
        significant.

    Examples
    --------
    >>> compare_periods(db, ("2026-09-01", "2026-10-01"), ("2026-10-01", "2026-11-01"))
    ... # doctest: +SKIP
    """
    from scipy.stats import fisher_exact
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    if method not in ("auto", "ztest", "fisher"):
        raise ValueError(f"method: expected auto, ztest or fisher, got {method!r}")
    db = connect(db)
    a = _rate_counts(db, before[0], before[1], include_test, dedupe)
    b = _rate_counts(db, after[0], after[1], include_test, dedupe)
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
            lo, hi = confint_proportions_2indep(
                k2, n2, k1, n1, method="newcomb", compare="diff", alpha=alpha
            )
            pooled = (k1 + k2) / (n1 + n2)
            expected = min(n * q for n in (n1, n2) for q in (pooled, 1 - pooled))
            use = method if method != "auto" else ("fisher" if expected < 5 else "ztest")
            if use == "fisher":
                _, p = fisher_exact([[k2, n2 - k2], [k1, n1 - k1]])
                test = "Fisher exact"
            elif pooled in (0.0, 1.0):
                p, test = 1.0, "z-test"  # identical degenerate rates: nothing to test
            else:
                _, p = proportions_ztest([k2, k1], [n2, n1])
                test = "z-test"
            row.update(diff_lo=float(lo), diff_hi=float(hi), test=test, p_value=float(p))
        row["significant"] = bool(row["p_value"] < alpha) if row["test"] != "n/a" else False
        rows.append(row)
    return pd.DataFrame(rows).set_index("metric")


def compare_latest(
    db: DbLike,
    since: Any = None,
    until: Any = None,
    period: str = "week",
    include_test: bool = False,
    dedupe: bool = True,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Compare the last period that has redirects with the period before it.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        The range the two periods are taken from.
    period : {"day", "week", "month"}, default "week"
    include_test, dedupe, alpha
        As in :func:`compare_periods`.

    Returns
    -------
    pandas.DataFrame
        :func:`compare_periods` with the columns ``before`` and ``after`` (each period's
        first day) added; empty when fewer than two periods have redirects.  The last period
        may still be incomplete.

    Examples
    --------
    >>> compare_latest(db, period="week")["significant"]  # doctest: +SKIP
    """
    _check_period(period)
    db = connect(db)
    per = rates(db, since, until, period, include_test, dedupe, alpha)
    per = per[per["n"] > 0]
    if len(per) < 2:
        return pd.DataFrame()
    prev, last = per["period"].iloc[-2], per["period"].iloc[-1]
    step = pd.tseries.frequencies.to_offset(_PANDAS_FREQ[period])
    res = compare_periods(
        db,
        (prev.date(), (prev + step).date()),
        (last.date(), (last + step).date()),
        include_test,
        dedupe,
        alpha,
    )
    res.insert(0, "before", prev)
    res.insert(1, "after", last)
    return res


# --- attempts ------------------------------------------------------------------------------


def _attempt_ctes(since: Any, until: Any, include_test: bool) -> tuple[str, list[Any]]:
    where, params = _filters(since, until, include_test)
    cte = f"""
    WITH base AS (SELECT ts, state, outcome, error_code FROM redirects WHERE {where}),
    ev AS (
        SELECT state, outcome, lower(COALESCE(error_code, '')) AS ec,
               MIN(ts) AS first_ts, COUNT(*) AS hits
        FROM base WHERE {_HAS_STATE}
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


def attempts(
    db: DbLike, since: Any = None, until: Any = None, include_test: bool = False
) -> pd.DataFrame:
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
    frame = _query(
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
    _check_period(period, allow_none=True)
    db = connect(db)
    cte, params = _attempt_ctes(since, until, include_test)
    att = _query(
        db,
        f"""{cte}
        SELECT {_period_expr(period, 'first_ts')} AS period,
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
    stateless = _query(
        db,
        f"""{cte}
        SELECT {_period_expr(period)} AS period, COUNT(*) AS stateless_redirects
        FROM base WHERE {_NO_STATE} GROUP BY 1""",
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
    _add_rate(frame, "recovered_share", "recovered", "attempts_with_error", alpha)
    _add_rate(frame, "attempt_success_rate", "attempts_succeeded", "attempts", alpha)
    if period is None:
        return frame.drop(columns="period")
    frame["period"] = pd.to_datetime(frame["period"])
    return frame.sort_values("period").reset_index(drop=True)


# --- funnel --------------------------------------------------------------------------------


def _funnel_cte(since: Any, until: Any, include_test: bool) -> tuple[str, list[Any]]:
    """``l``: launch attempts (distinct states) in range; ``j``: l joined to their redirects."""
    where, params = _filters(since, until, True, test_col=None)
    test_and = "" if include_test else "AND is_test = 0"
    not_test = (
        ""
        if include_test
        else f"AND state NOT IN (SELECT state FROM redirects WHERE is_test = 1 AND {_HAS_STATE})"
    )
    cte = f"""
    WITH l AS (
        SELECT state, MIN(ts) AS launched, COUNT(*) AS hits
        FROM launches WHERE {where} AND {_HAS_STATE} {not_test}
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
    _check_period(period, allow_none=True)
    db = connect(db)
    cte, params = _funnel_cte(since, until, include_test)
    frame = _query(
        db,
        f"""{cte}
        SELECT {_period_expr(period, 'launched')} AS period,
               SUM(hits) AS state_lines,
               COUNT(*) AS launched,
               SUM(first_redirect IS NOT NULL) AS returned,
               SUM(secs_redirect > ? * 60.0) AS late,
               SUM(first_success IS NOT NULL) AS succeeded
        FROM j GROUP BY 1""",
        [*params, window_minutes],
    )
    where_l, params_l = _filters(since, until, True, test_col=None)
    stateless = _query(
        db,
        f"""SELECT {_period_expr(period)} AS period, COUNT(*) AS launches_without_state
        FROM launches WHERE {where_l} AND {_NO_STATE} GROUP BY 1""",
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
    _add_rate(frame, "abandonment_rate", "abandoned", "launched", alpha)
    _add_rate(frame, "conversion_rate", "succeeded", "launched", alpha)
    if period is not None:
        frame["period"] = pd.to_datetime(frame["period"])
        return frame.sort_values("period").reset_index(drop=True)
    frame = frame.drop(columns="period")
    where_r, params_r = _filters(since, until, include_test)
    frame["orphan_redirect_states"] = db.execute(
        f"""SELECT COUNT(DISTINCT state) FROM redirects
        WHERE {where_r} AND {_HAS_STATE}
          AND NOT EXISTS (SELECT 1 FROM launches WHERE launches.state = redirects.state)""",
        params_r,
    ).fetchone()[0]
    frame["stateless_redirects"] = db.execute(
        f"SELECT COUNT(*) FROM redirects WHERE {where_r} AND {_NO_STATE}", params_r
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

    *values* is a SELECT of ``grp, x`` rows (after *cte*); NULL and negative x are skipped.  SQLite numbers the sorted values
    per group with a window function and only the (at most two) rows around each quantile
    position come back to Python.
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
        SELECT grp, n, i, x FROM o WHERE {' OR '.join(positions)}""",
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


# --- incompatible vehicles -----------------------------------------------------------------

_MAKE = f"COALESCE(NULLIF(make, ''), NULLIF(vin_make, ''), '{UNKNOWN}')"
_YEAR = "COALESCE(year, vin_year)"
_VEHICLE_BY = {
    "make": [("make", _MAKE)],
    "make_model": [("make", _MAKE), ("model", f"COALESCE(NULLIF(model, ''), '{UNKNOWN}')")],
    "make_year": [("make", _MAKE), ("year", _YEAR)],
}


def incompatible_vehicles(
    db: DbLike,
    since: Any = None,
    until: Any = None,
    by: str = "make",
    period: str | None = None,
    include_test: bool = False,
    dedupe: bool = True,
    top: int | None = None,
) -> pd.DataFrame:
    """``vehicle_incompatible`` redirects counted by make, make and model, or make and year.

    The make is the one Connect sent; when it sent none, the manufacturer decoded from the VIN
    (``vin_make``) is used, and likewise the VIN model year fills a missing ``year``.
    ``from_vin`` says how many were filled that way.  See :func:`vin_agreement` for where the
    two sources disagree.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        Inclusive start and exclusive end (UTC).
    by : {"make", "make_model", "make_year"}, default "make"
    period : {"day", "week", "month"} or None, default None
    include_test : bool, default False
        Test VINs (``0SC…``) are excluded by default.
    dedupe : bool, default True
    top : int, optional
        Keep only the *top* rows (per period) by n.

    Returns
    -------
    pandas.DataFrame
        ``period`` (if requested), the key columns (``make``; ``model``; ``year`` as a
        nullable integer), ``n``, ``share`` (of all incompatible redirects in the range or
        period) and ``from_vin``.  Makes and models are log text: escape them before putting
        them in HTML.

    Examples
    --------
    >>> incompatible_vehicles(db, by="make_model", top=10)  # doctest: +SKIP
    """
    _check_period(period, allow_none=True)
    if by not in _VEHICLE_BY:
        raise ValueError(f"by: expected one of {', '.join(_VEHICLE_BY)}, got {by!r}")
    db = connect(db)
    keys = _VEHICLE_BY[by]
    cte, params = _events_cte(
        since, until, include_test, dedupe, ("make", "model", "year", "vin_make", "vin_year")
    )
    if by == "make_year":
        from_vin = "(NULLIF(make, '') IS NULL AND vin_make IS NOT NULL) OR (year IS NULL AND vin_year IS NOT NULL)"
    else:
        from_vin = "NULLIF(make, '') IS NULL AND NULLIF(vin_make, '') IS NOT NULL"
    key_sql = ", ".join(f'{expr} AS "{name}"' for name, expr in keys)
    group = ", ".join(str(i + 2) for i in range(len(keys)))
    where_ts = "AND ts IS NOT NULL" if period else ""
    frame = _query(
        db,
        f"""{cte}
        SELECT {_period_expr(period)} AS period, {key_sql},
               COUNT(*) AS n, COALESCE(SUM({from_vin}), 0) AS from_vin
        FROM events WHERE {_INCOMPATIBLE} {where_ts}
        GROUP BY 1, {group}""",
        params,
    )
    names = [name for name, _ in keys]
    frame["n"] = frame["n"].astype("int64")
    frame["from_vin"] = frame["from_vin"].astype("int64")
    frame["share"] = frame["n"] / frame.groupby("period")["n"].transform("sum")
    if "year" in names:
        frame["year"] = pd.array(frame["year"], dtype="Int64")
    frame = frame.sort_values(["period", "n", *names], ascending=[True, False, *[True] * len(names)])
    if top is not None:
        frame = frame.groupby("period", sort=False).head(top)
    frame = frame[["period", *names, "n", "share", "from_vin"]]
    if period is None:
        frame = frame.drop(columns="period")
    else:
        frame["period"] = pd.to_datetime(frame["period"])
    return frame.reset_index(drop=True)


def vin_agreement(
    db: DbLike, since: Any = None, until: Any = None, include_test: bool = False
) -> pd.DataFrame:
    """How often the make and year Connect sent agree with what the VIN decodes to.

    Both are canonicalised the same way by the normaliser, so the check is plain equality.
    A disagreement is not always an error: the VIN's manufacturer code can name a group or a
    sister brand, and the VIN year letter repeats every 30 years.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
    include_test : bool, default False

    Returns
    -------
    pandas.DataFrame
        Rows ``make`` and ``year``; columns ``with_vin`` (redirects with a VIN),
        ``compared`` (both values known), ``agree``, ``disagree``, ``disagree_share``.
        Over all redirect events, reloads collapsed.

    Examples
    --------
    >>> vin_agreement(db)  # doctest: +SKIP
    """
    db = connect(db)
    cte, params = _events_cte(
        since, until, include_test, True, ("vin", "make", "year", "vin_make", "vin_year")
    )
    row = db.execute(
        f"""{cte}
        SELECT COALESCE(SUM(NULLIF(vin, '') IS NOT NULL), 0),
               COALESCE(SUM(NULLIF(make, '') IS NOT NULL AND NULLIF(vin_make, '') IS NOT NULL), 0),
               COALESCE(SUM(NULLIF(make, '') IS NOT NULL AND NULLIF(vin_make, '') IS NOT NULL
                            AND make = vin_make), 0),
               COALESCE(SUM(year IS NOT NULL AND vin_year IS NOT NULL), 0),
               COALESCE(SUM(year IS NOT NULL AND vin_year IS NOT NULL AND year = vin_year), 0)
        FROM events""",
        params,
    ).fetchone()
    with_vin, make_n, make_ok, year_n, year_ok = (int(v) for v in row)
    frame = pd.DataFrame(
        {
            "with_vin": [with_vin, with_vin],
            "compared": [make_n, year_n],
            "agree": [make_ok, year_ok],
        },
        index=pd.Index(["make", "year"], name="field"),
    )
    frame["disagree"] = frame["compared"] - frame["agree"]
    frame["disagree_share"] = np.where(
        frame["compared"] > 0, frame["disagree"] / frame["compared"].where(frame["compared"] > 0), np.nan
    )
    return frame


def vehicle_disagreements(
    db: DbLike, since: Any = None, until: Any = None, include_test: bool = False
) -> pd.DataFrame:
    """The make/year combinations where Connect's values and the VIN's disagree.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
    include_test : bool, default False

    Returns
    -------
    pandas.DataFrame
        ``make``, ``vin_make``, ``year``, ``vin_year``, ``n`` and ``disagrees``
        (``"make"``, ``"year"`` or ``"make, year"``), most frequent first.

    Examples
    --------
    >>> vehicle_disagreements(db).head()  # doctest: +SKIP
    """
    db = connect(db)
    cte, params = _events_cte(
        since, until, include_test, True, ("make", "year", "vin_make", "vin_year")
    )
    make_diff = "(NULLIF(make, '') IS NOT NULL AND NULLIF(vin_make, '') IS NOT NULL AND make <> vin_make)"
    year_diff = "(year IS NOT NULL AND vin_year IS NOT NULL AND year <> vin_year)"
    frame = _query(
        db,
        f"""{cte}
        SELECT make, vin_make, year, vin_year, COUNT(*) AS n,
               {make_diff} AS make_diff, {year_diff} AS year_diff
        FROM events WHERE {make_diff} OR {year_diff}
        GROUP BY make, vin_make, year, vin_year
        ORDER BY n DESC, make, vin_make, year, vin_year""",
        params,
    )
    frame["disagrees"] = [
        ", ".join(name for name, flag in (("make", m), ("year", y)) if flag)
        for m, y in zip(frame["make_diff"], frame["year_diff"])
    ]
    for col in ("year", "vin_year"):
        frame[col] = pd.array(frame[col], dtype="Int64")
    return frame.drop(columns=["make_diff", "year_diff"])
