"""Cached time parsers: readers must not run ``strptime`` per line."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

_MONTHS = {
    m.encode(): i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


@lru_cache(maxsize=4096)
def _clf_day(day_month_year: bytes, zone: bytes) -> tuple[int, int] | None:
    """(UTC epoch second of local midnight, offset seconds) for ``01/Oct/2026`` and ``+0200``."""
    try:
        if day_month_year[2] != 47 or day_month_year[6] != 47:
            return None
        day = int(day_month_year[0:2])
        month = _MONTHS[day_month_year[3:6]]
        year = int(day_month_year[7:11])
        sign = zone[0]
        off = (int(zone[1:3]) * 60 + int(zone[3:5])) * 60
        if sign == 45:  # '-'
            off = -off
        elif sign != 43:  # '+'
            return None
        midnight = datetime(year, month, day, tzinfo=UTC).timestamp()
        return int(midnight), off
    except (ValueError, KeyError, OverflowError, IndexError):
        return None


@lru_cache(maxsize=4096)
def _utc_day(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%dT")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# "01/Oct/2026:09 +0200" -> "2026-10-01T07:": the UTC date and hour of a local hour and zone.
_HOURS: dict[bytes, str] = {}


def parse_clf_time(t: bytes) -> str | None:
    """``01/Oct/2026:09:00:01 +0200`` -> ``2026-10-01T07:00:01+00:00`` (None if malformed).

    No ``strptime``: in a zone of whole hours (nearly all), minutes and seconds carry over
    to UTC unchanged, so the UTC date and hour are resolved once per hour (cached) and the
    result is that prefix plus the line's own ``MM:SS``, a third of the cost of the
    arithmetic in :func:`_parse_clf_time`, which takes everything else (other zones, a
    leap second, anything malformed).
    """
    if (
        len(t) == 26
        and t[24:26] == b"00"
        and t[15] < 54  # minutes and seconds "0"-"5" then a digit: at most 59
        and t[18] < 54
        and t[14] == 58
        and t[17] == 58
        and t[15:17].isdigit()
        and t[18:20].isdigit()
    ):
        key = t[:14] + t[20:]
        prefix = _HOURS.get(key)
        if prefix is None:
            full = _parse_clf_time(t[:15] + b"00:00" + t[20:])
            if full is None:
                return None  # the date, hour or zone is wrong whatever the minute
            if len(_HOURS) >= 10_000:  # 416 days of distinct hours: bounded memory
                _HOURS.clear()
            prefix = _HOURS[key] = full[:14]
        return prefix + t[15:20].decode("ascii") + "+00:00"
    return _parse_clf_time(t)


def _parse_clf_time(t: bytes) -> str | None:
    """:func:`parse_clf_time` without the hour cache: the date part is resolved once per day
    and zone (cached), the clock part is three slices."""
    if len(t) != 26 or t[11] != 58 or t[20] != 32 or t[14] != 58 or t[17] != 58:
        return None
    base = _clf_day(t[0:11], t[21:26])
    if base is None:
        return None
    try:
        hh, mm, ss = int(t[12:14]), int(t[15:17]), int(t[18:20])
    except ValueError:
        return None
    if hh > 23 or mm > 59 or ss > 60:
        return None
    secs = base[0] + hh * 3600 + mm * 60 + ss - base[1]
    days, rem = divmod(secs, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    return f"{_utc_day(days)}{h:02d}:{m:02d}:{sec:02d}+00:00"


_ISO_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


@lru_cache(maxsize=8192)
def parse_iso_time(s: str) -> str | None:
    """RFC 3339 / ISO 8601 -> UTC ISO 8601 at second precision (naive means UTC)."""
    m = _ISO_RE.match(s.strip())
    if not m:
        return None
    try:
        y, mo, d, hh, mi, ss = (int(x) for x in m.group(1, 2, 3, 4, 5, 6))
        tz = m.group(8)
        off = 0
        if tz and tz not in ("Z", "z"):
            tz = tz.replace(":", "")
            off = int(tz[1:3]) * 60 + int(tz[3:5])
            if tz[0] == "-":
                off = -off
        dt = datetime(y, mo, d, hh, mi, ss, tzinfo=timezone(timedelta(minutes=off)))
        return dt.astimezone(UTC).isoformat()
    except (ValueError, OverflowError):
        return None


@lru_cache(maxsize=8192)
def _epoch_seconds_iso(secs: int) -> str | None:
    try:
        return datetime.fromtimestamp(secs, UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        return None


_NUMBER_RE = re.compile(r"\s*(\d+)(?:\.(\d*))?\s*$")


def parse_epoch_time(v: int | float | str) -> str | None:
    """Unix time in s, ms, µs or ns (told apart by magnitude) -> UTC ISO 8601, seconds floored.

    Integers stay integers (a 19-digit nanosecond count loses precision as a float).
    Values before 1973 (< 1e8 s) are refused: they are durations, not times.
    """
    if isinstance(v, bool):
        return None
    if isinstance(v, str):
        m = _NUMBER_RE.match(v)
        if m is None:
            return None
        v = int(m.group(1)) if not m.group(2) else float(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return None
        while v >= 1e11:  # 1e11 s is the year 5138: it must be ms, µs or ns
            v /= 1000
        v = int(v)
    else:
        while v >= 100_000_000_000:
            v //= 1000
    if v < 100_000_000:
        return None
    return _epoch_seconds_iso(v)


def parse_any_time(v: Any) -> str | None:
    """A time value from a JSON log: epoch number, RFC 3339 string, CLF string or epoch string."""
    if v is None or isinstance(v, (bool, dict, list)):
        return None
    if isinstance(v, (int, float)):
        return parse_epoch_time(v)
    if not isinstance(v, str):
        return None
    s = v.strip()
    if not s:
        return None
    if s[0].isdigit() and len(s) >= 19 and s[4:5] == "-":
        return parse_iso_time(s)
    if s[:1] == "[" and s[-1:] == "]":
        s = s[1:-1]
    if len(s) == 26 and s[2:3] == "/":
        return parse_clf_time(s.encode("ascii", "replace"))
    return parse_epoch_time(s)
