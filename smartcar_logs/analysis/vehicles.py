"""Incompatible vehicles: which makes, models and years Connect turned away, and whether the
make and year Connect sent agree with the VIN (notebook 03)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..redirect import UNKNOWN
from ._sql import (
    INCOMPATIBLE,
    DbLike,
    check_period,
    connect,
    day_expr,
    events_cte,
    query,
    roll_up,
)

__all__ = [
    "UNKNOWN",
    "incompatible_vehicles",
    "vin_agreement",
    "vehicle_disagreements",
]


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
    check_period(period, allow_none=True)
    if by not in _VEHICLE_BY:
        raise ValueError(f"by: expected one of {', '.join(_VEHICLE_BY)}, got {by!r}")
    db = connect(db)
    keys = _VEHICLE_BY[by]
    cte, params = events_cte(
        since,
        until,
        include_test,
        dedupe,
        ("make", "model", "year", "vin_make", "vin_year"),
        where="error_code = 'vehicle_incompatible'",
    )
    if by == "make_year":
        from_vin = (
            "(NULLIF(make, '') IS NULL AND vin_make IS NOT NULL) OR (year IS NULL AND vin_year IS NOT NULL)"
        )
    else:
        from_vin = "NULLIF(make, '') IS NULL AND NULLIF(vin_make, '') IS NOT NULL"
    key_sql = ", ".join(f'{expr} AS "{name}"' for name, expr in keys)
    group = ", ".join(str(i + 2) for i in range(len(keys)))
    where_ts = "AND ts IS NOT NULL" if period else ""
    frame = query(
        db,
        f"""{cte}
        SELECT {day_expr(period)} AS period, {key_sql},
               COUNT(*) AS n, COALESCE(SUM({from_vin}), 0) AS from_vin
        FROM ev WHERE {INCOMPATIBLE} {where_ts}
        GROUP BY 1, {group}""",
        params,
    )
    names = [name for name, _ in keys]
    frame = roll_up(frame, period, names)
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
    cte, params = events_cte(
        since,
        until,
        include_test,
        True,
        ("vin", "make", "year", "vin_make", "vin_year"),
        where="vin IS NOT NULL",
    )
    row = db.execute(
        f"""{cte}
        SELECT COALESCE(SUM(NULLIF(vin, '') IS NOT NULL), 0),
               COALESCE(SUM(NULLIF(make, '') IS NOT NULL AND NULLIF(vin_make, '') IS NOT NULL), 0),
               COALESCE(SUM(NULLIF(make, '') IS NOT NULL AND NULLIF(vin_make, '') IS NOT NULL
                            AND make = vin_make), 0),
               COALESCE(SUM(year IS NOT NULL AND vin_year IS NOT NULL), 0),
               COALESCE(SUM(year IS NOT NULL AND vin_year IS NOT NULL AND year = vin_year), 0)
        FROM ev""",
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
    cte, params = events_cte(
        since, until, include_test, True, ("make", "year", "vin_make", "vin_year"), where="vin IS NOT NULL"
    )
    make_diff = "(NULLIF(make, '') IS NOT NULL AND NULLIF(vin_make, '') IS NOT NULL AND make <> vin_make)"
    year_diff = "(year IS NOT NULL AND vin_year IS NOT NULL AND year <> vin_year)"
    frame = query(
        db,
        f"""{cte}
        SELECT make, vin_make, year, vin_year, COUNT(*) AS n,
               {make_diff} AS make_diff, {year_diff} AS year_diff
        FROM ev WHERE {make_diff} OR {year_diff}
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
