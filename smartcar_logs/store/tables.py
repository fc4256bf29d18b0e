"""The tables' layouts: each table of the database declared once, here (its DDL, its column
tuples and INSERTs derive from the declaration), and the schema script made of them.

Nothing here opens or writes a database: :mod:`smartcar_logs.store` opens and migrates it, and
:mod:`smartcar_logs.store.derived` keeps the derived tables; both read their layouts here
(tests/test_layout.py pins that every table has this one owner).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


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
#: follow it (``smartcar_logs/store/pairing.py`` holds the rule and its contract).
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
    # The redirects client pairing may give a stateless launch (see pairing.py).
    "CREATE INDEX IF NOT EXISTS attempts_unlaunched ON attempts (client)"
    " WHERE events > 0 AND (launch_lines = 0 OR launch_stateless = 1)",
    "CREATE INDEX IF NOT EXISTS attempts_first ON attempts (first_ts, is_test, events, redirects,"
    " success_events, error_events, first_error_ts, last_success_ts, launch_lines) WHERE events > 0",
    "CREATE INDEX IF NOT EXISTS attempts_ended_in_error ON attempts (first_ts, is_test, client, user_id,"
    " retried, retry_succeeded) WHERE final_outcome = 'error' AND events > 0",
    "CREATE INDEX IF NOT EXISTS attempts_client ON attempts (client, first_ts)",
    "CREATE INDEX IF NOT EXISTS attempts_user ON attempts (user_id, first_ts) WHERE user_id IS NOT NULL",
)
#: Indexes only the writer reads, made by the refresh and the rebuild (derived.py), not by
#: the schema script: a reader opening a database from before one was declared must not
#: take the write lock (or fail on a read-only file) to build it.
REFRESH_INDEXES = (
    # A refresh finds the attempts whose retry window holds a changed attempt: a client's
    # errors from here, without reading its whole history's rows (61 of 111 ms of the
    # refresh of an hour's 1,093 lines into a 205k-attempt database; +0.06 s to a rebuild).
    "CREATE INDEX IF NOT EXISTS attempts_error_client ON attempts (client, last_error_ts)"
    " WHERE final_outcome = 'error' AND events > 0",
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
    # A refresh pairs the clients new rows belong to (pairing.py): their stateless launches
    # and redirects are looked up by client here.
    + "CREATE INDEX IF NOT EXISTS launches_stateless_client ON launches (client_ip, user_agent)"
    " WHERE state IS NULL OR state = '';\n"
    + "CREATE INDEX IF NOT EXISTS redirects_stateless_client ON redirects (client_ip, user_agent)"
    " WHERE state IS NULL OR state = '';\n"
)
