"""The derived tables analysis reads, :data:`~.tables.EVENTS` and :data:`~.tables.ATTEMPTS`:
how they are kept up to date with the rows (their layouts, and that of ``derived_pending``, are
declared in :mod:`.tables`; this module sits above them and below the opening in
:mod:`smartcar_logs.store`, which re-exports the four public functions).

Analysis at a million redirects cannot afford to collapse reloads with a GROUP BY over every
row in every query (4-7 s each, measured on 965k redirects), so this is done once per import
run, after its last file, for the states its files touched (or per file, for ``import_file``);
files that bring most of the states, or an older database, rebuild the tables whole. Each
file's transaction notes its rows in ``derived_pending`` (:func:`defer_derived`), so the files
of a run that was killed before its refresh are covered by the next refresh.

Who refreshes: an import (at the end of its run, for every file pending, its own and any a
killed run left) and whoever asks (``open_db(..., refresh=True)``, :func:`refresh_pending`).
A reader never does: it reads what the last refresh left and can ask :func:`pending_files`
how many files that leaves out (``summary`` says so), so it never takes the write lock an
import running in another process needs for its next file.

The contract of a refresh: every state a pending file's rows carry is recomputed from all of
its rows (old and new, whichever file they came in), stateless redirects become one event
each, the stateless launches of every client those rows belong to are paired again near
their times (:mod:`.pairing`; not at all in a database without one), and the retries of every attempt
ended in an error whose retry window holds a changed attempt are linked again (not the
touched clients' whole history: :func:`_link_retries`); the result equals
:func:`rebuild_derived` on the same rows, whatever the order the files came in
(tests/test_derived.py, tests/test_pairing.py, tests/test_lifecycle.py, tests/test_retry_links.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import groupby

from . import pairing
from ._rows import (
    NULL,
    PAIRED_BY,
    STATE,
    client_key,
    launch_groups,
    launch_only,
    many_events,
    merged_row,
    parse_ts,
    seconds_since,
)
from .tables import ATTEMPTS, DERIVED_INDEXES, EVENTS, REFRESH_INDEXES, RETRY_WINDOW_MINUTES

__all__ = ["refresh_derived", "defer_derived", "refresh_pending", "rebuild_derived", "pending_files"]


def refresh_derived(conn: sqlite3.Connection, source_fp: str, import_id: int) -> None:
    """Bring :data:`EVENTS` and :data:`ATTEMPTS` up to date with one file's rows of one import,
    inside the transaction that wrote them: :func:`defer_derived` and :func:`refresh_pending`
    in one, so files left pending are brought up to date too."""
    defer_derived(conn, source_fp, import_id)
    refresh_pending(conn)


def defer_derived(conn: sqlite3.Connection, source_fp: str, import_id: int) -> None:
    """Note, in the transaction that wrote one file's rows of one import, that the derived
    tables do not cover them yet; :func:`refresh_pending` does, once for many files.

    Refreshed file by file, rotated logs cost more than one file of the same lines: each file
    touched half the states known, so the whole tables were rebuilt again and again (the
    200k-line export in four files: 12.6 s against 10.0 s refreshed once at the end).
    """
    conn.execute(
        "INSERT OR IGNORE INTO derived_pending (source_fp, import_id) VALUES (?, ?)", (source_fp, import_id)
    )


#: The ``derived_pending`` row that asks for a whole rebuild: rows were deleted (a source re-read
#: under new settings), and the states they held are found in no file's remaining rows.
REBUILD_ALL = "*"


def defer_rebuild(conn: sqlite3.Connection) -> None:
    """Note, in the transaction that deleted rows, that the next :func:`refresh_pending`
    rebuilds the derived tables whole; until then readers are told they lag, as for a file."""
    conn.execute("INSERT OR IGNORE INTO derived_pending (source_fp, import_id) VALUES (?, 0)", (REBUILD_ALL,))


def pending_files(conn: sqlite3.Connection) -> int:
    """How many imported files the derived tables do not cover yet: a run still going (or
    killed before its refresh) committed them. A read, never a write."""
    return conn.execute("SELECT COUNT(*) FROM derived_pending").fetchone()[0]


def refresh_pending(conn: sqlite3.Connection, *, wait: bool = True) -> int:
    """Bring the derived tables up to date with every file noted by :func:`defer_derived`;
    return how many files that was.

    In the caller's transaction when one is open, else in one of its own (no write lock is
    taken when nothing is pending). With ``wait=False`` it gives up at once, returning 0, on
    another connection's write lock or a read-only database. Idempotent.
    """
    if conn.in_transaction:
        return _refresh_pending(conn)
    if not conn.execute("SELECT 1 FROM derived_pending LIMIT 1").fetchone():
        return 0
    (busy_ms,) = conn.execute("PRAGMA busy_timeout").fetchone()
    if not wait:
        conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("BEGIN IMMEDIATE")
        n = _refresh_pending(conn)
        conn.execute("COMMIT")
    except BaseException as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        # A read-only database may let BEGIN IMMEDIATE through and refuse the first write.
        if wait or not isinstance(e, sqlite3.OperationalError) or not _lock_or_readonly(e):
            raise
        return 0
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    return n


def rebuild_derived(conn: sqlite3.Connection) -> None:
    """Recompute :data:`EVENTS` and :data:`ATTEMPTS` from every row.

    For a database written before they existed (``ensure_schema`` calls it), rows written by
    other means than the importer, and an import that brings most of the states.
    """
    rebuild(conn)
    conn.execute("DELETE FROM derived_pending")  # all of them covered


# The first later attempt of the same client (or user_id) inside the window, through the
# attempts_client / attempts_user indexes; {a} is the attempt being linked.
_NEXT = """(SELECT b.success_events > 0 FROM attempts AS b
    WHERE b.{key} = {a}.{key} AND b.first_ts > {a}.last_error_ts
      AND b.first_ts <= strftime('%Y-%m-%dT%H:%M:%S+00:00', {a}.last_error_ts, '+{minutes} minutes')
      AND b.state <> {a}.state AND b.events > 0
    ORDER BY b.first_ts LIMIT 1)"""
_LINK = "COALESCE({}, {})".format(
    _NEXT.format(key="client", a="attempts", minutes=RETRY_WINDOW_MINUTES),
    _NEXT.format(key="user_id", a="attempts", minutes=RETRY_WINDOW_MINUTES),
)

_EV_COLS = ", ".join(("id", *EVENTS.names))
_EV_FROM_ROWS = (
    "id, {ts}, {state}, outcome, category, NULLIF(lower(COALESCE(error_code, '')), ''), error_known,"
    " error_description, {hits}, is_test, make, model, year, vin, vin_make, vin_year"
)
_CLIENT = (
    "CASE WHEN {t}client_ip IS NOT NULL OR {t}user_agent IS NOT NULL"
    " THEN COALESCE({t}client_ip, '') || ' ' || COALESCE({t}user_agent, '') END"
)
_TOUCHED = "(SELECT state FROM temp.touched_states)"
_INSERT_ATTEMPT = (
    f"INSERT INTO attempts ({', '.join(ATTEMPTS.names)})"
    f" VALUES ({', '.join('?' * (len(ATTEMPTS.names) - 2))}, NULL, NULL)"
)


def _attempt_rows(conn: sqlite3.Connection, only: str) -> Iterator[tuple]:
    """The :data:`ATTEMPTS` rows of the touched states, in one ordered pass over their events
    (without ``retried`` and ``retry_succeeded``, which :func:`_link_retries` sets).

    Python, not SQL: the same numbers as one INSERT ... SELECT took 65 s for a million
    states (SQLite sorted and auto-indexed the events once per grouped subquery, first and
    last event each needing its own), this pass about 10 s.
    """
    # Launches are merged in by state, both sides in state order, instead of held in a dict:
    # a million launch states in Python objects took most of a gigabyte.
    # Grouped here, not by GROUP BY: SQLite's MIN/MAX per group over the ~150-byte client
    # strings took 0.73 s for 102k launch states, reading them in state order and grouping
    # 0.52 s. In launches_state's order, not sorted: a scan and a sort took 0.47 s, but the
    # sort (and the same for events) raised a rebuild's peak RSS from 229 to 277 MB.
    launches = launch_groups(
        conn.execute(
            f"SELECT state, ts, {_CLIENT.format(t='')} FROM launches WHERE state <> ''{only} ORDER BY state"
        )
    )
    # An event's user and client are its first line's: read there, not copied into events.
    events = conn.execute(
        f"""SELECT e.state, e.ts, e.outcome, COALESCE(e.category, e.outcome), e.error_code, e.hits,
                   e.is_test, r.user_id, {_CLIENT.format(t="r.")},
                   COALESCE(instr(r.flags, 'js_sdk_state') > 0, 0)
        FROM (SELECT * FROM events WHERE state IS NOT NULL{only}) AS e
        LEFT JOIN redirects AS r ON r.id = e.id
        ORDER BY e.state, e.ts, e.outcome, e.error_code"""
    )
    nxt = next(launches, None)
    for state, group in groupby(events, STATE):
        while nxt is not None and nxt[0] < state:
            yield launch_only(nxt)
            nxt = next(launches, None)
        if nxt is not None and nxt[0] == state:
            _, launched, lines, launch_client = nxt
            nxt = next(launches, None)
        else:
            launched, lines, launch_client = None, 0, None
        first, *more = group
        earlier = parse_ts(launched)
        if more:
            yield merged_row(many_events(first, more), launched, lines, launch_client)
            continue
        # Nine states in ten have one event: its row is the attempt, written out directly.
        _, ts, outcome, category, code, hits, test, user_id, client, js = first
        pairing = NULL if not lines else PAIRED_BY[js]
        secs = seconds_since(ts, earlier)
        if client is None:
            client = launch_client
        client = NULL if client is None else client_key(client)
        launched = NULL if launched is None else launched
        code = NULL if code is None else code
        user_id = NULL if user_id is None else user_id
        ts = NULL if ts is None else ts
        if outcome == "success":
            yield (state, launched, lines, ts, ts, hits, 1, 1, 0, NULL, NULL, ts, ts, outcome,
                   category, outcome, code, secs, secs, test, user_id, client, pairing, 0)  # fmt: skip
        elif outcome == "error":
            yield (state, launched, lines, ts, ts, hits, 1, 0, 1, ts, ts, NULL, NULL, outcome,
                   category, outcome, code, secs, NULL, test, user_id, client, pairing, 0)  # fmt: skip
        else:
            yield (state, launched, lines, ts, ts, hits, 1, 0, 0, NULL, NULL, NULL, NULL, outcome,
                   category, outcome, code, secs, NULL, test, user_id, client, pairing, 0)  # fmt: skip
    while nxt is not None:  # launched, never came back
        yield launch_only(nxt)
        nxt = next(launches, None)


def _lock_or_readonly(e: sqlite3.OperationalError) -> bool:
    return any(w in str(e) for w in ("locked", "busy", "readonly", "read-only"))


def _refresh_pending(conn: sqlite3.Connection) -> int:
    files = conn.execute("SELECT source_fp, import_id FROM derived_pending").fetchall()
    if any(fp == REBUILD_ALL for fp, _ in files):
        rebuild(conn)
        conn.execute("DELETE FROM derived_pending")
    elif files:
        refresh(conn, files)
        conn.execute("DELETE FROM derived_pending")
    return len(files)


def refresh(conn: sqlite3.Connection, files: list[tuple[str, int]]) -> None:
    """The work of :func:`refresh_pending`: *files* are
    ``(source_fp, import_id)`` pairs whose rows the derived tables do not cover yet."""
    empty = conn.execute("SELECT 1 FROM attempts LIMIT 1").fetchone() is None
    if empty and _lines_with_state(conn, files) > BULK_STATES:
        # Nothing derived yet (a new database): the rebuild computes just these files' states,
        # and the set of them is not needed (collecting it took 0.4 s of 100k states).
        rebuild(conn)
        return
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS touched_states (state TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute("DELETE FROM temp.touched_states")
    for table in ("redirects", "launches"):
        conn.executemany(
            f"INSERT OR IGNORE INTO temp.touched_states SELECT state FROM {table}"
            " WHERE source_fp = ? AND import_id = ? AND state <> ''",
            files,
        )
    (touched,) = conn.execute("SELECT COUNT(*) FROM temp.touched_states").fetchone()
    # Counted only then: counting 205k attempts took 3.5 ms of a 22 ms refresh of 5 minutes' lines.
    if touched > BULK_STATES and touched >= _count(conn, "attempts") // 2:
        # Most of what there is: recomputing everything in sequential scans is cheaper
        # than looking a third of a million states up one by one.
        rebuild(conn)
        return
    with _bulk_settings(conn):
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS retry_moved (client INTEGER, user_id TEXT, first_ts TEXT)"
        )
        conn.execute("DELETE FROM temp.retry_moved")
        _note_moved(conn)  # what the touched attempts were: a retry window may have lost one
        _refresh(conn, everything=False)
        conn.executemany(
            f"INSERT OR IGNORE INTO events ({_EV_COLS}) SELECT "
            + _EV_FROM_ROWS.format(ts="ts", state="NULL", hits="1")
            + " FROM redirects WHERE source_fp = ? AND import_id = ? AND (state IS NULL OR state = '')",
            files,
        )
        # The attempts client pairing wrote or changed have their retries linked again too,
        # and what the rows it deleted were is noted as the touched attempts' is.
        removed: list[tuple] = []
        conn.executemany(
            "INSERT OR IGNORE INTO temp.touched_states VALUES (?)",
            ((k,) for k in _pair(conn, files, removed)),
        )
        conn.executemany("INSERT INTO temp.retry_moved VALUES (?, ?, ?)", removed)
        _note_moved(conn)  # and what they are now: a retry window may have gained one
        _link_retries(conn, everything=False)


def _count(conn: sqlite3.Connection, table: str) -> int:
    return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _lines_with_state(conn: sqlite3.Connection, files: list[tuple[str, int]]) -> int:
    """The files' redirects and launches with a ``state``: at least as many as their states."""
    return sum(
        conn.execute(
            f"SELECT COUNT(*) FROM {table} WHERE source_fp = ? AND import_id = ? AND state <> ''", file
        ).fetchone()[0]
        for table in ("redirects", "launches")
        for file in files
    )


def rebuild(conn: sqlite3.Connection) -> None:
    """The work of :func:`rebuild_derived`, leaving ``derived_pending`` as it is.

    Where its time goes (CPU, the 200k-line export into a new database: 96k redirects, 102k
    launches, 93k events, 103k attempts; 2.3-2.8 s in all): the events 0.2 s; the attempts
    pass 1.0-1.3 s, of which reading the launches (0.25 s) and the events with their first
    line (0.35 s) back, Python per attempt 0.4 s and storing the rows 0.3 s; the twelve
    indexes 0.6 s; the retry links 0.25 s; the commit 0.2 s. Reading back is a quarter:
    computing from the rows an import holds in memory would save at most that (and needs the
    rows' ids, which only SQLite gives); the rest is storing what analysis reads. One sorted
    stream of launches and events (UNION ALL) read 0.9-1.05 s against 0.6-0.8 s for the two.
    """
    with _bulk_settings(conn):
        for ddl in (*DERIVED_INDEXES, *REFRESH_INDEXES):
            conn.execute(f"DROP INDEX IF EXISTS {ddl.split()[5]}")
        for table in (EVENTS, ATTEMPTS):
            have = [(r[1], r[2]) for r in conn.execute(f"PRAGMA table_info({table.name})")]
            want = [(n, t.split()[0]) for n, t in (("id", "INTEGER"),) * table.rowid + table.columns]
            if have == want:
                # Emptied rather than dropped: DROP TABLE read every page of the old rows
                # into the cache (+25 MB peak and 1 s more at 100k states).
                conn.execute(f"DELETE FROM {table.name}")
            else:  # an older DERIVED_VERSION's columns
                conn.execute(f"DROP TABLE IF EXISTS {table.name}")
                conn.execute(table.ddl())
        # The events without a state first: the pairing by client reads them.
        conn.execute(
            f"INSERT OR IGNORE INTO events ({_EV_COLS}) SELECT "
            + _EV_FROM_ROWS.format(ts="ts", state="NULL", hits="1")
            + " FROM redirects WHERE state IS NULL OR state = ''"
        )
        # With launches to pair by client, the attempts are paired on their way in.
        # Paired before the indexes: its writes then maintain none (the 100k-launch stateless
        # log's rebuild took 24 s with the pairing after them, see benchmarks/bench_pairing.py).
        pairer = pairing.RebuildPairing(conn) if _stateless_launches(conn) else None
        _refresh(conn, everything=True, through=None if pairer is None else pairer.rows)
        if pairer is not None:
            pairer.finish(conn)
        # Built after the rows: maintaining the indexes row by row tripled the time of a
        # million-redirect rebuild (38 s of inserting against 7-10 s of computing).
        for ddl in (*DERIVED_INDEXES, *REFRESH_INDEXES):
            conn.execute(ddl)
        _link_retries(conn, everything=True)


#: Above this many states touched by one file, and when they are at least half of all the
#: states known, the derived tables are rebuilt whole instead of state by state.  State by
#: state costs 50-65 us a state here (indexes kept row by row, lookups in touched_states), a
#: rebuild 35 us a state of the whole table: the 1M-line mix's 40k states into a new database
#: took 2.0-2.7 s state by state, 1.4 s rebuilt.
BULK_STATES = 10_000


@contextmanager
def _bulk_settings(conn: sqlite3.Connection) -> Iterator[None]:
    """A bigger page cache (128 MiB) while rows are regrouped."""
    (cache,) = conn.execute("PRAGMA cache_size").fetchone()
    conn.execute("PRAGMA cache_size = -131072")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(cache)}")


def _refresh(conn: sqlite3.Connection, everything: bool, through=None) -> None:
    """Events and attempts of the touched states, or of every state with *everything*; the
    attempt rows pass *through* (a rebuild's :meth:`.pairing.RebuildPairing.rows`) if given."""
    # Membership in a temp table of a million states costs 7 s of lookups per pass: the
    # full rebuild reads without it.
    only = "" if everything else f" AND state IN {_TOUCHED}"
    if not everything:
        conn.execute(f"DELETE FROM events WHERE state IN {_TOUCHED}")
        conn.execute(f"DELETE FROM attempts WHERE state IN {_TOUCHED}")
    _insert_events(conn, only, "NOT INDEXED" if everything else "")
    rows = _attempt_rows(conn, only)
    conn.executemany(_INSERT_ATTEMPT, rows if through is None else through(rows))


def _stateless_launches(conn: sqlite3.Connection) -> bool:
    """Whether any launch carries no state: without one, pairing by client has nothing to do."""
    return (
        conn.execute("SELECT 1 FROM launches WHERE state IS NULL OR state = '' LIMIT 1").fetchone()
        is not None
    )


def _insert_events(conn: sqlite3.Connection, only: str, scan: str) -> None:
    """The events of the states with a ``state`` (all, or those *only* selects): the lines of
    one state that share outcome, lowercased error code and ``is_test`` collapsed into the
    first (``MIN(ts)``, whose ``id`` the event keeps).

    Nine states in ten have one line, which is its own event: those are copied as they are, in
    one scan, and only the states with more lines are grouped. The GROUP BY over every line
    carried each whole row through SQLite's sorter: 0.51-0.60 s for the 96k redirects of the
    200k-line export against 0.17-0.24 s this way (the same rows).
    """
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS many_lines (state TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute("DELETE FROM temp.many_lines")
    # Read from the state index alone (it covers the query): no row is visited.
    conn.execute(
        f"INSERT INTO temp.many_lines SELECT state FROM redirects WHERE state <> ''{only}"
        " GROUP BY state HAVING COUNT(*) > 1"
    )
    conn.execute(
        f"INSERT INTO events ({_EV_COLS}) SELECT "
        + _EV_FROM_ROWS.format(ts="ts", state="state", hits="1")
        + f" FROM redirects {scan} WHERE state <> ''{only} AND state NOT IN temp.many_lines"
    )
    conn.execute(
        f"INSERT INTO events ({_EV_COLS}) SELECT "
        + _EV_FROM_ROWS.format(ts="MIN(ts)", state="state", hits="COUNT(*)")
        + " FROM redirects WHERE state IN temp.many_lines"
        " GROUP BY state, outcome, lower(COALESCE(error_code, '')), is_test"
    )


def _pair(conn: sqlite3.Connection, files: list[tuple[str, int]], removed: list[tuple]) -> set[str]:
    """Launches without a state paired with their client's redirects (:mod:`.pairing`) for
    the clients the *files* and the touched states belong to; *removed* gets the (client,
    user_id, first_ts) of the attempts it deleted. (A rebuild pairs every client itself.)"""
    # Without a launch that carries no state there is nothing to pair, and every attempt is
    # as the refresh wrote it: most sites (and the cron run of a small file) end here
    # instead of looking up each touched client four times.
    if not _stateless_launches(conn):
        return set()
    return pairing.pair_by_client(conn, pairing.touched_clients(conn, files), removed=removed)


def _note_moved(conn: sqlite3.Connection) -> None:
    """Note in ``temp.retry_moved`` what a retry link reads of the touched attempts (client,
    user, first time): called before they are rewritten and after."""
    conn.execute(
        "INSERT INTO temp.retry_moved SELECT client, user_id, first_ts FROM attempts"
        f" WHERE state IN {_TOUCHED}"
    )


# The attempts ended in an error whose retry window holds one of the moved attempts' first
# times, by client or by user: the same comparisons as _NEXT's, so that the window of an
# attempt whose link can change is never missed.
_IN_WINDOW = """INSERT OR IGNORE INTO temp.relink SELECT a.state
    FROM (SELECT DISTINCT {key}, first_ts FROM temp.retry_moved WHERE {key} IS NOT NULL) AS c
    JOIN attempts AS a ON a.{key} = c.{key}
    WHERE a.final_outcome = 'error' AND a.events > 0 AND c.first_ts > a.last_error_ts
      AND c.first_ts <= strftime('%Y-%m-%dT%H:%M:%S+00:00', a.last_error_ts, '+{minutes} minutes')"""


def _link_retries(conn: sqlite3.Connection, everything: bool) -> None:
    """Set ``retried``/``retry_succeeded``; needs the attempts_client and attempts_user indexes
    (without them each lookup scans every attempt: an import of a million redirects ran for
    over ten minutes here before the indexes were built first).

    A refresh links the touched attempts and those whose link a touched attempt can change:
    an attempt's link reads only its own row and the attempts of its client (or user) whose
    first time falls in its retry window, so an attempt none of whose window holds a touched
    attempt's first time, as it was or as it is (``temp.retry_moved``), keeps its link. The
    whole history of the touched clients was relinked before: a new file of a site with few
    clients relinked nearly every error attempt.
    """
    only = ""
    if not everything:
        for ddl in REFRESH_INDEXES:  # built here once in a database from before it was declared
            conn.execute(ddl)
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS relink (state TEXT PRIMARY KEY) WITHOUT ROWID")
        conn.execute("DELETE FROM temp.relink")
        conn.execute(f"INSERT INTO temp.relink SELECT state FROM {_TOUCHED}")
        for key in ("client", "user_id"):
            conn.execute(_IN_WINDOW.format(key=key, minutes=RETRY_WINDOW_MINUTES))
        only = " AND state IN (SELECT state FROM temp.relink)"
    conn.execute(
        f"""UPDATE attempts SET retried = link IS NOT NULL, retry_succeeded = link
        FROM (SELECT state AS s, {_LINK} AS link FROM attempts
              WHERE final_outcome = 'error' AND events > 0{only}) AS l
        WHERE attempts.state = l.s"""
    )
