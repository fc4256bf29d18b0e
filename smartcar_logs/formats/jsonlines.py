"""JSON-lines access logs: generic JSON (known field names) and the vendors' fixed layouts."""

from __future__ import annotations

import re

from ._json import _first, _get, _header, _load_json
from ._text import _clean, _host_of, _int, _split_request_line, _strip_port, _text_bytes
from ._time import parse_any_time
from .base import FormatError, FormatOptions, LineFormat, LogEntry

__all__ = ["JsonFormat", "GcpFormat", "KongFormat", "CaddyFormat", "TraefikJsonFormat", "CloudflareFormat"]

_URL_START_RE = re.compile(r"/|[A-Za-z][A-Za-z0-9+.-]*://")
# A request line inside other text: the message field of a shipped log line.
_REQUEST_IN_TEXT_RE = re.compile(r'([A-Z][A-Z-]{1,15}) (/\S*|[a-z][a-z0-9+.-]*://\S+) HTTP/\d(?:\.\d)?"?')


def _walk(o: dict, prefix: str = "", depth: int = 0):
    """(dotted name, value) of every leaf field of *o*, nested objects too (three levels)."""
    for k, v in o.items():
        if isinstance(v, dict) and v and depth < 3:
            yield from _walk(v, f"{prefix}{k}.", depth + 1)
        else:
            yield prefix + k, v


def _field_names(objs: list[dict], limit: int = 40) -> list[str]:
    """Dotted names of the fields in *objs* (nested objects too), for an error message."""
    names = list(dict.fromkeys(name for o in objs for name, _ in _walk(o)))
    return names[:limit] + (["..."] if len(names) > limit else [])


def _url_field_guess(objs: list[dict]) -> str | None:
    """The field whose values most often look like a URL with a query: the --url-field to try."""
    counts: dict[str, int] = {}
    for o in objs:
        for name, v in _walk(o):
            if isinstance(v, str) and "?" in v and "=" in v and (_URL_START_RE.match(v) or " /" in v):
                counts[name] = counts.get(name, 0) + 1
    return max(counts, key=counts.get) if counts else None


class JsonFormat(LineFormat):
    """Any JSON-lines access log (nginx ``escape=json``, app servers...): known field names.

    The URL is the first of :attr:`url_fields` holding a path or URL (``request`` may hold a
    whole request line); ``--url-field`` and ``--time-field`` (dotted for nested objects) are
    tried before the known names. A JSON object without a URL field is an ordinary line.
    """

    name = "json"
    description = (
        'JSON lines: {"time_iso8601":"2026-10-01T09:00:01+02:00","request_uri":"/cb?...",'
        '"status":302,...}; --url-field / --time-field for other names'
    )
    example = "smartcar-logs import --url-field req.url --time-field time app-access.jsonl"
    json_lines = True
    url_fields: tuple[str, ...] = (
        "request_uri",
        "uri",
        "url",
        "request_url",
        "requestUrl",
        "requestURI",
        "request_path",
        "url.original",
        "url.full",
        "http.url",
        "http.request.uri",
        "req.url",
        "request.url",
        "request.uri",
        "httpRequest.requestUrl",
        "RequestPath",
        "ClientRequestURI",
        "path",
        "request",
    )
    time_fields: tuple[str, ...] = (
        "time_iso8601",
        "time_local",
        "timestamp",
        "@timestamp",
        "time",
        "ts",
        "msec",
        "datetime",
        "date",
        "start_time",
        "StartUTC",
        "EdgeStartTimestamp",
        "started_at",
    )
    method_fields = (
        "request_method",
        "method",
        "http_method",
        "verb",
        "request.method",
        "http.request.method",
        "req.method",
    )
    status_fields = (
        "status",
        "status_code",
        "statusCode",
        "response_code",
        "http_status",
        "response_status",
        "http.response.status_code",
        "res.statusCode",
        "response.status",
        "DownstreamStatus",
        "EdgeResponseStatus",
        "httpRequest.status",
    )
    ip_fields = (
        "remote_addr",
        "client_ip",
        "remote_ip",
        "clientip",
        "client_addr",
        "ip",
        "remote_host",
        "client.ip",
        "source.ip",
        "ClientHost",
        "ClientIP",
        "httpRequest.remoteIp",
        "request.client_ip",
    )
    ua_fields = (
        "http_user_agent",
        "user_agent",
        "userAgent",
        "agent",
        "ua",
        "user_agent.original",
        "req.headers.user-agent",
        "request.headers.User-Agent",
        "request.headers.user-agent",
        "request_User-Agent",
        "ClientRequestUserAgent",
        "httpRequest.userAgent",
    )
    query_fields = (
        "args",
        "query_string",
        "request_query",
        "querystring",
        "queryString",
        "query",
        "request_args",
    )

    def __init__(self, url_field: str | None = None, time_field: str | None = None):
        self.url_field = url_field
        self.time_field = time_field

    def configure(self, sample_lines: list[bytes], options: FormatOptions) -> LineFormat:
        if not (options.url_field or options.time_field):
            return self
        objs = [o for o in map(_load_json, sample_lines) if o is not None]
        for flag, field in (("--url-field", options.url_field), ("--time-field", options.time_field)):
            if field and objs and all(_get(o, field) is None for o in objs):
                raise FormatError(
                    f"{flag} {field!r} is in none of the first {len(objs)} JSON lines; "
                    f"the fields there are: {', '.join(_field_names(objs))}"
                )
        return type(self)(options.url_field, options.time_field)

    def _target(self, obj: dict) -> tuple[bytes, str | None] | None:
        """(target, method from a request line or None); None when no field holds a URL.

        The first field holding a URL *with* a query wins, so ``"request_path": "$uri"``
        before ``"request": "$request"`` still finds the query; without one, the first URL
        gets the query from its own field (``args``, ``query_string``, ``request_query``...).
        """
        fields = ((self.url_field,) if self.url_field else ()) + self.url_fields
        first = None
        for f in fields:
            v = _header(_get(obj, f))
            if not isinstance(v, str) or not v or v == "-":
                continue
            if " " in v:  # a request line (GET /x HTTP/1.1); in --url-field perhaps a whole log line
                if f != "request" and f != self.url_field:
                    continue
                split = _split_request_line(_text_bytes(v))
                if isinstance(split, str):
                    m = _REQUEST_IN_TEXT_RE.search(v) if f == self.url_field else None
                    if m is None:
                        continue
                    split = (m.group(1), _text_bytes(m.group(2)))
                found = (split[1], split[0])
            elif f != self.url_field and _URL_START_RE.match(v) is None:
                continue
            else:
                found = (_text_bytes(v), None)
            if b"?" in found[0]:
                return found
            if first is None:
                first = found
        if first is None:
            return None
        q = _first(obj, self.query_fields)
        if isinstance(q, str) and q and q != "-":
            return first[0] + b"?" + _text_bytes(q.lstrip("?")), first[1]
        return first

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
    #: A key the vendor always writes; lines without it are not claimed by detection.
    required: str = ""

    def configure(self, sample_lines: list[bytes], options: FormatOptions) -> LineFormat:
        return self

    def matches(self, line: bytes) -> bool:
        obj = _load_json(line)
        return (
            obj is not None
            and (not self.required or self.required in obj)
            and isinstance(self.entry(obj), LogEntry)
        )

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
    description = (
        'Google Cloud LB / Cloud Run: {"httpRequest":{"requestMethod":"GET","requestUrl":'
        '"https://app.example.com/cb?...","status":302,...},"timestamp":"2018-08-06T07:55:14.708181828Z",...}'
    )
    example = (
        "gcloud logging read 'httpRequest.requestUrl:\"/smartcar/callback\"' --format=json "
        "> gcp.json && smartcar-logs import gcp.json"
    )
    url = "httpRequest.requestUrl"
    times = ("timestamp", "receiveTimestamp")
    method = ("httpRequest.requestMethod",)
    status = ("httpRequest.status",)
    ip = ("httpRequest.remoteIp",)
    ua = ("httpRequest.userAgent",)

    def entry(self, obj: dict) -> LogEntry | None | str:
        e = super().entry(obj)
        if isinstance(e, LogEntry) and e.client_ip:
            e.client_ip = _strip_port(e.client_ip)  # external LBs log remoteIp as "ip:port"
        return e


class KongFormat(_VendorJson):
    """Kong Gateway ``file-log`` / ``http-log`` / ``tcp-log`` JSON (the basic log serializer).

    ``request.uri`` is the request URI with its query, ``started_at`` epoch milliseconds.
    Registered before Caddy, whose ``request.uri`` it shares; a line without ``started_at``
    is not claimed.
    """

    name = "kong"
    description = (
        'Kong file-log: {"request":{"method":"GET","uri":"/cb?...","headers":{"user-agent":"..."}},'
        '"response":{"status":302},"client_ip":"203.0.113.9","started_at":1790000000123,...}'
    )
    example = "smartcar-logs import /usr/local/kong/logs/file-log.json"
    url = "request.uri"
    times = ("started_at",)
    method = ("request.method",)
    status = ("response.status",)
    ip = ("client_ip",)
    ua = ("request.headers.user-agent", "request.headers.User-Agent")
    required = "started_at"


class CaddyFormat(_VendorJson):
    """Caddy v2 JSON access logs: ``request.uri``, ``ts`` (epoch seconds by default)."""

    name = "caddy"
    description = (
        'Caddy JSON: {"level":"info","ts":1646861401.5241024,"logger":"http.log.access",'
        '"request":{"client_ip":"...","method":"GET","uri":"/cb?...","headers":{"User-Agent":["..."]}},"status":302}'
    )
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
    description = (
        'Traefik JSON: {"ClientHost":"...","DownstreamStatus":302,"RequestMethod":"GET",'
        '"RequestPath":"/cb?...","StartUTC":"2026-10-01T07:00:01.123456789Z",...}'
    )
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
    description = (
        'Cloudflare Logpush: {"ClientIP":"...","ClientRequestMethod":"GET","ClientRequestURI":"/cb?...",'
        '"EdgeResponseStatus":302,"EdgeStartTimestamp":1506702504433000200,...}'
    )
    example = "smartcar-logs import logpush/20261001/*.log.gz"
    url = "ClientRequestURI"
    times = ("EdgeStartTimestamp", "EdgeEndTimestamp")
    method = ("ClientRequestMethod",)
    status = ("EdgeResponseStatus", "OriginResponseStatus")
    ip = ("ClientIP",)
    ua = ("ClientRequestUserAgent",)
