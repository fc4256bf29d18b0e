"""Plain lists of URLs or paths, one per line."""

from __future__ import annotations

from .base import LineFormat, LogEntry

__all__ = ["UrlListFormat"]


class UrlListFormat(LineFormat):
    """A plain list of URLs or paths, one per line (no timestamps)."""

    name = "urls"
    description = "one URL or path per line: https://example.com/cb?user_id=...&state=..."
    example = "smartcar-logs import --format urls urls.txt"

    def matches(self, line: bytes) -> bool:
        s = line.strip()
        return (s.startswith(b"/") or s.startswith(b"http://") or s.startswith(b"https://")) and b" " not in s

    def parse(self, line: bytes) -> LogEntry | str:
        s = line.strip()
        if not s or b" " in s or b"\t" in s:
            return "not a URL"
        return LogEntry(target=s)
