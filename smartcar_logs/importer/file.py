"""One file's import: opened, identified, scanned and checkpointed, in named phases.

One file is one transaction: its rows, rejects and checkpoint are committed together or not
at all, so a crash or an error mid-file leaves the database as it was before that file. The
run (:mod:`.run`) and the cluster's tasks (:mod:`.cluster`) both import files through here,
so neither needs the other: run -> cluster -> file.
"""

from __future__ import annotations

import io
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

import sqlite_utils

from .. import formats as _formats
from .. import privacy as _privacy
from ..store import defer_derived, refresh_pending
from . import checkpoint, inputs
from ._bulk import deferred_indexes
from .inputs import CHUNK_SIZE, LONG_LINE_BYTES, MAX_LINE_BYTES, _Opened, read_chunk
from .paths import _norm_path
from .results import (
    FileResult,
    InputError,
    ProgressCallback,
    count_file,
)
from .resume import NotReread, Start, skip_imported, where_to_start
from .scan import _dispatcher, _FileScan, _Workers, redact_raw

__all__ = ["import_file"]


#: An unterminated last line of a file not modified for this long is taken as complete.
SETTLE_SECONDS = 300.0


@dataclass(frozen=True)
class _Run:
    """Everything an import run decides once and every file shares."""

    import_id: int
    fmt: str  # a format name, or "auto"
    redirect_paths: frozenset  # normalised; empty: detect redirect paths from evidence
    launch_paths: frozenset
    confirmed: set  # redirect paths confirmed so far (grows as files confirm new ones)
    redaction: Any  # privacy.Redaction or None
    format_options: Any  # formats.FormatOptions or dict or None
    chunk_size: int = CHUNK_SIZE
    progress: ProgressCallback | None = None
    workers: _Workers | None = None
    final: bool = False  # take unterminated last lines now (the files will not grow)
    settle: float = SETTLE_SECONDS
    settings_key: str | None = None  # the stored settings' key; None: no re-reads (import_file)
    reread_why: str = ""  # why a source read under other settings is re-read
    reread_only: frozenset = frozenset()  # paths read only to re-read what was imported from them


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
    redaction: _privacy.Redaction | None = None,
    format_options: _formats.FormatOptions | dict | None = None,
    workers: _Workers | None = None,
    final: bool = False,
    settle: float = SETTLE_SECONDS,
) -> FileResult:
    """Import one file (or '-' for stdin) into *db*; never raises for bad input.

    Returns a :class:`FileResult` whose counts satisfy
    ``lines == redirects + launches + ordinary + rejected``.
    """
    run = _Run(
        import_id,
        fmt,
        frozenset(map(_norm_path, redirect_paths)),
        frozenset(map(_norm_path, launch_paths)),
        confirmed_paths if confirmed_paths is not None else set(),
        redaction,
        format_options,
        chunk_size,
        progress,
        workers,
        final,
        settle,
    )
    # One file is its own run: the derived tables are refreshed in its transaction.
    return _import_one(db, path, run, stdin, before_commit=lambda conn, src, result: refresh_pending(conn))


def _import_one(db, path: str, run: _Run, stdin: BinaryIO | None, before_commit=None) -> FileResult:
    """*before_commit(conn, src, result)*, if given, runs in the file's transaction."""
    label = "<stdin>" if path == "-" else path
    result = FileResult(path=label)
    try:
        stream, raw, compression = inputs.open_input(path, stdin)
    except InputError as e:
        result.status, result.message = "error", str(e)
        return result
    result.compression = compression
    conn = db.conn
    try:
        with raw:
            src = inputs.first_read(stream, raw, compression, path, run.chunk_size, result)
            if not src.first:
                result.status = "empty"
                result.message = "empty file: nothing to import"
                return result
            conn.execute("BEGIN IMMEDIATE")
            try:
                with deferred_indexes(conn):  # into empty tables: indexes built after the rows
                    _import_stream(db, src, run, result)
                count_file(conn, run.import_id, result)
                if before_commit is not None:
                    before_commit(conn, src, result)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O)
                    conn.execute("ROLLBACK")
                raise
    except NotReread as e:  # rolled back: the source keeps the rows it had
        result.status, result.message, result.reread = "not re-read", str(e), ""
        if e.warn:
            result.warnings.append(f"{label}: not re-read: {e}")
    except InputError as e:
        if result.reread:  # the new settings do not fit a file the old ones read: rows kept
            result.status, result.message, result.reread = (
                "not re-read",
                f"{e} (it keeps the rows it had)",
                "",
            )
            result.warnings.append(f"not re-read: {result.message}")
        else:
            result.status, result.message = "error", str(e)
    except sqlite3.Error as e:
        result.status, result.message = "error", f"{label}: database error, file rolled back: {e}"
    except OSError as e:
        result.status, result.message = "error", f"{label}: read error, file rolled back: {e.strerror or e}"
    if result.status in ("error", "not re-read"):
        # rolled back: nothing of this file counts as read or stored
        for k in ("lines", "redirects", "inserted", "duplicates", "launches", "ordinary", "rejected"):
            setattr(result, k, 0)
        result.reject_reasons, result.ignored_callbacks = {}, {}
    return result


# --- the phases of one file ------------------------------------------------------------------


def _import_stream(db, src: _Opened, run: _Run, result: FileResult) -> None:
    conn = db.conn
    ident, taken_upto = where_to_start(conn, src, run, result)
    if ident.prefix:
        result.status = "up to date"
        result.message = "a shorter copy of content already imported"
        return
    fmt = _choose_format(src, ident.known, run, result)
    if result.reread and result.format_contradicted:
        raise NotReread(f"--format {fmt.name} does not fit it (it keeps the rows it had)")
    fp = ident.fingerprint or checkpoint.new_fingerprint(conn, src.first)
    result.fingerprint = fp
    scan = _FileScan(
        db, result, fp, fmt, run.import_id, run.redirect_paths, run.launch_paths, run.confirmed, run.redaction
    )
    start = skip_imported(src, ident, run.chunk_size, result)
    if start is None:
        return
    start.taken_upto = taken_upto
    scanned = _scan_blocks(src, start, ident.lines, scan, run, result)
    _time_range(src, scanned, fmt, scan, result)
    defer_derived(conn, fp, run.import_id)  # the events analysis reads: refreshed after the run
    if scanned.voucher.pos == 0 and not scanned.waiting:
        return  # nothing vouched for and nothing waiting: no source to remember
    checkpoint.save(
        conn,
        fingerprint=fp,
        first=src.first,
        voucher=scanned.voucher,
        known=ident.known,
        path=inputs.source_path(src.label),
        size=_size_on_disk(src.raw),
        import_id=run.import_id,
        result=result,
        waiting=scanned.waiting,
        settings=run.settings_key,
    )
    _remember_paths(conn, scan.newly_confirmed, run)


def _choose_format(src: _Opened, known, run: _Run, result: FileResult):
    """The format: forced, remembered from an earlier run of this file, or detected;
    configured for this file from its first lines (CloudFront #Fields) and the options."""
    sample = src.first[: 256 * 1024].split(b"\n")
    if len(sample) > 1:
        sample.pop()  # the piece after the last newline may be a partial line
    sample = sample[:200]
    fmt = None
    try:  # FormatError: the options do not fit this file (a --url-field in none of its lines)
        if run.fmt != "auto":
            fmt = _formats.get_format(run.fmt, sample, run.format_options)
            result.format_share = None
            hint = _formats.forced_note(fmt, sample, run.format_options, run.fmt)
            if hint:
                result.warnings.append(f"{src.label}: {hint}")
                result.format_contradicted = True
        elif known and known.format:
            try:
                fmt = _formats.get_format(known.format, sample, run.format_options)
            except ValueError:  # e.g. "custom" remembered, but no --log-format this time
                fmt = None
        if fmt is None:
            fmt, share = _formats.detect_format(sample, run.format_options)
            if fmt is None or share == 0:
                line1 = redact_raw(src.first.split(b"\n", 1)[0][:4096])[:80]
                why = _formats.explain_unknown(sample, run.format_options)
                raise InputError(
                    f"{src.label}: not an access log in a known format (line 1: {line1!r}): {why}"
                )
            result.format_share = round(share, 4)
    except _formats.FormatError as e:
        raise InputError(f"{src.label}: {e}") from None
    result.format = fmt.name
    return fmt


@dataclass
class _Scanned:
    """Where the scan of one file ended: the checkpoint it leaves behind."""

    voucher: checkpoint.Voucher  # its pos: just past the last line taken
    last_line: bytes
    waiting: int  # bytes of an unterminated last line left for a later run


class _LongLine:
    """A line longer than LONG_LINE_BYTES, skipped unread to its newline: only its first
    MAX_LINE_BYTES are kept (for the reject row), and whether any needle occurs in it, so
    that it is classified as the scanner would have (a candidate that long is rejected)."""

    def __init__(self, start: int, needles: list[bytes]):
        self.start = start
        self.head = b""
        self.needles = needles
        self.overlap = max(map(len, needles), default=1) - 1
        self.carry = b""
        self.candidate = False
        self.size = 0

    def see(self, piece: bytes) -> None:
        if len(self.head) <= MAX_LINE_BYTES:
            self.head += piece[: MAX_LINE_BYTES + 1 - len(self.head)]
        if not self.candidate:
            seam = self.carry + piece[: self.overlap]  # a needle split between two pieces
            # A one-byte search (memchr) first: a needle's last byte absent means no needle;
            # a substring search over a megabyte of one repeated byte runs at 0.3 GB/s.
            self.candidate = any(n in seam or (n[-1:] in piece and n in piece) for n in self.needles)
            self.carry = (self.carry + piece[-self.overlap :])[-self.overlap :] if self.overlap else b""
        self.size += len(piece)


def _take_last_line(src: _Opened, run: _Run, result: FileResult, taken: bool = False) -> bool:
    """May an unterminated last line be imported now? Yes when the input cannot grow any
    more: stdin and archives (unless damaged: the line may be cut), ``--final``, or a file
    not modified for ``settle`` seconds (a writer finishes a line in one write); and when
    an earlier run took it (*taken*: a re-read)."""
    if taken:
        return True
    if src.streaming:
        return not result.warnings
    if run.final:
        return True
    try:
        mtime = os.fstat(src.raw.fileno()).st_mtime
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return False
    return time.time() - mtime >= run.settle


def _scan_blocks(
    src: _Opened, start: Start, line_no: int, scan: _FileScan, run: _Run, result: FileResult
) -> _Scanned:
    """The chunk loop: whole lines go to the scanner block by block; then the last line.

    Memory stays bounded by the chunk: a line with no newline within LONG_LINE_BYTES is
    not buffered but skipped to its newline (:class:`_LongLine`).
    """
    voucher, buf = start.voucher, start.buf
    pos = voucher.pos  # content offset of buf[0]
    last_line = b""
    waiting = 0
    disp = _dispatcher(scan, src.raw, src.compression, run.workers, run.chunk_size)
    raw, progress, label = src.raw, run.progress, src.label
    raw_pos = raw.tell() if raw.seekable() else 0

    def read() -> bytes:
        nonlocal raw_pos
        if progress is not None and raw.seekable():
            now = raw.tell()
            progress(now - raw_pos)
            raw_pos = now
        return read_chunk(src.stream, run.chunk_size, result.warnings, label)

    def to_newline(buf: bytes, feed) -> tuple[bytes | None, int]:
        """Consume through the next newline, feeding each piece; (what follows, bytes
        consumed), or (None, bytes consumed) when the input ends first."""
        n = 0
        while True:
            nl = buf.find(b"\n")
            if nl != -1:
                feed(buf[: nl + 1])
                return buf[nl + 1 :], n + nl + 1
            feed(buf)
            n += len(buf)
            buf = read()
            if not buf:
                return None, n

    if start.mid_line:  # the rest of a line an earlier run took before its newline came
        rest, n = to_newline(buf, voucher.feed)
        pos += n
        buf = rest if rest is not None else b""
        if rest is None:
            buf = None
    while buf is not None:
        nl = buf.rfind(b"\n")
        if nl != -1:
            block = buf[: nl + 1]
            n = disp.submit(block, pos, line_no)
            line_no += n
            result.lines += n
            end = block.rfind(b"\n", 0, nl) + 1
            last_line = block[end:nl]
            voucher.feed(block)
            pos += nl + 1
            buf = buf[nl + 1 :]
        if len(buf) > LONG_LINE_BYTES:
            long = _LongLine(pos, scan.needles)
            pending = voucher.copy()

            def feed(piece, long=long, pending=pending):
                long.see(piece)
                pending.feed(piece)

            rest, n = to_newline(buf, feed)
            if rest is None and not _take_last_line(src, run, result, pos + n <= start.taken_upto):
                waiting = n
                result.partial_line = True
                result.warnings.append(f"{label}: 1 line waiting for its newline ({n:,} bytes so far)")
                buf = None
                break
            disp.drain()
            line_no += 1
            result.lines += 1
            scan.long_line(long.start, line_no, long.head, long.candidate)
            voucher = pending
            pos += n
            buf = rest
            continue
        chunk = read()
        if not chunk:
            break
        buf += chunk
    disp.drain()
    if buf:
        if _take_last_line(src, run, result, pos + len(buf) <= start.taken_upto):
            scan.scan(buf + b"\n", pos, line_no)
            result.lines += 1
            last_line = buf
            voucher.feed(buf)
        elif src.streaming:
            result.partial_line = True
            result.warnings.append(
                f"{label}: the damaged archive ends inside a line; that line was not imported"
            )
        else:
            waiting = len(buf)
            result.partial_line = True
            result.warnings.append(
                f"{label}: 1 line waiting for its newline (imported once it has one, or with --final)"
            )
    scan.finish()
    return _Scanned(voucher, last_line, waiting)


def _time_range(src: _Opened, scanned: _Scanned, fmt, scan: _FileScan, result: FileResult) -> None:
    """Time range of the whole file from its first and last lines (cheap: two parses);
    the totals that follow from the counts; "up to date" when nothing was new."""
    bytes_done = result.resumed_from
    first_line = src.first.split(b"\n", 1)[0][: MAX_LINE_BYTES + 1] if not bytes_done else None
    for ln, attr in ((first_line, "first_ts"), (scanned.last_line[: MAX_LINE_BYTES + 1], "last_ts")):
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


def _size_on_disk(raw) -> int | None:
    if raw is not None and hasattr(raw, "name") and isinstance(raw.name, str):
        try:
            return os.path.getsize(raw.name)
        except OSError:
            return None
    return None


def _remember_paths(conn, newly_confirmed: set[str], run: _Run) -> None:
    """Redirect paths learned from evidence, or given explicitly, are known to later runs."""
    for p in sorted(newly_confirmed):
        conn.execute(
            "INSERT OR IGNORE INTO redirect_paths (path, how, first_import_id) VALUES (?, 'evidence', ?)",
            (p, run.import_id),
        )
    for p in sorted(run.redirect_paths):
        conn.execute(
            "INSERT OR IGNORE INTO redirect_paths (path, how, first_import_id) VALUES (?, 'explicit', ?)",
            (p, run.import_id),
        )
