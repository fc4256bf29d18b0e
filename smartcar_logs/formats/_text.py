"""Shared field helpers for the readers: undoing log escaping, request lines, addresses."""

from __future__ import annotations

import re
from typing import Any

# --- escaping ----------------------------------------------------------------------------

_C_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"b": b"\b", b"v": b"\v", b"f": b"\f"}
_ESCAPE_RE = re.compile(rb"\\(x[0-9A-Fa-f]{2}|.)", re.DOTALL)


def _unescape_one(m: re.Match) -> bytes:
    s = m.group(1)
    if len(s) == 3:
        return bytes((int(s[1:], 16),))
    return _C_ESCAPES.get(s, s)


def unescape_log_bytes(field: bytes) -> bytes:
    """Undo nginx ``\\xHH`` and Apache ``\\"``/``\\\\``/``\\n``/``\\xhh`` escaping."""
    if b"\\" not in field:
        return field
    return _ESCAPE_RE.sub(_unescape_one, field)


def _text_bytes(s: str) -> bytes:
    """A str from a surrogateescape-decoded JSON line back to the bytes the server logged."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a JSON "\ud800" escape: keep it, normalize flags invalid UTF-8
        return s.encode("utf-8", "surrogatepass")


def _clean(v: Any) -> str | None:
    """A text field for the database: no lone surrogates, ``-``/empty means absent."""
    if v is None or isinstance(v, (dict, list, bool)):
        return None
    if not isinstance(v, str):
        v = str(v)
    if not v or v == "-":
        return None
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        v = _text_bytes(v).decode("utf-8", "replace")
    return v


def _dec(b: bytes | None) -> str | None:
    if b is None or b == b"-":
        return None
    return b.decode("utf-8", "replace")


def _split_request_line(req: bytes) -> tuple[str | None, bytes] | str:
    parts = req.split(b" ")
    if len(parts) >= 3 and parts[-1].startswith(b"HTTP/"):
        return _dec(parts[0]), b" ".join(parts[1:-1])
    if len(parts) == 2 and parts[1][:1] in (b"/", b"h"):  # HTTP/0.9 style, no protocol
        return _dec(parts[0]), parts[1]
    return "malformed request line"


def split_request(request: bytes) -> tuple[str | None, bytes] | str:
    """``GET /x?y HTTP/1.1`` -> (method, target); a reason string if it is not a request."""
    return _split_request_line(unescape_log_bytes(request))


def _host_of(hostport: bytes | None) -> str | None:
    """``1.2.3.4:80`` / ``[2001:db8::1]:80`` / ``2001:db8::1:80`` (ALB) -> the address."""
    if not hostport or hostport == b"-":
        return None
    if hostport[:1] == b"[":
        end = hostport.find(b"]")
        return _dec(hostport[1:end] if end != -1 else hostport[1:])
    n = hostport.count(b":")
    if n == 0:
        return _dec(hostport)
    return _dec(hostport.rpartition(b":")[0])  # IPv4:port, or IPv6:port split at the LAST colon


def _strip_port(addr: str) -> str:
    """``203.0.113.9:52001`` / ``[2001:db8::1]:443`` -> the address; a bare IPv6 stays whole."""
    if addr[:1] == "[":
        end = addr.find("]")
        return addr[1:end] if end != -1 else addr[1:]
    if addr.count(":") == 1:
        return addr.partition(":")[0]
    return addr


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, (bytes, str)) and v.strip().isdigit():
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


_Q = rb'(?:[^"\\]|\\.)*'  # the inside of a quoted field, escaped quotes allowed


def _client(ip: bytes) -> tuple[str | None, str | None]:
    """(client, whole list) from the address field, which may be an X-Forwarded-For list.

    nginx ``$http_x_forwarded_for`` / ``$proxy_add_x_forwarded_for`` (or Apache
    ``%{X-Forwarded-For}i``) put first: ``203.0.113.9, 10.0.0.1, 127.0.0.1``. The first
    address is the client as the first proxy saw it.
    """
    whole = ip.decode("utf-8", "replace")
    if "," not in whole:
        return (None if whole == "-" else whole), None
    first = whole.split(",", 1)[0].strip()
    return (None if first in ("", "-", "unknown") else first), whole
