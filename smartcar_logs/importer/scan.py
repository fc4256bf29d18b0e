"""The scanner: find the candidate lines of each block, parse only those, buffer and write rows.

Speed comes from never looking at most lines: the file is read in large binary chunks,
candidate lines are found with ``bytes.find`` on a few needles (``user_id=``, ``error=``,
the known redirect paths...), and only those lines are parsed. Every other line is
counted with ``bytes.count(b"\\n")`` and nothing more.

Large files are parsed by worker processes (:class:`_Dispatcher`); what a parsed line *is*
is still decided here, in file order, so results are exactly those of one serial pass.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import pickle
from collections import Counter, deque
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from operator import is_not
from typing import Any

from .. import privacy as _privacy
from ..formats.clf import CombinedFormat, CommonFormat
from ..redirect import normalize_row, row_values, state_of
from ..store import LAUNCHES, REDIRECT_COLUMNS, REDIRECTS, REJECTS
from . import _speed
from . import fused as _fused
from .inputs import LINE_TOO_LONG, MAX_LINE_BYTES, is_compressed
from .paths import _target_path
from .results import FileResult

RAW_REJECT_CHARS = 1000
# Generic needles: a Connect redirect carries at least one of these keys. ``code=`` also
# catches ``status_code=``; both are fine, the parser decides.
AUTO_NEEDLES = (b"user_id=", b"error=", b"code=", b"vehicle_id=")

_INSERT_LAUNCH = LAUNCHES.insert_sql()
_INSERT_REJECT = REJECTS.insert_sql()
_REJECT_REASON = REJECTS.index("reason")


# --- what a line is ---------------------------------------------------------------------------


def redact_raw(line: bytes) -> str:
    """A raw line for the rejects table: authorization codes removed, length capped."""
    text = line[: RAW_REJECT_CHARS * 4].decode("utf-8", "backslashreplace")
    return _privacy.scrub_codes(text)[:RAW_REJECT_CHARS]


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
    fused: bool = False  # try fused.parse_line first (combined/common, no redaction policy)


# The needles are searched a window at a time, all of them over one window before the next,
# so the window stays in the CPU cache: one pass per needle over a whole 4 MiB block took
# a third longer on the 1M-line benchmark file.
_WINDOW = 256 << 10


def _find_candidates(buf: bytes, needles, since: int = 0) -> dict[int, int]:
    """The lines of *buf* holding any needle from offset *since* on: start -> end (its "\\n").

    A line is bounded once, when its first needle is met, however many it holds.
    """
    bounds: dict[int, int] = {}
    find, rfind, get = buf.find, buf.rfind, bounds.get
    n = len(buf)
    for w in range(since, n, _WINDOW):
        for needle in needles:
            stop = min(n, w + _WINDOW + len(needle) - 1)  # a needle may straddle the edge
            i = find(needle, w, stop)
            while i != -1:
                s = rfind(b"\n", 0, i) + 1
                e = get(s)
                if e is None:
                    e = bounds[s] = find(b"\n", i)
                if e == -1:
                    break
                i = find(needle, e, stop)
    return bounds


def _search(buf: bytes, needles, since: int = 0) -> dict[int, int]:
    """:func:`_find_candidates`, in C when the compiled extension runs (see :mod:`._speed`)."""
    c = _speed.active()
    if c is not None:
        return c.find_candidates(buf, needles, since)
    return _find_candidates(buf, needles, since)


def _parse(ctx: _ParseContext, buf: bytes, bounds: list, base: int, line0: int) -> list:
    """:func:`_parse_block`, in C when the compiled extension runs (see :mod:`._speed`).

    The cyclic garbage collector is held off meanwhile: a block's items are a few hundred
    thousand tuples of strings and numbers, which form no cycle, and the collections their
    allocation set off were a third of the compiled parse's samples (perf; the export's
    200k candidates 1.26 -> 0.82-0.94 s of CPU).
    """
    c = _speed.active()
    was = gc.isenabled()
    if was:
        gc.disable()
    try:
        if c is not None:
            return c.parse_block(ctx, buf, bounds, base, line0)
        return _parse_block(ctx, buf, bounds, base, line0)
    finally:
        if was:
            gc.enable()


def _fusable(fmt, redaction) -> bool:
    # Exactly these readers: a subclass or a wrapper may read the same line differently.
    return type(fmt) in (CombinedFormat, CommonFormat) and not redaction.active


def _parse_block(ctx: _ParseContext, buf: bytes, bounds: list, base: int, line0: int) -> list:
    """Parse the candidate lines *bounds* (sorted (start, end) pairs) into items for
    :meth:`_FileScan.apply`."""
    items = []
    prev, line_no = 0, line0
    count = buf.count
    for s, e in bounds:
        line_no += count(b"\n", prev, s)
        prev = s
        line = buf[s:e]
        if line.endswith(b"\r"):
            line = line[:-1]
        item = _parse_line(ctx, line, base + s, line_no + 1)
        if item is not None:
            items.append(_sparse_item(item))
    return items


def _sparse_item(item: tuple) -> tuple:
    """An "R" item with its row as ``(mask, values)``: the row without its NULLs, and which
    columns it fills (see :func:`_insert_compact`). Done where the line is parsed, in the
    worker processes, so the main process, which writes every row, only groups them."""
    if item is None or item[0] != "R":
        return item
    return item[:5] + (_sparse(item[5]), item[6])


def _parse_line(ctx: _ParseContext, line: bytes, offset: int, line_no: int):
    """Everything about one candidate line that does not depend on the lines before it.

    Returns None for ordinary traffic, or one of:
    ``("X", reject_row)``, ``("L", launch_row, ts)``,
    ``("R", offset, path, is_empty, evidence, redirect_row, ts)``, and
    ``("N", offset, line_no, path, line)`` for a query-less request on a path that was not a
    known redirect path when parsed (the main process decides once earlier lines are in).
    """
    if len(line) > MAX_LINE_BYTES:  # no server logs such a request: do not parse it
        return "X", ctx.redaction.reject_row(_reject_row(ctx, line, offset, line_no, LINE_TOO_LONG))
    if line[:1] == b"\0":  # zero-fill left by a crash before this line is not part of it
        line = line.lstrip(b"\0")
    if ctx.fused:
        item = _fused.parse_line(ctx, line, offset, line_no)
        if item is not _fused.OTHER:
            return item
    entry = ctx.fmt.parse(line)
    if isinstance(entry, str):
        return "X", ctx.redaction.reject_row(_reject_row(ctx, line, offset, line_no, entry))
    if entry is None:  # the format's own non-request line (header, app log): ordinary
        return None
    target = entry.target
    path = _target_path(target)
    if path in ctx.launch_paths:
        q = target.find(b"?")
        state = state_of(target[q + 1 :]) if q != -1 else None
        return (
            "L",
            ctx.redaction.launch_row(
                (
                    ctx.fp,
                    line_no,
                    offset,
                    ctx.import_id,
                    entry.ts,
                    entry.method,
                    path,
                    entry.status,
                    entry.client_ip,
                    entry.user_agent,
                    state,
                ),
                entry,
            ),
            entry.ts,
        )
    if ctx.explicit:
        if path not in ctx.redirect_paths:
            return None
    elif b"?" not in target and path not in ctx.confirmed:
        return "N", offset, line_no, path, line
    values, empty, evidence = normalize_row(target)
    # Built once, in the table's column order: the entry's part, then the record's.
    row = (
        ctx.fp,
        line_no,
        offset,
        ctx.import_id,
        entry.ts,
        entry.method,
        path,
        entry.status,
        entry.client_ip,
        entry.user_agent,
    ) + values
    return "R", offset, path, empty, evidence, ctx.redaction.redirect_row(row, entry), entry.ts


def _reject_row(ctx: _ParseContext, line: bytes, offset: int, line_no: int, reason: str) -> tuple:
    return (ctx.fp, ctx.label, line_no, offset, ctx.import_id, reason, redact_raw(line))


def _row(ctx: _ParseContext, rec: dict, entry, path: str, offset: int, line_no: int) -> tuple:
    """The redirects row of record *rec* (from :func:`redirect.normalize`) read from *entry*."""
    return (
        ctx.fp,
        line_no,
        offset,
        ctx.import_id,
        entry.ts,
        entry.method,
        path,
        entry.status,
        entry.client_ip,
        entry.user_agent,
    ) + row_values(rec)


def _work(ctx: _ParseContext, buf: bytes, base: int, line0: int, needles: list) -> tuple:
    """A worker's share: find and parse one block's candidates (the main process counts
    the block's lines, as it needs the count before this returns)."""
    bounds = _search(buf, needles)
    return _parse(ctx, buf, sorted(bounds.items()), base, line0), bounds


class _FileScan:
    """State of one file's import: needles, known paths, counters and row buffers.

    Parsing a candidate line (:func:`_parse_line`) depends on nothing but the line, so it
    can run in worker processes; deciding what a parsed line is (:meth:`apply`) depends on
    the redirect paths confirmed by the lines before it, so it runs here, in file order.
    """

    def __init__(
        self,
        db,
        result: FileResult,
        fp: str,
        fmt,
        import_id: int,
        redirect_paths: set[str],
        launch_paths: set[str],
        confirmed: set[str],
        redaction: _privacy.Redaction | None = None,
    ):
        self.db = db
        self.redaction = redaction if redaction is not None else _privacy.Redaction()
        self.r = result
        self.explicit = bool(redirect_paths)
        self.confirmed = confirmed
        self.ctx = _ParseContext(
            fmt,
            fp,
            import_id,
            result.path,
            self.explicit,
            redirect_paths,
            launch_paths,
            confirmed,
            self.redaction,
            _fusable(fmt, self.redaction),
        )
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
        return _ParseContext(
            c.fmt,
            c.fp,
            c.import_id,
            c.label,
            c.explicit,
            frozenset(c.redirect_paths),
            frozenset(c.launch_paths),
            frozenset(self.confirmed),
            c.redaction,
            c.fused,
        )

    def scan(
        self, buf: bytes, base: int, line0: int, parsed: tuple | None = None, n_needles: int = 0
    ) -> None:
        """Find, parse and apply the candidate lines of *buf* (complete lines only).

        *parsed* is a worker's ``(items, bounds)`` for this block, found with the first
        *n_needles* needles; lines holding needles added since then are found here.
        """
        if parsed is None:
            n_needles = len(self.needles)
            done = _search(buf, self.needles)
            items = _parse(self.ctx, buf, sorted(done.items()), base, line0)
        else:
            items, done = parsed
        self.apply(items)
        # A path confirmed meanwhile becomes a needle for this block too, from the line that
        # confirmed it on (lines before it were decided already, as in one serial pass).
        while len(self.needles) > n_needles:
            new = self.needles[n_needles:]
            n_needles = len(self.needles)
            found: dict[int, int] = {}
            for needle in new:
                found.update(_search(buf, (needle,), max(0, self.needle_since[needle] - base)))
            fresh = {s: e for s, e in found.items() if s not in done}
            done.update(fresh)
            self.apply(_parse(self.ctx, buf, sorted(fresh.items()), base, line0))

    def apply(self, items: list) -> None:
        confirmed, pending = self.confirmed, self.pending
        first, last = self.first_ts, self.last_ts  # of the rows kept: locals, not a call per row
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
                if ts:
                    if first is None or ts < first:
                        first = ts
                    if last is None or ts > last:
                        last = ts
                self.rows.append(row)
            elif kind == "N":
                _, offset, line_no, path, line = item
                if path in confirmed:  # confirmed by an earlier line: an empty redirect
                    self.first_ts, self.last_ts = first, last
                    self.apply([_sparse_item(_parse_line(self.ctx, line, offset, line_no))])
                    first, last = self.first_ts, self.last_ts
            elif kind == "L":
                self.launch_rows.append(item[1])
                ts = item[2]
                if ts:
                    if first is None or ts < first:
                        first = ts
                    if last is None or ts > last:
                        last = ts
            else:
                row = item[1]
                self.reasons[row[_REJECT_REASON]] += 1
                self.reject_rows.append(row)
        self.first_ts, self.last_ts = first, last

    def long_line(self, offset: int, line_no: int, head: bytes, candidate: bool) -> None:
        """A line too long to buffer, skipped unread: a candidate (a needle occurs in it) is
        rejected as too long, as :func:`_parse_line` rejects a long candidate; otherwise it
        is ordinary traffic. *head* is its first bytes, for the reject row."""
        if candidate:
            self.apply(
                [
                    (
                        "X",
                        self.redaction.reject_row(
                            _reject_row(self.ctx, head, offset, line_no, LINE_TOO_LONG)
                        ),
                    )
                ]
            )
            self.flush()

    def flush(self) -> None:
        """Write buffered rows; the caller's transaction makes them permanent or not."""
        conn = self.db.conn
        if self.rows:
            before = conn.total_changes
            _insert_compact(conn, REDIRECTS, REDIRECT_COLUMNS, self.rows)
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

    With workers, one block per worker and one more are parsed ahead while this process
    applies finished blocks in file order and writes them, so results are exactly those
    of a serial pass, and memory stays bounded by those blocks.
    """

    def __init__(self, scan: _FileScan, workers: _Workers | None = None, piece: int | None = None):
        self.scan = scan
        self.pool = workers.pool if workers is not None else None
        self.piece = piece  # blocks larger than this go to the workers in pieces
        # Parsed blocks wait here, unpickled, until their turn: with the faster fused parse,
        # two per worker reached that bound and raised the redirect-only file's peak RSS
        # 245 -> 249 MB; one spare block keeps both workers busy (same time, 2 cores).
        self.depth = workers.jobs + 1 if workers is not None else 0
        self.queue: deque = deque()
        if self.pool is not None:
            try:
                pickle.dumps(scan.worker_context())
            except Exception:  # a format that cannot travel: parse here
                self.pool = None

    def submit(self, block: bytes, base: int, line0: int) -> int:
        """Parse *block* (whole lines starting at content offset *base*, after line *line0*);
        return how many lines it holds (counted once here: the pieces' counts, summed, were
        counted again for the whole block, 0.07 s of this process's time on the 1M-line mix)."""
        scan = self.scan
        if self.pool is None:
            scan.scan(block, base, line0)
            scan.flush()
            return block.count(b"\n")
        if self.piece is not None and len(block) > self.piece:
            a, first = 0, line0
            while a < len(block):
                b = block.find(b"\n", a + self.piece - 1) + 1 or len(block)
                self._submit(block[a:b], base + a, line0)
                line0 += block.count(b"\n", a, b)
                a = b
            return line0 - first
        self._submit(block, base, line0)
        return block.count(b"\n")

    def _submit(self, block: bytes, base: int, line0: int) -> None:
        scan = self.scan
        n = len(scan.needles)
        fut = self.pool.apply_async(_work, (scan.worker_context(), block, base, line0, scan.needles[:]))
        self.queue.append((fut, block, base, line0, n))
        while len(self.queue) > self.depth:
            self._complete_one()

    def _complete_one(self) -> None:
        fut, block, base, line0, n = self.queue.popleft()
        items, bounds = fut.get()
        self.scan.scan(block, base, line0, parsed=(items, bounds), n_needles=n)
        self.scan.flush()

    def drain(self) -> None:
        while self.queue:
            self._complete_one()


_NONES = (None,) * 64  # map(is_not, row, _NONES): no partial() call per column


@lru_cache(maxsize=256)
def _sparse_sql(table, columns: tuple, mask: tuple) -> str:
    return table.insert_sql(compress(columns, mask))


def _sparse(row: tuple) -> tuple[bytes, tuple]:
    """*row* as ``(mask, values)``: which columns it fills, and their values."""
    mask = bytes(map(is_not, row, _NONES))
    return mask, tuple(compress(row, mask))


def _insert_sparse(conn, table, columns: tuple, rows: list) -> None:
    """Insert full *rows* leaving their NULLs out of the statement (see :func:`_insert_compact`)."""
    _insert_compact(conn, table, columns, list(map(_sparse, rows)))


def _insert_compact(conn, table, columns: tuple, rows: list) -> None:
    """Insert *rows*, ``(mask, values)`` pairs from :func:`_sparse`, leaving their NULLs out of
    the statement.

    Most redirect columns are NULL on most rows, and the sqlite3 module binds None through
    its adapter lookup, which made binding cost more than SQLite's own work: grouping rows
    by which columns they fill halves the insert time.
    """
    groups: dict[bytes, list] = {}
    for mask, values in rows:
        g = groups.get(mask)
        if g is None:
            groups[mask] = g = []
        g.append(values)
    for mask, group in groups.items():
        conn.executemany(_sparse_sql(table, columns, mask), group)


# --- worker processes --------------------------------------------------------------------------


#: A run forks its worker pool when the files that would use it add up to this much (parse
#: size: on disk, compressed files 4x): forking costs tens of milliseconds.  Rotated logs of
#: 14 MB each were parsed in this process alone while the second core idled (the 200k-line
#: export in four files 9.6-9.8 s, 8.0-8.5 s through the pool; the whole file in one 8.75 s).
PARALLEL_MIN_BYTES = 32 << 20
#: A file uses the pool when it is at least two pieces of this size; a file smaller than a
#: block per worker and one more is cut into that many pieces, so that the workers share it.
MIN_PIECE = 512 << 10


@dataclass
class _Workers:
    pool: Any  # a multiprocessing pool of *jobs* forked processes
    jobs: int


def _parse_size(size: int, compressed: bool) -> int:
    return size * (4 if compressed else 1)


def _make_workers(paths: list[str], jobs: int | None) -> _Workers | None:
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    total = 0
    for p in paths:
        try:
            size = os.path.getsize(p) if p != "-" else 0
            with open(p, "rb") as f:
                compressed = is_compressed(f.read(6))
        except OSError:
            continue
        if _parse_size(size, compressed) >= 2 * MIN_PIECE:
            total += _parse_size(size, compressed)
    if total >= PARALLEL_MIN_BYTES:
        return _Workers(multiprocessing.get_context("fork").Pool(jobs), jobs)
    return None


def _dispatcher(scan: _FileScan, raw, compression, workers: _Workers | None, chunk_size: int) -> _Dispatcher:
    """The file's dispatcher: through *workers* if the file is at least two pieces (its parse
    size), in pieces small enough to give every worker one."""
    if workers is None:
        return _Dispatcher(scan)
    try:
        size = _parse_size(os.fstat(raw.fileno()).st_size, compression is not None)
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return _Dispatcher(scan)
    if size < 2 * MIN_PIECE:
        return _Dispatcher(scan)
    piece = max(MIN_PIECE, -(-size // (workers.jobs + 1)))
    return _Dispatcher(scan, workers, piece if piece < chunk_size else None)
