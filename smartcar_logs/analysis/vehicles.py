"""Incompatible vehicles: which makes, models and years Connect turned away, and whether the
make and year Connect sent agree with the VIN (notebook 03)."""

from __future__ import annotations

import re
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
    "brand_families",
    "same_family",
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
    period : {"hour", "day", "week", "month"} or None, default None
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


# Brands that share a manufacturer's VIN codes (WMI): a VIN decoder names the maker, which
# for these is often the group or a sister brand, so "JEEP" against "DODGE" is one family.
_FAMILIES = (
    ("STELLANTIS", ("CHRYSLER", "DODGE", "JEEP", "RAM", "FIAT", "ALFA ROMEO", "MASERATI", "PEUGEOT",
                    "CITROEN", "OPEL", "VAUXHALL", "DS")),
    ("MERCEDES-BENZ", ("MERCEDES-BENZ", "DAIMLER", "DAIMLERCHRYSLER", "SMART", "MAYBACH")),
    ("GENERAL MOTORS", ("CHEVROLET", "GMC", "BUICK", "CADILLAC", "GM", "GENERAL MOTORS")),
    ("VOLKSWAGEN GROUP", ("VOLKSWAGEN", "AUDI", "SKODA", "SEAT", "CUPRA", "PORSCHE", "BENTLEY",
                          "LAMBORGHINI")),
    ("HYUNDAI", ("HYUNDAI", "KIA", "GENESIS")),
    ("TOYOTA", ("TOYOTA", "LEXUS", "SCION")),
    ("NISSAN", ("NISSAN", "INFINITI", "DATSUN")),
    ("HONDA", ("HONDA", "ACURA")),
    ("FORD", ("FORD", "LINCOLN", "MERCURY")),
    ("BMW", ("BMW", "MINI", "ROLLS-ROYCE")),
    ("JAGUAR LAND ROVER", ("JAGUAR", "LAND ROVER")),
    ("GEELY", ("VOLVO", "POLESTAR", "LOTUS")),
)  # fmt: skip
_FAMILY_OF = {brand: family for family, brands in _FAMILIES for brand in brands}
# Words VIN decoders add to a maker's name ("FIAT AUTOMOBILES", "GMC TRUCK", "DAIMLER AG").
_NOISE = re.compile(r"\b(AUTOMOBILES?|AUTOMOTIVE|MOTORS?|MOTOR COMPANY|COMPANY|CORPORATION|CORP|AG|"
                    r"GMBH|INC|LTD|LIMITED|SPA|S\.P\.A\.|TRUCKS?|GROUP|CARS?)\b")  # fmt: skip


def brand_families(make: str | None) -> frozenset[str]:
    """The brand families a make (Connect's or a VIN decoder's) can belong to.

    A decoder name may list several brands (``"SUBARU / SCION"``) or add words to one
    (``"FIAT AUTOMOBILES"``); each brand maps to its manufacturer's family (``"JEEP"`` and
    ``"DODGE"`` are both Stellantis), or is its own family.

    Examples
    --------
    >>> sorted(brand_families("SUBARU / SCION"))
    ['SUBARU', 'TOYOTA']
    >>> brand_families("FIAT AUTOMOBILES") == brand_families("JEEP")
    True
    """
    if not isinstance(make, str) or not make:
        return frozenset()
    out = set()
    for part in re.split(r"[/,]| AND ", make.upper()):
        name = " ".join(_NOISE.sub(" ", part).split())
        if name:
            out.add(_FAMILY_OF.get(name, name))
    return frozenset(out)


def same_family(make: str | None, vin_make: str | None) -> bool:
    """Whether Connect's *make* and the VIN's *vin_make* share a brand family."""
    return bool(brand_families(make) & brand_families(vin_make))


def _vin_pairs(db: Any, since: Any, until: Any, include_test: bool) -> pd.DataFrame:
    """Events with a VIN, counted per (make, vin_make, year, vin_year)."""
    cte, params = events_cte(
        since, until, include_test, True, ("make", "year", "vin_make", "vin_year"), where="vin IS NOT NULL"
    )
    frame = query(
        db,
        f"""{cte}
        SELECT NULLIF(make, '') AS make, NULLIF(vin_make, '') AS vin_make, year, vin_year,
               COUNT(*) AS n
        FROM ev GROUP BY 1, 2, 3, 4""",
        params,
    )
    has_make = frame["make"].notna() & frame["vin_make"].notna()
    frame["make_compared"] = has_make
    frame["make_exact"] = has_make & (frame["make"] == frame["vin_make"])
    family = [same_family(m, v) for m, v in zip(frame["make"], frame["vin_make"])]
    frame["make_family"] = has_make & pd.Series(family, index=frame.index, dtype=bool)
    frame["year_compared"] = frame["year"].notna() & frame["vin_year"].notna()
    frame["year_agree"] = frame["year_compared"] & (frame["year"] == frame["vin_year"])
    return frame


def vin_agreement(
    db: DbLike, since: Any = None, until: Any = None, include_test: bool = False
) -> pd.DataFrame:
    """How often the make and year Connect sent agree with what the VIN decodes to.

    Makes are compared by brand family (:func:`brand_families`): a VIN decoder names the
    manufacturer, which is often a group or sister brand ("FIAT AUTOMOBILES", "SUBARU /
    SCION", "DODGE" for a Jeep), so only a different family counts as a disagreement.  The
    VIN year letter repeats every 30 years, so a year disagreement can be the decoder's.

    Parameters
    ----------
    db : sqlite_utils.Database or path
    since, until : date-like, optional
    include_test : bool, default False

    Returns
    -------
    pandas.DataFrame
        Rows ``make`` and ``year``; columns ``with_vin`` (redirect events with a VIN),
        ``compared`` (both values known), ``agree`` (same name, or same year),
        ``same_family`` (a different name of the same brand family; 0 for years),
        ``disagree`` and ``disagree_share`` (of compared).  Reloads collapsed.

    Examples
    --------
    >>> vin_agreement(db)  # doctest: +SKIP
    """
    db = connect(db)
    f = _vin_pairs(db, since, until, include_test)
    with_vin = int(f["n"].sum())
    n = f["n"]
    make_n, make_ok = int(n[f["make_compared"]].sum()), int(n[f["make_exact"]].sum())
    make_family = int(n[f["make_family"] & ~f["make_exact"]].sum())
    year_n, year_ok = int(n[f["year_compared"]].sum()), int(n[f["year_agree"]].sum())
    frame = pd.DataFrame(
        {
            "with_vin": [with_vin, with_vin],
            "compared": [make_n, year_n],
            "agree": [make_ok, year_ok],
            "same_family": [make_family, 0],
        },
        index=pd.Index(["make", "year"], name="field"),
    )
    frame["disagree"] = frame["compared"] - frame["agree"] - frame["same_family"]
    frame["disagree_share"] = np.where(
        frame["compared"] > 0, frame["disagree"] / frame["compared"].where(frame["compared"] > 0), np.nan
    )
    return frame


def vehicle_disagreements(
    db: DbLike, since: Any = None, until: Any = None, include_test: bool = False
) -> pd.DataFrame:
    """The make/year combinations where Connect's values and the VIN's disagree.

    A make disagrees only across brand families (see :func:`vin_agreement`).

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
    f = _vin_pairs(db, since, until, include_test)
    make_diff = f["make_compared"] & ~f["make_family"]
    year_diff = f["year_compared"] & ~f["year_agree"]
    f = f[make_diff | year_diff].assign(make_diff=make_diff, year_diff=year_diff)
    f["disagrees"] = [
        ", ".join(name for name, flag in (("make", m), ("year", y)) if flag)
        for m, y in zip(f["make_diff"], f["year_diff"])
    ]
    f = f.sort_values(
        ["n", "make", "vin_make", "year", "vin_year"], ascending=[False, True, True, True, True]
    )
    for col in ("year", "vin_year"):
        f[col] = pd.array(f[col], dtype="Int64")
    return f[["make", "vin_make", "year", "vin_year", "n", "disagrees"]].reset_index(drop=True)
