"""Defences against hostile or broken log input that the importer applies per file or line.

* **Bare CR line endings.** A file whose first chunk has ``\\r`` but no ``\\n`` at all (classic
  Mac OS line endings, some Windows tools) is read with every ``\\r`` taken as a line break.
  The translation is byte for byte, so offsets, resume points and fingerprints stay stable
  from run to run. Files that have any ``\\n`` are read as usual: CRLF lines lose their
  ``\\r``; a lone ``\\r`` inside a line is data.
* **Over-long lines.** Web servers cap a request line at about 8 KiB (nginx
  ``large_client_header_buffers``, Apache ``LimitRequestLine``), so a candidate line longer
  than :data:`MAX_LINE_BYTES` cannot be a real request: it is rejected (``line too long``)
  rather than parsed, which also bounds what one line can put into the database.
"""

from __future__ import annotations

from typing import BinaryIO

__all__ = ["MAX_LINE_BYTES", "LINE_TOO_LONG", "is_bare_cr", "BareCRReader"]

MAX_LINE_BYTES = 64 * 1024
LINE_TOO_LONG = f"line too long (over {MAX_LINE_BYTES // 1024} KiB)"


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
