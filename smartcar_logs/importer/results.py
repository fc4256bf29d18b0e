"""What an import reports: per-file and per-run results, and the one error it raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

__all__ = ["FileResult", "ImportResult", "InputError", "ProgressCallback"]

#: Called with the number of raw (on-disk) bytes read since the last call.
ProgressCallback = Callable[[int], None]


class InputError(Exception):
    """A file could not be imported; the message names it and says why."""


@dataclass
class FileResult:
    path: str
    status: str = "imported"  # imported | up to date | empty | error
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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["files"] = [asdict(f) for f in self.files]
        d["files_count"] = len(self.files)
        return d

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
