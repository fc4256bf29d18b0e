"""Access-log line formats: one reader per format behind one small interface.

A reader turns one raw log line (bytes, without its newline) into a :class:`LogEntry`, or
returns a reason string when the line is not in its format. Readers are only ever called
on *candidate* lines (the importer finds those with a byte search), so they can afford a
regex; what they must not do is run ``strptime`` per line, hence the cached time parsers.

Each reader also undoes its server's own escaping of the request line before the query
string is decoded: nginx writes ``"``, ``\\`` and every byte outside printable ASCII as
``\\xHH``; Apache writes ``\\"``, ``\\\\``, C escapes (``\\n``) and ``\\xhh``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

__all__ = [
    "LogEntry",
    "LineFormat",
    "FORMATS",
    "detect_format",
    "get_format",
    "unescape_log_bytes",
    "parse_clf_time",
    "parse_iso_time",
]


@dataclass(slots=True)
class LogEntry:
    """What the importer needs from one access-log line."""

    target: bytes  # request target: path?query or absolute URL, log escaping undone
    ts: str | None = None  # UTC ISO 8601, e.g. 2026-10-01T07:00:01+00:00
    method: str | None = None
    status: int | None = None
    client_ip: str | None = None
    user_agent: str | None = None


class LineFormat:
    """A log format: a name, a detector and a parser.

    Subclasses implement :meth:`parse`; ``parse`` returns a :class:`LogEntry` or a
    human-readable rejection reason (a ``str``).
    """

    name: str = ""
    description: str = ""

    def matches(self, line: bytes) -> bool:
        return isinstance(self.parse(line), LogEntry)

    def parse(self, line: bytes) -> LogEntry | str:  # pragma: no cover - interface
        raise NotImplementedError


# --- escaping ----------------------------------------------------------------------------

_C_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"b": b"\b", b"v": b"\v", b"f": b"\f"}
_ESCAPE_RE = re.compile(rb"\\(x[0-9A-Fa-f]{2}|.)", re.DOTALL)


def _unescape_one(m: re.Match) -> bytes:
    s = m.group(1)
    if len(s) == 3:
        return bytes((int(s[1:], 16),))
    return _C_ESCAPES.get(s, s)


def unescape_log_bytes(field: bytes) -> bytes:
    """Undo nginx ``\\xHH`` and Apache ``\\"``/``\\\\``/``\\n``/``\\xhh`` escaping."""
    if b"\\" not in field:
        return field
    return _ESCAPE_RE.sub(_unescape_one, field)


# --- time --------------------------------------------------------------------------------

_MONTHS = {
    m.encode(): i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


@lru_cache(maxsize=8192)
def parse_clf_time(t: bytes) -> str | None:
    """``01/Oct/2026:09:00:01 +0200`` -> ``2026-10-01T07:00:01+00:00`` (None if malformed).

    Cached because consecutive lines share their second; slicing beats ``strptime`` by
    an order of magnitude (see the format notes in the README).
    """
    try:
        if len(t) != 26 or t[2] != 47 or t[6] != 47 or t[11] != 58 or t[20] != 32:
            return None
        day = int(t[0:2])
        month = _MONTHS[t[3:6]]
        year = int(t[7:11])
        hh, mm, ss = int(t[12:14]), int(t[15:17]), int(t[18:20])
        sign = t[21]
        off = int(t[22:24]) * 60 + int(t[24:26])
        if sign == 45:  # '-'
            off = -off
        elif sign != 43:  # '+'
            return None
        dt = datetime(year, month, day, hh, mm, ss, tzinfo=timezone(timedelta(minutes=off)))
        return dt.astimezone(timezone.utc).isoformat()
    except (ValueError, KeyError, OverflowError):
        return None


_ISO_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


@lru_cache(maxsize=8192)
def parse_iso_time(s: str) -> str | None:
    """RFC 3339 / ISO 8601 -> UTC ISO 8601 at second precision (naive means UTC)."""
    m = _ISO_RE.match(s.strip())
    if not m:
        return None
    try:
        y, mo, d, hh, mi, ss = (int(x) for x in m.group(1, 2, 3, 4, 5, 6))
        tz = m.group(8)
        off = 0
        if tz and tz not in ("Z", "z"):
            tz = tz.replace(":", "")
            off = int(tz[1:3]) * 60 + int(tz[3:5])
            if tz[0] == "-":
                off = -off
        dt = datetime(y, mo, d, hh, mi, ss, tzinfo=timezone(timedelta(minutes=off)))
        return dt.astimezone(timezone.utc).isoformat()
    except (ValueError, OverflowError):
        return None


def _dec(b: bytes | None) -> str | None:
    if b is None or b == b"-":
        return None
    return b.decode("utf-8", "replace")


def split_request(request: bytes) -> tuple[str | None, bytes] | str:
    """``GET /x?y HTTP/1.1`` -> (method, target); a reason string if it is not a request."""
    req = unescape_log_bytes(request)
    parts = req.split(b" ")
    if len(parts) >= 3 and parts[-1].startswith(b"HTTP/"):
        return _dec(parts[0]), b" ".join(parts[1:-1])
    if len(parts) == 2 and parts[1][:1] in (b"/", b"h"):  # HTTP/0.9 style, no protocol
        return _dec(parts[0]), parts[1]
    return "malformed request line"


# --- combined / common (nginx and Apache) -------------------------------------------------

_CLF_RE = re.compile(
    rb"(?:(?P<vhost>\S+) )?(?P<ip>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]*)\] "
    rb'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}|-) (?P<size>\S+)'
    rb'(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)")?',
    re.DOTALL,
)


class CombinedFormat(LineFormat):
    """nginx/Apache ``combined`` and ``common``, with or without a leading vhost."""

    name = "combined"
    description = 'nginx / Apache combined: 1.2.3.4 - - [01/Oct/2026:09:00:01 +0200] "GET /cb?... HTTP/1.1" 302 0 "-" "UA"'

    def matches(self, line: bytes) -> bool:
        m = _CLF_RE.match(line)
        return m is not None and m.group("ua") is not None and parse_clf_time(m.group("time")) is not None

    def parse(self, line: bytes) -> LogEntry | str:
        m = _CLF_RE.match(line)
        if m is None:
            return f"not a {self.name} log line"
        ts = parse_clf_time(m.group("time"))
        if ts is None:
            return "bad timestamp"
        split = split_request(m.group("request"))
        if isinstance(split, str):
            return split
        method, target = split
        status = m.group("status")
        ua = m.group("ua")
        return LogEntry(
            target=target,
            ts=ts,
            method=method,
            status=int(status) if status != b"-" else None,
            client_ip=_dec(m.group("ip")),
            user_agent=_dec(unescape_log_bytes(ua)) if ua is not None else None,
        )


class CommonFormat(CombinedFormat):
    """The Common Log Format (the first seven fields of combined)."""

    name = "common"
    description = 'CLF: 1.2.3.4 - - [01/Oct/2026:09:00:01 +0200] "GET /cb?... HTTP/1.1" 302 0'

    def matches(self, line: bytes) -> bool:
        m = _CLF_RE.match(line)
        return m is not None and m.group("ua") is None and parse_clf_time(m.group("time")) is not None


class UrlListFormat(LineFormat):
    """A plain list of URLs or paths, one per line (no timestamps)."""

    name = "urls"
    description = "one URL or path per line: https://example.com/cb?user_id=...&state=..."

    def matches(self, line: bytes) -> bool:
        s = line.strip()
        return (s.startswith(b"/") or s.startswith(b"http://") or s.startswith(b"https://")) and b" " not in s

    def parse(self, line: bytes) -> LogEntry | str:
        s = line.strip()
        if not s or b" " in s or b"\t" in s:
            return "not a URL"
        return LogEntry(target=s)


# Most specific first: detection takes the first format that matches most sample lines.
FORMATS: dict[str, LineFormat] = {
    f.name: f for f in (CombinedFormat(), CommonFormat(), UrlListFormat())
}


def get_format(name: str) -> LineFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(
            f"unknown format {name!r}; choose one of: auto, {', '.join(FORMATS)}"
        ) from None


def detect_format(sample_lines: list[bytes]) -> tuple[LineFormat | None, float]:
    """Pick the format matching the largest share of *sample_lines*.

    Returns (format, share of non-blank sample lines it matched). A few odd lines at the
    start never decide: the format wins on the share, ties go to the more specific one.
    """
    lines = [ln for ln in sample_lines if ln.strip()]
    if not lines:
        return None, 0.0
    best, best_n = None, 0
    for fmt in FORMATS.values():
        n = sum(1 for ln in lines if fmt.matches(ln))
        if n > best_n:
            best, best_n = fmt, n
    if best is None:
        return None, 0.0
    # The share is what the chosen parser can read (combined also reads common lines).
    parsed = sum(1 for ln in lines if isinstance(best.parse(ln), LogEntry))
    return best, parsed / len(lines)
