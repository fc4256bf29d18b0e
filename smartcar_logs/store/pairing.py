"""Launches without a ``state``, paired with the redirects of the same client: the one place
this rule lives (the derived tables' refresh and rebuild in ``store/derived.py`` call
:func:`pair_by_client`; analysis only reads its result in ``attempts``).

Most apps make ``state`` on the server or open Connect from the browser, so their launch line
(``GET /connect`` answered with a 302 to Connect) carries none, and the redirect's ``state``
(if any) matches no launch. Such a launch can only be paired with what follows from the same
client: an inference, labelled ``pairing = 'client (inferred)'``. Two people behind one NAT
and one browser build look like one client; a person who changes network looks like two.

The contract
------------
*Launches* are the ``launches`` rows whose ``state`` is NULL or ``''`` and that have a client
(``client_ip`` or ``user_agent``; the client key is ``store._rows.client_key`` of the same
string the attempts' ``client`` is made from). A stateless launch without a client cannot be
paired and gets no attempt (the funnel reports it as not measurable). Each launch is one
attempt, keyed ``store.STATELESS_LAUNCH_PREFIX + source_fp + ':' + byte_offset`` (the same
line in the same content has the same key whichever run imported it).

*Returns* are (a) the attempts of a ``state`` that no launch carried (``events > 0`` and no
launch line of that state) and (b) the events without a ``state``, each with its first
line's client and time.

1. Each return picks the *latest* launch of its client at or before its first redirect and
   at most :data:`smartcar_logs.store.PAIRING_WINDOW_MINUTES` before it (timestamps compare
   as stored: ISO 8601 in UTC). A return without a time or a client picks nothing.
2. Of the returns that picked one launch, ordered by (time, kind a before b, key or event
   id), the first decides: (a) that state's attempt gets the launch (``launched``,
   ``launch_lines = 1``, the seconds to the redirect and to success, ``pairing``,
   ``launch_stateless = 1``) and the launch has no attempt of its own; (b) the launch's own
   attempt takes in every (b) return that picked it, counted as ``store.derived`` counts a
   state's events. The other returns stay unpaired (orphans): a new server ``state`` or a
   new launch per Connect try is the norm, so one launch rarely has two.
3. A launch no return picked is an attempt with a launch and no redirect (abandoned).

It is a function of each client's launches and returns alone, so what one refresh must
recompute is the pairing of every client its new rows belong to (:func:`touched_clients`: the
clients of the new files' lines, and of every line of the states they touched, which include
the client a touched attempt had before as well as after), whatever the order the files came
in; the result equals a rebuild's (tests/test_derived.py, tests/test_pairing.py). And only
near the new lines: a return's pair depends only on its client's launches in the window before
it and on the returns that picked the same launch, so a line at time t changes only the pairs
of its client's returns within [t - window, t + 2 * window]. A refresh decides again the
launches of each client within a window of its changed lines (:func:`_windows`), reading all
the clients' rows at once over one range of time (the partial indexes on ``ts`` of stateless
launches and events, ``attempts_first``) and leaving the rest of their history unread; a
client whose lines carry no time is read whole through the partial indexes on (client_ip,
user_agent) (``launches_stateless_client``, ``redirects_stateless_client``, owned by store)
and ``attempts_unlaunched``. On an hour's cron file into 28 days of stateless launches the
pairing took 0.43-0.44 s with each client's whole history, 0.11-0.12 s with spans read one
client at a time, 0.04 s so. A rebuild pairs every client in one pass. Only the rows that
change are written.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

from ._rows import NULL, client_key, many_events, merged_row, parse_ts, seconds_since
from .tables import ATTEMPTS, PAIRING_WINDOW_MINUTES, STATELESS_LAUNCH_PREFIX

__all__ = ["INFERRED", "pair_by_client"]

#: The value of ``attempts.pairing`` for a pair made by client.
INFERRED = "client (inferred)"

_CLIENT = (
    "CASE WHEN {t}client_ip IS NOT NULL OR {t}user_agent IS NOT NULL"
    " THEN COALESCE({t}client_ip, '') || ' ' || COALESCE({t}user_agent, '') END"
)
_KEY_HI = STATELESS_LAUNCH_PREFIX[:-1] + chr(ord(STATELESS_LAUNCH_PREFIX[-1]) + 1)
#: The columns a stateless launch's own row is written with (retries are linked later).
_ROW_NAMES = ATTEMPTS.names[:-2]
_CLIENT_AT, _USER_AT, _FIRST_AT, _SUCCESS_AT = (
    ATTEMPTS.index(c) for c in ("client", "user_id", "first_ts", "first_success_ts")
)
_UNLAUNCHED = "events > 0 AND (launch_lines = 0 OR launch_stateless = 1)"


def touched_clients(conn: sqlite3.Connection, files: list[tuple[str, int]]) -> dict[tuple, tuple]:
    """The clients (``client_ip``, ``user_agent``) whose pairing new rows can change, each with
    the first and last time of its lines among them: the *files*' launches and redirects, and
    every launch and redirect of the states they touched (``temp.touched_states``), which holds
    the client and the time each touched attempt had before the refresh as well as after."""
    clients: dict[tuple, tuple] = {}
    queries = [
        (f"SELECT client_ip, user_agent, MIN(ts), MAX(ts) FROM {table}"
         " WHERE source_fp = ? AND import_id = ? GROUP BY client_ip, user_agent", file)
        for table in ("redirects", "launches") for file in files
    ] + [
        (f"SELECT client_ip, user_agent, MIN(ts), MAX(ts) FROM {table}"
         " WHERE state IN (SELECT state FROM temp.touched_states) GROUP BY client_ip, user_agent", ())
        for table in ("redirects", "launches")
    ]  # fmt: skip
    for sql, args in queries:
        for ip, ua, lo, hi in conn.execute(sql, args):
            have_lo, have_hi = clients.get((ip, ua), (None, None))
            clients[(ip, ua)] = (
                min((t for t in (have_lo, lo) if t is not None), default=None),
                max((t for t in (have_hi, hi) if t is not None), default=None),
            )
    clients.pop((None, None), None)
    return clients


def _key(ip: str | None, ua: str | None) -> int:
    """The client key (``attempts.client``) of a (client_ip, user_agent) pair, as ``_CLIENT``
    spells the client in SQL."""
    return client_key(f"{ip or ''} {ua or ''}")


def _windows(clients: dict[tuple, tuple]) -> dict[tuple, tuple | None]:
    """Each client's span of launches to decide again, from the span of its changed lines
    (:func:`touched_clients`), or None (its whole history) when a time does not parse.

    A line at time t can change the pick of the returns in [t, t + window] (rule 1, a new
    launch) and so the decision of the launches in [t - window, t + window] (rule 2, all their
    returns being in [launch, launch + window]); the returns that picked one of those launches
    change with it, and no other pair does. So deciding again the launches in [lo - window,
    hi + window] needs the returns in [lo - window, hi + 2 window] and, for their picks, the
    launches in [lo - 2 window, hi + 2 window]: on a cron run's hour, a few hours of each
    client's history instead of all of it. A minute's margin on each side costs nothing."""
    w = timedelta(minutes=PAIRING_WINDOW_MINUTES)
    m = timedelta(minutes=1)
    keys = {c: _key(*c) for c in clients}
    by_key: dict[int, tuple | None] = {}
    for c, (lo, hi) in clients.items():
        a, b = parse_ts(lo), parse_ts(hi)
        span = None if a is None or b is None else (a - w - m, b + w + m)
        k = keys[c]
        if k in by_key:  # ('', ua) and (None, ua) are one client: one span for both
            have = by_key[k]
            span = None if have is None or span is None else (min(have[0], span[0]), max(have[1], span[1]))
        by_key[k] = span
    out: dict[tuple, tuple | None] = {}
    for c, k in keys.items():
        span = by_key[k]
        # (launches from, launches decided from, launches decided to, returns and launches to)
        times = None if span is None else (span[0] - w, span[0], span[1], span[1] + w)
        out[c] = None if times is None else tuple(t.isoformat() for t in times)
    return out


class _Launches:
    """The stateless launches of every client, or of *clients* within their spans
    (:func:`_windows`), by client key in time order, and rule 1's pick."""

    def __init__(self, conn: sqlite3.Connection, clients: dict[tuple, tuple | None] | None):
        self.window = timedelta(minutes=PAIRING_WINDOW_MINUTES)
        self.by_client: dict[int, list[tuple[str, str]]] = defaultdict(list)
        self.launching: set[tuple] = set()  # the (client_ip, user_agent) of a refresh's clients
        self.deciding: set[str] | None = None if clients is None else set()  # None: every launch
        keyed: dict[str, int | None] = {}  # a client's launches: 13 a client on the stateless export
        for key, ts, client, ip, ua in _read(conn, clients, _LAUNCHES, "l.", 0):
            k = keyed.get(client)
            if k is None:
                k = keyed[client] = client_key(client)
            self.by_client[k].append((ts, key))
            if clients is not None:
                self.launching.add((ip, ua))
                span = clients[(ip, ua)]
                if span is None or span[1] <= ts <= span[2]:
                    self.deciding.add(key)
        self.times: dict[int, list[str]] = {}  # each client's launch times, in order, for bisect
        for k, group in self.by_client.items():
            group.sort()
            self.times[k] = [ts for ts, _ in group]
        self._at: dict[str, object] = {}  # each launch's time parsed once, not once a return

    def parsed(self, key: str, ts: str):
        at = self._at.get(key, self._at)
        if at is self._at:
            at = self._at[key] = parse_ts(ts)
        return at

    def pick(self, client: int | None, ts: str | None) -> tuple[str, str] | None:
        """Rule 1: the latest launch of *client* at or before *ts*, within the window."""
        at = self.times.get(client) if client is not None else None
        if at is None or ts is None:
            return None
        i = bisect_right(at, ts)  # after every launch at the same time: the latest at or before
        if i == 0:
            return None
        launch = self.by_client[client][i - 1]
        l_ts, t = self.parsed(launch[1], launch[0]), parse_ts(ts)
        if t is None or l_ts is None or t - l_ts > self.window:
            return None
        return launch


def pair_by_client(
    conn: sqlite3.Connection, clients: dict[tuple, tuple] | None = None, *, removed: list[tuple] | None = None
) -> set[str]:
    """Bring the stateless launches' attempts and the client-paired attempts in line with the
    rule above, for every client or only *clients* (``(client_ip, user_agent)`` pairs and the
    span of their changed lines, from :func:`touched_clients`: the rule is one client's
    business, and changes only near those lines, so recomputing there equals recomputing
    all); return the keys (``attempts.state``) of the
    rows written or changed, whose retries must be linked again, and add to *removed* the
    (``client``, ``user_id``, ``first_ts``) of the rows it deleted (what a retry link read).

    A rebuild pairs as it writes instead (:class:`RebuildPairing`)."""
    spans = None if clients is None else _windows(clients)
    launches = _Launches(conn, spans)
    if spans is not None:
        # A client without a launch that carries no state (in its span) pairs nothing, and
        # the refresh wrote its attempts unpaired already: the three other lookups are spared.
        spans = {c: spans[c] for c in launches.launching}
        if not spans:
            return set()
    pick, deciding = launches.pick, launches.deciding
    # Who picked which launch: (ts, kind, key or id, payload).
    picked: dict[str, list[tuple]] = defaultdict(list)
    keys = None if spans is None else {_key(*c): span for c, span in spans.items()}
    unlaunched = []  # the returns whose pair is decided here: any, or those in a client's span
    for row in _by_key(conn, keys, _UNLAUNCHED_ROWS):
        launch = pick(row[3], row[1])
        if launch is None:
            unlaunched.append(row)
        elif deciding is None or launch[1] in deciding:
            unlaunched.append(row)
            picked[launch[1]].append((row[1], 0, row[0], row))
    for ev in _read(conn, spans, _STATELESS_EVENTS, "r.", 1):
        if ev[8] is None:
            continue
        launch = pick(client_key(ev[8]), ev[1])
        if launch is not None and (deciding is None or launch[1] in deciding):
            picked[launch[1]].append((ev[1], 1, ev[0], ev))

    want_rows: dict[str, tuple] = {}
    want_updates: dict[str, tuple] = {}  # state -> (launched, launch_lines, secs..., pairing, stateless)
    no_picks = ()
    for client, group in launches.by_client.items():
        for l_ts, key in group:
            if deciding is not None and key not in deciding:
                continue
            returns = picked.get(key, no_picks)
            if len(returns) > 1:
                returns = sorted(returns, key=lambda r: r[:3])
            if returns and returns[0][1] == 0:
                row = returns[0][3]
                want_updates[row[0]] = _paired(row[1], row[2], l_ts, launches.parsed(key, l_ts))
                continue
            want_rows[key] = _own_row(key, l_ts, client, [r[3] for r in returns if r[1] == 1])
    if deciding is None:
        have = conn.execute(_LAUNCH_ROWS.format(where="")).fetchall()
    else:  # the launches' own rows, by key: a client's others keep theirs
        one = "SELECT * FROM attempts WHERE state = ?"
        have = [row for key in deciding for row in conn.execute(one, (key,))]
    have_rows = {r[0]: r[:-2] for r in have}
    return _write(conn, unlaunched, have_rows, want_rows, want_updates, removed)


def _paired(first_ts: str | None, first_success_ts, l_ts: str, earlier) -> tuple:
    """What an attempt paired with a stateless launch gets: launched, launch_lines, the
    seconds to its redirect and to success, pairing, launch_stateless."""
    return (l_ts, 1, seconds_since(first_ts, earlier), seconds_since(first_success_ts, earlier), INFERRED, 1)


def _own_row(key: str, l_ts: str, client: int, events: list[tuple]) -> tuple:
    """A stateless launch's own attempt row (as ``_rows`` makes them): with the events
    without a state that it decided (rule 2), or none."""
    if events:
        # As derived.py groups a state's events: in time order, then outcome and code.
        events.sort(key=lambda e: (e[1], e[2], e[4] or "", e[0]))
        rows = [(key, *e[1:9], 0) for e in events]
        a = many_events(rows[0], rows[1:])
        row = merged_row(a, l_ts, 1, None)
        return (*row[:-2], INFERRED, 1)
    return (key, l_ts, 1, NULL, NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, 0, NULL, client, NULL, 1)  # fmt: skip


class RebuildPairing:
    """:func:`pair_by_client` for every client, as a rebuild writes the attempts: the rule
    applied to each attempt row on its way in, so that no row is written twice.

    Written unpaired first and then updated (as a refresh does), the rows grew (a launch time,
    a pairing) in pages their in-order insert had filled: 91k updates took 1.1-1.6 s of the
    stateless 200k-line export's rebuild. Held back in memory until paired, they raised its
    peak RSS by 30 MB. Here rule 1 (the pick) needs only the launches, read first; rule 2 (the
    earliest return decides) is kept per launch as the rows go by, and a return that an
    earlier one (by time, kind, key) displaces later in the pass is set back to unpaired
    (:meth:`finish`; a launch rarely has two returns). The events without a ``state`` must
    be in ``events`` before; the result equals a refresh's (tests/test_pairing.py).
    """

    def __init__(self, conn: sqlite3.Connection):
        self.launches = _Launches(conn, None)
        self.best: dict[str, tuple] = {}  # launch key -> (time, kind, key or id) of its first return
        self.events: dict[str, list[tuple]] = defaultdict(list)  # launch key -> kind (b) returns
        self.displaced: list[str] = []
        for ev in _read(conn, None, _STATELESS_EVENTS, "r.", 1):
            if ev[8] is None:
                continue
            launch = self.launches.pick(client_key(ev[8]), ev[1])
            if launch is not None:
                self.events[launch[1]].append(ev)
                self._decide(launch[1], (ev[1], 1, ev[0]))

    def _decide(self, key: str, candidate: tuple) -> bool:
        """Whether *candidate* is now the first return of launch *key* (rule 2)."""
        best = self.best.get(key)
        if best is not None and not candidate < best:
            return False
        if best is not None and best[1] == 0:
            self.displaced.append(best[2])
        self.best[key] = candidate
        return True

    def rows(self, rows: Iterator[tuple]) -> Iterator[tuple]:
        """The attempt rows (in state order, as ``_rows`` makes them), paired by rule 1 and
        the first returns so far."""
        pick, parsed = self.launches.pick, self.launches.parsed
        for row in rows:
            if is_held(row):
                ts = row[_FIRST_AT]
                ts = None if ts != ts else ts  # NULL is a NaN here
                launch = pick(row[_CLIENT_AT], ts)
                if launch is not None and self._decide(launch[1], (ts, 0, row[0])):
                    l_ts, key = launch
                    p = _paired(ts, row[_SUCCESS_AT], l_ts, parsed(key, l_ts))
                    row = row[:1] + p[:2] + row[3:17] + p[2:4] + row[19:22] + p[4:]
            yield row

    def finish(self, conn: sqlite3.Connection) -> None:
        """Set the displaced returns back to unpaired; write the launches' own rows."""
        conn.executemany(
            "UPDATE attempts SET launched = NULL, launch_lines = 0, secs_redirect = NULL,"
            " secs_success = NULL, pairing = NULL, launch_stateless = 0 WHERE state = ?",
            ((s,) for s in self.displaced),
        )
        own = []
        for client, group in self.launches.by_client.items():
            for l_ts, key in group:
                best = self.best.get(key)
                if best is None or best[1] == 1:
                    own.append(_own_row(key, l_ts, client, self.events.get(key, [])))
        names = ", ".join(_ROW_NAMES)
        conn.executemany(f"INSERT INTO attempts ({names}) VALUES ({', '.join('?' * len(_ROW_NAMES))})", own)


# The candidates, for every client or one client at a time: {where} is where the client goes.
_LAUNCHES = f"""SELECT ? || l.source_fp || ':' || l.byte_offset, l.ts, {_CLIENT.format(t="l.")},
           l.client_ip, l.user_agent
    FROM launches AS l WHERE (l.state IS NULL OR l.state = '') AND l.ts IS NOT NULL
      AND (l.client_ip IS NOT NULL OR l.user_agent IS NOT NULL){{where}}"""
_STATELESS_EVENTS = f"""SELECT e.id, e.ts, e.outcome, COALESCE(e.category, e.outcome), e.error_code,
           e.hits, e.is_test, r.user_id, {_CLIENT.format(t="r.")}, r.client_ip, r.user_agent
    FROM events AS e JOIN redirects AS r ON r.id = e.id
    WHERE e.state IS NULL AND (r.state IS NULL OR r.state = ''){{where}}"""
_KEYED = f"state >= '{STATELESS_LAUNCH_PREFIX}' AND state < '{_KEY_HI}'"
_UNLAUNCHED_ROWS = f"""SELECT state, first_ts, first_success_ts, client, launched, launch_lines,
           secs_redirect, secs_success, pairing, launch_stateless
    FROM attempts WHERE {_UNLAUNCHED} AND NOT ({_KEYED}){{where}}"""
_LAUNCH_ROWS = f"SELECT * FROM attempts WHERE {_KEYED}{{where}}"
# The same over a span of time for every client at once: by the partial indexes on ts (left
# alone, SQLite read every stateless row through the state index and tested its time).
_IN_SPAN = {
    _LAUNCHES: _LAUNCHES.replace("FROM launches AS l", "FROM launches AS l INDEXED BY launches_stateless"),
    _STATELESS_EVENTS: _STATELESS_EVENTS.replace(
        "FROM events AS e", "FROM events AS e INDEXED BY events_stateless"
    ),
}
#: Where _UNLAUNCHED_ROWS's columns are in an attempt row, and those an update sets.
_UNLAUNCHED_AT = tuple(
    ATTEMPTS.index(c)
    for c in _UNLAUNCHED_ROWS.split("SELECT ")[1]
    .split(" FROM")[0]
    .replace("\n", " ")
    .replace(" ", "")
    .split(",")
)
# RebuildPairing.rows splices a pair into a row at these columns.
assert _UNLAUNCHED_AT[4:] == (1, 2, 17, 18, 22, 23) and len(_ROW_NAMES) == 24, "RebuildPairing's slices"


def is_held(row: tuple) -> bool:
    """Whether an attempt row (as ``_rows`` makes it) is one of _UNLAUNCHED_ROWS: a return
    :class:`RebuildPairing` may pair."""
    return (
        row[_EVENTS_AT] > 0
        and (row[_LINES_AT] == 0 or row[_STATELESS_AT] == 1)
        and not (STATELESS_LAUNCH_PREFIX <= row[0] < _KEY_HI)
    )


_EVENTS_AT, _LINES_AT, _STATELESS_AT = (
    ATTEMPTS.index(c) for c in ("events", "launch_lines", "launch_stateless")
)


def _read(conn: sqlite3.Connection, clients: dict[tuple, tuple | None] | None, sql: str, t: str, at: int):
    """Rows of *sql* for every client, or for *clients*: those with a span (:func:`_windows`)
    from its time *at* to its end, all at once over the spans' union in time; the others
    one at a time, whole, through the partial indexes on (client_ip, user_agent) of
    stateless launches and redirects (``IS`` matches NULLs)."""
    prefix = (STATELESS_LAUNCH_PREFIX,) if sql is _LAUNCHES else ()
    if clients is None:
        yield from conn.execute(sql.format(where=""), prefix)
        return
    spans = {c: span for c, span in clients.items() if span is not None}
    if spans:
        # A cron run's clients by the hundred, each with a few hours of its history: one
        # range of time for all of them, not each one's whole history (SQLite walking those
        # was 0.08 of the 0.12 s of an hour's pairing).
        ts = "e.ts" if sql is _STATELESS_EVENTS else "l.ts"
        in_span = _IN_SPAN[sql].format(where=f" AND {ts} BETWEEN ? AND ?")
        for lo, hi in _union(spans.values(), at):
            for row in conn.execute(in_span, (*prefix, lo, hi)):
                span = spans.get(row[-2:])
                if span is not None and span[at] <= row[1] <= span[3]:
                    yield row
    one = sql.format(where=f" AND {t}client_ip IS ? AND {t}user_agent IS ?")
    for (ip, ua), span in clients.items():
        if span is None:
            yield from conn.execute(one, (*prefix, ip, ua))


def _union(spans, at: int) -> list[tuple[str, str]]:
    """The times from each span's *at* to its end, as the fewest disjoint ranges: a client
    whose span is weeks before the others' (an old state reloaded) costs its own few hours,
    not every client's weeks between."""
    ranges: list[list[str]] = []
    for lo, hi in sorted((span[at], span[3]) for span in spans):
        if ranges and lo <= ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], hi)
        else:
            ranges.append([lo, hi])
    return [(lo, hi) for lo, hi in ranges]


def _by_key(conn: sqlite3.Connection, keys: dict[int, tuple | None] | None, sql: str) -> list[tuple]:
    """The attempts of *sql* of every client, or of the client keys in *keys*: as
    :func:`_read`, those whose first redirect is in their span's returns, or all of them."""
    if keys is None:
        return conn.execute(sql.format(where="")).fetchall()
    rows = []
    spans = {k: span for k, span in keys.items() if span is not None}
    if spans:
        in_span = sql.format(where=" AND first_ts BETWEEN ? AND ?")
        for lo, hi in _union(spans.values(), 1):
            found = conn.execute(in_span, (lo, hi))
            rows += [r for r in found if (span := spans.get(r[3])) is not None and span[1] <= r[1] <= span[3]]
    one = sql.format(where=" AND client = ?")
    for key, span in keys.items():
        if span is None:
            rows.extend(conn.execute(one, (key,)))
    return rows


def _write(
    conn: sqlite3.Connection,
    unlaunched: list[tuple],
    have_rows: dict[str, tuple],
    want_rows: dict[str, tuple],
    want_updates: dict[str, tuple],
    removed: list[tuple] | None = None,
) -> set[str]:
    """Write what differs from the attempts as they are; return the keys written."""
    changed: set[str] = set()
    stale = {k for k, have in have_rows.items() if k not in want_rows or _plain(want_rows[k]) != have}
    if removed is not None:
        removed.extend(
            (have_rows[k][_CLIENT_AT], have_rows[k][_USER_AT], have_rows[k][_FIRST_AT]) for k in stale
        )
    conn.executemany("DELETE FROM attempts WHERE state = ?", ((k,) for k in stale))
    fresh = [row for k, row in want_rows.items() if k not in have_rows or k in stale]
    names = ", ".join(_ROW_NAMES)
    conn.executemany(f"INSERT INTO attempts ({names}) VALUES ({', '.join('?' * len(_ROW_NAMES))})", fresh)
    changed.update(stale)
    changed.update(row[0] for row in fresh)
    reset = (None, 0, None, None, None, 0)
    updates = []
    for row in unlaunched:
        state = row[0]
        want = want_updates.get(state)
        want = reset if want is None else _plain(want)
        if row[4:10] != want:
            updates.append((*want, state))
    conn.executemany(
        """UPDATE attempts SET launched = ?, launch_lines = ?, secs_redirect = ?, secs_success = ?,
               pairing = ?, launch_stateless = ? WHERE state = ?""",
        updates,
    )
    changed.update(u[-1] for u in updates)
    return changed


def _plain(row: tuple) -> tuple:
    """*row* as SQLite gives it back (_rows' rows carry NULL as a NaN), so that what is
    wanted compares equal to what is there."""
    return tuple(None if v != v else v for v in row)
