"""What ``check`` reads: counts in the window and the baseline, each query one range of an index.

Every query bounds ``ts`` (or ``launched``) on both sides, so at a million redirects it reads
the window and the baseline only: ``events_outcomes`` (covering) for the outcome counts,
``events_incompatible`` (partial) for the makes, ``attempts_launched`` (partial, covering) for
abandonment; the log's end comes from the importer's ``sources`` rows (the time of each file's
last line, whatever the line was).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..redirect import UNKNOWN

__all__ = ["Counts", "read_counts", "iso"]


def iso(dt: datetime) -> str:
    """The timestamp spelling the importer stores (``2026-10-08T12:00:00+00:00``), so that
    text comparison in SQL is time comparison."""
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass
class Period:
    """Redirect events (test traffic left out) of one period."""

    events: int = 0  # every event, empty redirects included
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_code: dict[str, int] = field(default_factory=dict)  # errors, lowercased code
    incompatible_by_make: dict[str, int] = field(default_factory=dict)
    launches: int = 0  # launches old enough to judge (see read_counts)
    abandoned: int = 0

    @property
    def decided(self) -> int:
        """Events with an outcome: success or error (the shares' denominator)."""
        return self.by_outcome.get("success", 0) + self.by_outcome.get("error", 0)


@dataclass
class Counts:
    window: Period
    baseline: Period
    same_time_of_day: list[int]  # events in the window's time of day on each earlier day
    log_start: datetime | None  # the first imported line's time
    log_end: datetime | None  # the last imported line's time (of any kind)


def read_counts(conn, at: datetime, window: timedelta, baseline: timedelta, settle: timedelta) -> Counts:
    """The counts of the window ``[at - window, at)`` and the baseline before it.

    Launches are judged ``settle`` after they happen (abandoned: no redirect within
    ``settle``), so the launch periods are the event periods shifted back by ``settle``:
    every launch counted had ``settle`` to come back before *at*.
    """
    ws, bs = at - window, at - window - baseline
    w, b = Period(), Period()
    for in_window, outcome, code, n in conn.execute(
        "SELECT ts >= ?, outcome, error_code, COUNT(*) FROM events"
        " WHERE ts >= ? AND ts < ? AND is_test = 0 GROUP BY 1, 2, 3",
        [iso(ws), iso(bs), iso(at)],
    ):
        p = w if in_window else b
        p.events += n
        p.by_outcome[outcome] = p.by_outcome.get(outcome, 0) + n
        if outcome == "error":
            key = code or UNKNOWN
            p.by_code[key] = p.by_code.get(key, 0) + n
    for in_window, make, n in conn.execute(
        f"SELECT ts >= ?, coalesce(make, '{UNKNOWN}'), COUNT(*) FROM events"
        " WHERE error_code = 'vehicle_incompatible' AND ts >= ? AND ts < ? AND is_test = 0 GROUP BY 1, 2",
        [iso(ws), iso(bs), iso(at)],
    ):
        (w if in_window else b).incompatible_by_make[make] = n
    for in_window, n, abandoned in conn.execute(
        "SELECT launched >= ?, COUNT(*), SUM(first_ts IS NULL OR secs_redirect > ?) FROM attempts"
        " WHERE launch_lines > 0 AND launched >= ? AND launched < ? AND is_test = 0 GROUP BY 1",
        [iso(ws - settle), settle.total_seconds(), iso(bs - settle), iso(at - settle)],
    ):
        p = w if in_window else b
        p.launches, p.abandoned = n, abandoned or 0
    first, last = conn.execute("SELECT min(first_ts), max(last_ts) FROM sources").fetchone()
    if last is None:  # rows written by other means than the importer: their own times
        first, last = conn.execute("SELECT min(ts), max(ts) FROM events").fetchone()
    log_start, log_end = parse_iso(first), parse_iso(last)
    # The same hours on each earlier day of the baseline that the logs cover: traffic has a
    # daily rhythm, and 3 a.m. must not be expected to be as busy as the day's average.
    same = []
    day = timedelta(days=1)
    k = 1
    while window <= day and k * day + window <= window + baseline:
        lo = ws - k * day
        if log_start is not None and lo < log_start:
            break
        same.append(
            conn.execute(
                "SELECT COUNT(*) FROM events WHERE ts >= ? AND ts < ? AND is_test = 0",
                [iso(lo), iso(at - k * day)],
            ).fetchone()[0]
        )
        k += 1
    return Counts(w, b, same, log_start, log_end)
