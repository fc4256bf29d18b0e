"""A user's Apache ``LogFormat`` / nginx ``log_format`` string, compiled to a regex."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from ._text import _dec, _int, split_request, unescape_log_bytes
from ._time import _MONTHS, parse_clf_time, parse_epoch_time, parse_iso_time
from .base import FormatOptions, LineFormat, LogEntry

__all__ = ["CustomFormat"]

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
    "remote_addr": "ip",
    "realip_remote_addr": "ip",
    "time_local": "time_clf",
    "time_iso8601": "time_iso",
    "msec": "time_epoch",
    "request": "request",
    "request_uri": "request_uri",
    "uri": "path",
    "document_uri": "path",
    "args": "args",
    "query_string": "args",
    "is_args": "is_args",
    "request_method": "method",
    "status": "status",
    "http_user_agent": "ua",
}


# strftime directives of Apache's %{format}t -> (group key, pattern); parsed without strptime.
_STRF_PARTS = {
    "Y": ("Y", r"\d{4}"),
    "y": ("y", r"\d\d"),
    "m": ("m", r"\d\d?"),
    "d": ("d", r"\d\d?"),
    "e": ("d", r" ?\d\d?"),
    "H": ("H", r"\d\d?"),
    "k": ("H", r" ?\d\d?"),
    "M": ("M", r"\d\d"),
    "S": ("S", r"\d\d"),
    "b": ("b", r"[A-Za-z]{3}"),
    "h": ("b", r"[A-Za-z]{3}"),
    "B": ("b", r"[A-Za-z]+"),
    "z": ("z", r"[+-]\d\d:?\d\d|Z"),
    "s": ("s", r"\d+"),
    "Z": (None, r"[A-Za-z]+"),
    "a": (None, r"[A-Za-z]+"),
    "A": (None, r"[A-Za-z]+"),
}
_STRF_ALIASES = {"T": "%H:%M:%S", "F": "%Y-%m-%d", "D": "%m/%d/%y", "R": "%H:%M"}
_STRF_KEYS = ("Y", "y", "m", "b", "d", "H", "M", "S", "z", "s")


def _strftime_regex(layout: str, named: bool) -> str:
    for k, v in _STRF_ALIASES.items():
        layout = layout.replace("%" + k, v)
    out, seen, pos = [], set(), 0
    for m in re.finditer(r"%(.)", layout):
        out.append(re.escape(layout[pos : m.start()]))
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
        dt = datetime(
            year,
            month,
            int(d),
            int(H or 0),
            int(M or 0),
            int(S or 0),
            tzinfo=timezone(timedelta(minutes=off)),
        )
        return dt.astimezone(UTC).isoformat()
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
    example = (
        'smartcar-logs import --log-format \'$remote_addr [$time_iso8601] "$request" $status '
        '"$http_user_agent"\' access.log'
    )

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
                pieces.append((fmt[pos : m.start()], ""))
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
            raise ValueError(
                "the log format must contain the request: %r, %U or $request, $request_uri, $uri"
            )
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
