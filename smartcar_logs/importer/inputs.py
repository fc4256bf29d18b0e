"""Opening inputs: files, stdin, compressed streams, JSON documents, and the hostile-input layer.

Compression is detected from magic bytes, not from the name, so a rotated ``access.log.1``
that logrotate compressed later is read the same way as ``access.log.2.gz``.

Defences against hostile or broken input applied here and in the scanner:

* **Bare CR line endings.** A file whose first chunk has ``\\r`` but no ``\\n`` at all (classic
  Mac OS line endings, some Windows tools) is read with every ``\\r`` taken as a line break.
  The translation is byte for byte, so offsets, resume points and fingerprints stay stable
  from run to run. Files that have any ``\\n`` are read as usual: CRLF lines lose their
  ``\\r``; a lone ``\\r`` inside a line is data.
* **Over-long lines.** Web servers cap a request line at about 8 KiB (nginx
  ``large_client_header_buffers``, Apache ``LimitRequestLine``), so a candidate line longer
  than :data:`MAX_LINE_BYTES` cannot be a real request: it is rejected (``line too long``)
  rather than parsed, which also bounds what one line can put into the database.
* **Damaged archives** end the stream with a warning; the lines inflated before the damage
  are kept (:func:`read_chunk`).
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import sys
from dataclasses import dataclass
from typing import BinaryIO

from .. import formats as _formats
from . import remote as _remote
from .results import FileResult, InputError

__all__ = [
    "CHUNK_SIZE",
    "MAX_LINE_BYTES",
    "LONG_LINE_BYTES",
    "LINE_TOO_LONG",
    "open_input",
    "read_chunk",
    "is_bare_cr",
    "BareCRReader",
    "is_compressed",
]

CHUNK_SIZE = 4 << 20
MAX_LINE_BYTES = 64 * 1024
LINE_TOO_LONG = f"line too long (over {MAX_LINE_BYTES // 1024} KiB)"
# Detection wants a few hundred lines even when the chunk size is tiny.
FIRST_READ_MIN = 256 * 1024
#: A line with no newline within this many bytes is not buffered but skipped to its newline
#: (no server logs a request that long; memory stays bounded by the chunk, not the line).
LONG_LINE_BYTES = 1 << 20
#: JSON-array documents are held in memory whole: bigger ones are refused.
MAX_JSON_DOCUMENT_BYTES = 256 << 20
_OUT_MAX = 1 << 20

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


def is_compressed(head: bytes) -> bool:
    """Do these first bytes start a compressed stream we can read?"""
    return any(head.startswith(m) for m, _ in _MAGIC)


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
        self._input = b""  # compressed bytes read but not yet inflated
        self._pending = b""
        self._done = False
        self._in_member = False

    def readable(self) -> bool:
        return True

    def read1(self, n: int = -1) -> bytes:
        # Never more than _OUT_MAX bytes of output per call: one megabyte of a gzip "bomb"
        # (a long run of one byte) inflates to a gigabyte in a single unbounded call.
        limit = _OUT_MAX if n is None or n < 0 else max(1, min(n, _OUT_MAX))
        while not self._pending and not self._done:
            if not self._input:
                self._input = self._raw.read(1 << 20)
                if not self._input:
                    self._done = True
                    if self._in_member:
                        raise EOFError("compressed file ended before the end-of-stream marker")
                    break
            if self._d.eof:  # the previous member ended: what follows is the next one
                self._d = self._z.decompressobj(31)
            self._in_member = True
            self._pending = self._d.decompress(self._input, limit)
            if self._d.eof:
                self._in_member = False
                self._input = self._d.unused_data
            else:
                self._input = self._d.unconsumed_tail
        if n is None or n < 0 or n >= len(self._pending):
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:n], self._pending[n:]
        return out

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
    elif _remote.is_remote(path):
        try:
            raw = _remote.open_object(path)
        except _remote.RemoteError as e:
            raise InputError(str(e)) from None
    else:
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory with no log files in it")
        try:
            raw = open(path, "rb", buffering=CHUNK_SIZE)
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        head = raw.peek(8)[:8]
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return _OPENERS[name](raw), raw, name
    return raw, raw, None


def read_chunk(stream: BinaryIO, n: int, warnings: list, label: str) -> bytes:
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


def is_bare_cr(first_chunk: bytes) -> bool:
    """True when a file's first chunk uses ``\\r`` alone as its line break."""
    return b"\n" not in first_chunk and b"\r" in first_chunk


class BareCRReader:
    """A read-only stream wrapper that turns every ``\\r`` into ``\\n`` (same length)."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream

    def read(self, n: int = -1) -> bytes:
        return self._stream.read(n).replace(b"\r", b"\n")

    def read1(self, n: int = -1) -> bytes:
        read1 = getattr(self._stream, "read1", self._stream.read)
        return read1(n).replace(b"\r", b"\n")

    def __getattr__(self, name):  # seek, tell, close, ... of the wrapped stream
        return getattr(self._stream, name)


def _json_document(stream: BinaryIO, first: bytes, result: FileResult, label: str, chunk_size: int) -> bytes:
    """Read a whole JSON-array document (*stream* is left at its end) as canonical JSON lines.

    Such exports (``gcloud logging read --format=json``) are small and not line based, so
    the document is held in memory. Everything after this (fingerprint, byte offsets, line
    numbers = element numbers, the checkpoint) refers to the canonical lines, which are the
    same on every run; the file is then treated like an archive (it does not grow).
    """
    parts = [first]
    size = len(first)
    while True:
        chunk = read_chunk(stream, chunk_size, result.warnings, label)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > MAX_JSON_DOCUMENT_BYTES:
            raise InputError(
                f"{label}: JSON document over {MAX_JSON_DOCUMENT_BYTES >> 20} MiB;"
                " convert it to JSON lines (one object per line) first"
            )
    lines, problem = _formats.json_document_lines(b"".join(parts))
    if problem:
        result.warnings.append(f"{label}: {problem}")
    return b"".join(ln + b"\n" for ln in lines)


@dataclass
class _Opened:
    """One opened input after its first read: what the rest of the import works from.

    ``stream`` yields decompressed (and, for bare-CR files, translated) bytes; ``raw`` is
    the file on disk (seekable for plain files), used for progress, resume seeks and tail
    checks. ``streaming`` inputs (stdin, archives, JSON documents, objects in object
    storage) do not grow, so their last line is complete even without a newline, and they
    are not seeked into.
    """

    stream: BinaryIO
    raw: BinaryIO
    first: bytes
    label: str
    streaming: bool
    compression: str | None
    complete: bool = False  # first holds the whole content


def source_path(label: str) -> str | None:
    """How the ``sources`` table names an input: absolute path, URL, or None for stdin."""
    if label == "<stdin>":
        return None
    return _remote.safe_url(label) if _remote.is_remote(label) else os.path.abspath(label)


def first_read(
    stream: BinaryIO, raw: BinaryIO, compression: str | None, path: str, chunk_size: int, result: FileResult
) -> _Opened:
    """Read the first chunk of an opened input and apply the per-file input defences."""
    label = result.path
    want = max(chunk_size, FIRST_READ_MIN)
    first = read_chunk(stream, want, result.warnings, label)
    complete = len(first) < want
    if is_bare_cr(first):
        wrapped = BareCRReader(stream)
        raw = wrapped if raw is stream else raw  # resume checks read translated bytes too
        stream, first = wrapped, first.replace(b"\r", b"\n")
        result.warnings.append(f"{label}: no \\n line breaks; read each \\r as a line break")
    document = _formats.is_json_document(first)
    if document:  # one JSON array (gcloud --format=json): one canonical line per element
        first = _json_document(stream, first, result, label, chunk_size)
    return _Opened(
        stream,
        raw,
        first,
        label,
        streaming=(path == "-" or compression is not None or document or _remote.is_remote(path)),
        compression=compression,
        complete=complete or document,
    )
