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
in; the result equals a rebuild's (tests/test_derived.py, tests/test_pairing.py). Those
clients' rows are found through partial indexes on (client_ip, user_agent) of the stateless
launches and redirects (``launches_stateless_client``, ``redirects_stateless_client``, owned
by store) and ``attempts_unlaunched`` / ``attempts_client``; a rebuild pairs every client in
one pass. Only the rows that change are written. Finer locality, for a faster refresh later:
a return's pair depends only on its client's launches in the window before it and on the
returns that picked the same launch, so a new line at time t changes only the pairs of its
client's returns within [t - window, t + 2 * window].
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections import defaultdict
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
_CLIENT_AT, _USER_AT, _FIRST_AT = (ATTEMPTS.index(c) for c in ("client", "user_id", "first_ts"))
_UNLAUNCHED = "events > 0 AND (launch_lines = 0 OR launch_stateless = 1)"


def touched_clients(conn: sqlite3.Connection, files: list[tuple[str, int]]) -> set[tuple]:
    """The clients (``client_ip``, ``user_agent``) whose pairing new rows can change: those of
    the *files*' launches and redirects, and of every launch and redirect of the states they
    touched (``temp.touched_states``), which holds the client each touched attempt had before
    the refresh as well as the one it has after."""
    clients: set[tuple] = set()
    for table in ("redirects", "launches"):
        for file in files:
            clients.update(
                conn.execute(
                    f"SELECT DISTINCT client_ip, user_agent FROM {table}"
                    " WHERE source_fp = ? AND import_id = ?",
                    file,
                )
            )
        clients.update(
            conn.execute(
                f"SELECT DISTINCT client_ip, user_agent FROM {table}"
                " WHERE state IN (SELECT state FROM temp.touched_states)"
            )
        )
    clients.discard((None, None))
    return clients


def pair_by_client(
    conn: sqlite3.Connection, clients: set[tuple] | None = None, *, removed: list[tuple] | None = None
) -> set[str]:
    """Bring the stateless launches' attempts and the client-paired attempts in line with the
    rule above, for every client or only *clients* (``(client_ip, user_agent)`` pairs, from
    :func:`touched_clients`: the rule is one client's business, so recomputing the clients
    new rows belong to equals recomputing all); return the keys (``attempts.state``) of the
    rows written or changed, whose retries must be linked again, and add to *removed* the
    (``client``, ``user_id``, ``first_ts``) of the rows it deleted (what a retry link read)."""
    window = timedelta(minutes=PAIRING_WINDOW_MINUTES)
    launches: dict[int, list[tuple[str, str]]] = defaultdict(list)
    launching: set[tuple] = set()
    for key, ts, client, ip, ua in _read(conn, clients, _LAUNCHES, "l."):
        launches[client_key(client)].append((ts, key))
        launching.add((ip, ua))
    if clients is not None:
        # A client without a launch that carries no state pairs nothing, and the refresh
        # wrote its attempts unpaired already: the three other lookups are spared.
        clients = clients & launching
        if not clients:
            return set()
    for group in launches.values():
        group.sort()

    def pick(client: int | None, ts: str | None) -> tuple[str, str] | None:
        group = launches.get(client) if client is not None else None
        if not group or ts is None:
            return None
        i = bisect_right(group, (ts, "\uffff"))
        if i == 0:
            return None
        launch = group[i - 1]
        t, l_ts = parse_ts(ts), parse_ts(launch[0])
        if t is None or l_ts is None or t - l_ts > window:
            return None
        return launch

    # Who picked which launch: (ts, kind, key or id, payload).
    picked: dict[str, list[tuple]] = defaultdict(list)
    keys = None if clients is None else {client_key(f"{ip or ''} {ua or ''}") for ip, ua in clients}
    unlaunched = _by_key(conn, keys, _UNLAUNCHED_ROWS)
    for row in unlaunched:
        launch = pick(row[3], row[1])
        if launch is not None:
            picked[launch[1]].append((row[1], 0, row[0], row))
    for ev in _read(conn, clients, _STATELESS_EVENTS, "r."):
        if ev[8] is None:
            continue
        launch = pick(client_key(ev[8]), ev[1])
        if launch is not None:
            picked[launch[1]].append((ev[1], 1, ev[0], ev))

    want_rows: dict[str, tuple] = {}
    want_updates: dict[str, tuple] = {}  # state -> (launched, launch_lines, secs..., pairing, stateless)
    for client, group in launches.items():
        for l_ts, key in group:
            returns = sorted(picked.get(key, ()), key=lambda r: r[:3])
            if returns and returns[0][1] == 0:
                row = returns[0][3]
                earlier = parse_ts(l_ts)
                want_updates[row[0]] = _plain(
                    (l_ts, 1, seconds_since(row[1], earlier), seconds_since(row[2], earlier), INFERRED, 1)
                )
                continue
            events = [r[3] for r in returns if r[1] == 1]
            if events:
                # As derived.py groups a state's events: in time order, then outcome and code.
                events.sort(key=lambda e: (e[1], e[2], e[4] or "", e[0]))
                rows = [(key, *e[1:9], 0) for e in events]
                a = many_events(rows[0], rows[1:])
                row = merged_row(a, l_ts, 1, None)
                row = (*row[:-2], INFERRED, 1)
            else:
                row = (key, l_ts, 1, NULL, NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL, 0, NULL, client, NULL, 1)  # fmt: skip
            want_rows[key] = _plain(row)
    have_rows = {r[0]: r[:-2] for r in _by_key(conn, keys, _LAUNCH_ROWS)}
    return _write(conn, unlaunched, have_rows, want_rows, want_updates, removed)


# The candidates, for every client or one client at a time: {where} is where the client goes.
_LAUNCHES = f"""SELECT ? || l.source_fp || ':' || l.byte_offset, l.ts, {_CLIENT.format(t="l.")},
           l.client_ip, l.user_agent
    FROM launches AS l WHERE (l.state IS NULL OR l.state = '') AND l.ts IS NOT NULL
      AND (l.client_ip IS NOT NULL OR l.user_agent IS NOT NULL){{where}}"""
_STATELESS_EVENTS = f"""SELECT e.id, e.ts, e.outcome, COALESCE(e.category, e.outcome), e.error_code,
           e.hits, e.is_test, r.user_id, {_CLIENT.format(t="r.")}
    FROM events AS e JOIN redirects AS r ON r.id = e.id
    WHERE e.state IS NULL AND (r.state IS NULL OR r.state = ''){{where}}"""
_KEYED = f"state >= '{STATELESS_LAUNCH_PREFIX}' AND state < '{_KEY_HI}'"
_UNLAUNCHED_ROWS = f"""SELECT state, first_ts, first_success_ts, client, launched, launch_lines,
           secs_redirect, secs_success, pairing, launch_stateless
    FROM attempts WHERE {_UNLAUNCHED} AND NOT ({_KEYED}){{where}}"""
_LAUNCH_ROWS = f"SELECT * FROM attempts WHERE {_KEYED}{{where}}"


def _read(conn: sqlite3.Connection, clients: set[tuple] | None, sql: str, t: str):
    """Rows of *sql* for every client, or for each of *clients* through the partial indexes
    on (client_ip, user_agent) of stateless launches and redirects (``IS`` matches NULLs)."""
    prefix = (STATELESS_LAUNCH_PREFIX,) if sql is _LAUNCHES else ()
    if clients is None:
        yield from conn.execute(sql.format(where=""), prefix)
        return
    one = sql.format(where=f" AND {t}client_ip IS ? AND {t}user_agent IS ?")
    for ip, ua in clients:
        yield from conn.execute(one, (*prefix, ip, ua))


def _by_key(conn: sqlite3.Connection, keys: set[int] | None, sql: str) -> list[tuple]:
    if keys is None:
        return conn.execute(sql.format(where="")).fetchall()
    one = sql.format(where=" AND client = ?")
    return [row for key in keys for row in conn.execute(one, (key,))]


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
    stale = {k for k, have in have_rows.items() if want_rows.get(k) != have}
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
        want = want_updates.get(state, reset)
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
