"""AWS: Application and Classic Load Balancer logs, CloudFront standard logs, S3 server access logs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

from ._text import _Q, _dec, _host_of, _int, split_request, unescape_log_bytes
from ._time import parse_clf_time, parse_iso_time
from .base import FormatOptions, LineFormat, LogEntry

__all__ = ["AlbFormat", "ElbFormat", "CloudFrontFormat", "CLOUDFRONT_FIELDS", "S3Format"]

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
    description = (
        "AWS ALB: https 2018-07-02T22:23:00.186641Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 "
        '10.0.0.1:80 0.086 0.048 0.037 302 302 0 57 "GET https://www.example.com:443/cb?... HTTP/1.1" "UA" ...'  # noqa: E501
    )
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
    description = (
        "AWS Classic ELB: 2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 "
        '0.000073 0.001048 0.000057 302 302 0 29 "GET https://www.example.com:443/cb?... HTTP/1.1" "UA" - -'
    )
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
    description = (
        "AWS CloudFront standard log: #Fields: date time ... cs-uri-stem sc-status ... cs-uri-query ..."
    )
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
        self.needed = 1 + max(
            i for i in (self.i_date, self.i_time, self.i_stem, self.i_query, -1) if i is not None
        )

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


# --- Amazon S3 server access logs --------------------------------------------------------

_S3_RE = re.compile(
    rb"(?P<owner>\S+) (?P<bucket>\S+) \[(?P<time>[^\]]*)\] (?P<ip>\S+) \S+ \S+ (?P<op>[A-Z]+\.\S+) \S+ "
    rb'(?:"(?P<request>' + _Q + rb')"|-) (?P<status>\d{3}|-) \S+ \S+ \S+ \S+ \S+ '
    rb'(?:"' + _Q + rb'"|-) (?:"(?P<ua>' + _Q + rb')"|-)',
    re.DOTALL,
)


class S3Format(LineFormat):
    """Amazon S3 server access logs (a bucket serving a static site or the redirect page).

    Space separated with ``[time]`` in CLF; operations without an HTTP request (``BATCH.*``,
    lifecycle) are ordinary. Fields AWS appends are ignored.
    """

    name = "s3"
    description = (
        "AWS S3 server access: 79a59df9... awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 "
        '79a59df9... 3E57427F3EXAMPLE WEBSITE.GET.OBJECT cb "GET /cb?... HTTP/1.1" 302 - ...'
    )
    example = "aws s3 sync s3://my-log-bucket/logs/ s3-logs/ && smartcar-logs import s3-logs/"

    def parse(self, line: bytes) -> LogEntry | None | str:
        m = _S3_RE.match(line)
        if m is None:
            return "not an s3 access log line"
        ts = parse_clf_time(m.group("time"))
        if ts is None:
            return "bad timestamp"
        if m.group("request") is None:
            return None  # an S3-internal operation: ordinary
        split = split_request(m.group("request"))
        if isinstance(split, str):
            return split
        ua = m.group("ua")
        return LogEntry(
            target=split[1],
            ts=ts,
            method=split[0],
            status=_int(m.group("status")),
            client_ip=_dec(m.group("ip")),
            user_agent=_dec(ua) if ua is not None else None,
        )
