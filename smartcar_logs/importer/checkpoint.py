"""Source identity and checkpoints: which content an input is, and how far it was imported.

Identity is by content, not by name, so a renamed, rotated, copied or compressed file is
the same source, and a truncated-and-rewritten one is not. Three things are stored per
source (``sources``), and the next run checks exactly those bytes:

* **heads**: hashes of the content's first bytes cut at each line end within the first
  FINGERPRINT_BYTES, and at FINGERPRINT_BYTES (``source_heads``). Content is looked up by
  the heads it shares and must agree with every head of the source it is long enough to
  check (one shared empty first line is not enough), so a copy made when the file was two
  lines long still finds it; an empty input has no head and matches nothing.
* **checkpoint**: ``bytes_done``, the offset up to which every line was imported, and
  ``tail_hash``, the hash of the TAIL_BYTES just before it: always those exact bytes,
  however few this run read (a run that read 150 bytes vouches for the 256 before its
  offset, partly read by earlier runs).
* **marks**: hashes of the TAIL_BYTES before each offset 2 KiB, 4 KiB, 8 KiB, ... below
  ``bytes_done``, so that content shorter than the checkpoint can be checked too.

A candidate agrees when every stored hash it can be checked against matches. Content that
agrees and reaches the checkpoint resumes there; content that agrees and ends before it is
a prefix of what was imported and adds nothing (a stale copy, a copy without the final
newline); content that shares a head but disagrees is a new generation (copytruncate or a
rewrite that happened to start the same way) and is read from the start.

The functions take plain bytes and a ``read_at`` callable, not paths: any input with
content (a local file, an archive, stdin, an object in a bucket) can be identified.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from ..store import SOURCES

__all__ = ["FINGERPRINT_BYTES", "TAIL_BYTES", "Content", "Identity", "Voucher", "identify", "save"]

FINGERPRINT_BYTES = 1024
TAIL_BYTES = 256
_FIRST_MARK = 2048  # marks at 2 KiB, 4 KiB, 8 KiB, ...: about 20 for a gigabyte


def _hash(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()[:32]


def _mark_offsets(upto: int, start: int = 0):
    """Mark offsets p with start < p <= upto."""
    p = _FIRST_MARK
    while p <= upto:
        if p > start:
            yield p
        p *= 2


def _head_cuts(first: bytes, end: int) -> list[int]:
    """Offsets the head is hashed at: each line end within FINGERPRINT_BYTES, before and
    after its newline (a copy without the final newline, or a line taken before its newline
    came, is cut there), and the content's end there (FINGERPRINT_BYTES, or *end*)."""
    limit = min(end, FINGERPRINT_BYTES)
    cuts = []
    i = first.find(b"\n", 0, limit)
    while i != -1:
        if i and (not cuts or cuts[-1] != i):
            cuts.append(i)
        cuts.append(i + 1)
        i = first.find(b"\n", i + 1, limit)
    if limit and (not cuts or cuts[-1] != limit):
        cuts.append(limit)
    return cuts


@dataclass
class Content:
    """What identification needs to know about one input.

    ``first`` is its first decompressed bytes (all of them when ``complete``); ``size`` its
    decompressed size when known without reading it (plain files); ``read_at(a, b)``
    returns bytes ``[a, b)`` (None when the input cannot be read back: streams).
    """

    first: bytes
    complete: bool = False
    size: int | None = None
    read_at: Callable[[int, int], bytes | None] | None = None

    def window(self, a: int, b: int) -> bytes | None:
        """Content bytes [a, b), or None when they cannot be had without reading the input."""
        if b <= len(self.first):
            return self.first[a:b]
        if self.complete:
            return None  # beyond the end of the content
        if self.size is not None and b > self.size:
            return None
        return self.read_at(a, b) if self.read_at is not None else None

    def length_at_least(self, n: int) -> bool | None:
        if len(self.first) >= n:
            return True
        if self.complete:
            return False
        return None if self.size is None else self.size >= n


@dataclass
class _Known:
    fingerprint: str
    bytes_done: int
    lines: int
    format: str | None
    tail_hash: str | None
    path: str | None
    marks: dict = field(default_factory=dict)


@dataclass
class Identity:
    """Which source the content is and where its new lines start."""

    fingerprint: str | None  # None: new content, named on save (nothing stored before that)
    known: _Known | None = None
    note: str = ""
    prefix: bool = False  # a prefix of imported content: nothing in it is new
    seed: bytes | None = None  # content[bytes_done - TAIL_BYTES : bytes_done], when read here

    @property
    def bytes_done(self) -> int:
        return self.known.bytes_done if self.known else 0

    @property
    def lines(self) -> int:
        return self.known.lines if self.known else 0


def _agrees(content: Content, known: _Known) -> tuple[bool, bool, bytes | None]:
    """(agrees, reaches the checkpoint or cannot tell, the bytes before the checkpoint)."""
    bd = known.bytes_done
    for p in sorted(known.marks):
        w = content.window(max(0, p - TAIL_BYTES), p)
        if w is None:
            continue
        if _hash(w) != known.marks[p]:
            return False, False, None
    reaches = content.length_at_least(bd)
    seed = None
    if reaches is not False and known.tail_hash is not None:
        seed = content.window(max(0, bd - TAIL_BYTES), bd)
        if seed is not None and _hash(seed) != known.tail_hash:
            return False, False, None
    return True, reaches is not False, seed


def identify(conn, content: Content) -> Identity:
    """Find which known source *content* is (see the module docstring)."""
    first = content.first
    cuts = _head_cuts(first, len(first))
    if not cuts:
        return Identity(None)
    hashes = [_hash(first[:c]) for c in cuts]
    q = ",".join("?" * len(hashes))
    rows = conn.execute(
        "SELECT s.fingerprint, s.bytes_done, s.lines, s.format, s.tail_hash, s.path, s.marks"
        " FROM source_heads h JOIN sources s ON s.fingerprint = h.fingerprint"
        f" WHERE h.head_hash IN ({q}) GROUP BY s.fingerprint"
        " ORDER BY max(h.fp_len) DESC, s.last_import_id DESC",
        hashes,
    ).fetchall()
    disagreed = 0
    for fp, bd, lines, fmt, tail_hash, path, marks in rows:
        if not _heads_agree(conn, first, fp):
            continue  # another file that merely starts alike (say, with an empty line)
        marks = {int(k): v for k, v in json.loads(marks or "{}").items()}
        known = _Known(fp, bd, lines, fmt, tail_hash, path, marks)
        ok, reaches, seed = _agrees(content, known)
        if not ok:
            disagreed += 1
            continue
        return Identity(fp, known, prefix=not reaches, seed=seed)
    if disagreed:
        return Identity(
            None, note="content changed since the last import (truncated or rewritten): read from the start"
        )
    return Identity(None)


def _heads_agree(conn, first: bytes, fingerprint: str) -> bool:
    """Does the content agree with every head hash of the source it can be checked against?
    Sharing one short cut (a first empty line) is not enough to be the same content."""
    for head_hash, cut in conn.execute(
        "SELECT head_hash, fp_len FROM source_heads WHERE fingerprint = ?", (fingerprint,)
    ):
        if cut <= len(first) and _hash(first[:cut]) != head_hash:
            return False
    return True


class Voucher:
    """Collects, as the content goes by, the hashes a checkpoint at its end vouches for.

    Fed every byte from the resume point on (complete lines, and a last line when taken),
    after being seeded with the TAIL_BYTES before the resume point.
    """

    def __init__(self, pos: int, seed: bytes = b""):
        self.pos = pos
        self.recent = seed[-TAIL_BYTES:]
        self.marks: dict[int, str] = {}

    def feed(self, data: bytes) -> None:
        end = self.pos + len(data)
        for p in _mark_offsets(end, self.pos):
            k = p - self.pos  # the mark is k bytes into data
            self.marks[p] = _hash((self.recent + data[max(0, k - TAIL_BYTES) : k])[-TAIL_BYTES:])
        self.recent = (self.recent + data[-TAIL_BYTES:])[-TAIL_BYTES:]
        self.pos = end

    def copy(self) -> Voucher:
        v = Voucher(self.pos, self.recent)
        v.marks = dict(self.marks)
        return v

    @property
    def tail_hash(self) -> str:
        return _hash(self.recent)


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


def new_fingerprint(conn, first: bytes) -> str:
    """A name for new content: the hash of its head, numbered when that name is taken
    (a new generation of content that starts like an earlier one)."""
    base = _hash(first[:FINGERPRINT_BYTES])
    fp, n = base, 1
    # A source that vouches for nothing yet (a lone unterminated line) holds no rows: reused.
    while conn.execute("SELECT 1 FROM sources WHERE fingerprint = ? AND bytes_done > 0", (fp,)).fetchone():
        n += 1
        fp = f"{base}-{n}"
    return fp


def save(
    conn,
    *,
    fingerprint: str,
    first: bytes,
    voucher: Voucher,
    known: _Known | None,
    path: str | None,
    size: int | None,
    import_id: int,
    result,
    waiting: int = 0,
    settings: str | None = None,
) -> None:
    """Write the checkpoint (at ``voucher.pos``) and this run's counts for one source.

    Runs in the caller's transaction, with the rows it vouches for. *first* is the
    content's first bytes (for the head hashes); *waiting* the bytes of an unterminated
    last line left for a later run; *settings* the key of the settings it was read under.
    """
    bd = voucher.pos
    marks = dict(known.marks) if known else {}
    marks.update(voucher.marks)
    cuts = _head_cuts(first, bd)
    head = first[: cuts[-1]] if cuts else b""
    values = {
        "fingerprint": fingerprint,
        "head_hash": _hash(head),
        "fp_len": len(head),
        "path": path,
        "size": size,
        "compression": result.compression,
        "format": result.format,
        "bytes_done": bd,
        "tail_hash": voucher.tail_hash,
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
        "marks": json.dumps({str(k): v for k, v in sorted(marks.items())}) if marks else None,
        "waiting": waiting,
        "settings": settings,
    }
    conn.execute(_UPSERT, tuple(values[c] for c in SOURCES.names))
    conn.executemany(
        "INSERT OR IGNORE INTO source_heads (head_hash, fp_len, fingerprint) VALUES (?, ?, ?)",
        [(_hash(first[:c]), c, fingerprint) for c in cuts],
    )
