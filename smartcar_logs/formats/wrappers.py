"""Container and syslog wrappers: a layer around any format, not a format of its own.

Docker's ``json-file`` driver, the Kubernetes CRI runtime, syslog and the systemd journal's JSON
export each put their own envelope around the line the server wrote. A :class:`Wrapper` takes
one envelope off a line; :class:`WrappedFormat` is a :class:`LineFormat` that does that and
hands the inner line to the inner format, so the importer reads a Docker json-file of nginx
lines as combined without knowing about wrappers (its name, ``docker+combined``, is what the
summary shows and what is remembered for the file). Detection tries each wrapper on the sample
and detects the inner format on what comes out (``formats.__init__``).

The inner line's own time wins (it is when the server handled the request); the envelope's time
is used when the inner format has none.
"""

from __future__ import annotations

import re

from ._json import _load_json
from ._text import _text_bytes
from ._time import parse_epoch_time, parse_iso_time
from .base import FormatOptions, LineFormat, LogEntry

__all__ = ["Wrapper", "WrappedFormat", "WRAPPERS"]


class Wrapper:
    """One envelope: :meth:`unwrap` returns (inner line, envelope time or None), or None."""

    name = ""
    description = ""
    example = ""

    def unwrap(self, line: bytes) -> tuple[bytes, str | None] | None:  # pragma: no cover - interface
        raise NotImplementedError


class DockerJsonFile(Wrapper):
    """Docker ``json-file`` driver: ``{"log":"<line>\\n","stream":"stdout","time":"<RFC 3339>"}``."""

    name = "docker"
    description = (
        'Docker json-file: {"log":"1.2.3.4 - - [01/Oct/2026:09:00:01 +0200] \\"GET /cb?... '
        'HTTP/1.1\\" 302 0 \\"-\\" \\"UA\\"\\n","stream":"stdout","time":"2026-10-01T07:00:01.5Z"}'
    )
    example = "smartcar-logs import /var/lib/docker/containers/*/*-json.log"

    def unwrap(self, line: bytes) -> tuple[bytes, str | None] | None:
        if not line.startswith(b'{"log":'):  # the driver always writes "log" first
            return None
        obj = _load_json(line)
        if obj is None:
            return None
        log = obj.get("log")
        if not isinstance(log, str):
            return None
        t = obj.get("time")
        return _text_bytes(log.rstrip("\r\n")), parse_iso_time(t) if isinstance(t, str) else None


_CRI_RE = re.compile(rb"(\d{4}-\d\d-\d\dT\S+) (?:stdout|stderr) [FP] ?(.*)", re.DOTALL)


class KubernetesCri(Wrapper):
    """Kubernetes CRI (containerd, CRI-O): ``2026-10-01T07:00:01.123456789Z stdout F <line>``.

    ``P`` marks a line the runtime split (over 16 KiB); the pieces are read as they are: no
    access-log request line is that long.
    """

    name = "cri"
    description = "Kubernetes CRI: 2026-10-01T07:00:01.123456789Z stdout F <the server's line>"
    example = "smartcar-logs import /var/log/pods/default_web-*/nginx/*.log"

    def unwrap(self, line: bytes) -> tuple[bytes, str | None] | None:
        if line[4:5] != b"-":
            return None
        m = _CRI_RE.match(line)
        if m is None:
            return None
        return m.group(2), parse_iso_time(m.group(1).decode("ascii", "replace"))


# RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD...]|- MSG (MSG may start with a BOM).
_RFC5424_RE = re.compile(
    rb"<\d{1,3}>1 (\S+) \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]\"\\]|\\.|\"(?:[^\"\\]|\\.)*\")*\])+)"
    rb" ?(?:\xef\xbb\xbf)?(.*)",
    re.DOTALL,
)
# RFC 3164 (and rsyslog's RFC 3339 variant): [<PRI>]TIMESTAMP HOST TAG[PID]: MSG.
_RFC3164_RE = re.compile(
    rb"(?:<\d{1,3}>)?(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|(\d{4}-\d\d-\d\dT\S+)) "
    rb"\S+ [^\s\[:]+(?:\[[^\]]*\])?: ?(.*)",
    re.DOTALL,
)


class Syslog(Wrapper):
    """Syslog prefixes: RFC 3164 (``Oct  1 09:00:01 host haproxy[123]: <line>``), its RFC 3339
    variant (rsyslog), and RFC 5424 (``<134>1 2026-10-01T07:00:01Z host app - - - <line>``).

    RFC 3164 times have no year and no zone, so they are only used through the inner line.
    """

    name = "syslog"
    description = "syslog: Oct  1 09:00:01 lb1 haproxy[123]: <the server's line> (RFC 3164 or 5424)"
    example = "smartcar-logs import /var/log/haproxy.log"

    def unwrap(self, line: bytes) -> tuple[bytes, str | None] | None:
        if line[:1] == b"<":
            m = _RFC5424_RE.match(line)
            if m is not None:
                return m.group(2), parse_iso_time(m.group(1).decode("ascii", "replace"))
        m = _RFC3164_RE.match(line)
        if m is None:
            return None
        t = m.group(1)
        return m.group(2), parse_iso_time(t.decode("ascii", "replace")) if t else None


class JournaldJson(Wrapper):
    """systemd journal export, ``journalctl -u nginx -o json``: ``MESSAGE`` holds the line,
    ``__REALTIME_TIMESTAMP`` the time in microseconds. (``journalctl``'s default output is
    syslog-style and read by :class:`Syslog`.)"""

    name = "journald"
    description = (
        'journald JSON: {"__REALTIME_TIMESTAMP":"1790838001123456","MESSAGE":"<the server\'s line>",...}'
    )
    example = "journalctl -u nginx -o json | smartcar-logs import -"

    def unwrap(self, line: bytes) -> tuple[bytes, str | None] | None:
        if line[:1] != b"{" or b'"MESSAGE"' not in line:
            return None
        obj = _load_json(line)
        if obj is None:
            return None
        msg = obj.get("MESSAGE")
        if isinstance(msg, list):  # the journal exports a message that is not UTF-8 as its bytes
            try:
                msg_b = bytes(msg)
            except (TypeError, ValueError):
                return None
        elif isinstance(msg, str):
            msg_b = _text_bytes(msg)
        else:
            return None
        t = obj.get("__REALTIME_TIMESTAMP")
        return msg_b.rstrip(b"\r\n"), parse_epoch_time(t) if isinstance(t, (str, int)) else None


# service-1  | [time ]line, with the ANSI colours and erase codes compose writes on a terminal.
_COMPOSE_RE = re.compile(
    rb"(?:\x1b\[[0-9;]*[A-Za-z])*[\w.-]+ *(?:\x1b\[[0-9;]*m)*\|(?:\x1b\[[0-9;]*m)* ?"
    rb"(?:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*) )?(.*)",
    re.DOTALL,
)


class DockerCompose(Wrapper):
    """``docker compose logs`` output: ``web-1  | <line>`` (``-t``: ``web-1  | <RFC 3339> <line>``)."""

    name = "compose"
    description = (
        "docker compose logs: web-1  | <the server's line> (with -t: web-1  | 2026-10-01T07:00:01Z <line>)"
    )
    example = "docker compose logs --no-color web > web.log && smartcar-logs import web.log"

    def unwrap(self, line: bytes) -> tuple[bytes, str | None] | None:
        if b"|" not in line[:80]:
            return None
        m = _COMPOSE_RE.match(line)
        if m is None:
            return None
        t = m.group(1)
        return m.group(2), parse_iso_time(t.decode("ascii", "replace")) if t else None


WRAPPERS: dict[str, Wrapper] = {
    w.name: w for w in (DockerJsonFile(), KubernetesCri(), Syslog(), JournaldJson(), DockerCompose())
}


class WrappedFormat(LineFormat):
    """*inner* read through *wrapper*: ``docker+combined``, ``syslog+haproxy``, ``cri+json``..."""

    def __init__(self, wrapper: Wrapper, inner: LineFormat):
        self.wrapper = wrapper
        self.inner = inner
        self.name = f"{wrapper.name}+{inner.name}"
        self.description = f"{inner.name} lines inside {wrapper.name} envelopes"

    def configure(self, sample_lines: list[bytes], options: FormatOptions) -> LineFormat:
        inner = [u[0] for u in map(self.wrapper.unwrap, sample_lines) if u is not None]
        return WrappedFormat(self.wrapper, self.inner.configure(inner, options))

    def parse(self, line: bytes) -> LogEntry | None | str:
        u = self.wrapper.unwrap(line)
        if u is None:
            return f"not a {self.wrapper.name} line"
        e = self.inner.parse(u[0])
        if isinstance(e, LogEntry) and e.ts is None and u[1] is not None:
            e.ts = u[1]
        return e

    def matches(self, line: bytes) -> bool:
        u = self.wrapper.unwrap(line)
        return u is not None and self.inner.matches(u[0])
