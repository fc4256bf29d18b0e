"""The SQLite store: schema, connection settings and bookkeeping tables.

The schema is public (docs/schema.md documents every table and view) and is created
idempotently, so any function that is handed a database may call :func:`ensure_schema` first.
The views' SQL is in views.py, which :func:`ensure_schema` calls.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from . import views

__all__ = [
    "open_db",
    "ensure_schema",
    "SCHEMA_VERSION",
    "REDIRECT_COLUMNS",
    "get_salt",
    "db_error_message",
    "DEFAULT_BUSY_TIMEOUT",
    "StoreError",
    "Table",
    "REDIRECTS",
    "LAUNCHES",
    "REJECTS",
    "SOURCES",
    "SOURCE_HEADS",
    "SETTINGS",
    "mark_derived_stale",
    "RETRY_WINDOW_MINUTES",
    "PAIRING_WINDOW_MINUTES",
    "STATELESS_LAUNCH_PREFIX",
    "EVENTS",
    "ATTEMPTS",
    "refresh_derived",
    "defer_derived",
    "refresh_pending",
    "rebuild_derived",
    "add_oauth_looking",
    "oauth_looking",
]

#: Seconds to wait for another process's write lock; SMARTCAR_LOGS_BUSY_TIMEOUT overrides it.
DEFAULT_BUSY_TIMEOUT = 60.0

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Table:
    """One table's layout, declared once: the DDL, column tuples and INSERTs derive from it.

    ``columns`` are the row columns in the order the importer builds its tuples; an
    ``id INTEGER PRIMARY KEY`` (``rowid``) comes first in the DDL when ``rowid`` is set and
    is not part of the rows.
    """

    name: str
    columns: tuple[tuple[str, str], ...]  # (name, SQL type and constraints)
    unique: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    rowid: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.columns)

    def index(self, column: str) -> int:
        """Position of *column* in this table's row tuples."""
        return self.names.index(column)

    def ddl(self) -> str:
        lines = (["id INTEGER PRIMARY KEY"] if self.rowid else []) + [f"{n} {t}" for n, t in self.columns]
        if self.unique:
            lines.append(f"UNIQUE ({', '.join(self.unique)})")
        body = ",\n    ".join(lines)
        out = f"CREATE TABLE IF NOT EXISTS {self.name} (\n    {body}\n);\n"
        for col in self.indexes:
            out += f"CREATE INDEX IF NOT EXISTS {self.name}_{col} ON {self.name} ({col});\n"
        return out

    def insert_sql(self, columns: Iterable[str] | None = None, *, verb: str = "INSERT OR IGNORE") -> str:
        """``INSERT OR IGNORE INTO t (c, ...) VALUES (?, ...)`` for *columns* (default: all)."""
        cols = self.names if columns is None else tuple(columns)
        return f"{verb} INTO {self.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


# The unique key (source_fp, byte_offset) is what makes a rerun, a rotated copy or a crashed
# run never double a row: the importer inserts with OR IGNORE.
REDIRECTS = Table(
    "redirects",
    (
        ("source_fp", "TEXT NOT NULL"),
        ("line_no", "INTEGER NOT NULL"),
        ("byte_offset", "INTEGER NOT NULL"),
        ("import_id", "INTEGER"),
        ("ts", "TEXT"),
        ("method", "TEXT"),
        ("path", "TEXT"),
        ("http_status", "INTEGER"),
        ("client_ip", "TEXT"),
        ("user_agent", "TEXT"),
        ("outcome", "TEXT NOT NULL"),
        ("flow", "TEXT"),
        ("category", "TEXT"),
        ("error_code", "TEXT"),
        ("error_known", "INTEGER"),
        ("error_description", "TEXT"),
        ("state", "TEXT"),
        ("user_id", "TEXT"),
        ("has_code", "INTEGER NOT NULL DEFAULT 0"),
        ("vehicle_id", "TEXT"),
        ("external_id", "TEXT"),
        ("virtual_key_url", "TEXT"),
        ("vin", "TEXT"),
        ("vin_valid", "INTEGER"),
        ("is_test", "INTEGER NOT NULL DEFAULT 0"),
        ("vin_make", "TEXT"),
        ("vin_year", "INTEGER"),
        ("make", "TEXT"),
        ("make_raw", "TEXT"),
        ("model", "TEXT"),
        ("year", "INTEGER"),
        ("year_raw", "TEXT"),
        ("status_code", "INTEGER"),
        ("error_message", "TEXT"),
        ("flags", "TEXT"),
        ("extras", "TEXT"),
    ),
    unique=("source_fp", "byte_offset"),
    # ts for summary's date range, state for the derived tables' refresh. Nothing in the
    # package reads redirects by error_code or make (analysis reads the events table); their
    # indexes cost a sixth of the redirect insert (0.38 of 2.25 s for 96k rows) and are
    # dropped from older databases (RETIRED_INDEXES).
    indexes=("ts", "state"),
)
LAUNCHES = Table(
    "launches",
    (
        ("source_fp", "TEXT NOT NULL"),
        ("line_no", "INTEGER NOT NULL"),
        ("byte_offset", "INTEGER NOT NULL"),
        ("import_id", "INTEGER"),
        ("ts", "TEXT"),
        ("method", "TEXT"),
        ("path", "TEXT"),
        ("http_status", "INTEGER"),
        ("client_ip", "TEXT"),
        ("user_agent", "TEXT"),
        ("state", "TEXT"),
    ),
    unique=("source_fp", "byte_offset"),
    indexes=("ts", "state"),
)
REJECTS = Table(
    "rejects",
    (
        ("source_fp", "TEXT NOT NULL"),
        ("path", "TEXT"),
        ("line_no", "INTEGER NOT NULL"),
        ("byte_offset", "INTEGER NOT NULL"),
        ("import_id", "INTEGER"),
        ("reason", "TEXT NOT NULL"),
        ("raw", "TEXT"),
    ),
    unique=("source_fp", "byte_offset"),
)
# One row per distinct content (see importer/checkpoint.py): identity and checkpoint, plus
# counters summed over every import of it.
SOURCES = Table(
    "sources",
    (
        ("fingerprint", "TEXT PRIMARY KEY"),
        ("head_hash", "TEXT"),
        ("fp_len", "INTEGER"),
        ("path", "TEXT"),
        ("size", "INTEGER"),
        ("compression", "TEXT"),
        ("format", "TEXT"),
        ("bytes_done", "INTEGER DEFAULT 0"),
        ("tail_hash", "TEXT"),
        ("lines", "INTEGER DEFAULT 0"),
        ("redirects", "INTEGER DEFAULT 0"),
        ("launches", "INTEGER DEFAULT 0"),
        ("ordinary", "INTEGER DEFAULT 0"),
        ("rejected", "INTEGER DEFAULT 0"),
        ("first_ts", "TEXT"),
        ("last_ts", "TEXT"),
        ("first_import_id", "INTEGER"),
        ("last_import_id", "INTEGER"),
        ("last_status", "TEXT"),
        ("note", "TEXT"),
        ("marks", "TEXT"),
        ("waiting", "INTEGER DEFAULT 0"),
        ("settings", "TEXT"),  # the key of the settings it was read under (importer/settings.py)
    ),
    rowid=False,
)
# The settings that decide what a line is, stored on first use (importer/settings.py): one
# row per setting, its value JSON.
SETTINGS = Table("settings", (("key", "TEXT PRIMARY KEY"), ("value", "TEXT NOT NULL")), rowid=False)
# The head hashes content is looked up by: one row per line end within a source's first
# KiB (see importer/checkpoint.py), so a shorter copy still finds its source.
SOURCE_HEADS = Table(
    "source_heads",
    (
        ("head_hash", "TEXT NOT NULL"),
        ("fp_len", "INTEGER NOT NULL"),
        ("fingerprint", "TEXT NOT NULL"),
    ),
    unique=("head_hash", "fingerprint"),
    rowid=False,
)

# Column order of the redirects table; the importer builds tuples in this order.
REDIRECT_COLUMNS = REDIRECTS.names

# --- derived tables: what analysis reads, kept up to date by the importer ---------------------
#
# Analysis at a million redirects cannot afford to collapse reloads with a GROUP BY over every
# row in every query (4-7 s each, measured on 965k redirects). These two tables hold that work
# done once per import run, after its last file (refresh_pending); each file's transaction notes
# its rows in derived_pending, which the next open_db or import acts on if the run is killed.

#: One row per redirect *event*: the redirects that share ``state``, outcome, lowercased error
#: code and ``is_test`` (a reload, a replayed link) collapsed into their first line, whose
#: ``id`` the event keeps; a redirect without a ``state`` is its own event.  ``hits`` is the
#: number of log lines; ``error_code`` is lowercased.  The first line's user and client are
#: not copied (no analysis reads them; they took a third of the table): ``redirects`` by ``id``.
EVENTS = Table(
    "events",
    (
        ("ts", "TEXT"),
        ("state", "TEXT"),
        ("outcome", "TEXT NOT NULL"),
        ("category", "TEXT"),
        ("error_code", "TEXT"),
        ("error_known", "INTEGER"),
        ("error_description", "TEXT"),
        ("hits", "INTEGER NOT NULL"),
        ("is_test", "INTEGER NOT NULL"),
        ("make", "TEXT"),
        ("model", "TEXT"),
        ("year", "INTEGER"),
        ("vin", "TEXT"),
        ("vin_make", "TEXT"),
        ("vin_year", "INTEGER"),
    ),
)
#: One row per ``state`` seen in a launch or a redirect: the launch (first time, lines) and the
#: attempt's events (first and last, successes, errors), with the seconds from launch to the
#: first redirect and to the first success precomputed.  ``client`` is a 64-bit key (blake2b)
#: of the first event's (or else the launch's) client IP and user agent, the key retries across
#: states are linked by:
#: for an attempt whose last event is an error, ``retried`` is 1 when the same client (or the
#: same ``user_id``) started another attempt within :data:`RETRY_WINDOW_MINUTES` after that
#: error, and ``retry_succeeded`` says whether that retry succeeded (both NULL otherwise).
#: A launch without a ``state`` is an attempt too, keyed :data:`STATELESS_LAUNCH_PREFIX` plus
#: its line's ``source_fp:byte_offset``, paired with the redirects of the same client that
#: follow it (``smartcar_logs/_pairing.py`` holds the rule and its contract).
#: ``pairing`` says how launch and redirect were paired: 'state' (the same ``state``),
#: 'js-sdk' (the redirect's JavaScript-SDK ``originalState`` is the launch's ``state``),
#: 'client (inferred)' (a stateless launch and the next redirects of its client), NULL when
#: nothing was paired (a launch never came back, a redirect without a launch).
#: ``launch_stateless`` is 1 when the attempt's launch carried no ``state``.
ATTEMPTS = Table(
    "attempts",
    (
        ("state", "TEXT PRIMARY KEY"),
        ("launched", "TEXT"),
        ("launch_lines", "INTEGER NOT NULL"),
        ("first_ts", "TEXT"),
        ("last_ts", "TEXT"),
        ("redirects", "INTEGER NOT NULL"),
        ("events", "INTEGER NOT NULL"),
        ("success_events", "INTEGER NOT NULL"),
        ("error_events", "INTEGER NOT NULL"),
        ("first_error_ts", "TEXT"),
        ("last_error_ts", "TEXT"),
        ("first_success_ts", "TEXT"),
        ("last_success_ts", "TEXT"),
        ("first_outcome", "TEXT"),
        ("first_category", "TEXT"),
        ("final_outcome", "TEXT"),
        ("final_error_code", "TEXT"),
        ("secs_redirect", "REAL"),
        ("secs_success", "REAL"),
        ("is_test", "INTEGER NOT NULL"),
        ("user_id", "TEXT"),
        ("client", "INTEGER"),
        ("pairing", "TEXT"),
        ("launch_stateless", "INTEGER NOT NULL"),
        ("retried", "INTEGER"),
        ("retry_succeeded", "INTEGER"),
    ),
    rowid=False,
)
# Covering and partial indexes: each analysis query reads one index in ts order (or the
# few rows one partial index holds), never the wide rows.
DERIVED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS events_state ON events (state)",
    "CREATE INDEX IF NOT EXISTS events_outcomes"
    " ON events (ts, is_test, outcome, category, error_code, hits, state)",
    "CREATE INDEX IF NOT EXISTS events_incompatible ON events (ts) WHERE error_code = 'vehicle_incompatible'",
    "CREATE INDEX IF NOT EXISTS events_vin ON events (ts) WHERE vin IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS events_errors ON events (ts, is_test, outcome, error_code, category,"
    " error_known, error_description, state, hits) WHERE outcome = 'error'",
    "CREATE INDEX IF NOT EXISTS events_stateless ON events (ts) WHERE state IS NULL",
    "CREATE INDEX IF NOT EXISTS attempts_launched ON attempts (launched, is_test, launch_lines, first_ts,"
    " first_success_ts, secs_redirect, secs_success, first_category, launch_stateless, pairing)"
    " WHERE launch_lines > 0",
    # The redirects client pairing may give a stateless launch (see _pairing.py).
    "CREATE INDEX IF NOT EXISTS attempts_unlaunched ON attempts (client)"
    " WHERE events > 0 AND (launch_lines = 0 OR launch_stateless = 1)",
    "CREATE INDEX IF NOT EXISTS attempts_first ON attempts (first_ts, is_test, events, redirects,"
    " success_events, error_events, first_error_ts, last_success_ts, launch_lines) WHERE events > 0",
    "CREATE INDEX IF NOT EXISTS attempts_ended_in_error ON attempts (first_ts, is_test, client, user_id,"
    " retried, retry_succeeded) WHERE final_outcome = 'error' AND events > 0",
    "CREATE INDEX IF NOT EXISTS attempts_client ON attempts (client, first_ts)",
    "CREATE INDEX IF NOT EXISTS attempts_user ON attempts (user_id, first_ts) WHERE user_id IS NOT NULL",
)
#: Indexes older versions created and nothing reads any more: dropped when found.
RETIRED_INDEXES = ("redirects_error_code", "redirects_make")
#: Bumped when the derived tables' definition changes: ensure_schema then rebuilds them.
DERIVED_VERSION = "5"

#: A new attempt (another ``state``) from the same client within this many minutes after an
#: attempt that ended in an error counts as its retry.  Connect retries happen in one
#: sitting: the user reads the error, goes back and starts again.  It is an inference: a
#: shared NAT and a common browser can make two people one client, a changed network one
#: person two; the report says so.
RETRY_WINDOW_MINUTES = 30

#: A redirect is paired with a launch without ``state`` from the same client at most this many
#: minutes before it (the funnel's conversion window: Connect is done in one sitting).
PAIRING_WINDOW_MINUTES = 60
#: The key (``attempts.state``) of a launch without a ``state``, before ``source_fp:byte_offset``.
STATELESS_LAUNCH_PREFIX = "~launch:"


def refresh_derived(conn: sqlite3.Connection, source_fp: str, import_id: int) -> None:
    """Bring :data:`EVENTS` and :data:`ATTEMPTS` up to date with one file's rows of one import,
    inside the transaction that wrote them: :func:`defer_derived` and :func:`refresh_pending`
    in one, so files left pending are brought up to date too."""
    defer_derived(conn, source_fp, import_id)
    refresh_pending(conn)


def defer_derived(conn: sqlite3.Connection, source_fp: str, import_id: int) -> None:
    """Note, in the transaction that wrote one file's rows of one import, that the derived
    tables do not cover them yet; :func:`refresh_pending` does, once for many files."""
    from . import _derived

    _derived.defer(conn, source_fp, import_id)


def refresh_pending(conn: sqlite3.Connection, *, wait: bool = True) -> int:
    """Bring the derived tables up to date with every file noted by :func:`defer_derived`;
    return how many files that was.

    In the caller's transaction when one is open, else in one of its own (no write lock is
    taken when nothing is pending). With ``wait=False`` it gives up at once, returning 0, on
    another connection's write lock (an import mid-file refreshes them itself at its end) or a
    read-only database. Idempotent. The work is in ``_derived.py``.
    """
    from . import _derived

    return _derived.refresh_pending(conn, wait)


def mark_derived_stale(conn: sqlite3.Connection) -> None:
    """Rows were deleted (a re-read source): the next :func:`ensure_schema` rebuilds the derived
    tables. Written in the deleting transaction, so a run killed after it still leads there."""
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('derived_version', 'stale')")


def rebuild_derived(conn: sqlite3.Connection) -> None:
    """Recompute :data:`EVENTS` and :data:`ATTEMPTS` from every row.

    For a database written before they existed (:func:`ensure_schema` calls it), rows
    written by other means than the importer, and an import that brings most of the states.
    """
    from . import _derived

    _derived.rebuild(conn)
    conn.execute("DELETE FROM derived_pending")  # all of them covered


_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    options TEXT,
    files INTEGER DEFAULT 0,
    lines_read INTEGER DEFAULT 0,
    redirects INTEGER DEFAULT 0,
    launches INTEGER DEFAULT 0,
    inserted INTEGER DEFAULT 0,
    duplicates INTEGER DEFAULT 0,
    ordinary INTEGER DEFAULT 0,
    rejected INTEGER DEFAULT 0,
    errors INTEGER DEFAULT 0,
    reread INTEGER DEFAULT 0
);
-- Files whose rows the derived tables do not cover yet (defer_derived, refresh_pending).
CREATE TABLE IF NOT EXISTS derived_pending (
    source_fp TEXT NOT NULL,
    import_id INTEGER NOT NULL,
    PRIMARY KEY (source_fp, import_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS redirect_paths (
    path TEXT PRIMARY KEY,
    how TEXT NOT NULL,
    first_import_id INTEGER
);
-- Objects read from object storage, by URL and version tag (ETag / generation) and size:
-- a re-import lists the bucket and skips every object found here unchanged.
CREATE TABLE IF NOT EXISTS objects (
    url TEXT PRIMARY KEY,
    tag TEXT,
    size INTEGER,
    fingerprint TEXT,
    import_id INTEGER,
    status TEXT
);
"""

_SCHEMA = (
    _BOOKKEEPING
    + SOURCES.ddl()
    + "CREATE INDEX IF NOT EXISTS sources_head ON sources (head_hash);\n"
    + SOURCE_HEADS.ddl()
    + SETTINGS.ddl()
    + "".join(t.ddl() for t in (REDIRECTS, LAUNCHES, REJECTS, EVENTS, ATTEMPTS))
    + "".join(f"{ddl};\n" for ddl in DERIVED_INDEXES)
    + "CREATE INDEX IF NOT EXISTS launches_stateless ON launches (ts) WHERE state IS NULL OR state = '';\n"
    # A refresh pairs the clients new rows belong to (_pairing.py): their stateless launches
    # and redirects are looked up by client here.
    + "CREATE INDEX IF NOT EXISTS launches_stateless_client ON launches (client_ip, user_agent)"
    " WHERE state IS NULL OR state = '';\n"
    + "CREATE INDEX IF NOT EXISTS redirects_stateless_client ON redirects (client_ip, user_agent)"
    " WHERE state IS NULL OR state = '';\n"
)


class StoreError(Exception):
    """The database cannot be opened or written; the message is for humans."""


def _busy_timeout(value: float | None) -> float:
    if value is None:
        env = os.environ.get("SMARTCAR_LOGS_BUSY_TIMEOUT")
        try:
            value = float(env) if env else DEFAULT_BUSY_TIMEOUT
        except ValueError:
            value = DEFAULT_BUSY_TIMEOUT
    return max(0.0, value)


def db_error_message(e: sqlite3.Error, db=None, path: str | os.PathLike | None = None) -> str:
    """One line for humans: a locked database says so and how long we waited."""
    msg = str(e)
    if isinstance(e, sqlite3.OperationalError) and ("locked" in msg or "busy" in msg):
        waited = ""
        if db is not None:
            try:
                ms = db.conn.execute("PRAGMA busy_timeout").fetchone()[0]
                waited = f" (gave up after {ms / 1000:g} s; see --busy-timeout)"
            except sqlite3.Error:
                pass
        msg = f"database is locked by another process{waited}"
    elif "readonly" in msg or "read-only" in msg:
        msg = f"database is read-only ({msg})"
    return f"{path}: {msg}" if path is not None else msg


#: The page size of a new database file. 16 KiB instead of SQLite's 4 KiB: the redirects
#: rows are wide and their state and ts indexes take random keys, so fewer, larger pages
#: mean fewer B-tree splits and page writes per row (8.0 -> 6.3 us a row with the cache
#: below: benchmarks/bench_sqlite.py, benchmarks/README.md). An existing database keeps its page size; to
#: convert one: ``sqlite3 file.db "PRAGMA journal_mode=DELETE; PRAGMA page_size=16384;
#: VACUUM; PRAGMA journal_mode=WAL"`` (VACUUM rewrites every page; WAL must be off for it).
PAGE_SIZE = 16384
#: The page cache of each connection, in KiB (SQLite's default is 2 MiB): the import's
#: index pages stay in memory instead of spilling. It is a ceiling, filled only as pages
#: are read, and freed when the connection closes.
CACHE_KIB = 64 * 1024


def open_db(
    path: str | os.PathLike | None = None, *, create: bool = True, busy_timeout: float | None = None
) -> sqlite_utils.Database:
    """Open (creating if needed) the database at *path*, or in memory when *path* is None.

    A new database file is created readable by its owner only, because it holds VINs,
    user ids and IP addresses. *busy_timeout* is how many seconds to wait for another
    process's lock before failing (default: $SMARTCAR_LOGS_BUSY_TIMEOUT or 60).
    """
    timeout = _busy_timeout(busy_timeout)
    created = False
    if path is None:
        db = sqlite_utils.Database(memory=True)
    else:
        p = Path(path)
        if not create and not p.exists():  # whatever its folder: reading never creates anything
            raise StoreError(f"no database yet at {p}: run `smartcar-logs import` first")
        if not p.parent.exists():
            raise StoreError(f"{p}: folder {p.parent} does not exist")
        if not p.parent.is_dir():
            raise StoreError(f"{p}: {p.parent} is not a folder")
        if not p.exists():
            # Create the file with 0600 before SQLite opens it, so it is never world-readable.
            try:
                fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except OSError as e:
                raise StoreError(f"{p}: cannot create database: {e.strerror or e}") from None
            os.close(fd)
            created = True
        try:
            conn = sqlite3.connect(str(p), timeout=timeout, isolation_level=None)
            db = sqlite_utils.Database(conn)
            db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if created and PAGE_SIZE:
                # Only a database with no table yet takes a page size, and only before WAL
                # (an old database keeps its own: see PAGE_SIZE).
                db.execute(f"PRAGMA page_size = {int(PAGE_SIZE)}")
            if CACHE_KIB:
                db.execute(f"PRAGMA cache_size = {-int(CACHE_KIB)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            # Sorts (GROUP BY, ORDER BY, the derived tables' rebuild) in memory: a temp B-tree
            # on disk took 10 s of a million-state rebuild. It cannot change inside a
            # transaction, so it is set here.
            db.execute("PRAGMA temp_store = MEMORY")
        except sqlite3.Error as e:
            _remove_new(p, created)
            raise StoreError(f"{p}: cannot open database: {db_error_message(e)}") from None
    try:
        ensure_schema(db)
    except StoreError as e:
        if path is None:
            raise
        db.conn.close()
        _remove_new(p, created)
        raise StoreError(f"{path}: {e}") from None
    return db


def _remove_new(p: Path, created: bool) -> None:
    """A database file this call created and could not set up is not left behind."""
    if created:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(f"{p}{suffix}")
            except OSError:
                pass


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the tables, indexes and views if they are missing, and replace outdated views."""
    try:
        db.conn.executescript(_SCHEMA)
        _add_missing_columns(db.conn)
        _drop_retired_indexes(db.conn)
        # Write only what is missing: an INSERT, even an ignored one, takes the write lock,
        # and `summary` must not wait for an import running in another process.
        have = dict(
            db.execute(
                "SELECT key, value FROM meta WHERE key IN ('schema_version', 'salt', 'derived_version')"
            )
        )
        if "schema_version" not in have:
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                [str(SCHEMA_VERSION)],
            )
        if "salt" not in have:
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)",
                [secrets.token_hex(16)],
            )
        if have.get("derived_version") != DERIVED_VERSION:
            # A database written before the derived tables existed (or changed): build them
            # once, in one transaction, so analysis never reads them half-made.
            conn = db.conn
            own = not conn.in_transaction
            if own:
                conn.execute("BEGIN IMMEDIATE")
            try:
                rebuild_derived(conn)
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('derived_version', ?)",
                    [DERIVED_VERSION],
                )
                if own:
                    conn.execute("COMMIT")
            except BaseException:
                if own and conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        else:
            refresh_pending(db.conn, wait=False)  # files of a killed run, or of one running now
        # The views' DDL is owned by views.py; a database made by an older version gets the new ones.
        views.ensure_views(db.conn)
    except sqlite3.Error as e:
        raise StoreError(f"cannot write the database schema: {db_error_message(e, db)}") from None


def _drop_retired_indexes(conn) -> None:
    # Looked up first: a DROP, even of nothing, takes the write lock (see ensure_schema).
    marks = ", ".join("?" * len(RETIRED_INDEXES))
    found = conn.execute(
        f"SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ({marks})", RETIRED_INDEXES
    ).fetchall()
    for (name,) in found:
        conn.execute(f"DROP INDEX IF EXISTS {name}")


def _add_missing_columns(conn) -> None:
    """Columns declared since a database was created are added (a no-op read otherwise)."""
    if "reread" not in {r[1] for r in conn.execute("PRAGMA table_info(imports)")}:
        conn.execute("ALTER TABLE imports ADD COLUMN reread INTEGER DEFAULT 0")
    for table in (SOURCES, REDIRECTS, LAUNCHES, REJECTS):
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table.name})")}
        missing = [(n, t) for n, t in table.columns if n not in have]
        for name, sql_type in missing:
            conn.execute(f"ALTER TABLE {table.name} ADD COLUMN {name} {sql_type}")
        if table is SOURCES and missing:
            # Sources checkpointed before head hashes had their own table: their one head.
            conn.execute(
                "INSERT OR IGNORE INTO source_heads (head_hash, fp_len, fingerprint)"
                " SELECT head_hash, fp_len, fingerprint FROM sources"
                " WHERE head_hash IS NOT NULL AND fp_len > 0"
            )


#: The ``meta`` key under which the OAuth-looking paths the importer left as ordinary traffic
#: are kept (JSON path -> lines): a database with no redirects can then say which paths to
#: try with ``--redirect-path``, long after the import printed them.
OAUTH_LOOKING_KEY = "oauth_looking_paths"


def add_oauth_looking(conn: sqlite3.Connection, counts: dict[str, int]) -> None:
    """Add one run's OAuth-looking paths without Smartcar evidence (path -> lines) to the
    database's running totals; a path later imported as a redirect path is dropped on read."""
    if not counts:
        return
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (OAUTH_LOOKING_KEY,)).fetchone()
    total = json.loads(row[0]) if row else {}
    for path, n in counts.items():
        total[path] = total.get(path, 0) + int(n)
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (OAUTH_LOOKING_KEY, json.dumps(total))
    )


def oauth_looking(conn: sqlite3.Connection) -> dict[str, int]:
    """OAuth-looking paths the imports left as ordinary traffic, most lines first (path ->
    lines); paths that are redirect paths now are left out."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (OAUTH_LOOKING_KEY,)).fetchone()
    if not row:
        return {}
    known = {r[0] for r in conn.execute("SELECT path FROM redirect_paths")}
    found = {p: int(n) for p, n in json.loads(row[0]).items() if p not in known}
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def get_salt(db: sqlite_utils.Database) -> str:
    """The per-database salt used for hashed (redacted) values."""
    return db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]
