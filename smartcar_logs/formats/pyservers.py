"""Python application servers that write their own request log: uWSGI, Werkzeug (Flask's
development server) and Python's ``http.server``.

Both write the server's local time without a zone; it is read as UTC (as in a container).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ._text import _Q, _client, _dec, _int, split_request
from ._time import _MONTHS, parse_clf_time
from .base import LineFormat, LogEntry

__all__ = ["UwsgiFormat", "WerkzeugFormat"]

_UWSGI_RE = re.compile(
    rb"\[pid: \d+\|app: [-\d]+\|req: [-\d]+/[-\d]+\] (?P<ip>.+?) \([^)]*\) \{\d+ vars in \d+ bytes\} "
    rb"\[[A-Z][a-z]{2} (?P<mon>[A-Z][a-z]{2}) +(?P<day>\d+) (?P<clock>\d\d:\d\d:\d\d) (?P<year>\d{4})\] "
    rb"(?P<method>\S+) (?P<uri>\S*) => generated \d+ bytes in \d+ \w+ \((?P<proto>\S+) (?P<status>\d{3})\)",
    re.DOTALL,
)


@lru_cache(maxsize=1024)
def _ctime(mon: bytes, day: bytes, clock: bytes, year: bytes) -> str | None:
    """``Mar``, ``13``, ``22:49:12``, ``2016`` (C ``ctime``) -> UTC ISO 8601 (local time read as UTC)."""
    if mon not in _MONTHS:
        return None
    return parse_clf_time(b"%02d/%s/%s:%s +0000" % (int(day), mon, year, clock))


class UwsgiFormat(LineFormat):
    """uWSGI's default request log line (``--log-x-forwarded-for`` lists are read too)."""

    name = "uwsgi"
    description = (
        "uWSGI: [pid: 881|app: 0|req: 1/1] 203.0.113.9 () {38 vars in 696 bytes} "
        "[Thu Oct  1 07:00:01 2026] GET /cb?... => generated 0 bytes in 3 msecs (HTTP/1.1 302) "
        "2 headers in 80 bytes (1 switches on core 0)"
    )
    example = "smartcar-logs import /var/log/uwsgi/app.log"

    def parse(self, line: bytes) -> LogEntry | None | str:
        m = _UWSGI_RE.match(line)
        if m is None:
            return "not a uwsgi request log line"
        ts = _ctime(m.group("mon"), m.group("day"), m.group("clock"), m.group("year"))
        if ts is None:
            return "bad timestamp"
        client, forwarded = _client(m.group("ip"))
        return LogEntry(
            target=m.group("uri"),
            ts=ts,
            method=_dec(m.group("method")),
            status=_int(m.group("status")),
            client_ip=client,
            forwarded_for=forwarded,
        )


# ip - - [01/Oct/2026 09:00:01] "GET /x HTTP/1.1" 302 -; logging's "INFO:werkzeug:" prefix and
# the ANSI colours Werkzeug adds on a terminal are allowed.
_WERKZEUG_RE = re.compile(
    rb"(?:[A-Z]+:werkzeug:)?(?P<ip>\S+) - - \[(?P<day>\d\d/[A-Za-z]{3}/\d{4}) (?P<clock>\d\d:\d\d:\d\d)\] "
    rb'(?:\x1b\[[\d;]*m)*"(?P<request>' + _Q + rb')" (?P<status>\d{3}|-) \S+',
    re.DOTALL,
)


class WerkzeugFormat(LineFormat):
    """Werkzeug / Flask development server and ``python -m http.server`` request lines."""

    name = "werkzeug"
    description = (
        'Werkzeug / Flask dev server: 127.0.0.1 - - [01/Oct/2026 09:00:01] "GET /cb?... HTTP/1.1" 302 -'
    )
    example = "flask run 2>&1 | smartcar-logs import -"

    def parse(self, line: bytes) -> LogEntry | None | str:
        m = _WERKZEUG_RE.match(line)
        if m is None:
            return "not a werkzeug request line"
        ts = parse_clf_time(m.group("day") + b":" + m.group("clock") + b" +0000")
        if ts is None:
            return "bad timestamp"
        split = split_request(m.group("request"))
        if isinstance(split, str):
            return split
        return LogEntry(
            target=split[1],
            ts=ts,
            method=split[0],
            status=_int(m.group("status")),
            client_ip=_dec(m.group("ip")),
        )
