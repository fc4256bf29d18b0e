"""How a request becomes a line: ``Request``, the timestamp ``CLOCKS`` and the line ``WRITERS``.

Adding a log format: write ``parts(req, host) -> (before_ts, after_ts)`` and register
``WRITERS["name"] = LineWriter(parts, clock)`` where *clock* names an entry of ``CLOCKS`` (how
the timestamp is spelt) or is ``None`` for formats without a timestamp.  A line is
``before_ts + timestamp + after_ts``; both halves are rendered once per pooled request, which is
what makes generation fast.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from .catalogue import DEFAULT_HOST


class Request(NamedTuple):
    """One access-log record before formatting."""

    ip: str
    method: str
    target: str  # path?query, already percent/form-encoded as sent
    proto: str  # "HTTP/1.1", "HTTP/2.0", "HTTP/1.0"
    status: int
    size: int
    referer: str  # "-" when absent
    ua: str  # "-" when absent


class LineWriter(NamedTuple):
    """``parts(req, host) -> (before_ts, after_ts)``; *clock* is a ``CLOCKS`` key or None."""

    parts: Callable[[Request, str | None], tuple[str, str]]
    clock: str | None


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _tz_compact(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _tz_colon(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class Clock(NamedTuple):
    """How a format spells a timestamp: ``hour_prefix(local hour) + seconds[second of hour]``."""

    hour_prefix: Callable[[datetime], str]
    seconds: Callable[[int], list[str]]  # tz offset minutes -> 3600 "MM:SS..." strings


CLOCKS: dict[str, Clock] = {
    # 01/Oct/2026:07:00:01 +0200
    "clf": Clock(
        lambda h: f"{h.day:02d}/{_MONTHS[h.month - 1]}/{h.year:04d}:{h.hour:02d}:",
        lambda off: [f"{m:02d}:{s:02d} {_tz_compact(off)}" for m in range(60) for s in range(60)],
    ),
    # 2026-10-01T07:00:01+02:00 (for JSON-style formats)
    "iso": Clock(
        lambda h: f"{h.year:04d}-{h.month:02d}-{h.day:02d}T{h.hour:02d}:",
        lambda off: [f"{m:02d}:{s:02d}{_tz_colon(off)}" for m in range(60) for s in range(60)],
    ),
}


def _combined(r: Request, host: str | None) -> tuple[str, str]:
    return (
        f"{r.ip} - - [",
        f'] "{r.method} {r.target} {r.proto}" {r.status} {r.size} "{r.referer}" "{r.ua}"\n',
    )


def _common(r: Request, host: str | None) -> tuple[str, str]:
    return f"{r.ip} - - [", f'] "{r.method} {r.target} {r.proto}" {r.status} {r.size or "-"}\n'


def _vhost_combined(r: Request, host: str | None) -> tuple[str, str]:
    before, after = _combined(r, host)
    return f"{host or DEFAULT_HOST}:443 {before}", after


def _urls(r: Request, host: str | None) -> tuple[str, str]:
    return (f"https://{host}{r.target}\n" if host else f"{r.target}\n"), ""


WRITERS: dict[str, LineWriter] = {
    "combined": LineWriter(_combined, "clf"),
    "common": LineWriter(_common, "clf"),
    "vhost_combined": LineWriter(_vhost_combined, "clf"),
    "urls": LineWriter(_urls, None),
}
