"""The importer: access logs in, Connect redirects (and launches) out, every line counted.

Speed comes from never looking at most lines: the file is read in large binary chunks,
candidate lines are found with ``bytes.find`` on a few needles (``user_id=``, ``error=``,
the known redirect paths...), and only those lines are parsed. Every other line is
counted with ``bytes.count(b"\\n")`` and nothing more.

Exactly-once: a file is known by a fingerprint of its first bytes after decompression,
with the offset just past the last complete line imported. The rows, the rejects and the
new offset are written in one transaction per file, and every row has a unique key on
``(source_fp, byte_offset)``, so a rerun, a rotated copy or a crashed run never doubles
anything.
"""

from __future__ import annotations

import bz2
import multiprocessing
import pickle
import glob
import hashlib
import io
import json
import lzma
import os
import re
import sqlite3
import sys
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from functools import lru_cache, partial
from itertools import compress
from operator import is_not
from datetime import datetime, timezone
from typing import Any, BinaryIO, Callable, Iterable

import sqlite_utils

from . import formats as _formats
from . import hostile as _hostile
from . import privacy as _privacy
from .redirect import ERROR_CODES, normalize, parse_query
from .store import REDIRECT_COLUMNS, ensure_schema

__all__ = ["import_paths", "import_file", "expand_inputs", "ImportResult", "FileResult", "ImportError_"]

CHUNK_SIZE = 4 << 20
FINGERPRINT_BYTES = 1024
RAW_REJECT_CHARS = 1000
# Generic needles: a Connect redirect carries at least one of these keys. ``code=`` also
# catches ``status_code=``; both are fine, the parser decides.
AUTO_NEEDLES = (b"user_id=", b"error=", b"code=", b"vehicle_id=")

ProgressCallback = Callable[[int], None]


class ImportError_(Exception):
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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["files"] = [asdict(f) for f in self.files]
        d["files_count"] = len(self.files)
        return d

    @property
    def exit_code(self) -> int:
        """0 all imported; 1 a file could not be read; 65 (EX_DATAERR) lines were rejected."""
        if self.errors:
            return 1
        if self.rejected:
            return 65
        return 0


# --- opening inputs --------------------------------------------------------------------------

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


class _GzipStream(io.RawIOBase):
    """Streaming gzip reader: multi-member, and a truncated archive keeps every byte
    that could be inflated (``GzipFile.read`` throws away what it inflated before the
    damage). ISA-L's zlib-compatible inflater is 2-3x faster than zlib; it is optional.
    """

    def __init__(self, raw: BinaryIO):
        try:
            from isal import isal_zlib as z
        except ImportError:  # pragma: no cover
            import zlib as z
        self._z = z
        self._raw = raw
        self._d = z.decompressobj(31)
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def read1(self, n: int = -1) -> bytes:
        while not self._pending and not self._done:
            data = self._raw.read(1 << 20)
            if not data:
                self._done = True
                if not self._d.eof and (self._d.unconsumed_tail or self._started):
                    raise EOFError("compressed file ended before the end-of-stream marker")
                break
            self._started = True
            out = self._d.decompress(data)
            while self._d.eof and self._d.unused_data:
                rest = self._d.unused_data
                self._d = self._z.decompressobj(31)
                out += self._d.decompress(rest)
            if self._d.eof and not self._d.unused_data:
                self._started = False
            self._pending = out
        if n < 0 or n >= len(self._pending):
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:n], self._pending[n:]
        return out

    _started = False
    read = read1

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_gzip(f: BinaryIO) -> BinaryIO:
    return _GzipStream(f)


def _open_zstd(f: BinaryIO) -> BinaryIO:
    import zstandard

    return zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)


_OPENERS = {
    "gzip": _open_gzip,
    "bz2": lambda f: bz2.BZ2File(f),
    "xz": lambda f: lzma.LZMAFile(f),
    "zstd": _open_zstd,
}


def open_input(path: str, stdin: BinaryIO | None = None) -> tuple[BinaryIO, BinaryIO, str | None]:
    """Open *path* ('-' for stdin) and undo compression detected from its magic bytes.

    Returns (decompressed stream, raw stream, compression name or None).
    """
    if path == "-":
        raw = stdin if stdin is not None else sys.stdin.buffer
        if not hasattr(raw, "peek"):
            raw = io.BufferedReader(raw, CHUNK_SIZE)
    else:
        if os.path.isdir(path):
            raise ImportError_(f"{path}: is a directory with no log files in it")
        try:
            raw = open(path, "rb", buffering=CHUNK_SIZE)
        except OSError as e:
            raise ImportError_(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        head = raw.peek(8)[:8]
    except OSError as e:
        raise ImportError_(f"{path}: cannot read: {e.strerror or e}") from None
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return _OPENERS[name](raw), raw, name
    return raw, raw, None


def _read(stream: BinaryIO, n: int, warnings: list, label: str) -> bytes:
    """Read up to *n* bytes; a damaged or truncated archive ends the stream with a warning.

    Reads with ``read1`` so that what was decompressed before the damage is kept
    (``read(n)`` of a truncated gzip raises and throws the whole chunk away).
    """
    read1 = getattr(stream, "read1", stream.read)
    parts: list[bytes] = []
    got = 0
    try:
        while got < n:
            b = read1(n - got)
            if not b:
                break
            parts.append(b)
            got += len(b)
    except EOFError:
        warnings.append(f"{label}: compressed stream is truncated; imported the readable lines")
    except (OSError, lzma.LZMAError, ValueError) as e:
        if isinstance(e, OSError) and e.errno is not None:
            raise  # EIO, ENOSPC...: the device failed, not the archive; the file is rolled back
        warnings.append(f"{label}: compressed stream is damaged ({e}); imported the readable lines")
    except Exception as e:  # zstandard raises its own error class
        warnings.append(f"{label}: cannot decompress ({type(e).__name__}: {e}); imported the readable lines")
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _json_document(stream: BinaryIO, first: bytes, result, label: str, chunk_size: int) -> bytes:
    """Read a whole JSON-array document (*stream* is left at its end) as canonical JSON lines.

    Such exports (``gcloud logging read --format=json``) are small and not line based, so
    the document is held in memory. Everything after this (fingerprint, byte offsets, line
    numbers = element numbers, the checkpoint) refers to the canonical lines, which are the
    same on every run; the file is then treated like an archive (it does not grow).
    """
    parts = [first]
    while True:
        chunk = _read(stream, chunk_size, result.warnings, label)
        if not chunk:
            break
        parts.append(chunk)
    lines, problem = _formats.json_document_lines(b"".join(parts))
    if problem:
        result.warnings.append(f"{label}: {problem}")
    return b"".join(ln + b"\n" for ln in lines)


# --- helpers ------------------------------------------------------------------------------------


def _norm_path(p: str) -> str:
    """Reduce a configured redirect path or URL to the comparable path."""
    p = p.strip()
    i = p.find("://")
    if i != -1:
        j = p.find("/", i + 3)
        p = p[j:] if j != -1 else "/"
    p = p.split("?", 1)[0].split("#", 1)[0]
    if len(p) > 1:
        p = p.rstrip("/")
    return p


def _target_path(target: bytes) -> str:
    q = target.find(b"?")
    p = target if q == -1 else target[:q]
    h = p.find(b"#")
    if h != -1:
        p = p[:h]
    i = p.find(b"://")
    if i != -1:
        j = p.find(b"/", i + 3)
        p = p[j:] if j != -1 else b"/"
    s = p.decode("utf-8", "replace")
    if len(s) > 1:
        s = s.rstrip("/")
    return _privacy.scrub_codes(s)  # "/cb;code=..." must not store a code (cheap no-op otherwise)




def redact_raw(line: bytes) -> str:
    """A raw line for the rejects table: authorization codes removed, length capped."""
    text = line[: RAW_REJECT_CHARS * 4].decode("utf-8", "backslashreplace")
    return _privacy.scrub_codes(text)[:RAW_REJECT_CHARS]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- the scanner ---------------------------------------------------------------------------------


@dataclass
class _ParseContext:
    """What parsing a candidate line needs; picklable, so worker processes get a copy."""

    fmt: Any
    fp: str
    import_id: int
    label: str
    explicit: bool
    redirect_paths: frozenset | set
    launch_paths: frozenset | set
    confirmed: frozenset | set  # a snapshot in workers, the live set in the main process
    redaction: Any = None  # privacy.Redaction: codes scrubbed, --redact applied per row


def _find_candidates(buf: bytes, needles, since: int = 0) -> set[int]:
    """Offsets of the lines of *buf* holding any needle, from offset *since* on."""
    starts = set()
    find = buf.find
    for needle in needles:
        i = find(needle, since)
        while i != -1:
            starts.add(buf.rfind(b"\n", 0, i) + 1)
            e = find(b"\n", i)
            if e == -1:
                break
            i = find(needle, e)
    return starts


def _parse_block(ctx: _ParseContext, buf: bytes, starts: list[int], base: int, line0: int) -> list:
    """Parse the candidate lines at *starts* (sorted) into items for :meth:`_FileScan.apply`."""
    items = []
    prev, line_no = 0, line0
    count, find = buf.count, buf.find
    for s in starts:
        line_no += count(b"\n", prev, s)
        prev = s
        e = find(b"\n", s)
        line = buf[s:e]
        if line.endswith(b"\r"):
            line = line[:-1]
        item = _parse_line(ctx, line, base + s, line_no + 1)
        if item is not None:
            items.append(item)
    return items


def _parse_line(ctx: _ParseContext, line: bytes, offset: int, line_no: int):
    """Everything about one candidate line that does not depend on the lines before it.

    Returns None for ordinary traffic, or one of:
    ``("X", reject_row)``, ``("L", launch_row, ts)``,
    ``("R", offset, path, is_empty, evidence, redirect_row, ts)``, and
    ``("N", offset, line_no, path, line)`` for a query-less request on a path that was not a
    known redirect path when parsed (the main process decides once earlier lines are in).
    """
    if len(line) > _hostile.MAX_LINE_BYTES:  # no server logs such a request: do not parse it
        return "X", ctx.redaction.reject_row(_reject_row(ctx, line, offset, line_no, _hostile.LINE_TOO_LONG))
    if line[:1] == b"\0":  # zero-fill left by a crash before this line is not part of it
        line = line.lstrip(b"\0")
    entry = ctx.fmt.parse(line)
    if isinstance(entry, str):
        return "X", ctx.redaction.reject_row(_reject_row(ctx, line, offset, line_no, entry))
    if entry is None:  # the format's own non-request line (header, app log): ordinary
        return None
    target = entry.target
    path = _target_path(target)
    if path in ctx.launch_paths:
        q = target.find(b"?")
        state = parse_query(target[q + 1:])[0].get("state") if q != -1 else None
        return "L", ctx.redaction.launch_row((
            ctx.fp, line_no, offset, ctx.import_id, entry.ts, entry.method, path,
            entry.status, entry.client_ip, entry.user_agent, state or None,
        )), entry.ts
    if ctx.explicit:
        if path not in ctx.redirect_paths:
            return None
    elif b"?" not in target and path not in ctx.confirmed:
        return "N", offset, line_no, path, line
    rec = normalize(target)
    return ("R", offset, path, rec["outcome"] == "empty", rec["evidence"],
            ctx.redaction.redirect_row(_row(ctx, rec, entry, path, offset, line_no)), entry.ts)


def _reject_row(ctx: _ParseContext, line: bytes, offset: int, line_no: int, reason: str) -> tuple:
    return (ctx.fp, ctx.label, line_no, offset, ctx.import_id, reason, redact_raw(line))


def _row(ctx: _ParseContext, rec: dict, entry, path: str, offset: int, line_no: int) -> tuple:
    # Spelled out in REDIRECT_COLUMNS order: this runs once per redirect, and a generic
    # dict-to-tuple loop over 36 columns cost more than the SQLite insert.
    flags, extras = rec["flags"], rec["extras"]
    ek, vv = rec["error_known"], rec["vin_valid"]
    return (
        ctx.fp, line_no, offset, ctx.import_id, entry.ts, entry.method, path,
        entry.status, entry.client_ip, entry.user_agent,
        rec["outcome"], rec["flow"], rec["category"], rec["error_code"],
        None if ek is None else int(ek), rec["error_description"], rec["state"],
        rec["user_id"], int(rec["has_code"]), rec["vehicle_id"], rec["external_id"],
        rec["virtual_key_url"], rec["vin"], None if vv is None else int(vv),
        int(rec["is_test"]), rec["vin_make"], rec["vin_year"], rec["make"], rec["make_raw"],
        rec["model"], rec["year"], rec["year_raw"], rec["status_code"], rec["error_message"],
        json.dumps(flags) if flags else None,
        json.dumps(extras, ensure_ascii=False) if extras else None,
    )


def _work(ctx: _ParseContext, buf: bytes, base: int, line0: int, needles: list) -> tuple:
    """A worker's share: find and parse one block's candidates; count its lines."""
    starts = _find_candidates(buf, needles)
    return _parse_block(ctx, buf, sorted(starts), base, line0), starts, buf.count(b"\n")


class _FileScan:
    """State of one file's import: needles, known paths, counters and row buffers.

    Parsing a candidate line (:func:`_parse_line`) depends on nothing but the line, so it
    can run in worker processes; deciding what a parsed line is (:meth:`apply`) depends on
    the redirect paths confirmed by the lines before it, so it runs here, in file order.
    """

    def __init__(self, db, result: FileResult, fp: str, fmt, import_id: int,
                 redirect_paths: set[str], launch_paths: set[str], confirmed: set[str],
                 redaction: "_privacy.Redaction | None" = None):
        self.db = db
        self.redaction = redaction if redaction is not None else _privacy.Redaction()
        self.r = result
        self.explicit = bool(redirect_paths)
        self.confirmed = confirmed
        self.ctx = _ParseContext(fmt, fp, import_id, result.path, self.explicit,
                                 redirect_paths, launch_paths, confirmed, self.redaction)
        self.newly_confirmed: set[str] = set()
        self.pending: Counter = Counter()
        self.pending_offsets: dict[str, list[int]] = {}
        self.reasons: Counter = Counter()
        if self.explicit:
            needles = {p.encode() for p in redirect_paths}
        else:
            needles = set(AUTO_NEEDLES) | {p.encode() for p in confirmed if p != "/"}
        needles |= {p.encode() for p in launch_paths}
        self.needles = sorted(needles)
        self.needle_since: dict[bytes, int] = {}  # needle -> offset of the line that added it
        self.rows: list[tuple] = []
        self.launch_rows: list[tuple] = []
        self.reject_rows: list[tuple] = []
        self.first_ts: str | None = None
        self.last_ts: str | None = None

    def worker_context(self) -> _ParseContext:
        c = self.ctx
        return _ParseContext(c.fmt, c.fp, c.import_id, c.label, c.explicit,
                             frozenset(c.redirect_paths), frozenset(c.launch_paths),
                             frozenset(self.confirmed), c.redaction)

    def scan(self, buf: bytes, base: int, line0: int, parsed: tuple | None = None,
             n_needles: int = 0) -> None:
        """Find, parse and apply the candidate lines of *buf* (complete lines only).

        *parsed* is a worker's ``(items, starts)`` for this block, found with the first
        *n_needles* needles; lines holding needles added since then are found here.
        """
        if parsed is None:
            n_needles = len(self.needles)
            done = _find_candidates(buf, self.needles)
            items = _parse_block(self.ctx, buf, sorted(done), base, line0)
        else:
            items, done = parsed
        self.apply(items)
        # A path confirmed meanwhile becomes a needle for this block too, from the line that
        # confirmed it on (lines before it were decided already, as in one serial pass).
        while len(self.needles) > n_needles:
            new = self.needles[n_needles:]
            n_needles = len(self.needles)
            starts = set()
            for needle in new:
                starts |= _find_candidates(buf, (needle,), max(0, self.needle_since[needle] - base))
            starts -= done
            done |= starts
            self.apply(_parse_block(self.ctx, buf, sorted(starts), base, line0))

    def apply(self, items: list) -> None:
        confirmed, pending = self.confirmed, self.pending
        for item in items:
            kind = item[0]
            if kind == "R":
                _, offset, path, empty, evidence, row, ts = item
                if not self.explicit and path not in confirmed:
                    if empty:
                        continue
                    if evidence:
                        confirmed.add(path)
                        self.newly_confirmed.add(path)
                        pending.pop(path, None)
                        self.pending_offsets.pop(path, None)
                        b = path.encode()
                        if path != "/" and b not in self.needles:
                            self.needles.append(b)
                            self.needle_since[b] = offset
                    else:
                        pending[path] += 1
                        self.pending_offsets.setdefault(path, []).append(offset)
                self._seen_ts(ts)
                self.rows.append(row)
            elif kind == "N":
                _, offset, line_no, path, line = item
                if path in confirmed:  # confirmed by an earlier line: an empty redirect
                    self.apply([_parse_line(self.ctx, line, offset, line_no)])
            elif kind == "L":
                self.launch_rows.append(item[1])
                self._seen_ts(item[2])
            else:
                row = item[1]
                self.reasons[row[5]] += 1
                self.reject_rows.append(row)

    def _seen_ts(self, ts: str | None) -> None:
        if ts:
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
            if self.last_ts is None or ts > self.last_ts:
                self.last_ts = ts


    def flush(self) -> None:
        """Write buffered rows; the caller's transaction makes them permanent or not."""
        conn = self.db.conn
        if self.rows:
            before = conn.total_changes
            _insert_sparse(conn, "redirects", REDIRECT_COLUMNS, self.rows)
            inserted = conn.total_changes - before
            self.r.redirects += len(self.rows)
            self.r.inserted += inserted
            self.r.duplicates += len(self.rows) - inserted
            self.rows.clear()
        if self.launch_rows:
            conn.executemany(_INSERT_LAUNCH, self.launch_rows)
            self.r.launches += len(self.launch_rows)
            self.launch_rows.clear()
        if self.reject_rows:
            conn.executemany(_INSERT_REJECT, self.reject_rows)
            self.r.rejected += len(self.reject_rows)
            self.reject_rows.clear()

    def finish(self) -> None:
        """Drop rows of paths that never showed Smartcar evidence: other OAuth callbacks."""
        self.flush()
        for path, n in self.pending.items():
            if path in self.confirmed:
                continue
            # By key, not by path: a scan over the file's rows per path was the slowest
            # statement of an import.
            before = self.db.conn.total_changes
            self.db.conn.executemany(
                "DELETE FROM redirects WHERE source_fp = ? AND byte_offset = ? AND import_id = ?",
                [(self.ctx.fp, off, self.ctx.import_id) for off in self.pending_offsets[path]],
            )
            deleted = self.db.conn.total_changes - before
            self.r.redirects -= n
            self.r.inserted -= deleted
            self.r.duplicates -= n - deleted
            self.r.ignored_callbacks[path] = n
        self.r.reject_reasons = dict(self.reasons)


class _Dispatcher:
    """Feeds blocks to :meth:`_FileScan.scan`: directly, or through worker processes.

    With workers, up to two blocks per worker are parsed ahead while this process
    applies finished blocks in file order and writes them, so results are exactly those
    of a serial pass, and memory stays bounded by those blocks.
    """

    def __init__(self, scan: _FileScan, workers: "_Workers | None" = None):
        self.scan = scan
        self.pool = workers.pool if workers is not None else None
        self.depth = 2 * workers.jobs if workers is not None else 0
        self.queue: deque = deque()
        if self.pool is not None:
            try:
                pickle.dumps(scan.worker_context())
            except Exception:  # a format that cannot travel: parse here
                self.pool = None

    def submit(self, block: bytes, base: int, line0: int) -> None:
        scan = self.scan
        if self.pool is None:
            scan.scan(block, base, line0)
            scan.flush()
            return
        n = len(scan.needles)
        fut = self.pool.apply_async(_work, (scan.worker_context(), block, base, line0, scan.needles[:]))
        self.queue.append((fut, block, base, line0, n))
        while len(self.queue) > self.depth:
            self._complete_one()

    def _complete_one(self) -> None:
        fut, block, base, line0, n = self.queue.popleft()
        items, starts, _ = fut.get()
        self.scan.scan(block, base, line0, parsed=(items, starts), n_needles=n)
        self.scan.flush()

    def drain(self) -> None:
        while self.queue:
            self._complete_one()


_not_none = partial(is_not, None)


@lru_cache(maxsize=256)
def _sparse_sql(table: str, columns: tuple, mask: tuple) -> str:
    cols = list(compress(columns, mask))
    return f"INSERT OR IGNORE INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def _insert_sparse(conn, table: str, columns: tuple, rows: list) -> None:
    """Insert *rows* leaving their NULLs out of the statement.

    Most redirect columns are NULL on most rows, and the sqlite3 module binds None through
    its adapter lookup, which made binding cost more than SQLite's own work: grouping rows
    by which columns they fill halves the insert time.
    """
    groups: dict[tuple, list] = {}
    for row in rows:
        mask = tuple(map(_not_none, row))
        g = groups.get(mask)
        if g is None:
            groups[mask] = g = []
        g.append(tuple(compress(row, mask)))
    for mask, group in groups.items():
        conn.executemany(_sparse_sql(table, columns, mask), group)


_INSERT_LAUNCH = (
    "INSERT OR IGNORE INTO launches (source_fp, line_no, byte_offset, import_id, ts, method, path,"
    " http_status, client_ip, user_agent, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_REJECT = (
    "INSERT OR IGNORE INTO rejects (source_fp, path, line_no, byte_offset, import_id, reason, raw)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


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


def _lookup_source(conn, head: bytes, raw, streaming: bool) -> tuple[str, _Known | None, str]:
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
        f"SELECT {cols} FROM sources WHERE head_hash = ? AND fp_len = ?"
        " ORDER BY last_import_id DESC",
        (head_hash, len(head)),
    ).fetchall()
    for fp_len, short_hash in conn.execute(
        "SELECT DISTINCT fp_len, head_hash FROM sources WHERE fp_len < ? ORDER BY fp_len DESC",
        (len(head),),
    ).fetchall():
        if _hash(head[:fp_len]) == short_hash:
            rows += conn.execute(
                f"SELECT {cols} FROM sources WHERE head_hash = ? AND fp_len = ?"
                " ORDER BY last_import_id DESC",
                (short_hash, fp_len),
            ).fetchall()
    candidates = [_Known(*r) for r in rows]
    for known in candidates:
        ok = _tail_matches(raw, known) if not streaming else None
        if ok is not False:
            return known.fingerprint, known, ""
    if candidates:
        gen = len(candidates) + 1
        return (f"{head_hash}-{gen}", None,
                "content changed since the last import (truncated or rewritten): read from the start")
    return head_hash, None, ""


def import_file(
    db: sqlite_utils.Database,
    path: str,
    *,
    import_id: int,
    fmt: str = "auto",
    redirect_paths: Iterable[str] = (),
    launch_paths: Iterable[str] = (),
    confirmed_paths: set[str] | None = None,
    progress: ProgressCallback | None = None,
    stdin: BinaryIO | None = None,
    chunk_size: int = CHUNK_SIZE,
    redaction: "_privacy.Redaction | None" = None,
    format_options: "_formats.FormatOptions | dict | None" = None,
    workers: _Workers | None = None,
) -> FileResult:
    """Import one file (or '-' for stdin) into *db*; never raises for bad input.

    Returns a :class:`FileResult` whose counts satisfy
    ``lines == redirects + launches + ordinary + rejected``.
    """
    label = "<stdin>" if path == "-" else path
    result = FileResult(path=label)
    redirect_paths = {_norm_path(p) for p in redirect_paths}
    launch_paths = {_norm_path(p) for p in launch_paths}
    confirmed = confirmed_paths if confirmed_paths is not None else set()
    try:
        stream, raw, compression = open_input(path, stdin)
    except ImportError_ as e:
        result.status, result.message = "error", str(e)
        return result
    result.compression = compression
    conn = db.conn
    try:
        with raw:
            # Detection wants a few hundred lines even when the chunk size is tiny.
            first = _read(stream, max(chunk_size, 256 * 1024), result.warnings, label)
            if _hostile.is_bare_cr(first):
                wrapped = _hostile.BareCRReader(stream)
                raw = wrapped if raw is stream else raw  # resume checks read translated bytes too
                stream, first = wrapped, first.replace(b"\r", b"\n")
                result.warnings.append(f"{label}: no \\n line breaks; read each \\r as a line break")
            document = _formats.is_json_document(first)
            if document:  # one JSON array (gcloud --format=json): one canonical line per element
                first = _json_document(stream, first, result, label, chunk_size)
            head = first[:FINGERPRINT_BYTES]
            if not first:
                result.status = "empty"
                result.message = "empty file: nothing to import"
                return result
            conn.execute("BEGIN IMMEDIATE")
            try:
                _import_stream(db, stream, raw, first, head, result, fmt, redirect_paths,
                               launch_paths, confirmed, import_id, progress, chunk_size, label,
                               streaming=(path == "-" or compression is not None or document),
                               redaction=redaction, format_options=format_options,
                               workers=_workers_for(raw, compression, workers))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O)
                    conn.execute("ROLLBACK")
                raise
    except ImportError_ as e:
        result.status, result.message = "error", str(e)
    except sqlite3.Error as e:
        result.status, result.message = "error", f"{label}: database error, file rolled back: {e}"
    except OSError as e:
        result.status, result.message = "error", f"{label}: read error, file rolled back: {e.strerror or e}"
    if result.status == "error":  # rolled back: nothing of this file counts as read or stored
        for k in ("lines", "redirects", "inserted", "duplicates", "launches", "ordinary", "rejected"):
            setattr(result, k, 0)
        result.reject_reasons, result.ignored_callbacks = {}, {}
    return result


def _workers_for(raw, compression, workers: _Workers | None) -> _Workers | None:
    """*workers* if this file is big enough to repay them (its size on disk), else None."""
    if workers is None:
        return None
    try:
        size = os.fstat(raw.fileno()).st_size
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return None
    return workers if _worth_workers(size, compression is not None) else None


def _import_stream(db, stream, raw, first, head, result, fmt_name, redirect_paths, launch_paths,
                   confirmed, import_id, progress, chunk_size, label, streaming,
                   redaction=None, format_options=None, workers=None) -> None:
    conn = db.conn
    path_for_db = None if label == "<stdin>" else os.path.abspath(label)
    fp, known, note = _lookup_source(conn, head, raw, streaming)
    result.fingerprint = fp
    bytes_done = known.bytes_done if known else 0
    lines_done = known.lines if known else 0
    result.resumed_from = bytes_done
    if note:
        result.warnings.append(f"{label}: {note}")
    elif known and known.path and path_for_db and known.path != path_for_db:
        note = f"same content as {known.path}"

    # Format: forced, remembered from an earlier run of this file, or detected; configured
    # for this file from its first lines (CloudFront #Fields) and the format options.
    sample = first[: 256 * 1024].split(b"\n")
    if len(sample) > 1:
        sample.pop()  # the piece after the last newline may be a partial line
    sample = sample[:200]
    fmt = None
    if fmt_name != "auto":
        fmt = _formats.get_format(fmt_name, sample, format_options)
        result.format_share = None
    elif known and known.format:
        try:
            fmt = _formats.get_format(known.format, sample, format_options)
        except ValueError:  # e.g. "custom" remembered, but no --log-format this time
            fmt = None
    if fmt is None:
        fmt, share = _formats.detect_format(sample, format_options)
        if fmt is None or share == 0:
            line1 = redact_raw(first.split(b"\n", 1)[0])[:80]
            raise ImportError_(f"{label}: not an access log in a known format (line 1: {line1!r})")
        result.format_share = round(share, 4)
    result.format = fmt.name

    scan = _FileScan(db, result, fp, fmt, import_id, redirect_paths, launch_paths, confirmed,
                     redaction)

    # Skip what an earlier run already imported.
    buf = first
    pos = 0  # decompressed offset of buf[0]
    if bytes_done:
        if len(buf) > bytes_done:
            buf = buf[bytes_done:]
        else:
            skip = bytes_done - len(buf)
            buf = b""
            if not streaming and raw.seekable():
                raw.seek(bytes_done)
            else:
                while skip > 0:
                    got = _read(stream, min(skip, chunk_size), result.warnings, label)
                    if not got:
                        break
                    skip -= len(got)
                if skip > 0:
                    # A partial copy of content we already have: nothing in it is new.
                    result.status = "up to date"
                    result.message = "shorter than what was already imported from the same content"
                    return
        pos = bytes_done

    line_no = lines_done
    last_line = b""
    tail = b""
    disp = _Dispatcher(scan, workers)
    raw_pos = raw.tell() if raw.seekable() else 0
    while True:
        nl = buf.rfind(b"\n")
        if nl != -1:
            block = buf[: nl + 1]
            disp.submit(block, pos, line_no)
            n = block.count(b"\n")
            line_no += n
            result.lines += n
            end = block.rfind(b"\n", 0, nl) + 1
            last_line = block[end:nl]
            tail = (tail + block)[-TAIL_BYTES:]
            pos += nl + 1
            buf = buf[nl + 1:]
        if progress is not None and raw.seekable():
            now = raw.tell()
            progress(now - raw_pos)
            raw_pos = now
        chunk = _read(stream, chunk_size, result.warnings, label)
        if not chunk:
            break
        buf += chunk
    disp.drain()
    if buf:
        if streaming and not result.warnings:
            # stdin and archives do not grow: their last line is complete even without "\n".
            scan.scan(buf + b"\n", pos, line_no)
            result.lines += 1
            line_no += 1
            last_line = buf
            tail = (tail + buf)[-TAIL_BYTES:]
            pos += len(buf)
        elif streaming:
            result.partial_line = True
            result.warnings.append(f"{label}: the damaged archive ends inside a line; that line was not imported")
        else:
            result.partial_line = True
            result.warnings.append(f"{label}: last line has no newline yet; left for the next run")
    scan.finish()

    # Time range of the whole file from its first and last lines (cheap: two parses).
    for ln, attr in ((first.split(b"\n", 1)[0] if not bytes_done else None, "first_ts"), (last_line, "last_ts")):
        if ln:
            e = fmt.parse(ln.rstrip(b"\r"))
            if isinstance(e, _formats.LogEntry) and e.ts:
                setattr(result, attr, e.ts)
    result.first_ts = result.first_ts or scan.first_ts
    result.last_ts = result.last_ts or scan.last_ts
    result.ordinary = result.lines - result.redirects - result.launches - result.rejected
    if result.lines == 0 and bytes_done:
        result.status = "up to date"
        result.message = "already imported"

    size = None
    if raw is not None and hasattr(raw, "name") and isinstance(raw.name, str):
        try:
            size = os.path.getsize(raw.name)
        except OSError:
            size = None
    result.note = note
    tail_hash = _hash(tail) if pos > bytes_done else (known.tail_hash if known else None)
    conn.execute(
        """INSERT INTO sources (fingerprint, head_hash, fp_len, path, size, compression, format,
               bytes_done, lines, redirects, launches, ordinary, rejected, first_ts, last_ts,
               first_import_id, last_import_id, last_status, tail_hash, note)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (fingerprint) DO UPDATE SET
               head_hash = excluded.head_hash, fp_len = excluded.fp_len,
               path = coalesce(excluded.path, path), size = excluded.size,
               compression = excluded.compression, format = excluded.format,
               bytes_done = excluded.bytes_done, tail_hash = excluded.tail_hash,
               note = excluded.note,
               lines = lines + excluded.lines, redirects = redirects + excluded.redirects,
               launches = launches + excluded.launches, ordinary = ordinary + excluded.ordinary,
               rejected = rejected + excluded.rejected,
               first_ts = coalesce(first_ts, excluded.first_ts),
               last_ts = coalesce(excluded.last_ts, last_ts),
               last_import_id = excluded.last_import_id, last_status = excluded.last_status""",
        (fp, _hash(head), len(head), path_for_db, size, result.compression, fmt.name, pos, result.lines,
         result.redirects, result.launches, result.ordinary, result.rejected,
         result.first_ts, result.last_ts, import_id, import_id, result.status, tail_hash, note),
    )
    for p in sorted(scan.newly_confirmed):
        conn.execute(
            "INSERT OR IGNORE INTO redirect_paths (path, how, first_import_id) VALUES (?, 'evidence', ?)",
            (p, import_id),
        )
    for p in sorted(redirect_paths):
        conn.execute(
            "INSERT OR IGNORE INTO redirect_paths (path, how, first_import_id) VALUES (?, 'explicit', ?)",
            (p, import_id),
        )


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
        if p == "-":
            out.append(p)
            continue
        if os.path.isdir(p):
            try:
                entries = os.listdir(p)
            except OSError:  # unreadable folder: kept, so the import reports it
                out.append(p)
                continue
            names = sorted(
                os.path.join(p, n) for n in entries
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


PARALLEL_MIN_BYTES = 32 << 20  # on disk; compressed files count 4x


@dataclass
class _Workers:
    pool: Any  # a multiprocessing pool of *jobs* forked processes
    jobs: int


def _worth_workers(size: int, compressed: bool) -> bool:
    return size * (4 if compressed else 1) >= PARALLEL_MIN_BYTES


def _make_workers(paths: list[str], jobs: int | None) -> _Workers | None:
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    for p in paths:
        try:
            size = os.path.getsize(p) if p != "-" else 0
            with open(p, "rb") as f:
                compressed = any(f.read(6).startswith(m) for m, _ in _MAGIC)
        except OSError:
            continue
        if _worth_workers(size, compressed):
            return _Workers(multiprocessing.get_context("fork").Pool(jobs), jobs)
    return None


def import_paths(
    db: sqlite_utils.Database,
    paths: Iterable[str],
    *,
    fmt: str = "auto",
    redirect_paths: Iterable[str] = (),
    launch_paths: Iterable[str] = (),
    progress: ProgressCallback | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    stdin: BinaryIO | None = None,
    chunk_size: int = CHUNK_SIZE,
    redaction=None,
    format_options: "_formats.FormatOptions | dict | None" = None,
    jobs: int | None = None,
) -> ImportResult:
    """Import each path in turn ('-' is stdin) and record the run in ``imports``.

    A file that cannot be read is reported in its :class:`FileResult` (``status ==
    "error"``) and the others are still imported. *redaction* is a ``--redact`` policy
    (``{"vin": "hash"}``, ``["all=hash"]`` or a :class:`privacy.Redaction`); see privacy.py.
    *format_options* (``log_format``, ``url_field``, ``time_field``) configure the formats.
    *jobs* worker processes parse large files (default: one per core; 1 parses here).
    """
    ensure_schema(db)
    paths = expand_inputs(paths)
    redirect_paths = tuple(redirect_paths)
    launch_paths = tuple(launch_paths)
    redaction = _privacy.for_db(db, redaction)  # --redact: applied to every row before writing
    options = {"format": fmt, "redirect_paths": list(redirect_paths),
               "launch_paths": list(launch_paths), "paths": paths, "redact": redaction.options()}
    format_options = _formats.FormatOptions.of(format_options)
    options.update({k: v for k, v in asdict(format_options).items() if v is not None})
    conn = db.conn
    cur = conn.execute(
        "INSERT INTO imports (started_at, options) VALUES (?, ?)", (_now(), json.dumps(options))
    )
    import_id = cur.lastrowid
    if conn.in_transaction:
        conn.commit()
    confirmed = {r[0] for r in conn.execute("SELECT path FROM redirect_paths")}
    results = []
    # The pool is forked before any transaction is open, and only when a file is big
    # enough to repay it (forking costs tens of milliseconds).
    workers = _make_workers(paths, jobs)
    try:
        for p in paths:
            r = import_file(db, p, import_id=import_id, fmt=fmt, redirect_paths=redirect_paths,
                            launch_paths=launch_paths, confirmed_paths=confirmed,
                            progress=progress, stdin=stdin, chunk_size=chunk_size,
                            redaction=redaction, format_options=format_options, workers=workers)
            results.append(r)
            if on_file is not None:
                on_file(r)
    finally:
        if workers is not None:
            workers.pool.terminate()
            workers.pool.join()

    by_outcome = {"success": 0, **{code: 0 for code in ERROR_CODES}}
    for outcome, code, n in conn.execute(
        "SELECT outcome, error_code, count(*) FROM redirects WHERE import_id = ?"
        " GROUP BY outcome, error_code ORDER BY count(*) DESC",
        (import_id,),
    ):
        key = code if outcome == "error" else outcome
        by_outcome[key] = by_outcome.get(key, 0) + n
    redirect_paths_seen = {
        p: n for p, n in conn.execute(
            "SELECT path, count(*) FROM redirects WHERE import_id = ? GROUP BY path ORDER BY 2 DESC",
            (import_id,),
        )
    }
    res = ImportResult(import_id=import_id, files=results, by_outcome=by_outcome,
                       redirect_paths=redirect_paths_seen)
    for r in results:
        res.lines_read += r.lines
        res.redirects += r.redirects
        res.inserted += r.inserted
        res.duplicates += r.duplicates
        res.launches += r.launches
        res.ordinary += r.ordinary
        res.rejected += r.rejected
        res.errors += r.status == "error"
    conn.execute(
        """UPDATE imports SET finished_at = ?, files = ?, lines_read = ?, redirects = ?,
               launches = ?, inserted = ?, duplicates = ?, ordinary = ?, rejected = ?, errors = ?
           WHERE id = ?""",
        (_now(), len(results), res.lines_read, res.redirects, res.launches, res.inserted,
         res.duplicates, res.ordinary, res.rejected, res.errors, import_id),
    )
    if conn.in_transaction:
        conn.commit()
    return res
