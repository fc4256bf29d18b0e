"""Which files an import reads, and in which order: directories, globs, rotation order."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from . import remote as _remote

__all__ = ["expand_inputs", "InputPlan", "plan_inputs"]

_NOT_LOGS = (".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite", ".sqlite3")
_ROTATION = re.compile(r"\.(\d+)(?:\.(?:gz|bz2|xz|zst))?$")


def _rotation_key(path: str) -> tuple:
    """Oldest first: higher rotation numbers are older, the live file comes last."""
    m = _ROTATION.search(os.path.basename(path))
    try:
        mtime = os.path.getmtime(path)
    except OSError:
        mtime = 0.0
    return (-(int(m.group(1)) if m else -1), mtime, path) if m else (1, mtime, path)


def expand_inputs(paths: Iterable[str]) -> list[str]:
    """Expand directories and glob patterns into files, oldest first.

    A directory contributes its access logs: the files whose names contain "access",
    or every regular file when none does (error logs are skipped either way).
    Paths that match nothing are kept, so that the import reports them as unreadable.
    """
    out: list[str] = []
    for p in paths:
        if p == "-" or _remote.is_remote(p):  # object storage is listed by the run (remote.plan)
            out.append(p)
            continue
        if os.path.isdir(p):
            try:
                entries = os.listdir(p)
            except OSError:  # unreadable folder: kept, so the import reports it
                out.append(p)
                continue
            names = sorted(
                os.path.join(p, n)
                for n in entries
                if not n.startswith(".") and os.path.isfile(os.path.join(p, n))
            )
            names = [n for n in names if not n.endswith(_NOT_LOGS)]
            logs = [n for n in names if "access" in os.path.basename(n).lower()]
            chosen = logs or [n for n in names if "error" not in os.path.basename(n).lower()]
            # An empty folder stays in the list so the import reports it.
            out.extend(sorted(chosen, key=_rotation_key) or [p])
        elif any(c in p for c in "*?[") and not os.path.exists(p):
            out.extend(sorted(glob.glob(p), key=_rotation_key) or [p])
        else:
            out.append(p)
    return out


@dataclass(frozen=True)
class InputPlan:
    """The inputs a run reads, expanded once: what the command checks and sizes its bar by,
    and what :func:`.import_paths` reads (it does not expand them again)."""

    paths: tuple[str, ...]
    sizes: tuple[int | None, ...]  # bytes on disk; None: stdin, object storage, not there

    @property
    def missing(self) -> list[str]:
        """Local paths that name nothing (the run reports each as an error)."""
        return [
            p for p, n in zip(self.paths, self.sizes) if n is None and p != "-" and not _remote.is_remote(p)
        ]

    @property
    def total_bytes(self) -> int:
        return sum(n for n in self.sizes if n)


def plan_inputs(paths: Iterable[str]) -> InputPlan:
    """:func:`expand_inputs`, with each local file's size."""
    out = expand_inputs(paths)
    sizes = []
    for p in out:
        try:
            sizes.append(None if p == "-" or _remote.is_remote(p) else os.path.getsize(p))
        except OSError:
            sizes.append(None)
    return InputPlan(tuple(out), tuple(sizes))
