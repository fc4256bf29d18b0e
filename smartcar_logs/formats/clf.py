"""nginx / Apache combined and common (with or without a vhost, X-Forwarded-For lists first),
Traefik's CLF, and Apache mod_ssl's ssl_request_log."""

from __future__ import annotations

import re

from ._text import _Q, _client, _dec, split_request, unescape_log_bytes
from ._time import parse_clf_time
from .base import LineFormat, LogEntry

__all__ = ["CombinedFormat", "CommonFormat", "TraefikClfFormat", "SslRequestFormat"]

_CLF_RE = re.compile(
    # ip may be an X-Forwarded-For list ("a, b, c"), so a vhost never ends with a comma. A
    # log_format may also put the list before the address, quoted or not
    # ("$http_x_forwarded_for" $remote_addr - $remote_user [...], as in filebeat's nginx tests):
    # xff + addr, tried after the usual reading fails (one more field before "- user ["). A
    # vhost never starts with a quote, so a quoted first field is that list. An unquoted list of
    # one address cannot be told from a vhost, and is read as one.
    rb"(?:(?P<vhost>(?!\")\S*[^\s,]) )?"
    rb'(?:(?P<ip>\S+(?:, \S+)*)|"(?P<xffq>[^"]*)" (?P<addrq>\S+)|(?P<xff>\S+(?:, \S+)+) (?P<addr>\S+))'
    rb" \S+ (?P<user>\S+) \[(?P<time>[^\]]*)\] "
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


# The shape of nearly every combined line: no vhost, one client address (no
# X-Forwarded-For list), no backslash escape, a full request line, a size without quotes,
# then referer and user agent. One match of this takes the
# fields the slicing below would find (the slicing's own checks, spelled as a pattern: the
# first " [" opens the time, the first quote after the request closes it...) at less than
# half its cost; any other line is sliced as before. A comma in the first field is an
# X-Forwarded-For list, which only the slicing splits into client and list; a quote there opens
# one written before the address, which only the regex reads.
def common_clf(target: bytes) -> re.Pattern:
    """The pattern of that shape with *target* as the request target's groups (the importer's
    fused parse spells it as a plain path and a query)."""
    return re.compile(
        rb'([^ ,"]+) (?!\[)[^ ]+ (?!\[)[^ ]+ \[([^\]]{26})\] "([A-Z]+) ' + target + rb' HTTP/[^ "\\]*" '
        rb'([0-9]{3}) [^ "]+ "[^"\\]*" "([^"\\]*)"'
    )


_COMMON_CLF = common_clf(rb'([^ "\\]+)')


# Methods, client addresses and user agents repeat from line to line: one str object each
# (no decoding per line), so a worker's pickled rows refer to it once and the main process
# holds one copy; with four blocks of rows in flight that was 20 MB of peak RSS.
_TEXTS: dict[bytes, str] = {}


def _text(b: bytes) -> str:
    s = _TEXTS.get(b)
    if s is None:
        s = b.decode("utf-8", "replace")
        if len(b) <= 512:  # bounded: at most 20,000 values of at most 512 bytes
            if len(_TEXTS) >= 20_000:
                _TEXTS.clear()
            _TEXTS[b] = s
    return s


def _fast_clf(line: bytes) -> LogEntry | None:
    """Slice a well-formed combined/common line without the regex; None means "use it".

    Slicing at known delimiters is several times faster than the general regex and
    gives the same fields; anything unusual falls through to the regex.
    """
    m = _COMMON_CLF.match(line)
    if m is not None:
        ip, t, method, target, status, ua = m.groups()
        ts = parse_clf_time(t)
        if ts is None:
            return None
        return LogEntry(
            target=target,
            ts=ts,
            method=_text(method),
            status=int(status),
            client_ip=None if ip == b"-" else _text(ip),
            user_agent=None if ua == b"-" else _text(ua),
        )
    b = line.find(b" [")
    if b < 0 or line[b + 28 : b + 31] != b'] "':
        return None
    head = line[:b].split(b" ")
    if head[0][:1] == b'"':  # a quoted X-Forwarded-For list before the address: the regex reads it
        return None
    if len(head) == 3:
        ip = head[0]
    elif len(head) == 4:
        ip = head[1] if not head[0].endswith(b",") else head[0] + b" " + head[1]
    else:  # an X-Forwarded-For list with spaces: "a, b, c - -", perhaps after a vhost
        last = len(head) - 3
        first = last
        while first > 0 and head[first - 1].endswith(b","):
            first -= 1
        if first > 1 or first == last:
            return None
        ip = b" ".join(head[first : last + 1])
    ts = parse_clf_time(line[b + 2 : b + 28])
    if ts is None:
        return None
    q = _quote_end(line, b + 31)
    if q < 0 or line[q + 1 : q + 2] != b" ":
        return None
    status_b = line[q + 2 : q + 5]
    if not status_b.isdigit() or line[q + 5 : q + 6] not in (b" ", b""):
        return None
    req = line[b + 31 : q]
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
        if r2 == -1 or line[r2 + 1 : r2 + 3] != b' "':
            return None
        u2 = _quote_end(line, r2 + 3)
        if u2 == -1:
            return None
        ua_b = line[r2 + 3 : u2]
        ua = (
            None
            if ua_b == b"-"
            else (unescape_log_bytes(ua_b) if b"\\" in ua_b else ua_b).decode("utf-8", "replace")
        )
    if b"," in ip:
        client, forwarded = _client(ip)
        return LogEntry(
            target=req[sp1 + 1 : sp2],
            ts=ts,
            method=req[:sp1].decode("utf-8", "replace"),
            status=int(status_b),
            client_ip=client,
            user_agent=ua,
            forwarded_for=forwarded,
        )
    return LogEntry(
        target=req[sp1 + 1 : sp2],
        ts=ts,
        method=req[:sp1].decode("utf-8", "replace"),
        status=int(status_b),
        client_ip=None if ip == b"-" else ip.decode("utf-8", "replace"),
        user_agent=ua,
    )


def _client_of(m: re.Match) -> tuple[str | None, str | None]:
    """(client, X-Forwarded-For list) of a :data:`_CLF_RE` match.

    With the list before the address, the client is the list's first address (the client as
    the first proxy saw it, as when the list is in the address field), else the address nginx
    saw (``$remote_addr``) when the list is empty, ``-`` or starts with ``unknown``.
    """
    ip = m.group("ip")
    if ip is not None:
        return _client(ip)
    xff, addr = (
        (m.group("xffq"), m.group("addrq")) if m.group("addrq") is not None else m.group("xff", "addr")
    )
    first, _ = _client(xff.split(b",", 1)[0])
    if not first or first == "unknown":
        first = _client(addr)[0]
    listed = xff.strip()
    return first, (None if listed in (b"", b"-") else listed.decode("utf-8", "replace"))


class CombinedFormat(LineFormat):
    """nginx/Apache ``combined`` and ``common``, with or without a leading vhost."""

    name = "combined"
    description = 'nginx / Apache combined: 1.2.3.4 - - [01/Oct/2026:09:00:01 +0200] "GET /cb?... HTTP/1.1" 302 0 "-" "UA"'  # noqa: E501
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
        client, forwarded = _client_of(m)
        return LogEntry(
            target=target,
            ts=ts,
            method=method,
            status=int(status) if status != b"-" else None,
            client_ip=client,
            user_agent=_dec(unescape_log_bytes(ua)) if ua is not None else None,
            forwarded_for=forwarded,
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
    description = (
        'Traefik CLF: combined + 3 "router@docker" "http://10.0.0.5:8080" 12ms '
        "(read like combined; the trailing fields are ignored)"
    )
    example = "smartcar-logs import /var/log/traefik/access.log"

    def matches(self, line: bytes) -> bool:
        return (
            line.rstrip().endswith(b"ms")
            and _TRAEFIK_TAIL_RE.search(line) is not None
            and super().matches(line)
        )


# Apache mod_ssl's default: CustomLog logs/ssl_request_log "%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x \"%r\" %b"
_SSL_REQUEST_RE = re.compile(
    rb"\[(?P<time>[^\]]*)\] (?P<ip>\S+) (?:TLSv\S*|SSLv\S*|-) \S+ "
    rb'"(?P<request>' + _Q + rb')" (?:\d+|-)\s*$',
    re.DOTALL,
)


class SslRequestFormat(LineFormat):
    """Apache ``mod_ssl`` ``ssl_request_log``: time first, TLS protocol and cipher, no status."""

    name = "ssl-request"
    description = (
        "Apache mod_ssl ssl_request_log: [01/Oct/2026:09:00:01 +0200] 203.0.113.9 TLSv1.3 "
        'TLS_AES_256_GCM_SHA384 "GET /cb?... HTTP/1.1" 0'
    )
    example = "smartcar-logs import /var/log/httpd/ssl_request_log*"

    def parse(self, line: bytes) -> LogEntry | str:
        m = _SSL_REQUEST_RE.match(line)
        if m is None:
            return "not an ssl_request_log line"
        ts = parse_clf_time(m.group("time"))
        if ts is None:
            return "bad timestamp"
        split = split_request(m.group("request"))
        if isinstance(split, str):
            return split
        return LogEntry(target=split[1], ts=ts, method=split[0], client_ip=_dec(m.group("ip")))
