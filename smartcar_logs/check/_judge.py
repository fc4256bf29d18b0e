"""The check itself: counts in, tests and thresholds applied, one status out."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from ..redirect import ERROR_CODES, UNKNOWN
from ..store import pending_files
from ._ranges import Range, format_duration, parse_range, parse_time
from ._read import Counts, iso, read_counts
from ._result import CRITICAL, OK, RANK, STATUS_NAMES, WARNING, Alert, CheckResult, Perf, Signal
from ._stats import holm, p_fewer, p_more, p_silence
from ._text import alert_text, pct

__all__ = ["run_check", "CRITICAL_CODES", "RATE_LABELS"]

#: Error codes whose rise is an outage (CRITICAL): Smartcar's or the OEM's side, or the app's
#: own configuration. Any other code's rise, a fall in the success share, a make's
#: incompatible surge and abandonment are WARNINGs: they need a look, not a pager.
CRITICAL_CODES = frozenset({"server_error", "oem_cancelled_login", "configuration_error"})
#: The perfdata rates (each a share of the window's redirects with an outcome, or of its launches).
RATE_LABELS = ("success_rate", "denial_rate", "failure_rate", "abandonment")
_COUNT_LABELS = ("redirects", "launches")
# Order of the alerts of one status in the line: the cause before its consequences (a code's
# rise explains the success share's fall; a silence explains abandonment).
_KIND_ORDER = {"threshold": 0, "silence": 1, "make": 2, "code": 3, "abandonment": 4, "success": 5}


def _thresholds(given: Mapping[str, str] | Iterable[str] | None, which: str) -> dict[str, Range]:
    """``{"denial_rate": "0.15"}`` or ``["denial_rate=0.15"]`` -> {label: Range} (ValueError)."""
    if not given:
        return {}
    items = given.items() if isinstance(given, Mapping) else (_split(s, which) for s in given)
    out = {}
    for label, text in items:
        label = label.strip().lower()
        if label not in _COUNT_LABELS and label not in RATE_LABELS and label not in ERROR_CODES:
            known = ", ".join((*_COUNT_LABELS, *RATE_LABELS, *ERROR_CODES))
            raise ValueError(f"--{which} {label}: not a label; one of {known}")
        try:
            out[label] = parse_range(text)
        except ValueError as e:
            raise ValueError(f"--{which} {label}: {e}") from None
    return out


def _split(s: str, which: str) -> tuple[str, str]:
    label, eq, value = s.partition("=")
    if not eq or not label.strip():
        raise ValueError(f"--{which} {s!r}: expected LABEL=RANGE, e.g. denial_rate=0.15")
    return label, value


def run_check(
    db,
    *,
    window: timedelta = timedelta(hours=1),
    baseline: timedelta = timedelta(days=7),
    at: datetime | str | None = None,
    warning: Mapping[str, str] | Iterable[str] | None = None,
    critical: Mapping[str, str] | Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    alpha: float = 0.001,
    min_count: int = 5,
    min_change: float = 0.02,
    min_baseline: int = 100,
    min_expected: float = 10.0,
    settle: timedelta = timedelta(minutes=15),
    progress: Callable[[str], None] | None = None,
) -> CheckResult:
    """Compare the redirects of the last *window* before *at* with the *baseline* before it.

    Parameters
    ----------
    db : sqlite_utils.Database
        An imported database (read only: nothing is written).
    window, baseline : timedelta
        The period judged, ``[at - window, at)``, and the one it is judged against, just before.
    at : datetime or str, optional
        End of the window (ISO 8601, naive means UTC); default now. Only what is imported is
        counted; a window the logs do not reach to the end of is said so in ``messages``.
    warning, critical : mapping or iterable of ``"label=range"``
        Absolute thresholds in monitoring-plugins range syntax on the perfdata labels
        (``redirects``, ``launches``, ``success_rate``, ``denial_rate``, ``failure_rate``,
        ``abandonment``, any error code's share), e.g. ``{"denial_rate": "0.15"}``.
    ignore : iterable of str
        Error codes neither tested nor shown.
    alpha : float
        Family-wise error rate of the tests (Holm's correction over every signal tested).
    min_count : int
        A signal fires only on at least this many events (2 of 3 is never an alarm).
    min_change : float
        ... and only when its share moved by at least this much (absolute), so a large site's
        tiny, significant drifts do not page anyone.
    min_baseline : int
        Fewer redirects with an outcome in the baseline than this: UNKNOWN (nothing to judge by).
    min_expected : float
        Silence is judged only when the baseline expects at least this many redirects.
    settle : timedelta
        A launch counts as abandoned when no redirect came back within this long.
    progress : callable, optional
        Called with a line of text at each step (nothing is printed).

    Returns
    -------
    CheckResult
        Plain data; :mod:`smartcar_logs.check` formats it for Nagios, Prometheus or JSON.
    """
    say = progress or (lambda _text: None)
    at_dt = parse_time(at)
    warn_r, crit_r = _thresholds(warning, "warning"), _thresholds(critical, "critical")
    ignored = {c.strip().lower() for c in ignore}
    ws, bs = at_dt - window, at_dt - window - baseline
    result = CheckResult(
        status=OK,
        summary="",
        at=iso(at_dt),
        window=format_duration(window),
        baseline=format_duration(baseline),
        window_start=iso(ws),
        baseline_start=iso(bs),
    )
    say(f"reading {result.window_start} .. {result.at} and the {result.baseline} before")
    try:
        counts = read_counts(db.conn, at_dt, window, baseline, settle)
    except sqlite3.Error as e:
        return _unknown(result, f"cannot read the database: {e}")
    w, b = counts.window, counts.baseline
    result.redirects, result.decided = w.events, w.decided
    result.baseline_redirects, result.baseline_decided = b.events, b.decided
    log_end = min(counts.log_end, at_dt) if counts.log_end else None
    result.log_end = iso(counts.log_end) if counts.log_end else None
    covered = _coverage(result, counts, ws, at_dt)
    if counts.log_start is not None and counts.log_start > bs:
        result.messages.append(
            f"the baseline is not complete in the logs: the first imported line is at"
            f" {iso(counts.log_start)}, {_ago(min(counts.log_start, ws) - bs)} after the baseline's start"
            f" ({result.baseline_start})"
        )
    lag = pending_files(db.conn)
    if lag:  # an import still running (or killed): its files are not in the counts yet
        result.messages.append(
            f"{lag:,} imported file{'' if lag == 1 else 's'} not counted yet: an import is running or was"
            " killed; its end, or the next import, brings them in"
        )
    result.perfdata = _perfdata(w, ignored, warn_r, crit_r)
    result.alerts = _threshold_alerts(result.perfdata, warn_r, crit_r, w)
    have = {p.label for p in result.perfdata if p.value is not None}
    for label in sorted((set(warn_r) | set(crit_r)) - have):
        result.messages.append(f"threshold on {label} not judged: no {label} in the window")

    if log_end is None or log_end < ws:
        since = f"since {iso(counts.log_end)}" if counts.log_end else "at all"
        text = f"no log lines imported {since}: the logs (or their import) may have stopped"
        if w.events == 0:
            return _finish(result, text, unknown=True)
        result.messages.append(text)
    if b.decided < min_baseline:
        text = (
            f"too little baseline: {b.decided:,} redirects with an outcome in the {result.baseline}"
            f" before the window ({min_baseline:,} needed to judge)"
        )
        return _finish(result, text, unknown=True)

    say("testing each signal against the baseline")
    signals = _share_signals(w, b, ignored)
    signals += _make_signals(w, b)
    if b.launches >= min_baseline and w.launches:
        signals.append(Signal("abandonment", "abandonment", w.abandoned, w.launches, b.abandoned, b.launches))
    silence = _silence_signal(counts, window, baseline, covered, log_end, ws)
    if silence is not None:
        signals.append(silence)
    for s in signals:
        _test(s, min_count, min_change, min_expected)
    for s, p_adj in zip(signals, holm([s.p_value for s in signals])):
        s.p_adjusted = p_adj
        if p_adj < alpha and not s.eligible:
            s.note = f"significant, but under {min_count} events or a change under {min_change:g}"
            if s.kind == "silence":
                s.note = "no other lines in the window either, or too few redirects expected"
        if s.eligible and p_adj < alpha:
            s.status = s.severity
            result.alerts.append(Alert(s.status, s.name, "test", alert_text(s, result)))
    result.signals = signals
    return _finish(result, None)


def _coverage(result: CheckResult, counts: Counts, ws: datetime, at: datetime) -> float:
    """Share of the window the imported logs reach into (said in messages when not all)."""
    end = counts.log_end
    if end is None or end >= at:
        return 1.0
    covered = max(0.0, (end - ws) / (at - ws))
    if at - end >= timedelta(minutes=1):
        result.messages.append(
            f"the window is not complete in the logs: the last imported line is at {iso(end)},"
            f" {_ago(at - end)} before {iso(at)}"
            f" ({covered:.0%} of the window covered)"
        )
    return covered


def _ago(d: timedelta) -> str:
    """``3d 0h 48m``, ``2h 5m``, ``40s``: a gap for a reader."""
    secs = int(d.total_seconds())
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"


def _share_signals(w, b, ignored) -> list[Signal]:
    out: list[Signal] = []
    if not w.decided:  # no share to judge (silence is judged apart)
        return out
    for code in sorted(set(w.by_code) | set(b.by_code)):
        if code in ignored:
            continue
        out.append(
            Signal(
                code,
                "code",
                w.by_code.get(code, 0),
                w.decided,
                b.by_code.get(code, 0),
                b.decided,
                severity=CRITICAL if code in CRITICAL_CODES else WARNING,
            )
        )
    ok_w, ok_b = w.by_outcome.get("success", 0), b.by_outcome.get("success", 0)
    out.append(Signal("success", "success", ok_w, w.decided, ok_b, b.decided, severity=WARNING))
    return out


def _make_signals(w, b) -> list[Signal]:
    # Makes seen in the window only: a make that is absent cannot have surged. A make not sent
    # is left to the vehicle_incompatible signal itself.
    return [
        Signal(f"incompatible:{make}", "make", n, w.decided, b.incompatible_by_make.get(make, 0), b.decided)
        for make, n in sorted(w.incompatible_by_make.items())
        if make != UNKNOWN
    ]


def _silence_signal(counts, window, baseline, covered, log_end, ws) -> Signal | None:
    """No redirect in the window: how many the baseline expects in the part the logs cover."""
    w, b = counts.window, counts.baseline
    if w.events:
        return None
    if counts.same_time_of_day:
        per_window = sum(counts.same_time_of_day) / len(counts.same_time_of_day)
    else:
        per_window = b.events * (window / baseline)
    expected = per_window * covered
    s = Signal("silence", "silence", 0, 0, b.events, b.events, expected=expected, severity=CRITICAL)
    # Silence is an alarm only while other lines keep arriving: the last imported line is in
    # the window (an import of a quiet log would have stopped before it).
    s.eligible = log_end is not None and log_end >= ws
    return s


def _test(s: Signal, min_count: int, min_change: float, min_expected: float) -> None:
    if s.kind == "silence":
        s.p_value = p_silence(s.expected or 0.0)
        s.eligible = s.eligible and (s.expected or 0.0) >= min_expected
        return
    s.share = s.count / s.total if s.total else None
    s.baseline_share = s.baseline_count / s.baseline_total if s.baseline_total else None
    if s.share is None or s.baseline_share is None:
        s.eligible = False
        return
    if s.kind == "success":  # a fall: judged on the redirects that did not succeed
        s.p_value = p_fewer(s.count, s.total, s.baseline_count, s.baseline_total)
        enough = s.total - s.count >= min_count
        moved = s.baseline_share - s.share >= min_change
    else:
        s.p_value = p_more(s.count, s.total, s.baseline_count, s.baseline_total)
        enough = s.count >= min_count
        moved = s.share - s.baseline_share >= min_change
    s.eligible = enough and moved


def _perfdata(w, ignored, warn_r, crit_r) -> list[Perf]:
    d = w.decided
    errors = w.by_outcome.get("error", 0)

    def rate(n: int) -> float | None:  # None: no redirect with an outcome, the share is undefined
        return round(n / d, 4) if d else None

    perf = [
        Perf("redirects", w.events, min=0),
        Perf("success_rate", rate(w.by_outcome.get("success", 0)), min=0, max=1),
        Perf("denial_rate", rate(w.by_code.get("access_denied", 0)), min=0, max=1),
        Perf("failure_rate", rate(errors), min=0, max=1),
    ]
    codes = [c for c in ERROR_CODES if c not in ignored]
    codes += sorted(c for c in w.by_code if c not in ERROR_CODES and c not in ignored)
    perf += [Perf(c, rate(w.by_code.get(c, 0)), min=0, max=1) for c in codes]
    if w.launches:
        perf.append(Perf("launches", w.launches, min=0))
        perf.append(Perf("abandonment", round(w.abandoned / w.launches, 4), min=0, max=1))
    for p in perf:
        p.warn = str(warn_r[p.label]) if p.label in warn_r else ""
        p.crit = str(crit_r[p.label]) if p.label in crit_r else ""
    return perf


def _threshold_alerts(perf, warn_r, crit_r, w) -> list[Alert]:
    out = []
    for p in perf:
        for status, ranges in ((CRITICAL, crit_r), (WARNING, warn_r)):
            r = ranges.get(p.label)
            if r is not None and p.value is not None and r.alerts(p.value):
                which = STATUS_NAMES[status].lower()
                value = f"{p.value:g}" if p.label in _COUNT_LABELS else pct(p.value)
                of = f" of {w.launches:,} launches" if p.label == "abandonment" else ""
                if p.label not in _COUNT_LABELS and not of:
                    of = f" of {w.decided:,} redirects with an outcome"
                text = f"{p.label} {value}{of} ({which} threshold {r})"
                out.append(Alert(status, p.label, "threshold", text))
                break  # the critical threshold, when both fire
    return out


def _unknown(result: CheckResult, text: str) -> CheckResult:
    return _finish(result, text, unknown=True)


def _finish(result: CheckResult, unknown_text: str | None, unknown: bool = False) -> CheckResult:
    """The status: the worst alert; UNKNOWN (with its reason) when nothing could be judged and
    no threshold fired either."""
    alerts = sorted(
        result.alerts,
        key=lambda a: (-RANK[a.status], _KIND_ORDER.get("threshold" if a.by == "threshold" else _kind(a), 9)),
    )
    result.alerts = alerts
    if alerts:
        result.status = alerts[0].status
        result.summary = ", ".join(a.text for a in alerts)
        if unknown:
            result.summary += f"; {unknown_text}"
    elif unknown:
        result.status = 3
        result.summary = unknown_text or "cannot judge"
    else:
        result.status = OK
        result.summary = _ok_text(result)
    return result


def _kind(a: Alert) -> str:
    if a.name.startswith("incompatible:"):
        return "make"
    if a.name in ("silence", "abandonment", "success"):
        return a.name
    return "code"


def _ok_text(result: CheckResult) -> str:
    perf = {p.label: p.value for p in result.perfdata}
    text = f"{result.redirects:,} redirects in the last {result.window}"
    if result.decided:
        base = result.baseline_decided
        ok_b = next((s.baseline_share for s in result.signals if s.kind == "success"), None)
        text += f", success {pct(perf['success_rate'])} of {result.decided:,} with an outcome"
        if ok_b is not None and not math.isnan(ok_b):
            text += f" (baseline {pct(ok_b)} of {base:,})"
    return text
