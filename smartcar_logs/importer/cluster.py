"""Scan on a Dask cluster: every file is read next to the data, the rows written here once.

The scan is embarrassingly parallel and its output small (a few redirect rows per million
lines), so each file or object becomes one Dask task that runs the *same* importer a local
import runs (:func:`import_file`: opening, compression, format detection, scanner,
normaliser, redaction) against a private in-memory database on the worker, and sends back
only what that database gained: the rows, the rejects, the file's checkpoint row and its
counters. This process, the client, is the only writer of the real database. It takes the
results **in the order of the inputs** and writes each file's rows, its checkpoint (and, for
an object, its tag) in one transaction, so the database ends exactly as a single-process
import of the same inputs would leave it.

Why that holds although the tasks run at the same time: a file's import depends on the
database in two ways only, the redirect paths confirmed before it and the checkpoint rows
its content could match. A task records the state it ran with; before writing its result
the client compares that state with its own at that point of the order, and a stale result
(an earlier file confirmed a new redirect path, or stored the same content) is computed
again with the current state. That happens for the first files of a first import, and for
copies of content already known; every other result is written as it comes.

Failures: a worker that dies mid-task has written nothing; the scheduler runs the task on
another worker. A client that dies mid-run has committed whole files only; the next run
skips them (objects by tag, files by checkpoint) and does the rest. At most ``window``
results (twice the workers by default) are pending at any time, on the cluster or here.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .file import _import_one, _Run

__all__ = ["ClusterError", "connect", "import_on_cluster", "scan_task", "Task", "Outcome"]


class ClusterError(Exception):
    """The Dask cluster cannot be started or reached; the message says which and why."""


_LOCAL = re.compile(r"^local(?::(\d+))?$")


def connect(address: str):
    """A ``distributed.Client`` for *address*: ``local``, ``local:N`` (a LocalCluster of N
    worker processes) or a scheduler address such as ``tcp://scheduler:8786``.

    Returns ``(client, cluster or None)``; close both when done.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError("--dask needs Dask: pip install 'smartcar-logs[dask]'") from None
    m = _LOCAL.match(address.strip())
    try:
        if m:
            n = int(m.group(1)) if m.group(1) else max(1, (os.cpu_count() or 1))
            if n < 1:
                raise ClusterError("local:N needs N >= 1")
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            return Client(cluster), cluster
        return Client(address, timeout="20s"), None
    except ClusterError:
        raise
    except (OSError, TimeoutError, ValueError) as e:
        raise ClusterError(f"{address}: cannot reach the Dask scheduler: {e}") from None


# --- what a task carries there and back ------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One file or object to scan, and the database state the scan depends on."""

    index: int
    path: str  # absolute path (on a filesystem the workers share) or object URL
    run: _Run  # the import's settings (its own confirmed set is built from `confirmed`)
    confirmed: frozenset  # redirect paths confirmed before this file
    seed: tuple = ()  # the identity rows its content may match: ((table, columns, rows), ...)
    attempt: int = 0


@dataclass
class Outcome:
    """A task's result: small, whatever the size of the file."""

    task: Task
    result: Any  # FileResult
    head: bytes | None = None  # the content head the checkpoint lookup used
    rows: list = field(default_factory=list)
    launches: list = field(default_factory=list)
    rejects: list = field(default_factory=list)
    identity: tuple = ()  # the file's identity rows after the scan: ((table, columns, rows), ...)
    paths: list = field(default_factory=list)  # `redirect_paths` rows it added
    newly_confirmed: frozenset = frozenset()


# --- on the worker ---------------------------------------------------------------------------


def scan_task(task: Task) -> Outcome:
    """Import one file into a private in-memory database and return what it gained.

    Runs on a Dask worker (or anywhere): reads the file or object itself and writes nothing
    outside its own memory, so running it twice is harmless.
    """
    from ..store import LAUNCHES, REDIRECTS, REJECTS, open_db
    from .checkpoint import FINGERPRINT_BYTES

    db = open_db(None)
    conn = db.conn
    for table, cols, rows in task.seed:
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows
        )
    conn.executemany(
        "INSERT INTO redirect_paths (path, how) VALUES (?, 'known')", [(p,) for p in sorted(task.confirmed)]
    )
    if conn.in_transaction:
        conn.commit()
    confirmed = set(task.confirmed)
    run = replace(task.run, confirmed=confirmed, progress=None, workers=None)
    heads: list[bytes] = []
    result = _import_one(
        db, task.path, run, None, before_commit=lambda c, src, r: heads.append(src.first[:FINGERPRINT_BYTES])
    )
    out = Outcome(
        task, result, head=heads[0] if heads else None, newly_confirmed=frozenset(confirmed - task.confirmed)
    )
    if not heads or result.status == "error":
        return out  # nothing was written: an error, or an empty file

    def select(table):
        cols = ", ".join(table.names)
        return conn.execute(f"SELECT {cols} FROM {table.name} ORDER BY byte_offset").fetchall()

    out.rows, out.launches, out.rejects = select(REDIRECTS), select(LAUNCHES), select(REJECTS)
    out.identity = _identity_rows(conn, {result.fingerprint} - {None})
    out.paths = conn.execute(
        "SELECT path, how, first_import_id FROM redirect_paths WHERE how != 'known' ORDER BY path"
    ).fetchall()
    conn.close()
    return out


# --- identity: what the checkpoint lookup may read ---------------------------------------------


def _identity_tables(conn) -> dict[str, list[str]]:
    """The tables identification reads, with their columns: those that map content head
    hashes to source fingerprints (``sources``, and any head index beside it)."""
    out = {}
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ).fetchall():
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]
        if "fingerprint" in cols and "head_hash" in cols:
            out[name] = cols
    return out


def _chunks(values: list, n: int = 500):
    for i in range(0, len(values), n):
        yield values[i : i + n]


def _identity_rows(conn, fingerprints: set) -> tuple:
    """Every row of the identity tables for these sources, in a stable order."""
    out = []
    fps = sorted(fingerprints)
    for table, cols in _identity_tables(conn).items():
        rows = []
        for part in _chunks(fps):
            rows += conn.execute(
                f"SELECT {', '.join(cols)} FROM {table} WHERE fingerprint IN ({', '.join('?' * len(part))})",
                part,
            ).fetchall()
        out.append((table, tuple(cols), tuple(sorted(rows, key=repr))))
    return tuple(out)


def _candidates(conn, head: bytes | None) -> tuple:
    """The identity rows of every source that shares a head hash with *head*, at any cut.

    A superset of what checkpoint.identify reads for this content whatever lengths it cuts
    heads at (it hashes prefixes of the first FINGERPRINT_BYTES): 1,024 hashes and a few
    index lookups, a few milliseconds a file. Empty for content never seen before.
    """
    if not head:
        return ()
    from .checkpoint import _hash

    hashes = [_hash(head[:k]) for k in range(1, len(head) + 1)]
    fps = set()
    for table in _identity_tables(conn):
        for part in _chunks(hashes):
            marks = ", ".join("?" * len(part))
            sql = f"SELECT DISTINCT fingerprint FROM {table} WHERE head_hash IN ({marks})"
            fps.update(r[0] for r in conn.execute(sql, part))
    return _identity_rows(conn, fps) if fps else ()


def import_on_cluster(
    db, items: list, run, client, on_file: Callable | None = None, window: int | None = None
) -> list:
    """Scan *items* (paths and remote objects) on *client*'s cluster; write each result here,
    in input order, one transaction per file. Returns the FileResults in input order.

    *client* is a ``distributed.Client`` or a function that returns one. *run* is the
    import's file._Run; its ``confirmed`` set grows as in a serial import.
    """
    from . import remote

    if not hasattr(client, "submit"):
        client = client()
    if window is None:
        window = max(2, 2 * len(client.scheduler_info(n_workers=-1)["workers"]))
    conn = db.conn
    confirmed = run.confirmed
    task_run = replace(run, progress=None, workers=None, confirmed=set())
    todo = deque(enumerate(items))
    pending: deque = deque()
    results = []

    def submit(index: int, item, seed: tuple = (), attempt: int = 0):
        path = item.url if isinstance(item, remote.RemoteObject) else os.path.abspath(item)
        task = Task(index, path, task_run, frozenset(confirmed), seed, attempt)
        fut = client.submit(
            scan_task, task, key=f"smartcar-scan-{run.import_id}-{index}-{attempt}", pure=False, retries=2
        )
        return fut, item

    while todo or pending:
        # The first file alone while no redirect path is known: it usually confirms one, and
        # every task submitted before that would have to run again.
        limit = window if results or confirmed or run.redirect_paths else 1
        while todo and len(pending) < limit:  # bounded: at most `window` results wait anywhere
            pending.append(submit(*todo.popleft()))
        fut, item = pending.popleft()
        outcome = _gather(fut, item)
        # Computed with the state this file meets in a serial import? If not, again, now.
        while isinstance(outcome, Outcome):
            seed = _candidates(conn, outcome.head)
            if outcome.task.confirmed == confirmed and outcome.task.seed == seed:
                break
            fut, _ = submit(outcome.task.index, item, seed, outcome.task.attempt + 1)
            outcome = _gather(fut, item)
        if not isinstance(outcome, Outcome):  # the task failed for good: nothing written
            results.append(outcome)
            if on_file is not None:
                on_file(outcome)
            continue
        confirmed |= outcome.newly_confirmed
        result = _write(db, outcome, item, run.import_id)
        if not isinstance(item, remote.RemoteObject):
            result.path = item  # as the user named it, as in a serial import
        if run.progress is not None:
            run.progress(_size(item))
        results.append(result)
        if on_file is not None:
            on_file(result)
    return results


def _gather(fut, item):
    """The task's Outcome, or an error FileResult when it failed on the cluster for good
    (after Dask's retries; e.g. every worker that ran it died): the next run tries again."""
    from .results import FileResult

    try:
        return fut.result()
    except Exception as e:  # KilledWorker, a worker's MemoryError, a lost connection...
        label = item if isinstance(item, str) else item.url
        reason = (str(e).splitlines() or [""])[0][:200]
        return FileResult(
            path=label,
            status="error",
            message=f"{label}: the scan failed on the cluster: {type(e).__name__}: {reason}",
        )
    finally:
        fut.release()


def _size(item) -> int:
    if isinstance(item, str):
        try:
            return os.path.getsize(item)
        except OSError:
            return 0
    return item.size or 0


def _write(db, outcome: Outcome, item, import_id: int):
    """Store one outcome, its checkpoint and its object tag in one transaction."""
    from . import remote

    r = outcome.result
    conn = db.conn
    is_object = isinstance(item, remote.RemoteObject)
    if r.status == "error":
        return r
    if outcome.head is None:  # an empty file: nothing to store but the object's tag
        if is_object:
            with conn:
                remote.remember_object(conn, item, None, import_id, r.status)
        return r
    from ..store import defer_derived
    from .results import count_file

    conn.execute("BEGIN IMMEDIATE")
    try:
        write_outcome(db, outcome)
        defer_derived(conn, r.fingerprint, import_id)  # refreshed after the last file, as _import_stream does
        count_file(conn, import_id, r)  # as _import_one does: the run's totals stay true if killed
        if is_object:
            remote.remember_object(conn, item, r.fingerprint, import_id, r.status)
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        r.status, r.message = "error", f"{r.path}: database error, file rolled back: {e}"
        for k in ("lines", "redirects", "inserted", "duplicates", "launches", "ordinary", "rejected"):
            setattr(r, k, 0)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return r


def write_outcome(db, outcome: Outcome):
    """Store a task's rows and checkpoint in the caller's open transaction; return its
    FileResult, with the inserted/duplicate split decided against this database."""
    from ..store import LAUNCHES, REDIRECTS, REJECTS

    conn = db.conn
    r = outcome.result
    before = conn.total_changes
    conn.executemany(REDIRECTS.insert_sql(), outcome.rows)  # whole rows, as the worker selected them
    inserted = conn.total_changes - before
    r.inserted, r.duplicates = inserted, len(outcome.rows) - inserted
    if outcome.launches:
        conn.executemany(LAUNCHES.insert_sql(), outcome.launches)
    if outcome.rejects:
        conn.executemany(REJECTS.insert_sql(), outcome.rejects)
    # The worker started from these very rows (checked before writing), so its rows for
    # this source are the new state.
    for table, cols, rows in outcome.identity:
        conn.execute(f"DELETE FROM {table} WHERE fingerprint = ?", (r.fingerprint,))
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows
        )
    conn.executemany(
        "INSERT OR IGNORE INTO redirect_paths (path, how, first_import_id) VALUES (?, ?, ?)", outcome.paths
    )
    return r
