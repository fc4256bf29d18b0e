"""``smartcar-logs check``: is Connect working right now, compared with the days before?

:func:`run_check` compares the redirects of the last window (default 1 h) with a baseline
just before it (default 7 d) and returns a :class:`CheckResult`: plain data, with the
monitoring-plugins status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN). What it watches, with no
configuration: each error code's share and the success share (one-sided exact tests, Holm's
correction over every signal, a minimum count and a minimum change), silence (no redirect
where the baseline expects many while other lines keep arriving), abandonment of launches,
and each make's ``vehicle_incompatible`` share. Thresholds in monitoring-plugins range syntax
apply as well. :func:`nagios_text`, :func:`prometheus_text` / :func:`write_prometheus` and
:func:`json_text` format the result.

>>> r = run_check(db, window=parse_duration("1h"), critical=["server_error=0.05"])  # doctest: +SKIP
>>> print(nagios_text(r)); raise SystemExit(r.status)                               # doctest: +SKIP
"""

from __future__ import annotations

from ._judge import CRITICAL_CODES, RATE_LABELS, run_check
from ._outputs import json_text, nagios_text, perfdata_text, prometheus_text, write_prometheus
from ._ranges import Range, parse_duration, parse_range, parse_time
from ._result import CRITICAL, OK, STATUS_NAMES, UNKNOWN, WARNING, Alert, CheckResult, Perf, Signal

__all__ = [
    "run_check",
    "CheckResult",
    "Signal",
    "Alert",
    "Perf",
    "OK",
    "WARNING",
    "CRITICAL",
    "UNKNOWN",
    "STATUS_NAMES",
    "CRITICAL_CODES",
    "RATE_LABELS",
    "Range",
    "parse_range",
    "parse_duration",
    "parse_time",
    "nagios_text",
    "perfdata_text",
    "prometheus_text",
    "write_prometheus",
    "json_text",
]
