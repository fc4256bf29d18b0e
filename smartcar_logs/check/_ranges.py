"""What a user types: durations (``1h``, ``7d``), times (``--at``), thresholds in the
monitoring-plugins range syntax (``0.15``, ``10:``, ``~:0.2``, ``@0.1:0.3``).

The range syntax is the monitoring-plugins guidelines' ("Threshold and ranges"): ``[@]start:end``,
start 0 and the colon may be left out, ``~`` is minus infinity, an empty end is plus infinity;
the alert is raised when the value is *outside* the range (ends included in it), or *inside*
it (ends included) with a leading ``@``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Range", "parse_range", "parse_duration", "parse_time", "format_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(text: str) -> timedelta:
    """``1h``, ``90m``, ``7d``, ``1h30m``, ``2w`` -> timedelta (ValueError when malformed or 0)."""
    s = text.strip().lower()
    pos, seconds = 0, 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        seconds += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise ValueError(f"{text!r} is not a duration (e.g. 1h, 90m, 7d)")
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be more than 0")
    return timedelta(seconds=seconds)


def format_duration(d: timedelta) -> str:
    """The shortest exact spelling: ``1h``, ``7d``, ``90m``, ``45s``."""
    s = d.total_seconds()
    for unit in ("d", "h", "m"):
        if s >= _UNITS[unit] and s % _UNITS[unit] == 0:
            return f"{s / _UNITS[unit]:g}{unit}"
    return f"{s:g}s"


def parse_time(text: str | datetime | None) -> datetime:
    """An ISO 8601 time (naive means UTC), ``now`` or None (now) -> an aware UTC datetime."""
    if text is None or (isinstance(text, str) and text.strip().lower() in ("", "now")):
        return datetime.now(UTC).replace(microsecond=0)
    if isinstance(text, datetime):
        dt = text
    else:
        try:
            dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{text!r} is not a time (e.g. 2026-10-08T12:00:00+00:00)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class Range:
    """A monitoring-plugins range; :meth:`alerts` says whether a value raises the alert."""

    start: float
    end: float
    inside: bool  # the leading '@': alert inside the range
    text: str

    def alerts(self, value: float) -> bool:
        within = self.start <= value <= self.end
        return within if self.inside else not within

    def __str__(self) -> str:
        return self.text


def _number(s: str, text: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise ValueError(f"range {text!r}: {s!r} is not a number") from None
    if math.isnan(v):
        raise ValueError(f"range {text!r}: {s!r} is not a number")
    return v


def parse_range(text: str) -> Range:
    """``10`` (alert outside 0..10), ``10:`` (below 10), ``~:10`` (above 10), ``10:20``,
    ``@10:20`` (alert inside 10..20)."""
    s = text.strip()
    inside = s.startswith("@")
    body = s[1:] if inside else s
    if not body:
        raise ValueError(f"range {text!r} is empty")
    if ":" in body:
        lo, hi = body.split(":", 1)
        start = -math.inf if lo == "~" else _number(lo, text) if lo else 0.0
        end = math.inf if hi == "" else _number(hi, text)
    else:
        start, end = 0.0, _number(body, text)
    if start > end:
        raise ValueError(f"range {text!r}: start is above end")
    return Range(start, end, inside, s)
