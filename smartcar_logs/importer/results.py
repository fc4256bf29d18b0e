"""What an import reports: per-file and per-run results, the one error it raises, and the
run's row in ``imports`` (opened, counted file by file, finished)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from ..redirect import ERROR_CODES
from ..store import add_oauth_looking
from . import _speed

__all__ = [
    "FileResult",
    "ImportResult",
    "InputError",
    "ProgressCallback",
    "begin_import",
    "count_file",
    "finish_import",
]

#: Called with the number of raw (on-disk) bytes read since the last call.
ProgressCallback = Callable[[int], None]


class InputError(Exception):
    """A file could not be imported; the message names it and says why."""


@dataclass
class FileResult:
    path: str
    status: str = "imported"  # imported | up to date | empty | error | not re-read
    message: str = ""
    fingerprint: str | None = None
    format: str | None = None
    format_share: float | None = None
    compression: str | None = None
    resumed_from: int = 0
    lines: int = 0
    redirects: int = 0
    inserted: int = 0
    duplicates: int = 0
    launches: int = 0
    ordinary: int = 0
    rejected: int = 0
    reject_reasons: dict = field(default_factory=dict)
    partial_line: bool = False
    ignored_callbacks: dict = field(default_factory=dict)
    first_ts: str | None = None
    last_ts: str | None = None
    note: str = ""
    warnings: list = field(default_factory=list)
    reread: str = ""  # why its rows were deleted and it was read again from byte 0
    format_contradicted: bool = False  # a --format that auto-detection contradicts here


@dataclass
class ImportResult:
    import_id: int
    files: list[FileResult]
    by_outcome: dict
    redirect_paths: dict
    lines_read: int = 0
    redirects: int = 0
    inserted: int = 0
    duplicates: int = 0
    launches: int = 0
    ordinary: int = 0
    rejected: int = 0
    errors: int = 0
    objects_listed: int = 0  # objects found in object storage (after --since/--until)
    objects_skipped: int = 0  # of those, already imported unchanged: not read at all
    parser: str = "pure"  # which hot loop ran here: "compiled" or "pure" (importer._speed)
    settings: dict = field(default_factory=dict)  # what the run read with (importer/settings.py)
    settings_changes: list = field(default_factory=list)  # what this run's options changed
    not_reread: list = field(default_factory=list)  # {"path", "why"}: stale inputs kept as they were
    warnings: list = field(default_factory=list)  # the run's own (a redaction that mixes values)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["files"] = [asdict(f) for f in self.files]
        d["files_count"] = len(self.files)
        return d

    #: The run's totals as ``import --json`` prints them (then ``files``, settings and ``db``).
    JSON_KEYS = (
        "import_id",
        "lines_read",
        "redirects",
        "inserted",
        "duplicates",
        "launches",
        "ordinary",
        "rejected",
        "errors",
        "by_outcome",
        "redirect_paths",
        "objects_listed",
        "objects_skipped",
        "parser",
    )

    @property
    def reread(self) -> list[FileResult]:
        """The inputs read again from byte 0 because the settings changed."""
        return [f for f in self.files if f.reread]

    def to_json(self, db_path: str | None = None) -> dict:
        """The JSON object ``import --json`` prints."""
        d = self.to_dict()
        out = {k: d[k] for k in self.JSON_KEYS}
        out["files"] = d["files"]
        out["settings"] = self.settings
        out["settings_changes"] = self.settings_changes
        out["reread"] = [f.path for f in self.reread]
        out["not_reread"] = self.not_reread
        out["warnings"] = self.warnings
        if db_path is not None:
            out["db"] = db_path
        return out

    def exit_status(self, *, strict: bool = False) -> int:
        """For cron: 1 a file could not be read; 0 otherwise, also when lines were rejected
        (they are recorded in ``rejects``), unless *strict*: then 65 (EX_DATAERR)."""
        if self.errors:
            return 1
        if self.rejected and strict:
            return 65
        return 0

    @property
    def exit_code(self) -> int:
        """:meth:`exit_status` without ``strict``."""
        return self.exit_status()


# --- the run's row in ``imports`` -----------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def begin_import(db, paths, fmt, redirect_paths, launch_paths, redaction, format_options) -> int:
    """Record the run's options in ``imports``; its id marks every row this run writes."""
    options = {
        "format": fmt,
        "redirect_paths": list(redirect_paths),
        "launch_paths": list(launch_paths),
        "paths": paths,
        "redact": redaction.options(),
    }
    options.update({k: v for k, v in asdict(format_options).items() if v is not None})
    conn = db.conn
    cur = conn.execute(
        "INSERT INTO imports (started_at, options) VALUES (?, ?)", (_now(), json.dumps(options))
    )
    if conn.in_transaction:
        conn.commit()
    return cur.lastrowid


_COUNTERS = ("lines_read", "redirects", "launches", "inserted", "duplicates", "ordinary", "rejected")
_ADD_COUNTS = "UPDATE imports SET " + ", ".join(f"{c} = {c} + ?" for c in _COUNTERS) + " WHERE id = ?"


def count_file(conn, import_id: int, r: FileResult) -> None:
    """Add one file's counts to its run, in the file's transaction: the ``imports`` totals
    agree with the rows even when the run is killed before it finishes."""
    conn.execute(
        _ADD_COUNTS,
        (r.lines, r.redirects, r.launches, r.inserted, r.duplicates, r.ordinary, r.rejected, import_id),
    )


def finish_import(db, import_id: int, results: list[FileResult]) -> ImportResult:
    """Totals of the run, from the file results and this run's rows; written to ``imports``."""
    conn = db.conn
    by_outcome = {"success": 0, **{code: 0 for code in ERROR_CODES}}
    for outcome, code, n in conn.execute(
        "SELECT outcome, error_code, count(*) FROM redirects WHERE import_id = ?"
        " GROUP BY outcome, error_code ORDER BY count(*) DESC",
        (import_id,),
    ):
        key = code if outcome == "error" else outcome
        by_outcome[key] = by_outcome.get(key, 0) + n
    redirect_paths_seen = {
        p: n
        for p, n in conn.execute(
            "SELECT path, count(*) FROM redirects WHERE import_id = ? GROUP BY path ORDER BY 2 DESC",
            (import_id,),
        )
    }
    res = ImportResult(
        import_id=import_id,
        files=results,
        by_outcome=by_outcome,
        redirect_paths=redirect_paths_seen,
        parser=_speed.path(),
    )
    for r in results:
        res.lines_read += r.lines
        res.redirects += r.redirects
        res.inserted += r.inserted
        res.duplicates += r.duplicates
        res.launches += r.launches
        res.ordinary += r.ordinary
        res.rejected += r.rejected
        res.errors += r.status == "error"
    ignored: dict = {}
    for r in results:
        for path, n in r.ignored_callbacks.items():
            ignored[path] = ignored.get(path, 0) + n
    add_oauth_looking(conn, ignored)
    conn.execute(
        "UPDATE imports SET finished_at = ?, files = ?, errors = ? WHERE id = ?",
        (_now(), len(results), res.errors, import_id),
    )
    if conn.in_transaction:
        conn.commit()
    return res
