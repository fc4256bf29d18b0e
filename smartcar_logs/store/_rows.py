"""An attempt's row of :data:`~smartcar_logs.store.tables.ATTEMPTS` from its events and its
launch, in Python: shared by the refresh (:mod:`.derived`) and the pairing of stateless launches
(:mod:`.pairing`), which must count a state's events exactly alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from hashlib import blake2b
from itertools import groupby
from operator import itemgetter

# Attempt rows carry NULL as a float NaN, which SQLite stores as NULL: binding a None costs
# Python's sqlite3 a failed adapter lookup, ~1 us here against 0.2 us for a float (4.4 NULLs
# per attempt: 0.4 s of a 100k-state rebuild).  retried and retry_succeeded are written NULL
# here and set by _link_retries.
NULL = float("nan")


def client_key(client: str | None) -> int | None:
    """A stable signed 64-bit key for a client (IP and user agent): retries are linked by
    equality only, and the ~150-byte string made attempts and their client index 3x wider."""
    if client is None:
        return None
    digest = blake2b(client.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def parse_ts(ts: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(ts)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def seconds_since(later: str | None, earlier: datetime | None) -> float:
    """Seconds from *earlier* (parsed) to *later*, NULL when either is missing or malformed."""
    if later is None or earlier is None:
        return NULL
    try:
        return round((datetime.fromisoformat(later) - earlier).total_seconds(), 3)
    except (TypeError, ValueError):
        return NULL


def nulls(row: tuple) -> tuple:
    return tuple(NULL if v is None else v for v in row)


STATE = itemgetter(0)
# How an attempt with both a launch and a redirect of one state was paired, by whether its
# redirects' state was the JavaScript SDK's (redirect.js_sdk_state).
PAIRED_BY = ("state", "js-sdk")


def merged_row(a: tuple, launched: str | None, lines: int, launch_client: str | None) -> tuple:
    """The attempt row of :func:`many_events`'s numbers *a* and its launch (first line's time,
    lines, client; None, 0, None without one)."""
    earlier = parse_ts(launched)
    client = a[17] if a[17] is not None else launch_client
    pairing = PAIRED_BY[a[18]] if lines and a[4] else None
    return nulls(
        (a[0], launched, lines, *a[1:15], seconds_since(a[1], earlier),
         seconds_since(a[9], earlier), a[15], a[16], client_key(client), pairing, 0)
    )  # fmt: skip


def launch_groups(rows) -> Iterator[tuple]:
    """(state, MIN(ts), COUNT(*), MAX(client)) of launch rows (state, ts, client) in state
    order, as SQL's aggregates give them: NULLs skipped, text compared as code points (which
    is UTF-8's byte order, SQLite's)."""
    for state, group in groupby(rows, STATE):
        _, ts, client = next(group)
        lines = 1
        for _, t, c in group:  # noqa: B031 (the rest of the same group, read once)
            lines += 1
            if t is not None and (ts is None or t < ts):
                ts = t
            if c is not None and (client is None or c > client):
                client = c
        yield state, ts, lines, client


def many_events(first: tuple, more: list[tuple]) -> tuple:
    """An attempt's numbers from its events in order: state, first_ts, last_ts, redirects,
    events, success, errors, first_error, last_error, first_success, last_success, first
    outcome, first category, final outcome, final code, is_test, user_id, client, whether a
    JavaScript-SDK state."""
    state, ts, outcome, category, *_, client, _ = first
    a = [state, ts, ts, 0, 0, 0, 0, None, None, None, None, outcome, category, None, None, 0, None, client, 0]
    for _, ts, outcome, _, code, hits, test, user_id, _, js in (first, *more):
        if a[1] is None:
            a[1] = ts  # MIN(ts) skips NULLs, which sort first
        if ts is not None and (a[2] is None or ts > a[2]):
            a[2] = ts
        a[3] += hits
        a[4] += 1
        if outcome == "success":
            a[5] += 1
            a[9] = a[9] or ts
            a[10] = ts if ts is not None else a[10]
        elif outcome == "error":
            a[6] += 1
            a[7] = a[7] or ts
            a[8] = ts if ts is not None else a[8]
        a[13], a[14] = outcome, code  # ordered: the last one seen is the final event
        a[15] |= test
        if user_id is not None and (a[16] is None or user_id > a[16]):
            a[16] = user_id
        a[18] |= js
    return tuple(a)


def launch_only(launch: tuple) -> tuple:
    state, launched, lines, client = launch
    return nulls((state, launched, lines, None, None, 0, 0, 0, 0, None, None, None, None,
                   None, None, None, None, None, None, 0, None, client_key(client), None, 0))  # fmt: skip
