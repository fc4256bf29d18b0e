"""Where reading one input starts: which known source it is, whether it is re-read from byte
0 (imported under other settings, see :mod:`.settings`), and the offset it resumes at."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

from . import checkpoint, inputs
from . import settings as _settings
from .inputs import _Opened, read_chunk
from .results import FileResult

__all__ = ["Start", "NotReread", "where_to_start", "skip_imported"]


class NotReread(Exception):
    """A re-read given up, rolled back with the file's transaction, so the source keeps the rows
    it had: a ``--format`` that auto-detection contradicts never replaces rows read with a format
    that fitted (*warn*), and a file named only to re-read a source, whose content is no longer
    that source's, is not imported (the run's ``not_reread`` says so)."""

    def __init__(self, message: str, warn: bool = True):
        super().__init__(message)
        self.warn = warn


def where_to_start(conn, src: _Opened, run, result: FileResult) -> tuple[checkpoint.Identity, int]:
    """The input's identity, and (for a re-read) the offset up to which an earlier run took
    every line, an unterminated last one too: that line is taken again (run.py's
    ``_take_last_line``). Runs in the file's transaction: a re-read's deletions are rolled
    back with it."""
    ident = _identify(conn, src, result)
    fp = ident.fingerprint
    if run.settings_key and fp and not ident.prefix and _settings.is_stale(conn, fp, run.settings_key):
        # Read under other settings: its rows go, and it is read again from byte 0.
        taken_upto = _settings.forget_source(conn, fp, run.import_id)
        result.reread, result.resumed_from, result.note = run.reread_why, 0, ""
        return checkpoint.Identity(None), taken_upto
    if src.label in run.reread_only:  # added by with_rereads, and not that content any more
        raise NotReread("its content is no longer what was imported from it", warn=False)
    return ident, 0


def _content(src: _Opened) -> checkpoint.Content:
    """The input as identification sees it: plain files can be read back at any offset."""
    raw, size, read_at = src.raw, None, None
    if not src.streaming and raw.seekable():
        try:
            size = os.fstat(raw.fileno()).st_size
        except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
            size = None

        def read_at(a: int, b: int) -> bytes | None:
            try:
                here = raw.tell()
                raw.seek(a)
                data = raw.read(b - a)
                raw.seek(here)
            except (OSError, ValueError):
                return None
            return data if len(data) == b - a else None

    return checkpoint.Content(src.first, complete=src.complete, size=size, read_at=read_at)


def _identify(conn, src: _Opened, result: FileResult) -> checkpoint.Identity:
    """Which source this is and how far an earlier run got (``result.resumed_from``)."""
    ident = checkpoint.identify(conn, _content(src))
    known = ident.known
    result.fingerprint = ident.fingerprint
    result.resumed_from = ident.bytes_done
    path_for_db = inputs.source_path(src.label)
    if ident.note:
        result.warnings.append(f"{src.label}: {ident.note}")
        result.note = ident.note
    elif known and known.path and path_for_db and known.path != path_for_db:
        result.note = f"same content as {known.path}"
    return ident


@dataclass
class Start:
    """Where this run starts reading: the bytes from there, and what vouches for the rest."""

    buf: bytes
    voucher: checkpoint.Voucher
    mid_line: bool  # resumed inside a line whose start an earlier run took
    taken_upto: int = 0  # a re-read: an earlier run took every line ending by here


def skip_imported(
    src: _Opened, ident: checkpoint.Identity, chunk_size: int, result: FileResult
) -> Start | None:
    """Skip what an earlier run already imported; None when this content holds nothing new
    (a shorter copy of what was imported, found out by reading a stream)."""
    buf, bd, seed = src.first, ident.bytes_done, ident.seed
    if not bd:
        return Start(buf, checkpoint.Voucher(0), False)
    T = checkpoint.TAIL_BYTES
    if len(buf) >= bd:
        seed, buf = buf[max(0, bd - T) : bd], buf[bd:]
    elif not src.streaming and src.raw.seekable():
        if seed is None:
            src.raw.seek(max(0, bd - T))
            seed = src.raw.read(bd - max(0, bd - T))
        src.raw.seek(bd)
        buf = b""
    else:
        skip, recent = bd - len(buf), buf[-T:]
        buf = b""
        while skip > 0:
            got = read_chunk(src.stream, min(skip, chunk_size), result.warnings, src.label)
            if not got:
                break
            skip -= len(got)
            recent = (recent + got[-T:])[-T:]
        if skip > 0:
            # A partial copy of content we already have: nothing in it is new.
            result.status = "up to date"
            result.message = "a shorter copy of content already imported"
            return None
        seed = recent
    seed = seed or b""
    return Start(buf, checkpoint.Voucher(bd, seed), bool(seed) and seed[-1:] != b"\n")
