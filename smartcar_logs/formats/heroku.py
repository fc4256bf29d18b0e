"""Heroku router logs: logfmt after a syslog-style prefix."""

from __future__ import annotations

import re

from ._text import _dec, _int
from ._time import parse_iso_time
from .base import LineFormat, LogEntry

__all__ = ["HerokuFormat", "logfmt"]

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
    description = (
        "Heroku router: 2018-09-16T15:13:46.677020+00:00 heroku[router]: at=info method=GET "
        'path="/cb?..." host=myapp.herokuapp.com request_id=... fwd="1.2.3.4" dyno=web.1 '
        "connect=0ms service=1ms status=302 bytes=..."
    )
    example = "heroku logs -n 1500 -a myapp | smartcar-logs import -"

    def parse(self, line: bytes) -> LogEntry | None | str:
        m = _HEROKU_RE.match(line)
        if m is None:
            return "not a heroku log line"
        src, dyno = (
            (m.group("src"), m.group("dyno"))
            if m.group("src") is not None
            else (m.group("src2"), m.group("dyno2"))
        )
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
