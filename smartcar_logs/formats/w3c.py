"""W3C extended log files as IIS writes them (IIS 7.5-10, HTTP.sys, Advanced Logging).

Like CloudFront's (which has its own reader, tab separated and percent-encoded once more),
the layout comes from the ``#Fields:`` header. IIS writes a new header block when it restarts
or the field selection changes, so one file can hold several layouts: every layout in the
sample is kept and a line is read with the one whose field count it has. (Only candidate
lines reach a reader, never the headers after the sample, so a layout first seen later in a
file is read with the IIS default layout, with or without X-Forwarded-For, if the count fits.)
"""

from __future__ import annotations

import re

from ._text import _dec, _int
from ._time import parse_iso_time
from .base import FormatOptions, LineFormat, LogEntry

__all__ = ["W3cFormat", "IIS_DEFAULT_FIELDS"]

#: IIS's default W3C field selection (IIS 7.5 to 10).
IIS_DEFAULT_FIELDS = (
    "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken"
).split()
#: IIS 8.5+ with the X-Forwarded-For custom field, a common addition (files without a header).
IIS_XFF_FIELDS = (*IIS_DEFAULT_FIELDS, "X-Forwarded-For")
# Advanced Logging and IIS 8.5+ custom fields quote values with spaces ("" inside is a quote).
_TOKEN_RE = re.compile(rb'"(?:[^"]|"")*"|[^ ]+')
_XFF_FIELDS = ("X-Forwarded-For", "x-forwarded-for", "cs(X-Forwarded-For)", "OriginalIP")


class _Layout:
    __slots__ = ("n", "date", "time", "stem", "query", "uri", "method", "status", "ip", "ua", "xff")

    def __init__(self, fields: tuple[str, ...]):
        ix = {f: i for i, f in reversed(list(enumerate(fields)))}

        def first(*names):
            return next((ix[n] for n in names if n in ix), None)

        self.n = len(fields)
        self.date = first("date", "date-local")
        self.time = first("time", "time-local")
        self.stem = first("cs-uri-stem")
        self.query = first("cs-uri-query")
        self.uri = first("cs-uri")
        self.method = first("cs-method")
        self.status = first("sc-status")
        self.ip = first("c-ip")
        self.ua = first("cs(User-Agent)")
        self.xff = first(*_XFF_FIELDS)


def _field(v: bytes) -> bytes:
    if v[:1] == b'"' and v[-1:] == b'"' and len(v) >= 2:
        return v[1:-1].replace(b'""', b'"')
    return v


class W3cFormat(LineFormat):
    """IIS / W3C extended: space separated, ``cs-uri-stem`` + ``cs-uri-query`` (or ``cs-uri``).

    ``date``/``time`` are UTC (IIS always logs W3C times in UTC); ``date-local``/``time-local``
    (Advanced Logging) are read as UTC too. IIS writes spaces in the user agent as ``+``.
    With an ``X-Forwarded-For`` custom field the client is its first address. Header lines
    are ordinary.
    """

    name = "w3c"
    description = (
        "IIS / W3C extended: #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port "
        "cs-username c-ip cs(User-Agent) cs(Referer) sc-status ..."
    )
    example = r"smartcar-logs import C:\inetpub\logs\LogFiles\W3SVC1\u_ex261001.log"

    def __init__(self, layouts: tuple[tuple[str, ...], ...] = (tuple(IIS_DEFAULT_FIELDS), IIS_XFF_FIELDS)):
        self.layouts = [_Layout(f) for f in layouts]
        self.by_count = {}
        for lay in self.layouts:
            self.by_count.setdefault(lay.n, lay)

    def configure(self, sample_lines: list[bytes], options: FormatOptions) -> LineFormat:
        found: list[tuple[str, ...]] = []
        for ln in sample_lines:
            if ln.startswith(b"#Fields:"):
                names = tuple(ln[8:].decode("ascii", "replace").split())
                if ("cs-uri-stem" in names or "cs-uri" in names) and names not in found:
                    found.append(names)
        if not found:
            return self
        for default in (tuple(IIS_DEFAULT_FIELDS), IIS_XFF_FIELDS):
            if default not in found:
                found.append(default)
        return W3cFormat(tuple(found))

    def parse(self, line: bytes) -> LogEntry | None | str:
        if line[:1] == b"#":
            return None  # #Software / #Version / #Date / #Fields header: ordinary
        f = _TOKEN_RE.findall(line) if b'"' in line else [t for t in line.split(b" ") if t]
        lay = self.by_count.get(len(f))
        if lay is None:
            return "not a w3c log line" if len(f) < 4 else "field count fits no #Fields header"
        if lay.date is None or lay.time is None:
            return "the #Fields header has no date and time"
        ts = parse_iso_time(
            f[lay.date].decode("ascii", "replace") + "T" + f[lay.time].decode("ascii", "replace")
        )
        if ts is None:
            return "bad timestamp"
        if lay.stem is not None:
            target = _field(f[lay.stem])
            q = _field(f[lay.query]) if lay.query is not None else b"-"
            if q and q != b"-":
                target += b"?" + q
        elif lay.uri is not None:
            target = _field(f[lay.uri])
        else:
            return "the #Fields header has no cs-uri-stem"
        if target[:1] != b"/" and b"://" not in target:
            return "not an HTTP request"  # an FTP command (IIS FTP logs share the format)

        def get(i):
            return _field(f[i]) if i is not None else None

        ua = get(lay.ua)
        if ua is not None and lay.ua is not None and f[lay.ua][:1] != b'"':
            ua = ua.replace(b"+", b" ")
        client = _dec(get(lay.ip))
        xff = _dec(get(lay.xff))
        if xff and xff.split(",", 1)[0].strip() not in ("", "-", "unknown"):
            client = xff.split(",", 1)[0].strip()
        return LogEntry(
            target=target,
            ts=ts,
            method=_dec(get(lay.method)),
            status=_int(get(lay.status)),
            client_ip=client,
            user_agent=_dec(ua),
            forwarded_for=xff if xff and "," in xff else None,
        )
