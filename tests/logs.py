"""The one builder of access-log lines for the tests, and the values they share.

``clf`` writes one nginx/Apache combined line as bytes (hostile-input tests pass raw bytes in the
target or user agent); ``clf_text`` is the same line as text, for tests that build a log by
concatenating strings. Format-specific builders (ALB, JSON, ...) stay beside their tests.
"""

from __future__ import annotations

from pathlib import Path

UID = "725146a3-69f4-46c8-965d-54b3b6f81eb7"
UID2 = "0b9c6f43-3f4e-4c8e-9d55-2a7f1f0f5a11"
CB = "/smartcar/callback"
LAUNCH = "/connect/smartcar"
T = "01/Oct/2026:09:00:01 +0200"


def clf(
    target: str | bytes,
    *,
    ua: str | bytes = "Mozilla/5.0",
    ip: str = "203.0.113.9",
    t: str = T,
    status: int = 302,
    vhost: str = "",
) -> bytes:
    """One combined-format line (bytes, with its newline); *vhost* prefixes ``host:port``."""
    if isinstance(target, str):
        target = target.encode()
    if isinstance(ua, str):
        ua = ua.encode()
    prefix = f"{vhost} " if vhost else ""
    return (
        f'{prefix}{ip} - - [{t}] "GET '.encode()
        + target
        + f' HTTP/1.1" {status} 0 "-" "'.encode()
        + ua
        + b'"\n'
    )


def clf_text(target: str, **kwargs) -> str:
    """:func:`clf` as text."""
    return clf(target, **kwargs).decode()


def write(tmp_path: Path, name: str, data: bytes | str) -> str:
    """Write *data* to ``tmp_path/name`` and return the path as a string."""
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)
