"""The import run: the inputs planned, the settings applied, each input imported in turn
(here through :mod:`.file`, or on a Dask cluster through :mod:`.cluster`), and the run
recorded in ``imports``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import BinaryIO

import sqlite_utils

from .. import formats as _formats
from .. import privacy as _privacy
from ..store import ensure_schema, refresh_pending
from . import remote
from . import settings as _settings
from .cluster import import_on_cluster
from .discovery import InputPlan, plan_inputs
from .file import SETTLE_SECONDS, _import_one, _Run, import_file
from .inputs import CHUNK_SIZE
from .results import (
    FileResult,
    ImportResult,
    ProgressCallback,
    begin_import,
    finish_import,
)
from .scan import _make_workers

__all__ = ["import_paths", "import_file"]


def import_paths(
    db: sqlite_utils.Database,
    paths: Iterable[str] | InputPlan,
    *,
    fmt: str | None = None,
    redirect_paths: Iterable[str] = (),
    launch_paths: Iterable[str] = (),
    no_redirect_paths: Iterable[str] = (),
    no_launch_paths: Iterable[str] = (),
    reset_settings: bool = False,
    on_total: Callable[[int], None] | None = None,
    progress: ProgressCallback | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    stdin: BinaryIO | None = None,
    chunk_size: int = CHUNK_SIZE,
    redaction=None,
    format_options: _formats.FormatOptions | dict | None = None,
    jobs: int | None = None,
    since: date | None = None,
    until: date | None = None,
    dask=None,
    final: bool = False,
    settle: float = SETTLE_SECONDS,
) -> ImportResult:
    """Import each path in turn ('-' is stdin) and record the run in ``imports``.

    The options that decide what a line is (*fmt*, *redirect_paths*, *launch_paths*,
    *format_options*, *redaction*) change the database's stored settings, which the run reads
    with (see :mod:`.settings`): paths given are added, a format or field given replaces the
    stored one; *no_redirect_paths*, *no_launch_paths*, ``fmt="auto"`` and *reset_settings*
    take them away. Inputs imported under other settings are re-read from byte 0 when they
    can be (``FileResult.reread`` says why), also when *paths* is empty; the others keep their
    rows (``ImportResult.not_reread``). *paths* may be a :func:`.plan_inputs` plan; *on_total*
    is called once with the bytes the run plans to read (inputs and re-reads), for a bar.

    A file that cannot be read is reported in its :class:`FileResult` (``status ==
    "error"``) and the others are still imported. *redaction* is a ``--redact`` policy
    (``{"vin": "hash"}``, ``["all=hash"]`` or a :class:`privacy.Redaction`); see privacy.py.
    *format_options* (``log_format``, ``url_field``, ``time_field``) configure the formats.
    *jobs* worker processes parse large files (default: one per core; 1 parses here).

    Paths may be object-storage URLs (``s3://bucket/prefix/``, ``gs://``, ``az://``, globs):
    see :mod:`.remote`. Objects already imported unchanged are skipped from the listing, and
    *since*/*until* (dates) leave out objects whose key dates fall outside [since, until); with
    a local input they raise :class:`.remote.WindowError` (see :func:`.remote.check_window`).
    *dask*, a ``distributed.Client`` (or a function returning one, called only when there is
    something to read), scans the files on its cluster (see :mod:`.cluster`).

    An unterminated last line is imported when the input cannot grow any more: stdin,
    archives, *final*, or a file not modified for *settle* seconds; otherwise it waits.
    """
    ensure_schema(db)
    plan = paths if isinstance(paths, InputPlan) else plan_inputs(paths)
    remote.check_window(plan.paths, since, until)  # local inputs have no key date: refused, not ignored
    applied = _settings.apply(
        db.conn,
        _settings.Change.of(
            fmt, redirect_paths, launch_paths, no_redirect_paths, no_launch_paths, format_options, redaction
        ),
        reset=reset_settings,
    )
    s = applied.settings
    paths, extra, total = _settings.with_rereads(db.conn, plan, s.key)
    here = []
    if dask is not None and applied.reread:
        # The cluster's scan resumes each file from its checkpoint and knows nothing of
        # re-reads: the run that changes the settings reads here.
        dask, here = None, ["read here, not on the Dask cluster, to re-read what was imported"]
    if on_total is not None:
        on_total(total)
    fmt, format_options = s.format, s.format_options
    redaction = _privacy.for_db(db, s.redact)  # --redact: applied to every row before writing
    import_id = begin_import(db, paths, fmt, s.redirect_paths, s.launch_paths, redaction, format_options)
    confirmed = {r[0] for r in db.conn.execute("SELECT path FROM redirect_paths")}
    todo = remote.plan(db.conn, paths, since, until)  # buckets listed, known objects left out
    results = [FileResult(path=url, status="error", message=msg) for url, msg in todo.failed]
    for r in results:
        if on_file is not None:
            on_file(r)
    # The pool is forked before any transaction is open, and only when the run's files are
    # big enough to repay it (forking costs tens of milliseconds): see scan.PARALLEL_MIN_BYTES.
    local = [p for p in todo.items if isinstance(p, str)]
    workers = None if dask is not None else _make_workers(local, jobs)
    run = _Run(
        import_id,
        fmt,
        frozenset(s.redirect_paths),
        frozenset(s.launch_paths),
        confirmed,
        redaction,
        format_options,
        chunk_size,
        progress,
        workers,
        final,
        settle,
        s.key,
        applied.why,
        frozenset(extra),
    )
    try:
        if dask is not None and todo.items:
            results += import_on_cluster(db, todo.items, run, dask, on_file)
        for item in todo.items if dask is None else ():
            r = _import_item(db, item, run, stdin)
            results.append(r)
            if on_file is not None:
                on_file(r)
    finally:
        if workers is not None:
            workers.pool.terminate()
            workers.pool.join()
    # The derived tables, in one transaction of their own for all the run's files (and any a
    # killed run left); a database error here is the run's (cli says so). A re-read deleted
    # rows, whose states may be gone: then they are rebuilt whole (store.mark_derived_stale).
    refresh_pending(db.conn)
    res = finish_import(db, import_id, results)
    res.objects_listed, res.objects_skipped = todo.listed, todo.skipped
    _settings.end_run(db.conn, applied, res)
    res.settings_changes += here
    return res


def _import_item(db, item, run: _Run, stdin) -> FileResult:
    """Import a path; or an object, recording its tag in the same transaction."""
    if not isinstance(item, remote.RemoteObject):
        return _import_one(db, item, run, stdin)

    def remember(conn, src, result):
        remote.remember_object(conn, item, result.fingerprint, run.import_id, result.status)

    r = _import_one(db, item.url, run, stdin, before_commit=remember)
    if r.status == "empty":  # nothing to commit, but nothing to read next time either
        with db.conn:
            remote.remember_object(db.conn, item, None, run.import_id, r.status)
    return r
