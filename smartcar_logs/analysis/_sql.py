"""The SQL every analysis question shares: opening the database, date bounds, periods, filters,
the reloads-collapsed ``events`` expression and the overview of what the database holds.

``bounds`` and ``check_period`` are public so that callers outside the package (the report)
validate their arguments exactly as the analysis functions do.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import sqlite_utils

from ..store import STATELESS_LAUNCH_PREFIX, open_db, pending_files

__all__ = [
    "PERIODS",
    "DbLike",
    "connect",
    "bounds",
    "check_period",
    "data_range",
    "choose_period",
]

#: The period names every function accepts.
PERIODS = ("hour", "day", "week", "month")

PANDAS_FREQ = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS"}

#: A range of at most this many days is charted by hour unless a period is asked for: one or
#: two points by day would say nothing about how the day went.
HOURLY_MAX_DAYS = 2

# ev.error_code is lowercased (see events_cte)
DENIED = "(outcome = 'error' AND error_code = 'access_denied')"
INCOMPATIBLE = "(outcome = 'error' AND error_code = 'vehicle_incompatible')"
HAS_STATE = "(state IS NOT NULL AND state <> '')"
NO_STATE = "(state IS NULL OR state = '')"
# An attempt of a redirect ``state`` (on ``attempts``), not a stateless launch's own row: the
# redirects such a row took in have no state and are counted as stateless redirects already.
_HI = STATELESS_LAUNCH_PREFIX[:-1] + chr(ord(STATELESS_LAUNCH_PREFIX[-1]) + 1)
STATE_ATTEMPT = f"NOT (state >= '{STATELESS_LAUNCH_PREFIX}' AND state < '{_HI}')"

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
    opened = open_db(db, create=False)
    lag = pending_files(opened.conn)
    if lag:
        # A reader never refreshes (it would hold up the import): it says what it leaves out.
        warnings.warn(
            f"{db}: {lag:,} imported file{'' if lag == 1 else 's'} not in the analysis yet (an import is"
            " running or was killed); its end, the next import, or open_db(path, refresh=True) brings"
            " them in",
            stacklevel=2,
        )
    return opened


def bounds(since: Any = None, until: Any = None) -> tuple[str | None, str | None]:
    """Normalise a ``since``/``until`` pair to strings comparable with the stored timestamps.

    Parameters
    ----------
    since, until : date-like, optional
        ISO date or datetime strings, :class:`datetime.date` or :class:`datetime.datetime`
        (naive means UTC); None, NaN or an empty string means open-ended.

    Returns
    -------
    (since, until) : tuple of str or None
        ``"YYYY-MM-DD"`` for whole days, ``"YYYY-MM-DDTHH:MM:SS+00:00"`` otherwise.

    Raises
    ------
    ValueError
        A value is not a date; the message names ``since`` or ``until``.

    Examples
    --------
    >>> bounds("2026-10-01", "2026-10-01T07:30:00Z")
    ('2026-10-01', '2026-10-01T07:30:00+00:00')
    """
    return _bound(since, "since"), _bound(until, "until")


def _bound(value: Any, name: str) -> str | None:
    """Normalise a ``since``/``until`` value to a string comparable with ``redirects.ts``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
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


def check_period(period: str | None, allow_none: bool = False) -> None:
    """Raise :class:`ValueError` unless *period* is one of :data:`PERIODS` (or None if allowed).

    Examples
    --------
    >>> check_period("week")
    >>> check_period("fortnight")
    Traceback (most recent call last):
    ...
    ValueError: period: expected one of hour, day, week, month, got 'fortnight'
    """
    if period is None and allow_none:
        return
    if period not in PERIODS:
        choices = ", ".join(PERIODS) + (" or None" if allow_none else "")
        raise ValueError(f"period: expected one of {choices}, got {period!r}")


def day_expr(period: str | None, ts: str = "ts") -> str:
    """SQL for the day of *ts* (``'all'`` when *period* is None, the hour when it is ``"hour"``);
    :func:`roll_up` makes periods.

    Grouping by day in SQL and rolling the day rows up in pandas is much cheaper than a week
    expression per row (``date(..., '-N days')`` took 1.7 s over a million events, the day
    ``substr`` 0.6 s), and every per-period number here is a sum.
    """
    if period is None:
        return "'all'"
    # timestamps are stored in UTC ISO form, so the first 13 characters are the UTC hour
    return f"substr({ts}, 1, 13)" if period == "hour" else f"substr({ts}, 1, 10)"


def roll_up(frame: pd.DataFrame, period: str | None, keys: Sequence[str] = ()) -> pd.DataFrame:
    """Sum the per-day rows of *frame* (a ``period`` column of days, of hours for ``"hour"``)
    into *period* rows."""
    if period is None or frame.empty:
        return frame
    days = pd.to_datetime(frame["period"], format="%Y-%m-%dT%H" if period == "hour" else "%Y-%m-%d")
    if period == "week":
        frame["period"] = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    elif period == "month":
        frame["period"] = days.dt.to_period("M").dt.to_timestamp()
    else:
        frame["period"] = days
    return frame.groupby(["period", *keys], as_index=False, dropna=False, sort=True).sum(min_count=1)


def filters(
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


def events_cte(
    since: Any,
    until: Any,
    include_test: bool,
    dedupe: bool,
    columns: Sequence[str] = (),
    where: str = "",
) -> tuple[str, list[Any]]:
    """``ev``: the redirect events in the range, a common table expression.

    ``ev`` has ts, state, outcome, category, error_code (lowercased), hits and *columns*.
    With *dedupe* it reads :data:`smartcar_logs.store.EVENTS` (reloads collapsed at import
    time, an event in the range of its first line); without, every redirect line is an event.
    *where* narrows the events table (only with *dedupe*) so that one of its partial indexes
    applies; the caller still filters ``ev`` itself.
    """
    cond, params = filters(since, until, include_test)
    extra = "".join(f", {c}" for c in columns)
    if dedupe:
        more = f" AND {where}" if where else ""
        body = f"SELECT ts, state, outcome, category, error_code, hits{extra} FROM events WHERE {cond}{more}"
    else:
        body = (
            "SELECT ts, NULLIF(state, '') AS state, outcome, category,"
            f" NULLIF(lower(COALESCE(error_code, '')), '') AS error_code, 1 AS hits{extra}"
            f" FROM redirects WHERE {cond}"
        )
    return f"WITH ev AS ({body})", params


def query(db: sqlite_utils.Database, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    cursor = db.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return pd.DataFrame.from_records(cursor.fetchall(), columns=names)


def period_index(
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
    if hi and period == "hour":  # the hour before the exclusive bound
        end = pd.Timestamp(hi[:19]).ceil("h") - pd.Timedelta(hours=1)
    elif hi:
        end = pd.Timestamp(hi[:10])
        if len(hi) == 10:  # exclusive date bound: the last included day is the one before
            end -= pd.Timedelta(days=1)
    else:
        end = obs.max() if len(obs) else None
    if start is None or end is None or end < start:
        return pd.DatetimeIndex(obs.unique()).sort_values()
    start = _floor(start, period)
    end = _floor(end, period)
    return pd.date_range(start, end, freq=PANDAS_FREQ[period])


def _floor(ts: pd.Timestamp, period: str) -> pd.Timestamp:
    if period == "hour":
        return pd.Timestamp(ts).floor("h")
    ts = pd.Timestamp(ts).normalize()
    if period == "week":
        return ts - pd.Timedelta(days=ts.weekday())
    if period == "month":
        return ts.replace(day=1)
    return ts


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
    test = "AND is_test = 0" if include_test is False else ""
    # ORDER BY ... LIMIT 1 walks the ts index from one end; MIN(ts) with a WHERE scans it all.
    ends = [
        db.execute(f"SELECT ts FROM {table} WHERE ts IS NOT NULL {cond} ORDER BY ts {way} LIMIT 1").fetchone()
        for table, cond in (("redirects", test), ("launches", ""))
        for way in ("ASC", "DESC")
    ]
    firsts = [r[0] for r, way in zip(ends, ("ASC", "DESC", "ASC", "DESC")) if r and way == "ASC"]
    lasts = [r[0] for r, way in zip(ends, ("ASC", "DESC", "ASC", "DESC")) if r and way == "DESC"]
    return (min(firsts) if firsts else None), (max(lasts) if lasts else None)


#: The default period is the shortest in which a typical (median) complete period holds at
#: least this many success-or-error redirects: about ±4 points of 95 % interval on a 10 %
#: rate, so a chart of rates shows the rate and not the noise.
MIN_PERIOD_EVENTS = 200


def choose_period(db: DbLike, since: Any = None, until: Any = None, include_test: bool = False) -> str:
    """Pick the period for charts over time from the data itself.

    The shortest of day, week and month in which the median period holds at least
    :data:`MIN_PERIOD_EVENTS` success-or-error redirects and there are at least three
    periods; failing that, weeks when the range spans three weeks or more, hours when it
    spans at most :data:`HOURLY_MAX_DAYS` days, else days.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
        The range (inclusive, exclusive).
    include_test : bool, default False

    Returns
    -------
    str
        ``"hour"``, ``"day"``, ``"week"`` or ``"month"``.

    Examples
    --------
    >>> choose_period(db, "2026-10-01", "2026-10-15")  # doctest: +SKIP
    'day'
    """
    db = connect(db)
    where, params = filters(since, until, include_test)
    days = query(
        db,
        f"""SELECT substr(ts, 1, 10) AS period, SUM(outcome IN ('success', 'error')) AS n
        FROM events WHERE ts IS NOT NULL AND {where} GROUP BY 1""",
        params,
    )
    if days.empty:
        return "day"
    span = (pd.Timestamp(days["period"].max()) - pd.Timestamp(days["period"].min())).days + 1
    for period in ("day", "week", "month"):
        per = roll_up(days.copy(), period)
        # the first and last periods are usually partial: judge by the inner ones when there are
        inner = per["n"].iloc[1:-1] if len(per) > 3 else per["n"]
        if len(per) >= 3 and inner.median() >= MIN_PERIOD_EVENTS:
            return period
    if span <= HOURLY_MAX_DAYS:
        return "hour"
    return "week" if span >= 21 else "day"
