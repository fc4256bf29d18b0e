"""What a check returns: plain data (statuses, signals, alerts, perfdata, messages)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["OK", "WARNING", "CRITICAL", "UNKNOWN", "STATUS_NAMES", "Signal", "Alert", "Perf", "CheckResult"]

# The monitoring-plugins exit statuses.
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATUS_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
# Worst first, as monitoring systems rank them: CRITICAL over WARNING over UNKNOWN over OK.
RANK = {CRITICAL: 3, WARNING: 2, UNKNOWN: 1, OK: 0}


@dataclass
class Signal:
    """One statistical test of the window against the baseline.

    ``kind``: ``code`` (an error code's share of the redirects with an outcome rose),
    ``success`` (the success share fell), ``make`` (one make's ``vehicle_incompatible`` share
    rose), ``abandonment`` (the share of launches with no redirect rose), ``silence`` (no
    redirect where the baseline expects many). ``count`` of ``total`` in the window against
    ``baseline_count`` of ``baseline_total``; for silence, ``expected`` redirects.
    ``p_value`` is one-sided; ``p_adjusted`` is Holm's over every signal of the check.
    ``eligible`` is False when the count is under the minimum or the change too small to
    alarm, whatever the p-value (``note`` says so when the p-value alone would have fired);
    ``severity`` is the status it raises when it fires; ``status`` that, or OK.
    """

    name: str
    kind: str
    count: int
    total: int
    baseline_count: int
    baseline_total: int
    share: float | None = None
    baseline_share: float | None = None
    expected: float | None = None
    p_value: float = 1.0
    p_adjusted: float = 1.0
    eligible: bool = True
    severity: int = WARNING
    status: int = OK
    note: str = ""


@dataclass
class Alert:
    """Something that fired: by ``test`` (a :class:`Signal`) or by ``threshold`` (a user's)."""

    status: int
    name: str
    by: str
    text: str


@dataclass
class Perf:
    """One perfdata item: ``'label'=value[uom];warn;crit;min;max``; ``value`` None is the
    guidelines' ``U`` (undetermined: a share of no redirects)."""

    label: str
    value: float | None
    uom: str = ""
    warn: str = ""
    crit: str = ""
    min: float | None = None
    max: float | None = None


@dataclass
class CheckResult:
    """The outcome of :func:`run_check`: ``status`` (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN),
    ``summary`` (the status line's text after ``CONNECT STATUS -``), ``alerts`` (worst first),
    ``signals`` (every test made), ``perfdata``, ``messages`` (details for a reader),
    the period's bounds (ISO 8601, UTC) and the counts the figures are shares of."""

    status: int
    summary: str
    at: str
    window: str
    baseline: str
    window_start: str | None = None
    baseline_start: str | None = None
    log_end: str | None = None
    redirects: int = 0
    decided: int = 0
    baseline_redirects: int = 0
    baseline_decided: int = 0
    alerts: list[Alert] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    perfdata: list[Perf] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["status_name"] = self.status_name
        for a in d["alerts"]:
            a["status_name"] = STATUS_NAMES[a["status"]]
        for s in d["signals"]:
            s["status_name"] = STATUS_NAMES[s["status"]]
            s["severity"] = STATUS_NAMES[s["severity"]]
        return d
