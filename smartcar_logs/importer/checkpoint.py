"""Source identity and checkpoints: which content a file is, and how far it was imported.

A source is known by a fingerprint of its first bytes after decompression, with the offset
just past the last complete line imported (``bytes_done``) and a hash of the bytes just
before that offset (``tail_hash``). The rows, the rejects and the new checkpoint are written
in one transaction per file (see run.py), and every row has a unique key on
``(source_fp, byte_offset)``, so a rerun, a rotated copy or a crashed run never doubles
anything.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from ..store import SOURCES

__all__ = ["FINGERPRINT_BYTES", "TAIL_BYTES", "identify", "save"]

FINGERPRINT_BYTES = 1024
TAIL_BYTES = 256


def _hash(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()[:32]


@dataclass
class _Known:
    fingerprint: str
    bytes_done: int
    lines: int
    format: str | None
    tail_hash: str | None
    path: str | None


def _tail_matches(raw, known: _Known) -> bool | None:
    """Does this plain file still hold, just before bytes_done, what we imported?

    None when it cannot be checked cheaply (streams, archives): archives do not change
    after rotation, so their fingerprint is trusted.
    """
    if known.tail_hash is None or not raw.seekable():
        return None
    try:
        size = os.fstat(raw.fileno()).st_size
        if size < known.bytes_done:
            return False  # truncated (copytruncate) and rewritten
        start = max(0, known.bytes_done - TAIL_BYTES)
        here = raw.tell()
        raw.seek(start)
        tail = raw.read(known.bytes_done - start)
        raw.seek(here)
    except (OSError, ValueError):
        return None
    return _hash(tail) == known.tail_hash


def identify(conn, head: bytes, raw, streaming: bool) -> tuple[str, _Known | None, str]:
    """Find which known source this content is, or name a new one.

    Identity is the hash of the first FINGERPRINT_BYTES of decompressed content, so a
    rotated or compressed copy is the same source. A file shorter than that was
    fingerprinted on what it had; once grown, its first fp_len bytes still match. When the
    head matches but the bytes before the checkpoint do not (a copytruncate that happened
    to start the same way), the content is a new generation of that head.

    Returns (fingerprint, known source or None, note for the user).
    """
    head_hash = _hash(head)
    cols = "fingerprint, bytes_done, lines, format, tail_hash, path"
    rows = conn.execute(
        f"SELECT {cols} FROM sources WHERE head_hash = ? AND fp_len = ? ORDER BY last_import_id DESC",
        (head_hash, len(head)),
    ).fetchall()
    for fp_len, short_hash in conn.execute(
        "SELECT DISTINCT fp_len, head_hash FROM sources WHERE fp_len < ? ORDER BY fp_len DESC",
        (len(head),),
    ).fetchall():
        if _hash(head[:fp_len]) == short_hash:
            rows += conn.execute(
                f"SELECT {cols} FROM sources WHERE head_hash = ? AND fp_len = ? ORDER BY last_import_id DESC",
                (short_hash, fp_len),
            ).fetchall()
    candidates = [_Known(*r) for r in rows]
    for known in candidates:
        ok = _tail_matches(raw, known) if not streaming else None
        if ok is not False:
            return known.fingerprint, known, ""
    if candidates:
        gen = len(candidates) + 1
        return (
            f"{head_hash}-{gen}",
            None,
            "content changed since the last import (truncated or rewritten): read from the start",
        )
    return head_hash, None, ""


# How a later import of the same source updates its row: counters add up, the first
# timestamp and import stay, the path is kept when this run had none (stdin); every other
# column is this run's.
_SUMMED = ("lines", "redirects", "launches", "ordinary", "rejected")
_RULES = {
    **{c: f"{c} + excluded.{c}" for c in _SUMMED},
    "path": "coalesce(excluded.path, path)",
    "first_ts": "coalesce(first_ts, excluded.first_ts)",
    "last_ts": "coalesce(excluded.last_ts, last_ts)",
}
_KEPT = ("fingerprint", "first_import_id")
_UPSERT = (
    SOURCES.insert_sql(verb="INSERT")
    + " ON CONFLICT (fingerprint) DO UPDATE SET "
    + ", ".join(f"{c} = {_RULES.get(c, f'excluded.{c}')}" for c in SOURCES.names if c not in _KEPT)
)


def save(
    conn,
    *,
    fingerprint: str,
    head: bytes,
    tail: bytes | None,
    known: _Known | None,
    path: str | None,
    size: int | None,
    bytes_done: int,
    import_id: int,
    result,
) -> None:
    """Write the checkpoint and this run's counts for one source (the caller's transaction).

    *tail* is the last TAIL_BYTES before *bytes_done* read by this run, None when this run
    read nothing new (the stored tail hash stays valid).
    """
    values = {
        "fingerprint": fingerprint,
        "head_hash": _hash(head),
        "fp_len": len(head),
        "path": path,
        "size": size,
        "compression": result.compression,
        "format": result.format,
        "bytes_done": bytes_done,
        "tail_hash": _hash(tail) if tail is not None else (known.tail_hash if known else None),
        "lines": result.lines,
        "redirects": result.redirects,
        "launches": result.launches,
        "ordinary": result.ordinary,
        "rejected": result.rejected,
        "first_ts": result.first_ts,
        "last_ts": result.last_ts,
        "first_import_id": import_id,
        "last_import_id": import_id,
        "last_status": result.status,
        "note": result.note,
    }
    conn.execute(_UPSERT, tuple(values[c] for c in SOURCES.names))
