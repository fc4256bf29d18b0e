"""HAProxy HTTP log (``option httplog``, and ``httpslog``), usually behind a syslog prefix.

The syslog prefix is taken off by the syslog wrapper (``syslog+haproxy``); lines written with
``log stdout format raw`` are read as they are.
"""

from __future__ import annotations

import re

from ._text import _dec, _int, split_request
from ._time import parse_clf_time
from .base import LineFormat, LogEntry

__all__ = ["HaproxyFormat"]

# client:port [accept date] frontend backend/server [optional captured fields] timers status bytes ...
_HAPROXY_RE = re.compile(
    rb"(?P<client>\S+):(?:\d+|-) \[(?P<time>\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d)(?:\.\d+)?\] "
    rb"\S+ \S+/\S+ (?:\S+ )*?"
    rb"-?\d+/-?\d+/-?\d+/-?\d+/\+?-?\d+ (?P<status>-?\d+) \+?\d+ (?P<rest>.*)",
    re.DOTALL,
)
_TCPLOG_RE = re.compile(
    rb"\S+:(?:\d+|-) \[\d\d/[A-Za-z]{3}/\d{4}:[\d:.]+\] \S+ \S+/\S+ -?\d+/-?\d+/\+?-?\d+ "
)
_HEX_RE = re.compile(rb"#([0-9A-Fa-f]{2})")
_UA_RE = re.compile(rb"[A-Za-z][\w.-]*/\S")
_OWN_MESSAGES = (
    b"Proxy ",
    b"Server ",
    b"Connect from ",
    b"backend ",
    b"Health check ",
    b"Stopping ",
    b"Pausing ",
    b"Enabling ",
    b"Disabling ",
)


def _unhash(b: bytes) -> bytes:
    """HAProxy logs ``"``, ``#``, spaces in captures and control bytes as ``#HH``."""
    return _HEX_RE.sub(lambda m: bytes((int(m.group(1), 16),)), b) if b"#" in b else b


class HaproxyFormat(LineFormat):
    """HAProxy ``httplog``: the request is the quoted field after the timers and counters.

    HAProxy writes its local time without a zone: it is read as UTC (run HAProxy with
    ``TZ=UTC``, as containers do, or shift the times). The user agent is only in the log when
    the config captures it (``capture request header User-Agent len 128``): the first
    captured request header that looks like one (``name/version ...``) is taken.
    """

    name = "haproxy"
    description = (
        "HAProxy httplog: 10.0.0.1:38862 [01/Oct/2026:07:00:01.726] fe~ be/srv1 0/0/1/0/2 302 168 "
        '- - ---- 6/6/0/0/0 0/0 "GET /cb?... HTTP/1.1" (behind a syslog prefix or not)'
    )
    example = "smartcar-logs import /var/log/haproxy.log"

    def parse(self, line: bytes) -> LogEntry | None | str:
        m = _HAPROXY_RE.match(line)
        if m is None:
            if line.startswith(_OWN_MESSAGES) or _TCPLOG_RE.match(line):
                return None  # HAProxy's own messages, or a TCP connection (tcplog): ordinary
            return "not a haproxy http log line"
        rest = m.group("rest")
        q1 = rest.find(b'"')
        q2 = rest.find(b'"', q1 + 1) if q1 != -1 else -1
        if q2 == -1:
            return None  # tcplog or a connection line without a request: ordinary
        split = split_request(_unhash(rest[q1 + 1 : q2]))
        if isinstance(split, str):
            return split
        ts = parse_clf_time(m.group("time") + b" +0000")
        if ts is None:
            return "bad timestamp"
        ua = None
        b = rest.find(b"{", 0, q1)  # captured request headers, when the config captures any
        if b != -1:
            end = rest.find(b"}", b)
            for h in rest[b + 1 : end].split(b"|"):
                if _UA_RE.match(h):
                    ua = _unhash(h).decode("utf-8", "replace")
                    break
        status = _int(m.group("status"))
        return LogEntry(
            target=split[1],
            ts=ts,
            method=split[0],
            status=status if status is not None and status >= 0 else None,
            client_ip=_dec(m.group("client")),  # the port is outside the group
            user_agent=ua,
        )
