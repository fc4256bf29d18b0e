"""The connection funnel: Connect launched → redirect received → success, and how long it
takes (notebook 01).  Needs launches (import with ``--launch-path``).

A launch and its redirect are paired by their ``state``; a launch without one (the app made
``state`` on its server, the commonest deployment) by the client (IP and user agent) whose
redirect follows it: an inference, counted in ``launched_inferred`` and the columns after it
and described by :func:`funnel_caveats` (the rule: ``smartcar_logs/store/pairing.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..views import CONVERSION_WINDOW_MINUTES  # one value for the funnel and its view
from ._sql import (
    NO_STATE,
    DbLike,
    check_period,
    connect,
    day_expr,
    filters,
    query,
    roll_up,
)
from .stats import add_rate

__all__ = [
    "CONVERSION_WINDOW_MINUTES",
    "funnel_summary",
    "funnel",
    "funnel_caveats",
    "funnel_steps",
    "time_to_complete",
]


def _launched(since: Any, until: Any, include_test: bool) -> tuple[str, list[Any]]:
    """Condition on :data:`smartcar_logs.store.ATTEMPTS` for the launch attempts in range.

    An attempt is in range by its first launch line; one whose ``state`` came back on a test
    redirect is test traffic.
    """
    where, params = filters(since, until, include_test, ts="launched")
    return f"launch_lines > 0 AND {where}", params


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
    page loaded twice with one ``state`` is one launch attempt.  A launch line without a
    ``state`` is a launch attempt of its own, paired with the redirects of the same client
    that follow it within :data:`smartcar_logs.store.PAIRING_WINDOW_MINUTES` (inferred: two
    people behind one NAT and browser look like one client); one without a client either
    cannot be paired and is counted in ``launches_unmeasurable`` only.  Launches are bucketed by the
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
        ``period`` (if requested), ``launch_lines``, ``launches_without_state`` (launch lines
        without a ``state``), ``launch_reloads``, ``launched`` (launch attempts: distinct
        states, and each stateless launch with a client), ``returned`` (any redirect came
        back), ``late``, ``succeeded``, ``abandoned`` (= launched - returned),
        ``abandonment_rate`` and ``conversion_rate`` (succeeded / launched) with Wilson
        bounds; ``launched_inferred``, ``returned_inferred``, ``succeeded_inferred`` (the part
        of launched, returned, succeeded that are stateless launches paired by client),
        ``paired_share`` (returned_inferred / launched_inferred: the share of the stateless
        launches a redirect could be paired with, NaN without any),
        ``launches_unmeasurable`` (stateless launch lines without a client or a time: no
        pairing possible, in no other count but launch_lines and launches_without_state);
        with period None also ``orphan_redirect_states`` (redirect states in range with
        no launch at all, a data-quality count kept out of the rates) and
        ``stateless_redirects`` (redirect events without a ``state``, whether or not a
        stateless launch took them in).

    Examples
    --------
    >>> funnel_summary(db).loc[0, ["launched", "returned", "succeeded"]]  # doctest: +SKIP
    """
    check_period(period, allow_none=True)
    db = connect(db)
    where, params = _launched(since, until, include_test)
    frame = query(
        db,
        f"""SELECT {day_expr(period, "launched")} AS period,
               SUM(launch_lines) AS state_lines,
               COUNT(*) AS launched,
               SUM(first_ts IS NOT NULL) AS returned,
               SUM(secs_redirect > ? * 60.0) AS late,
               SUM(first_success_ts IS NOT NULL) AS succeeded,
               SUM(launch_stateless) AS launched_inferred,
               SUM(launch_stateless AND first_ts IS NOT NULL) AS returned_inferred,
               SUM(launch_stateless AND first_success_ts IS NOT NULL) AS succeeded_inferred
        FROM attempts WHERE {where} GROUP BY 1""",
        [window_minutes, *params],
    )
    frame = roll_up(frame, period)
    where_l, params_l = filters(since, until, True, test_col=None)
    stateless = roll_up(
        query(
            db,
            f"""SELECT {day_expr(period)} AS period, COUNT(*) AS launches_without_state,
                   SUM(client_ip IS NULL AND user_agent IS NULL) AS launches_unmeasurable
            FROM launches WHERE {where_l} AND {NO_STATE} GROUP BY 1""",
            params_l,
        ),
        period,
    )
    frame = frame.merge(stateless, on="period", how="outer")
    if frame.empty and period is None:
        frame = pd.DataFrame([{"period": "all"}])
    inferred = ["launched_inferred", "returned_inferred", "succeeded_inferred"]
    counts = ["state_lines", "launches_without_state", "launched", "returned", "late", "succeeded"]
    frame = frame.reindex(columns=["period", *counts, *inferred, "launches_unmeasurable"])
    frame[counts + inferred + ["launches_unmeasurable"]] = (
        frame[counts + inferred + ["launches_unmeasurable"]].fillna(0).astype("int64")
    )
    # A stateless launch with a client is an attempt of one line (state_lines counts it); one
    # without is in no attempt.
    frame.insert(1, "launch_lines", frame["state_lines"] + frame["launches_unmeasurable"])
    frame.insert(3, "launch_reloads", frame["state_lines"] - frame["launched"])
    frame = frame.drop(columns="state_lines")
    frame["abandoned"] = frame["launched"] - frame["returned"]
    add_rate(frame, "abandonment_rate", "abandoned", "launched", alpha)
    add_rate(frame, "conversion_rate", "succeeded", "launched", alpha)
    frame = frame[[c for c in frame.columns if c not in inferred and c != "launches_unmeasurable"]
                  + inferred + ["launches_unmeasurable"]]  # fmt: skip
    frame.insert(
        frame.columns.get_loc("launches_unmeasurable"),
        "paired_share",
        frame["returned_inferred"] / frame["launched_inferred"].where(frame["launched_inferred"] > 0),
    )
    if period is not None:
        frame["period"] = pd.to_datetime(frame["period"])
        return frame.sort_values("period").reset_index(drop=True)
    frame = frame.drop(columns="period")
    where_r, params_r = filters(since, until, include_test, ts="first_ts")
    frame["orphan_redirect_states"] = db.execute(
        f"SELECT COUNT(*) FROM attempts WHERE events > 0 AND launch_lines = 0 AND {where_r}", params_r
    ).fetchone()[0]
    where_s, params_s = filters(since, until, include_test)
    frame["stateless_redirects"] = db.execute(
        f"SELECT COUNT(*) FROM events WHERE state IS NULL AND {where_s}", params_s
    ).fetchone()[0]
    return frame


def funnel_caveats(summary: pd.DataFrame) -> list[str]:
    """What a reader must know about a :func:`funnel_summary`'s counts (its first row), as
    sentences: the share paired by client (inferred) and what that cannot tell apart, and the
    launches whose funnel cannot be measured.  Empty when every launch carried a ``state``.

    The report and notebooks print these beside the numbers, so a count that is an inference,
    or a 0 that means "unmeasured", is never shown bare.
    """
    row = summary.iloc[0]
    out = []
    inferred, returned = int(row["launched_inferred"]), int(row["returned_inferred"])
    launched, stateless = int(row["launched"]), int(row["launches_without_state"])
    unmeasurable = int(row["launches_unmeasurable"])
    if inferred:
        out.append(
            f"{_n(inferred, 'launch')} of {launched} carried no state; {returned} of them "
            f"({returned / inferred:.1%} of those {inferred}) were paired with a redirect by client "
            "(IP and user agent): paired by client (inferred). Two people behind one NAT and "
            "browser look like one client, and one person who changes network looks like two."
        )
    if unmeasurable:
        what = (
            "The funnel cannot be measured"
            if launched == 0
            else f"The funnel leaves out {_n(unmeasurable, 'launch')}"
        )
        out.append(
            f"{what}: {unmeasurable} of the {stateless} launch lines without a state have no client "
            "(IP or user agent) either, so no redirect can be paired with them."
        )
    return out


def _n(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else ("es" if word.endswith("ch") else "s"))


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
    return funnel_steps(funnel_summary(db, since, until, None, include_test))


def funnel_steps(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`funnel` from a :func:`funnel_summary` already at hand (its first row).

    The report and notebooks show the summary's table beside the steps' chart: this saves
    them a second pass over the launches.
    """
    n = [int(summary.loc[0, c]) for c in ("launched", "returned", "succeeded")]
    frame = pd.DataFrame({"step": ["Connect launched", "Redirect received", "Success"], "n": n})
    first = n[0]
    frame["share_of_launches"] = [v / first if first else np.nan for v in n]
    frame["share_of_previous"] = [
        1.0 if first else np.nan,
        *[(b / a if a else np.nan) for a, b in zip(n, n[1:])],
    ]
    return frame


def time_to_complete(
    db: DbLike, since: Any = None, until: Any = None, include_test: bool = False
) -> pd.DataFrame:
    """Seconds from launch to the first redirect with the same ``state`` (or, for a launch
    without one, the first redirect paired with it by client: inferred), by that redirect's
    outcome.

    Only launches that came back count; a redirect logged before its launch
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
    where, params = _launched(since, until, include_test)
    # The seconds are precomputed per attempt; only the numbers come back, and the quantiles
    # (linear interpolation) are numpy's: sorting a million floats there beats a window
    # function over them in SQLite.
    rows = db.execute(
        f"""SELECT first_category, secs_redirect, secs_success FROM attempts
        WHERE {where} AND first_ts IS NOT NULL""",
        params,
    ).fetchall()
    frame = pd.DataFrame.from_records(rows, columns=["grp", "x", "x_success"])
    groups = {"all": frame["x"], "to success": frame["x_success"]}
    for grp, part in frame.groupby("grp", sort=True)["x"]:
        groups[grp] = part
    stats = {}
    for grp, values in groups.items():
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        x = x[x >= 0]  # NaN compares False: no timing, or a redirect before its launch
        if len(x):
            stats[grp] = (len(x), list(np.quantile(x, (0.5, 0.9))))
    middle = sorted(k for k in stats if k not in ("all", "to success"))
    rows = [
        {"outcome": k, "n": int(stats[k][0]), "median_s": stats[k][1][0], "p90_s": stats[k][1][1]}
        for k in ["all", *middle, "to success"]
        if k in stats
    ]
    return pd.DataFrame(rows, columns=["outcome", "n", "median_s", "p90_s"])
