"""Which files an import reads, and in which order: directories, globs, rotation order."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable

from . import remote as _remote

__all__ = ["expand_inputs"]

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
