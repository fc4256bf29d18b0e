"""Envoy's default access log format, and Istio's (Envoy's plus a few fields)."""

from __future__ import annotations

import re

from ._text import _dec, _host_of, _int, split_request
from ._time import parse_iso_time
from .base import LineFormat, LogEntry

__all__ = ["EnvoyFormat"]

# [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
# %RESPONSE_FLAGS% ... "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%"
# "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" [Istio: cluster, upstream local, downstream local,
# downstream remote address, SNI, route]. Istio puts more fields (one of them quoted) between
# the flags and the forwarded-for field, hence the lazy gap.
_ENVOY_RE = re.compile(
    rb'\[(?P<time>\d{4}-\d\d-\d\dT[^\]]+)\] "(?P<request>[^"]*)" (?P<status>\d+) \S+ .*?'
    rb'"(?P<xff>[^"]*)" "(?P<ua>[^"]*)" "[^"]*" "[^"]*" "[^"]*"(?P<rest>.*)',
    re.DOTALL,
)


class EnvoyFormat(LineFormat):
    """Envoy / Istio default text access log. ``START_TIME`` is UTC.

    The client is the first ``X-Forwarded-For`` address (Envoy's default format has no other);
    Istio's format also has ``DOWNSTREAM_REMOTE_ADDRESS``, used when there is no forwarded-for.
    """

    name = "envoy"
    description = (
        'Envoy / Istio: [2026-10-01T07:00:01.921Z] "GET /cb?... HTTP/1.1" 302 - 0 43 217 216 '
        '"203.0.113.9" "UA" "c62ec130-..." "app.example.com" "10.0.0.5:8080"'
    )
    example = "kubectl logs deploy/web -c istio-proxy | smartcar-logs import -"

    def parse(self, line: bytes) -> LogEntry | None | str:
        m = _ENVOY_RE.match(line)
        if m is None:
            return "not an envoy access log line"
        request = m.group("request")
        if request == b"- - -":
            return None  # a TCP connection, not an HTTP request: ordinary
        split = split_request(request)
        if isinstance(split, str):
            return split
        ts = parse_iso_time(m.group("time").decode("ascii", "replace"))
        if ts is None:
            return "bad timestamp"
        xff = _dec(m.group("xff"))
        client = xff.split(",", 1)[0].strip() if xff else None
        if not client:
            rest = m.group("rest").split()
            client = _host_of(rest[3]) if len(rest) >= 4 else None  # Istio's downstream remote
        return LogEntry(
            target=split[1],
            ts=ts,
            method=split[0],
            status=_int(m.group("status")) or None,  # 0: no response was sent
            client_ip=client,
            user_agent=_dec(m.group("ua")),
            forwarded_for=xff if xff and "," in xff else None,
        )
