"""Access-log line formats: one reader per format behind one small interface.

A reader turns one raw log line (bytes, without its newline) into a :class:`LogEntry`, returns
``None`` for a line that belongs to the format but is not an HTTP request record (a CloudFront
``#Fields:`` header, a Heroku app line, a JSON log entry without a request URL: the importer
counts those as ordinary lines), or returns a reason string when the line is not in its
format (the importer rejects it). Readers are only ever called on *candidate* lines (the
importer finds those with a byte search), so they can afford a regex or ``json.loads``; what
they must not do is run ``strptime`` per line, hence the cached time parsers.

Each reader also undoes its server's own escaping of the request line before the query
string is decoded: nginx writes ``"``, ``\\`` and every byte outside printable ASCII as
``\\xHH``; Apache writes ``\\"``, ``\\\\``, C escapes (``\\n``) and ``\\xhh``; ALB writes ``"`` as
``\\x22``; CloudFront percent-encodes ``%`` (and space, quotes...) once more; JSON loggers use
JSON string escapes (nginx ``escape=json`` leaves bytes >= 0x80 raw, Go writes ``&`` as
``\\u0026``).

Per-file configuration: detection calls :meth:`LineFormat.configure` with the file's sample
lines and the user's :class:`FormatOptions`, and gets back the instance to read that file with
(CloudFront takes its field list from the ``#Fields:`` header, the JSON reader its field
names from ``--url-field``/``--time-field``, the custom reader its regex from
``--log-format``).

JSON documents: a file that is one JSON array (``gcloud logging read --format=json``) is not
line based. :func:`is_json_document` recognises it from its first bytes and
:func:`json_document_lines` turns it into one canonical JSON line per element; the importer
does that before fingerprinting, so every JSON-lines reader reads it unchanged and line
numbers are element numbers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterable
from urllib.parse import unquote_to_bytes

__all__ = [
    "LogEntry",
    "LineFormat",
    "FormatOptions",
    "FORMATS",
    "detect_format",
    "get_format",
    "is_json_document",
    "json_document_lines",
    "unescape_log_bytes",
    "parse_clf_time",
    "parse_iso_time",
    "parse_epoch_time",
    "parse_any_time",
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


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """User settings that configure a format: ``--log-format``, ``--url-field``, ``--time-field``."""

    log_format: str | None = None
    url_field: str | None = None
    time_field: str | None = None

    @classmethod
    def of(cls, value: "FormatOptions | dict | None") -> "FormatOptions":
        if value is None:
            return cls()
        if isinstance(value, FormatOptions):
            return value
        return cls(**{k: v for k, v in value.items() if v is not None})


class LineFormat:
    """A log format: a name, a detector, a parser and an optional per-file configuration.

    Subclasses implement :meth:`parse`, which returns a :class:`LogEntry`, ``None`` (a line of
    this format that is not a request: ordinary) or a human-readable rejection reason (``str``).
    """

    name: str = ""
    description: str = ""
    example: str = ""  # one-line example command for the docs
    #: True for formats whose lines are JSON objects (they may also come as one JSON array).
    json_lines: bool = False

    def matches(self, line: bytes) -> bool:
        """True when *line* is a request record of this format (used by detection)."""
        return isinstance(self.parse(line), LogEntry)

    def parse(self, line: bytes) -> LogEntry | None | str:  # pragma: no cover - interface
        raise NotImplementedError

    def configure(self, sample_lines: list[bytes], options: FormatOptions) -> "LineFormat":
        """The instance to read one file with, configured from its first lines and *options*."""
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


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


def _text_bytes(s: str) -> bytes:
    """A str from a surrogateescape-decoded JSON line back to the bytes the server logged."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a JSON "\ud800" escape: keep it, normalize flags invalid UTF-8
        return s.encode("utf-8", "surrogatepass")


def _clean(v: Any) -> str | None:
    """A text field for the database: no lone surrogates, ``-``/empty means absent."""
    if v is None or isinstance(v, (dict, list, bool)):
        return None
    if not isinstance(v, str):
        v = str(v)
    if not v or v == "-":
        return None
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        v = _text_bytes(v).decode("utf-8", "replace")
    return v


# --- time --------------------------------------------------------------------------------

_MONTHS = {
    m.encode(): i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


@lru_cache(maxsize=4096)
def _clf_day(day_month_year: bytes, zone: bytes) -> tuple[int, int] | None:
    """(UTC epoch second of local midnight, offset seconds) for ``01/Oct/2026`` and ``+0200``."""
    try:
        if day_month_year[2] != 47 or day_month_year[6] != 47:
            return None
        day = int(day_month_year[0:2])
        month = _MONTHS[day_month_year[3:6]]
        year = int(day_month_year[7:11])
        sign = zone[0]
        off = (int(zone[1:3]) * 60 + int(zone[3:5])) * 60
        if sign == 45:  # '-'
            off = -off
        elif sign != 43:  # '+'
            return None
        midnight = datetime(year, month, day, tzinfo=timezone.utc).timestamp()
        return int(midnight), off
    except (ValueError, KeyError, OverflowError, IndexError):
        return None


@lru_cache(maxsize=4096)
def _utc_day(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%dT")


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_clf_time(t: bytes) -> str | None:
    """``01/Oct/2026:09:00:01 +0200`` -> ``2026-10-01T07:00:01+00:00`` (None if malformed).

    No ``strptime``: the date part is resolved once per day and zone (cached), the clock
    part is three slices, which keeps a file where every line has its own second fast.
    """
    if len(t) != 26 or t[11] != 58 or t[20] != 32 or t[14] != 58 or t[17] != 58:
        return None
    base = _clf_day(t[0:11], t[21:26])
    if base is None:
        return None
    try:
        hh, mm, ss = int(t[12:14]), int(t[15:17]), int(t[18:20])
    except ValueError:
        return None
    if hh > 23 or mm > 59 or ss > 60:
        return None
    secs = base[0] + hh * 3600 + mm * 60 + ss - base[1]
    days, rem = divmod(secs, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    return f"{_utc_day(days)}{h:02d}:{m:02d}:{sec:02d}+00:00"


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


@lru_cache(maxsize=8192)
def _epoch_seconds_iso(secs: int) -> str | None:
    try:
        return datetime.fromtimestamp(secs, timezone.utc).isoformat()
    except (ValueError, OverflowError, OSError):
        return None


_NUMBER_RE = re.compile(r"\s*(\d+)(?:\.(\d*))?\s*$")


def parse_epoch_time(v: int | float | str) -> str | None:
    """Unix time in s, ms, µs or ns (told apart by magnitude) -> UTC ISO 8601, seconds floored.

    Integers stay integers (a 19-digit nanosecond count loses precision as a float).
    Values before 1973 (< 1e8 s) are refused: they are durations, not times.
    """
    if isinstance(v, bool):
        return None
    if isinstance(v, str):
        m = _NUMBER_RE.match(v)
        if m is None:
            return None
        v = int(m.group(1)) if not m.group(2) else float(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return None
        while v >= 1e11:  # 1e11 s is the year 5138: it must be ms, µs or ns
            v /= 1000
        v = int(v)
    else:
        while v >= 100_000_000_000:
            v //= 1000
    if v < 100_000_000:
        return None
    return _epoch_seconds_iso(v)


def parse_any_time(v: Any) -> str | None:
    """A time value from a JSON log: epoch number, RFC 3339 string, CLF string or epoch string."""
    if v is None or isinstance(v, (bool, dict, list)):
        return None
    if isinstance(v, (int, float)):
        return parse_epoch_time(v)
    if not isinstance(v, str):
        return None
    s = v.strip()
    if not s:
        return None
    if s[0].isdigit() and len(s) >= 19 and s[4:5] == "-":
        return parse_iso_time(s)
    if s[:1] == "[" and s[-1:] == "]":
        s = s[1:-1]
    if len(s) == 26 and s[2:3] == "/":
        return parse_clf_time(s.encode("ascii", "replace"))
    return parse_epoch_time(s)


def _dec(b: bytes | None) -> str | None:
    if b is None or b == b"-":
        return None
    return b.decode("utf-8", "replace")


def _split_request_line(req: bytes) -> tuple[str | None, bytes] | str:
    parts = req.split(b" ")
    if len(parts) >= 3 and parts[-1].startswith(b"HTTP/"):
        return _dec(parts[0]), b" ".join(parts[1:-1])
    if len(parts) == 2 and parts[1][:1] in (b"/", b"h"):  # HTTP/0.9 style, no protocol
        return _dec(parts[0]), parts[1]
    return "malformed request line"


def split_request(request: bytes) -> tuple[str | None, bytes] | str:
    """``GET /x?y HTTP/1.1`` -> (method, target); a reason string if it is not a request."""
    return _split_request_line(unescape_log_bytes(request))


def _host_of(hostport: bytes | None) -> str | None:
    """``1.2.3.4:80`` / ``[2001:db8::1]:80`` / ``2001:db8::1:80`` (ALB) -> the address."""
    if not hostport or hostport == b"-":
        return None
    if hostport[:1] == b"[":
        end = hostport.find(b"]")
        return _dec(hostport[1:end] if end != -1 else hostport[1:])
    n = hostport.count(b":")
    if n == 0:
        return _dec(hostport)
    return _dec(hostport.rpartition(b":")[0])  # IPv4:port, or IPv6:port split at the LAST colon


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, (bytes, str)) and v.strip().isdigit():
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


# --- combined / common (nginx and Apache) -------------------------------------------------

_Q = rb'(?:[^"\\]|\\.)*'  # the inside of a quoted field, escaped quotes allowed

_CLF_RE = re.compile(
    rb"(?:(?P<vhost>\S+) )?(?P<ip>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]*)\] "
    rb'"(?P<request>' + _Q + rb')" (?P<status>\d{3}|-) (?P<size>\S+)'
    rb'(?: "(?P<referer>' + _Q + rb')" "(?P<ua>' + _Q + rb')")?',
    re.DOTALL,
)


def _quote_end(line: bytes, i: int) -> int:
    """Index of the quote closing a field that starts at *i* (-1 if none); skips ``\\"``."""
    find = line.find
    q = find(b'"', i)
    while q != -1 and line[q - 1] == 92:  # a backslash before it: count the run
        k = q - 1
        while line[k - 1] == 92:
            k -= 1
        if (q - k) % 2 == 0:
            break  # an even run is escaped backslashes; the quote is real
        q = find(b'"', q + 1)
    return q


def _fast_clf(line: bytes) -> LogEntry | None:
    """Slice a well-formed combined/common line without the regex; None means "use it".

    Slicing at known delimiters is several times faster than the general regex and
    gives the same fields; anything unusual falls through to the regex.
    """
    b = line.find(b" [")
    if b < 0 or line[b + 28:b + 31] != b'] "':
        return None
    head = line[:b].split(b" ")
    if len(head) == 3:
        ip = head[0]
    elif len(head) == 4:
        ip = head[1]
    else:
        return None
    ts = parse_clf_time(line[b + 2:b + 28])
    if ts is None:
        return None
    q = _quote_end(line, b + 31)
    if q < 0 or line[q + 1:q + 2] != b" ":
        return None
    status_b = line[q + 2:q + 5]
    if not status_b.isdigit() or line[q + 5:q + 6] not in (b" ", b""):
        return None
    req = line[b + 31:q]
    if b"\\" in req:
        req = unescape_log_bytes(req)
    sp1 = req.find(b" ")
    sp2 = req.rfind(b" ")
    if sp1 <= 0 or sp2 == sp1 or not req.startswith(b"HTTP/", sp2 + 1):
        return None
    ua = None
    r1 = line.find(b' "', q + 5)
    if r1 != -1:
        r2 = _quote_end(line, r1 + 2)
        if r2 == -1 or line[r2 + 1:r2 + 3] != b' "':
            return None
        u2 = _quote_end(line, r2 + 3)
        if u2 == -1:
            return None
        ua_b = line[r2 + 3:u2]
        ua = None if ua_b == b"-" else (
            unescape_log_bytes(ua_b) if b"\\" in ua_b else ua_b).decode("utf-8", "replace")
    return LogEntry(
        target=req[sp1 + 1:sp2],
        ts=ts,
        method=req[:sp1].decode("utf-8", "replace"),
        status=int(status_b),
        client_ip=None if ip == b"-" else ip.decode("utf-8", "replace"),
        user_agent=ua,
    )


class CombinedFormat(LineFormat):
    """nginx/Apache ``combined`` and ``common``, with or without a leading vhost."""

    name = "combined"
    description = 'nginx / Apache combined: 1.2.3.4 - - [01/Oct/2026:09:00:01 +0200] "GET /cb?... HTTP/1.1" 302 0 "-" "UA"'
    example = "smartcar-logs import /var/log/nginx/access.log*"

    def matches(self, line: bytes) -> bool:
        m = _CLF_RE.match(line)
        return m is not None and m.group("ua") is not None and parse_clf_time(m.group("time")) is not None

    def parse(self, line: bytes) -> LogEntry | str:
        fast = _fast_clf(line)
        if fast is not None:
            return fast
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
    example = "smartcar-logs import --format common /var/log/apache2/access.log"

    def matches(self, line: bytes) -> bool:
        m = _CLF_RE.match(line)
        return m is not None and m.group("ua") is None and parse_clf_time(m.group("time")) is not None


_TRAEFIK_TAIL_RE = re.compile(rb'\s(?:\d+|-) "' + _Q + rb'" "' + _Q + rb'" (?:\d+|-)ms\s*$')


class TraefikClfFormat(CombinedFormat):
    """Traefik's default access log: combined plus ``count "router" "backend-url" Nms``."""

    name = "traefik-clf"
    description = ('Traefik CLF: combined + 3 "router@docker" "http://10.0.0.5:8080" 12ms '
                   "(read like combined; the trailing fields are ignored)")
    example = "smartcar-logs import /var/log/traefik/access.log"

    def matches(self, line: bytes) -> bool:
        return (line.rstrip().endswith(b"ms") and _TRAEFIK_TAIL_RE.search(line) is not None
                and super().matches(line))


# --- AWS load balancers ---------------------------------------------------------------------

_ALB_TYPES = frozenset((b"http", b"https", b"h2", b"grpcs", b"ws", b"wss"))
_LB_FIELDS = (
    rb"(?P<time>\d{4}-\d\d-\d\dT\S+) (?P<elb>\S+) (?P<client>\S+) (?P<target>\S+) "
    rb"(?P<t1>\S+) (?P<t2>\S+) (?P<t3>\S+) (?P<status>\S+) (?P<tstatus>\S+) (?P<rb>\S+) (?P<sb>\S+) "
    rb'"(?P<request>' + _Q + rb')" "(?P<ua>' + _Q + rb')"'
)
_ALB_RE = re.compile(rb"(?P<type>\S+) " + _LB_FIELDS, re.DOTALL)
_ELB_RE = re.compile(_LB_FIELDS, re.DOTALL)


class AlbFormat(LineFormat):
    """AWS Application Load Balancer: space separated, ``"GET https://host:443/p?q HTTP/1.1"``.

    Fields after the user agent (TLS, target group, trace id, the ones AWS keeps appending)
    are ignored, as AWS tells readers to. ``"`` inside the request is logged as ``\\x22``.
    The time is the ``time`` field (when the response was sent), UTC.
    """

    name = "alb"
    description = ('AWS ALB: https 2018-07-02T22:23:00.186641Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 '
                   '10.0.0.1:80 0.086 0.048 0.037 302 302 0 57 "GET https://www.example.com:443/cb?... HTTP/1.1" "UA" ...')
    example = "smartcar-logs import alb-logs/*.log.gz"
    _re = _ALB_RE

    def _fields(self, line: bytes) -> re.Match | str:
        m = self._re.match(line)
        if m is None or ("type" in m.re.groupindex and m.group("type") not in _ALB_TYPES):
            return f"not an {self.name.upper()} log line"
        return m

    def parse(self, line: bytes) -> LogEntry | str:
        m = self._fields(line)
        if isinstance(m, str):
            return m
        ts = parse_iso_time(m.group("time").decode("ascii", "replace"))
        if ts is None:
            return "bad timestamp"
        split = split_request(m.group("request"))
        if isinstance(split, str):
            return split
        method, target = split
        return LogEntry(
            target=target,
            ts=ts,
            method=method,
            status=_int(m.group("status")),
            client_ip=_host_of(m.group("client")),
            user_agent=_dec(unescape_log_bytes(m.group("ua"))),
        )


class ElbFormat(AlbFormat):
    """AWS Classic Load Balancer: like ALB without the leading type field."""

    name = "elb"
    description = ('AWS Classic ELB: 2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 '
                   '0.000073 0.001048 0.000057 302 302 0 29 "GET https://www.example.com:443/cb?... HTTP/1.1" "UA" - -')
    example = "smartcar-logs import elb-logs/*.log"
    _re = _ELB_RE


# --- AWS CloudFront -------------------------------------------------------------------------

CLOUDFRONT_FIELDS = (
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
    "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header "
    "cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher "
    "x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port "
    "time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
    "sc-range-start sc-range-end"
).split()
_DATE_RE = re.compile(rb"\d{4}-\d\d-\d\d$")


def _cf_unescape(field: bytes) -> bytes:
    """Undo CloudFront's own percent-encoding layer, exactly once (``%2520`` -> ``%20``)."""
    return unquote_to_bytes(field) if b"%" in field else field


class CloudFrontFormat(LineFormat):
    """AWS CloudFront standard logs: W3C, tab separated, field order from ``#Fields:``.

    CloudFront percent-encodes ``%`` (and space, quotes, ``<>{}|\\^~[]`` and bytes outside
    printable ASCII) in every field, so an as-sent ``%2F`` is logged as ``%252F``: that one
    layer is undone here, and the query is decoded as usual by the normaliser. ``-`` in
    ``cs-uri-query`` means no query. ``date`` and ``time`` are UTC. Header lines are ordinary.
    Without a ``#Fields:`` line the documented 33-field order is used (older files have a
    prefix of it, since new fields were only ever appended).
    """

    name = "cloudfront"
    description = "AWS CloudFront standard log: #Fields: date time ... cs-uri-stem sc-status ... cs-uri-query ..."
    example = "smartcar-logs import cloudfront-logs/E2EXAMPLE.2026-10-01-*.gz"

    def __init__(self, fields: Iterable[str] = CLOUDFRONT_FIELDS):
        self.fields = tuple(fields)
        ix = {f: i for i, f in reversed(list(enumerate(self.fields)))}
        self.i_date = ix.get("date")
        self.i_time = ix.get("time")
        self.i_stem = ix.get("cs-uri-stem")
        self.i_query = ix.get("cs-uri-query")
        self.i_method = ix.get("cs-method")
        self.i_status = ix.get("sc-status")
        self.i_ip = ix.get("c-ip")
        self.i_ua = ix.get("cs(User-Agent)")
        self.needed = 1 + max(i for i in (self.i_date, self.i_time, self.i_stem, self.i_query, -1)
                              if i is not None)

    def configure(self, sample_lines: list[bytes], options: FormatOptions) -> LineFormat:
        for ln in sample_lines:
            if ln.startswith(b"#Fields:"):
                names = ln[8:].decode("ascii", "replace").split()
                if "cs-uri-stem" in names:
                    return CloudFrontFormat(names)
        return self

    def parse(self, line: bytes) -> LogEntry | None | str:
        if line[:1] == b"#":
            return None  # #Version / #Fields header: ordinary
        if self.i_stem is None:
            return "the #Fields header has no cs-uri-stem"
        f = line.split(b"\t")
        if len(f) < self.needed:
            return "not a cloudfront log line" if len(f) == 1 else "fewer fields than the #Fields header"
        ts = None
        if self.i_date is not None:
            d = f[self.i_date]
            t = f[self.i_time] if self.i_time is not None else b"00:00:00"
            if _DATE_RE.match(d) is None:
                return "bad timestamp"
            ts = parse_iso_time(d.decode() + "T" + t.decode("ascii", "replace"))
            if ts is None:
                return "bad timestamp"
        target = _cf_unescape(f[self.i_stem])
        if self.i_query is not None:
            q = f[self.i_query]
            if q and q != b"-":
                target += b"?" + _cf_unescape(q)

        def get(i):
            return f[i] if i is not None and i < len(f) else None

        ua = get(self.i_ua)
        return LogEntry(
            target=target,
            ts=ts,
            method=_dec(get(self.i_method)),
            status=_int(get(self.i_status)),
            client_ip=_dec(get(self.i_ip)),
            user_agent=_dec(_cf_unescape(ua)) if ua is not None else None,
        )

    def matches(self, line: bytes) -> bool:
        return b"\t" in line and isinstance(self.parse(line), LogEntry)


# --- Heroku router ---------------------------------------------------------------------------

_HEROKU_RE = re.compile(
    rb"(?:\d+ )?(?:<\d{1,3}>\d{1,2} )?"  # optional octet count and RFC 5424 <PRI>VERSION (drains)
    rb"(?P<time>\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) "
    rb"(?:(?P<src>[^\s\[]+)\[(?P<dyno>[^\]]*)\]: ?|\S+ (?P<src2>\S+) (?P<dyno2>\S+) \S+ )"
    rb"(?P<msg>.*)",
    re.DOTALL,
)
_LOGFMT_RE = re.compile(rb'([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)')


def logfmt(msg: bytes) -> dict[bytes, bytes]:
    """``at=info path="/x?y" status=302`` -> {b"at": b"info", ...} (first value of a key wins)."""
    out: dict[bytes, bytes] = {}
    for k, v in _LOGFMT_RE.findall(msg):
        if v[:1] == b'"' and v[-1:] == b'"' and len(v) >= 2:
            v = v[1:-1]
            if b"\\" in v:
                v = v.replace(b'\\"', b'"').replace(b"\\\\", b"\\")
        out.setdefault(k, v)
    return out


class HerokuFormat(LineFormat):
    """Heroku router lines (logfmt after a syslog-style prefix); app lines are ordinary."""

    name = "heroku"
    description = ('Heroku router: 2018-09-16T15:13:46.677020+00:00 heroku[router]: at=info method=GET '
                   'path="/cb?..." host=myapp.herokuapp.com request_id=... fwd="1.2.3.4" dyno=web.1 '
                   "connect=0ms service=1ms status=302 bytes=...")
    example = "heroku logs -n 1500 -a myapp | smartcar-logs import -"

    def parse(self, line: bytes) -> LogEntry | None | str:
        m = _HEROKU_RE.match(line)
        if m is None:
            return "not a heroku log line"
        src, dyno = (m.group("src"), m.group("dyno")) if m.group("src") is not None else (
            m.group("src2"), m.group("dyno2"))
        if src != b"heroku" or dyno != b"router":
            return None  # an app, api or dyno line: ordinary
        kv = logfmt(m.group("msg"))
        path = kv.get(b"path")
        if path is None:
            return "heroku router line without path="
        ts = parse_iso_time(m.group("time").decode("ascii"))
        if ts is None:
            return "bad timestamp"
        fwd = kv.get(b"fwd")
        return LogEntry(
            target=path,
            ts=ts,
            method=_dec(kv.get(b"method")),
            status=_int(kv.get(b"status")),
            client_ip=_dec(fwd.split(b",")[0].strip()) if fwd else None,
        )


# --- JSON lines -----------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _load_json(line: bytes) -> dict | None:
    """One JSON object from a line; raw non-UTF-8 bytes survive as surrogate escapes."""
    s = line.strip()
    if s[:1] != b"{":
        return None
    try:
        obj = json.loads(s.decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _get(obj: dict, path: str) -> Any:
    """``obj["a.b"]`` if that key exists, else ``obj["a"]["b"]``."""
    if path in obj:
        return obj[path]
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _first(obj: dict, paths: Iterable[str]) -> Any:
    for p in paths:
        v = _get(obj, p)
        if v is not None and v != "":
            return v
    return None


def _header(v: Any) -> Any:
    """Caddy logs header values as arrays."""
    if isinstance(v, list):
        return v[0] if v else None
    return v


_URL_START_RE = re.compile(r"/|[A-Za-z][A-Za-z0-9+.-]*://")


class JsonFormat(LineFormat):
    """Any JSON-lines access log (nginx ``escape=json``, app servers...): known field names.

    The URL is the first of :attr:`url_fields` holding a path or URL (``request`` may hold a
    whole request line); ``--url-field`` and ``--time-field`` (dotted for nested objects) are
    tried before the known names. A JSON object without a URL field is an ordinary line.
    """

    name = "json"
    description = ('JSON lines: {"time_iso8601":"2026-10-01T09:00:01+02:00","request_uri":"/cb?...",'
                   '"status":302,...}; --url-field / --time-field for other names')
    example = "smartcar-logs import --url-field req.url --time-field time app-access.jsonl"
    json_lines = True
    url_fields: tuple[str, ...] = (
        "request_uri", "uri", "url", "request_url", "requestUrl", "requestURI", "request_path",
        "url.original", "url.full", "http.url", "http.request.uri", "req.url", "request.url",
        "request.uri", "httpRequest.requestUrl", "path", "request",
    )
    time_fields: tuple[str, ...] = (
        "time_iso8601", "time_local", "timestamp", "@timestamp", "time", "ts", "msec", "datetime",
        "date", "start_time",
    )
    method_fields = ("request_method", "method", "http_method", "verb", "request.method",
                     "http.request.method", "req.method")
    status_fields = ("status", "status_code", "statusCode", "response_code", "http_status",
                     "response_status", "http.response.status_code", "res.statusCode", "response.status")
    ip_fields = ("remote_addr", "client_ip", "remote_ip", "clientip", "client_addr", "ip",
                 "remote_host", "client.ip", "source.ip")
    ua_fields = ("http_user_agent", "user_agent", "userAgent", "agent", "ua", "user_agent.original",
                 "req.headers.user-agent", "request.headers.User-Agent")
    query_fields = ("args", "query_string", "query")

    def __init__(self, url_field: str | None = None, time_field: str | None = None):
        self.url_field = url_field
        self.time_field = time_field

    def configure(self, sample_lines: list[bytes], options: FormatOptions) -> LineFormat:
        if options.url_field or options.time_field:
            return type(self)(options.url_field, options.time_field)
        return self

    def _target(self, obj: dict) -> tuple[bytes, str | None] | None:
        fields = ((self.url_field,) if self.url_field else ()) + self.url_fields
        for f in fields:
            v = _header(_get(obj, f))
            if not isinstance(v, str) or not v or v == "-":
                continue
            if f == "request" and " " in v:  # a request line: GET /x HTTP/1.1
                split = _split_request_line(_text_bytes(v))
                if isinstance(split, str):
                    continue
                return split[1], split[0]
            if f != self.url_field and _URL_START_RE.match(v) is None:
                continue
            target = _text_bytes(v)
            if b"?" not in target and f in ("uri", "path", "request_path", "url.path"):
                q = _first(obj, self.query_fields)
                if isinstance(q, str) and q and q != "-":
                    target += b"?" + _text_bytes(q.lstrip("?"))
            return target, None
        return None

    def _time(self, obj: dict) -> str | None | bool:
        """The UTC time, None when there is none, False when --time-field is unreadable."""
        if self.time_field:
            v = _get(obj, self.time_field)
            if v is not None:
                ts = parse_any_time(v)
                return ts if ts is not None else False
        for f in self.time_fields:
            v = _get(obj, f)
            if v is not None:
                ts = parse_any_time(v)
                if ts is not None:
                    return ts
        return None

    def entry(self, obj: dict) -> LogEntry | None | str:
        t = self._target(obj)
        if t is None:
            return None  # a JSON record that is not a request: ordinary
        target, method = t
        ts = self._time(obj)
        if ts is False:
            return "bad timestamp"
        return LogEntry(
            target=target,
            ts=ts,
            method=method or _clean(_first(obj, self.method_fields)),
            status=_int(_first(obj, self.status_fields)),
            client_ip=_clean(_first(obj, self.ip_fields)),
            user_agent=_clean(_header(_first(obj, self.ua_fields))),
        )

    def parse(self, line: bytes) -> LogEntry | None | str:
        obj = _load_json(line)
        if obj is None:
            return "not a JSON object"
        return self.entry(obj)

    def matches(self, line: bytes) -> bool:
        obj = _load_json(line)
        return obj is not None and isinstance(self.entry(obj), LogEntry)


class _VendorJson(JsonFormat):
    """A JSON format with fixed field names (the vendor's); ``--url-field`` does not apply."""

    url: str = ""
    times: tuple[str, ...] = ()
    method: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    ip: tuple[str, ...] = ()
    ua: tuple[str, ...] = ()

    def configure(self, sample_lines: list[bytes], options: FormatOptions) -> LineFormat:
        return self

    def entry(self, obj: dict) -> LogEntry | None | str:
        url = _get(obj, self.url)
        if not isinstance(url, str) or not url:
            return None
        ts = None
        for f in self.times:
            v = _get(obj, f)
            if v is not None:
                ts = parse_any_time(v)
                if ts is None:
                    return "bad timestamp"
                break
        return LogEntry(
            target=_text_bytes(url),
            ts=ts,
            method=_clean(_first(obj, self.method)),
            status=_int(_first(obj, self.status)),
            client_ip=_clean(_first(obj, self.ip)),
            user_agent=_clean(_header(_first(obj, self.ua))),
        )


class GcpFormat(_VendorJson):
    """Google Cloud Load Balancing / Cloud Run request logs (``LogEntry.httpRequest``).

    As JSON lines (a sink's files) or as one JSON array (``gcloud logging read --format=json``).
    ``status`` may be an int or (proto3 int64) a string; ``timestamp`` is RFC 3339 with up to
    nanoseconds. Entries without ``httpRequest`` (application logs) are ordinary.
    """

    name = "gcp"
    description = ('Google Cloud LB / Cloud Run: {"httpRequest":{"requestMethod":"GET","requestUrl":'
                   '"https://app.example.com/cb?...","status":302,...},"timestamp":"2018-08-06T07:55:14.708181828Z",...}')
    example = ("gcloud logging read 'httpRequest.requestUrl:\"/smartcar/callback\"' --format=json "
               "> gcp.json && smartcar-logs import gcp.json")
    url = "httpRequest.requestUrl"
    times = ("timestamp", "receiveTimestamp")
    method = ("httpRequest.requestMethod",)
    status = ("httpRequest.status",)
    ip = ("httpRequest.remoteIp",)
    ua = ("httpRequest.userAgent",)


class CaddyFormat(_VendorJson):
    """Caddy v2 JSON access logs: ``request.uri``, ``ts`` (epoch seconds by default)."""

    name = "caddy"
    description = ('Caddy JSON: {"level":"info","ts":1646861401.5241024,"logger":"http.log.access",'
                   '"request":{"client_ip":"...","method":"GET","uri":"/cb?...","headers":{"User-Agent":["..."]}},"status":302}')
    example = "smartcar-logs import /var/log/caddy/access.log"
    url = "request.uri"
    times = ("ts",)
    method = ("request.method",)
    status = ("status",)
    ip = ("request.client_ip", "request.remote_ip")
    ua = ("request.headers.User-Agent",)


class TraefikJsonFormat(_VendorJson):
    """Traefik JSON access logs: ``RequestPath`` (path+query), ``StartUTC``."""

    name = "traefik-json"
    description = ('Traefik JSON: {"ClientHost":"...","DownstreamStatus":302,"RequestMethod":"GET",'
                   '"RequestPath":"/cb?...","StartUTC":"2026-10-01T07:00:01.123456789Z",...}')
    example = "smartcar-logs import /var/log/traefik/access.json"
    url = "RequestPath"
    times = ("StartUTC", "StartLocal", "time")
    method = ("RequestMethod",)
    status = ("DownstreamStatus", "OriginStatus")
    ip = ("ClientHost",)
    ua = ("request_User-Agent",)

    def entry(self, obj: dict) -> LogEntry | None | str:
        e = super().entry(obj)
        if isinstance(e, LogEntry) and e.client_ip is None:
            addr = obj.get("ClientAddr")
            if isinstance(addr, str):
                e.client_ip = _host_of(_text_bytes(addr))
        return e


class CloudflareFormat(_VendorJson):
    """Cloudflare Logpush ``http_requests`` ndjson: ``ClientRequestURI``, ``EdgeStartTimestamp``.

    The timestamp is unix nanoseconds (default), unix seconds or an RFC 3339 string.
    """

    name = "cloudflare"
    description = ('Cloudflare Logpush: {"ClientIP":"...","ClientRequestMethod":"GET","ClientRequestURI":"/cb?...",'
                   '"EdgeResponseStatus":302,"EdgeStartTimestamp":1506702504433000200,...}')
    example = "smartcar-logs import logpush/20261001/*.log.gz"
    url = "ClientRequestURI"
    times = ("EdgeStartTimestamp", "EdgeEndTimestamp")
    method = ("ClientRequestMethod",)
    status = ("EdgeResponseStatus", "OriginResponseStatus")
    ip = ("ClientIP",)
    ua = ("ClientRequestUserAgent",)


# --- custom Apache LogFormat / nginx log_format -------------------------------------------------

_APACHE_DIRECTIVE_RE = re.compile(r"%(?:!?\d{3}(?:,\d{3})*)?[<>]?(?:\{([^}]*)\})?([a-zA-Z%])")
_NGINX_VAR_RE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")

# role -> (pattern outside quotes); inside quotes every field is a quoted-field body.
_ROLE_PATTERNS = {
    "ip": r"\S+",
    "time_clf": r"\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}",
    "time_iso": r"\d{4}-\d\d-\d\dT\S+",
    "time_epoch": r"\d+(?:\.\d+)?",
    "request": r".+?",
    "request_uri": r"[^\s\"]*",
    "path": r"[^\s?\"]*",
    "query": r"(?:\?[^\s\"]*)?",
    "args": r"[^\s\"]*",
    "is_args": r"\??",
    "method": r"[A-Za-z-]+",
    "status": r"\d{3}|-",
    "ua": r".+?",
    None: r"\S*?",
}
_NGINX_ROLES = {
    "remote_addr": "ip", "realip_remote_addr": "ip", "time_local": "time_clf",
    "time_iso8601": "time_iso", "msec": "time_epoch", "request": "request",
    "request_uri": "request_uri", "uri": "path", "document_uri": "path", "args": "args",
    "query_string": "args", "is_args": "is_args", "request_method": "method", "status": "status",
    "http_user_agent": "ua",
}


# strftime directives of Apache's %{format}t -> (group key, pattern); parsed without strptime.
_STRF_PARTS = {
    "Y": ("Y", r"\d{4}"), "y": ("y", r"\d\d"), "m": ("m", r"\d\d?"), "d": ("d", r"\d\d?"),
    "e": ("d", r" ?\d\d?"), "H": ("H", r"\d\d?"), "k": ("H", r" ?\d\d?"), "M": ("M", r"\d\d"),
    "S": ("S", r"\d\d"), "b": ("b", r"[A-Za-z]{3}"), "h": ("b", r"[A-Za-z]{3}"),
    "B": ("b", r"[A-Za-z]+"), "z": ("z", r"[+-]\d\d:?\d\d|Z"), "s": ("s", r"\d+"),
    "Z": (None, r"[A-Za-z]+"), "a": (None, r"[A-Za-z]+"), "A": (None, r"[A-Za-z]+"),
}
_STRF_ALIASES = {"T": "%H:%M:%S", "F": "%Y-%m-%d", "D": "%m/%d/%y", "R": "%H:%M"}
_STRF_KEYS = ("Y", "y", "m", "b", "d", "H", "M", "S", "z", "s")


def _strftime_regex(layout: str, named: bool) -> str:
    for k, v in _STRF_ALIASES.items():
        layout = layout.replace("%" + k, v)
    out, seen, pos = [], set(), 0
    for m in re.finditer(r"%(.)", layout):
        out.append(re.escape(layout[pos:m.start()]))
        pos = m.end()
        d = m.group(1)
        key, pat = _STRF_PARTS.get(d, (None, "%" if d == "%" else r"\S+?"))
        if d == "%":
            out.append("%")
        elif named and key and key not in seen:
            seen.add(key)
            out.append(f"(?P<t_{key}>{pat})")
        else:
            out.append(f"(?:{pat})")
    out.append(re.escape(layout[pos:]))
    return "".join(out)


@lru_cache(maxsize=4096)
def _strf_time(Y, y, m, b, d, H, M, S, z, s) -> str | None:
    try:
        if s:
            return parse_epoch_time(s.decode())
        year = int(Y) if Y else (2000 + int(y) if y else None)
        month = int(m) if m else (_MONTHS.get(b[:3].title()) if b else None)
        if year is None or month is None or not d:
            return None
        off = 0
        if z and z != b"Z":
            zz = z.replace(b":", b"")
            off = (int(zz[1:3]) * 60 + int(zz[3:5])) * (-1 if zz[:1] == b"-" else 1)
        dt = datetime(year, month, int(d), int(H or 0), int(M or 0), int(S or 0),
                      tzinfo=timezone(timedelta(minutes=off)))
        return dt.astimezone(timezone.utc).isoformat()
    except (ValueError, OverflowError):
        return None


def _apache_role(arg: str | None, d: str) -> str | None:
    if d in "ha":
        return "ip"
    if d == "t":
        if arg is None:
            return "time_clf_bracketed"
        a = arg.split(":", 1)[1] if arg.startswith(("begin:", "end:")) else arg
        if a in ("sec", "msec", "usec"):
            return "time_epoch"
        if a.endswith("_frac"):
            return None
        return "time_strf:" + a
    if d == "i" and arg and arg.lower() == "user-agent":
        return "ua"
    return {"r": "request", "s": "status", "U": "path", "q": "query", "m": "method"}.get(d)


class CustomFormat(LineFormat):
    """A user's Apache ``LogFormat`` or nginx ``log_format`` string, compiled to a regex.

    The target comes from ``%r``/``$request`` (a request line), ``$request_uri``, or the path
    (``%U``/``$uri``) plus the query (``%q``/``$args``). Fields inside ``"..."`` are read as
    quoted fields with the server's escapes; other unknown fields as one non-space token.
    """

    name = "custom"
    description = "your Apache LogFormat / nginx log_format string, given with --log-format"
    example = ("smartcar-logs import --log-format '$remote_addr [$time_iso8601] \"$request\" $status "
               "\"$http_user_agent\"' access.log")

    def __init__(self, log_format: str | None = None):
        self.log_format = log_format
        self.regex = None
        self.time_role = None
        if log_format is not None:
            self.regex, self.time_role = self._compile(log_format)

    @staticmethod
    def _compile(fmt: str) -> tuple[re.Pattern, str | None]:
        fmt = fmt.replace('\\"', '"')  # pasted from a config file: LogFormat "... \"%r\" ..."
        nginx = _NGINX_VAR_RE.search(fmt) is not None
        pieces: list[tuple[str, str | None]] = []  # (literal or "", role) with role "" for literals
        pos = 0
        var_re = _NGINX_VAR_RE if nginx else _APACHE_DIRECTIVE_RE
        for m in var_re.finditer(fmt):
            if m.start() > pos:
                pieces.append((fmt[pos:m.start()], ""))
            pos = m.end()
            if nginx:
                pieces.append(("$", _NGINX_ROLES.get(m.group(1) or m.group(2))))
            elif m.group(2) == "%":
                pieces.append(("%", ""))
            else:
                pieces.append(("%", _apache_role(m.group(1), m.group(2))))
        if pos < len(fmt):
            pieces.append((fmt[pos:], ""))

        used: set[str] = set()
        out = []
        for i, (text, role) in enumerate(pieces):
            if role == "":
                out.append(re.escape(text))
                continue
            before = pieces[i - 1][0] if i and pieces[i - 1][1] == "" else ""
            after = pieces[i + 1][0] if i + 1 < len(pieces) and pieces[i + 1][1] == "" else ""
            quoted = before.endswith('"') and after.startswith('"')
            prefix = suffix = ""
            if role == "time_clf_bracketed":
                role, prefix, suffix = "time_clf", r"\[", r"\]"
            if role is not None and role.startswith("time_strf:"):
                layout, role = role[10:], "time_strf"
                pat = _strftime_regex(layout, named=role not in used)
            elif quoted and role not in ("time_clf", "time_iso", "time_epoch"):
                pat = r'(?:[^"\\]|\\.)*'
            else:
                pat = _ROLE_PATTERNS[role]
            if role == "time_strf":
                used.add(role)  # its parts are named groups t_Y, t_m...
            elif role is not None and role != "is_args" and role not in used:
                used.add(role)
                pat = f"(?P<{role}>{pat})"
            else:
                pat = f"(?:{pat})"
            out.append(prefix + pat + suffix)
        if not used & {"request", "request_uri", "path"}:
            raise ValueError("the log format must contain the request: %r, %U or "
                             "$request, $request_uri, $uri")
        times = [r for r in ("time_clf", "time_iso", "time_epoch", "time_strf") if r in used]
        return re.compile(("".join(out) + r"\s*").encode(), re.DOTALL), (times[0] if times else None)

    def configure(self, sample_lines: list[bytes], options: FormatOptions) -> LineFormat:
        if options.log_format is None:
            raise ValueError("the custom format needs --log-format")
        if options.log_format == self.log_format:
            return self
        return CustomFormat(options.log_format)

    def matches(self, line: bytes) -> bool:
        return self.regex is not None and isinstance(self.parse(line), LogEntry)

    def parse(self, line: bytes) -> LogEntry | str:
        if self.regex is None:
            return "no --log-format given"
        m = self.regex.fullmatch(line)
        if m is None:
            return "line does not match --log-format"
        g = m.groupdict()
        ts = None
        if self.time_role is not None:
            t = g.get(self.time_role)
            if self.time_role == "time_clf":
                ts = parse_clf_time(t)
            elif self.time_role == "time_epoch":
                ts = parse_epoch_time(t.decode("ascii"))
            elif self.time_role == "time_strf":
                ts = _strf_time(*(g.get("t_" + k) for k in _STRF_KEYS))
            else:
                ts = parse_iso_time(t.decode("ascii", "replace"))
            if ts is None:
                return "bad timestamp"
        method = _dec(g.get("method"))
        if g.get("request") is not None:
            split = split_request(g["request"])
            if isinstance(split, str):
                return split
            method, target = split
        elif g.get("request_uri") is not None:
            target = unescape_log_bytes(g["request_uri"])
        else:
            target = g["path"]
            q = g.get("query") or g.get("args")
            if q and q != b"-":
                target += q if q[:1] == b"?" else b"?" + q
            target = unescape_log_bytes(target)
        ua = g.get("ua")
        status = g.get("status")
        return LogEntry(
            target=target,
            ts=ts,
            method=method,
            status=_int(status),
            client_ip=_dec(g.get("ip")),
            user_agent=_dec(unescape_log_bytes(ua)) if ua is not None else None,
        )


# --- plain URL lists -----------------------------------------------------------------------------


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


# --- JSON documents ----------------------------------------------------------------------------

_WS = " \t\r\n\ufeff"


def _canonical(obj: Any) -> bytes:
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


def json_document_lines(data: bytes) -> tuple[list[bytes], str | None]:
    """A top-level JSON array -> one canonical JSON line per element (no newlines inside).

    Returns (lines, problem). Several arrays one after the other (exports appended to one
    file) are read in turn. Elements up to the first malformed one are kept; the unreadable
    rest becomes one last line (so it is counted, and rejected if it looks like a redirect)
    and *problem* says where reading stopped. Not ``[...]`` at all: ([], reason).
    """
    text = data.decode("utf-8", "surrogateescape")
    n = len(text)

    def skip(i: int) -> int:
        while i < n and text[i] in _WS:
            i += 1
        return i

    i = skip(0)
    if i >= n or text[i] != "[":
        return [], "not a JSON array"
    dec = json.JSONDecoder()
    out: list[bytes] = []
    while i < n:
        if text[i] != "[":
            break  # something else after a complete array
        i = skip(i + 1)
        closed = False
        if i < n and text[i] == "]":
            i = skip(i + 1)
            continue
        while True:
            try:
                obj, i = dec.raw_decode(text, i)
            except (ValueError, RecursionError):
                break
            out.append(_canonical(obj))
            i = skip(i)
            if i < n and text[i] == ",":
                i = skip(i + 1)
                continue
            if i < n and text[i] == "]":
                closed = True
                i = skip(i + 1)
            break
        if not closed:
            break
    else:
        return out, None
    good = len(out)
    rest = " ".join(text[i:].split())
    if rest:
        out.append(_text_bytes(rest))
    return out, f"JSON array is truncated or malformed after element {good}"


def is_json_document(head: bytes) -> bool:
    """Does *head* (a file's first bytes) start a JSON array of objects?

    The first element must parse (the head may end inside a later one), so a custom log
    line starting ``[01/Oct/2026...`` is not taken for one.
    """
    lead = head[:4096].lstrip(b" \t\r\n")  # cheap test first: this runs on every file
    if lead.startswith(b"\xef\xbb\xbf"):
        lead = lead[3:].lstrip(b" \t\r\n")
    if lead[:1] != b"[":
        return False
    s = head.lstrip(b" \t\r\n\xef\xbb\xbf")
    rest = s[1:].lstrip(b" \t\r\n")
    if rest[:1] == b"]":
        return rest[1:].strip() == b""
    if rest[:1] != b"{":
        return False
    try:
        obj, _ = json.JSONDecoder().raw_decode(rest.decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, dict)


# --- registry and detection ------------------------------------------------------------------------

# Most specific first: detection takes the format matching most sample lines, ties to the earlier.
FORMATS: dict[str, LineFormat] = {
    f.name: f
    for f in (
        AlbFormat(), ElbFormat(), CloudFrontFormat(), HerokuFormat(),
        GcpFormat(), CloudflareFormat(), TraefikJsonFormat(), CaddyFormat(),
        TraefikClfFormat(), CombinedFormat(), CommonFormat(), JsonFormat(), UrlListFormat(),
        CustomFormat(),
    )
}


def get_format(name: str, sample_lines: list[bytes] | None = None,
               options: FormatOptions | dict | None = None) -> LineFormat:
    """The format *name*, configured for a file from its *sample_lines* and *options*.

    Raises ValueError for an unknown name (or ``custom`` without a log format).
    """
    try:
        proto = FORMATS[name]
    except KeyError:
        raise ValueError(
            f"unknown format {name!r}; choose one of: auto, {', '.join(FORMATS)}"
        ) from None
    sample = [ln.rstrip(b"\r") for ln in (sample_lines or ())]
    return proto.configure(sample, FormatOptions.of(options))


def _share(fmt: LineFormat, lines: list[bytes]) -> float:
    # The share is what the chosen reader can read: requests and its own non-request lines
    # (headers, app lines), and combined also reads common lines.
    return sum(1 for ln in lines if not isinstance(fmt.parse(ln), str)) / len(lines)


def _detect_lines(lines: list[bytes], opts: FormatOptions) -> tuple[LineFormat | None, float]:
    if opts.log_format is not None:
        candidates = [FORMATS["custom"].configure(lines, opts)]
    else:
        candidates = [f.configure(lines, opts) for f in FORMATS.values() if f.name != "custom"]
    best, best_n = None, 0
    for fmt in candidates:
        n = sum(1 for ln in lines if fmt.matches(ln))
        if n > best_n:
            best, best_n = fmt, n
    if best is None:
        return None, 0.0
    return best, _share(best, lines)


def detect_format(sample_lines: list[bytes],
                  options: FormatOptions | dict | None = None) -> tuple[LineFormat | None, float]:
    """Pick the format matching the most *sample_lines*, configured for this file.

    Returns (format, share of non-blank sample lines it reads). A few odd lines at the start
    never decide: the format wins on the count, ties go to the more specific one. With a
    ``log_format`` option the custom format is the only candidate.
    """
    opts = FormatOptions.of(options)
    lines = [ln.rstrip(b"\r") for ln in sample_lines if ln.strip()]
    if not lines:
        return None, 0.0
    return _detect_lines(lines, opts)
