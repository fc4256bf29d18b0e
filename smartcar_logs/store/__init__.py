"""The SQLite store: opening and migrating the database, connection settings and bookkeeping.

The schema is public (docs/schema.md documents every table and view) and is created
idempotently, so any function that is handed a database may call :func:`ensure_schema` first.

The package has three floors, each importing only the ones below it: :mod:`.tables` declares
every table's layout (the one owner of each), :mod:`.derived` keeps the derived tables analysis
reads (with :mod:`.pairing`), and this module opens the database, creating or migrating what
is missing. The views' SQL is in views.py, which :func:`ensure_schema` calls. The names of the
floors below are re-exported here, so ``store.REDIRECTS`` or ``store.refresh_pending`` work.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from pathlib import Path

import sqlite_utils

from .. import views
from .._sqlite import write_transaction
from .derived import (
    defer_derived,
    defer_rebuild,
    pending_files,
    rebuild_derived,
    refresh_derived,
    refresh_pending,
)
from .tables import (
    _SCHEMA,
    ATTEMPTS,
    DERIVED_VERSION,
    EVENTS,
    LAUNCHES,
    PAIRING_WINDOW_MINUTES,
    REDIRECT_COLUMNS,
    REDIRECTS,
    REJECTS,
    RETIRED_INDEXES,
    RETRY_WINDOW_MINUTES,
    SETTINGS,
    SOURCE_HEADS,
    SOURCES,
    STATELESS_LAUNCH_PREFIX,
    Table,
)

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
    "pending_files",
    "add_oauth_looking",
    "oauth_looking",
]

#: Seconds to wait for another process's write lock; SMARTCAR_LOGS_BUSY_TIMEOUT overrides it.
DEFAULT_BUSY_TIMEOUT = 60.0

SCHEMA_VERSION = 1


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
    path: str | os.PathLike | None = None,
    *,
    create: bool = True,
    busy_timeout: float | None = None,
    refresh: bool = False,
) -> sqlite_utils.Database:
    """Open (creating if needed) the database at *path*, or in memory when *path* is None.

    A new database file is created readable by its owner only, because it holds VINs,
    user ids and IP addresses. *busy_timeout* is how many seconds to wait for another
    process's lock before failing (default: $SMARTCAR_LOGS_BUSY_TIMEOUT or 60).

    Opening writes nothing that is there already, so a reader never waits for (or holds up)
    an import running in another process. The derived tables analysis reads are brought up
    to date by the import's own run; files a run still going (or killed) committed are left
    out of them until its end, the next import, or an open with *refresh* (which waits for
    the write lock like an import). :func:`pending_files` says how many files that is.
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
    if refresh:
        try:
            refresh_pending(db.conn)
        except sqlite3.Error as e:
            why = f"cannot refresh the derived tables: {db_error_message(e, db)}"  # says how long it waited
            db.conn.close()
            raise StoreError(why if path is None else f"{path}: {why}") from None
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
    """Create the tables, indexes and views if they are missing, replace outdated views, and
    rebuild the derived tables when their definition changed (:data:`DERIVED_VERSION`).

    It never refreshes files an import left pending (see :func:`open_db`): readers call it.
    """
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
            with write_transaction(db.conn) as conn:
                rebuild_derived(conn)
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('derived_version', ?)",
                    [DERIVED_VERSION],
                )
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


def mark_derived_stale(conn: sqlite3.Connection) -> None:
    """Rows were deleted (a re-read source): the import's refresh at the end of its run (or the
    next import, or an open with ``refresh``) rebuilds the derived tables whole. Written in the
    deleting transaction, so a run killed after it still leads there; a reader's open never
    does it (it would take the write lock), and says the tables lag as for a pending file."""
    defer_rebuild(conn)


def get_salt(db: sqlite_utils.Database) -> str:
    """The per-database salt used for hashed (redacted) values."""
    return db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]
