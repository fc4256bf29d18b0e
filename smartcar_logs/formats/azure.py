"""Azure diagnostic logs: Front Door (classic, Standard/Premium) and Application Gateway v1/v2.

Both arrive as JSON lines from a storage account (or a Log Analytics / Event Hub export
turned into lines), with a top-level ``category`` and the request in ``properties``.
"""

from __future__ import annotations

from ._json import _first, _load_json
from ._text import _clean, _int, _strip_port, _text_bytes
from ._time import parse_any_time
from .base import LineFormat, LogEntry

__all__ = ["AzureFormat"]

_CATEGORIES = frozenset(("FrontdoorAccessLog", "FrontDoorAccessLog", "ApplicationGatewayAccessLog"))
# Application Gateway v1 appends its own parameters to requestQuery.
_GATEWAY_PARAMS = (b"X-AzureApplicationGateway-", b"SERVER-ROUTED=", b"SERVER-STATUS=")


def _own_query(q: bytes) -> bytes:
    """requestQuery without the parameters Application Gateway v1 adds to it."""
    if b"SERVER-" not in q and b"X-AzureApplicationGateway" not in q:
        return q
    return b"&".join(p for p in q.split(b"&") if not p.startswith(_GATEWAY_PARAMS))


class AzureFormat(LineFormat):
    """Azure Front Door and Application Gateway access logs (JSON lines).

    Front Door: ``properties.requestUri`` is the whole URL. Application Gateway v2:
    ``originalRequestUriWithArgs`` (before any rewrite), else ``requestUri`` + ``requestQuery``;
    v1 has only ``requestUri`` (the path) and ``requestQuery``, to which the gateway appends
    its own ``X-AzureApplicationGateway-*``/``SERVER-*`` parameters (dropped here). The time is
    ``time`` (v2: ``timeStamp``), UTC. Other categories (firewall, health probes) are ordinary.
    """

    name = "azure"
    description = (
        'Azure Front Door / Application Gateway: {"time":"2026-10-01T07:00:01Z","category":'
        '"ApplicationGatewayAccessLog","properties":{"clientIP":"...","httpMethod":"GET",'
        '"requestUri":"/cb","requestQuery":"...","httpStatus":302,"userAgent":"..."}}'
    )
    example = "smartcar-logs import $(find insights-logs-applicationgatewayaccesslog -name PT1H.json)"
    json_lines = True

    def entry(self, obj: dict) -> LogEntry | None | str:
        props = obj.get("properties")
        if obj.get("category") not in _CATEGORIES or not isinstance(props, dict):
            return None
        uri = _first(props, ("originalRequestUriWithArgs", "requestUri"))
        if not isinstance(uri, str) or not uri:
            return None
        target = _text_bytes(uri)
        q = props.get("requestQuery")
        if b"?" not in target and isinstance(q, str) and q:
            q = _own_query(_text_bytes(q))
            if q:
                target += b"?" + q
        t = _first(obj, ("time", "timeStamp", "properties.timeStamp"))
        ts = parse_any_time(t) if t is not None else None
        if t is not None and ts is None:
            return "bad timestamp"
        ip = _clean(_first(props, ("clientIp", "clientIP", "socketIp")))
        return LogEntry(
            target=target,
            ts=ts,
            method=_clean(props.get("httpMethod")),
            status=_int(_first(props, ("httpStatusCode", "httpStatus"))),
            client_ip=_strip_port(ip) if ip else None,
            user_agent=_clean(props.get("userAgent")),
        )

    def parse(self, line: bytes) -> LogEntry | None | str:
        obj = _load_json(line)
        if obj is None:
            return "not a JSON object"
        return self.entry(obj)

    def matches(self, line: bytes) -> bool:
        obj = _load_json(line)
        return obj is not None and isinstance(self.entry(obj), LogEntry)
