"""A check's result for the monitoring systems people run: the Nagios/Icinga plugin output
(status line, perfdata, details), node_exporter's textfile-collector format, and JSON."""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import datetime

from ._result import STATUS_NAMES, CheckResult, Perf
from ._text import p_text, pct

__all__ = ["perfdata_text", "nagios_text", "prometheus_text", "write_prometheus", "json_text"]


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _perf_item(p: Perf) -> str:
    label = p.label.replace("'", "''")  # the guidelines' escape for a quote in a label
    fields = [
        "U" if p.value is None else f"{_num(p.value)}{p.uom}",
        p.warn,
        p.crit,
        "" if p.min is None else _num(p.min),
        "" if p.max is None else _num(p.max),
    ]
    return f"'{label}'=" + ";".join(fields).rstrip(";")


def perfdata_text(result: CheckResult) -> str:
    """``'redirects'=101;;;0 'denial_rate'=0.089;;;0;1 ...`` (monitoring-plugins perfdata)."""
    return " ".join(_perf_item(p) for p in result.perfdata)


def nagios_text(result: CheckResult) -> str:
    """The plugin output: ``CONNECT STATUS - summary | perfdata``, then the details, one a line."""
    lines = [f"CONNECT {result.status_name} - {result.summary} | {perfdata_text(result)}".rstrip(" |")]
    lines += result.messages
    if result.signals:
        lines.append(
            f"window {result.window_start} .. {result.at}: {result.redirects:,} redirects,"
            f" {result.decided:,} with an outcome; baseline {result.baseline}:"
            f" {result.baseline_redirects:,} redirects, {result.baseline_decided:,} with an outcome"
        )
    for s in result.signals:
        if s.kind == "silence":
            figure = f"0 redirects, {s.expected:.1f} expected"
        else:
            of = "launches" if s.kind == "abandonment" else "with an outcome"
            figure = (
                f"{pct(s.share)} ({s.count:,} of {s.total:,} {of});"
                f" baseline {pct(s.baseline_share)} ({s.baseline_count:,} of {s.baseline_total:,})"
            )
        why = f" ({s.note})" if s.note else ""
        lines.append(
            f"  {s.name}: {figure}; {p_text(s.p_adjusted)} adjusted"
            f" (raw {s.p_value:.2g}): {STATUS_NAMES[s.status]}{why}"
        )
    return "\n".join(lines)


def json_text(result: CheckResult) -> str:
    def clean(x):  # JSON has no infinity or NaN
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(result.to_dict()), indent=2)


RATES = ("success_rate", "denial_rate", "failure_rate")


def _label_value(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _seconds(text: str | None) -> float | None:
    return datetime.fromisoformat(text).timestamp() if text else None


def prometheus_text(result: CheckResult) -> str:
    """The node_exporter textfile-collector format: ``# HELP``/``# TYPE`` then the samples."""
    out: list[str] = []

    def family(name: str, help_: str, samples: list[tuple[dict[str, str], float | None]]) -> None:
        samples = [(labels, v) for labels, v in samples if v is not None]
        if not samples:
            return
        full = f"smartcar_connect_{name}"
        out.append(f"# HELP {full} {help_}")
        out.append(f"# TYPE {full} gauge")
        for labels, v in samples:
            ls = ",".join(f'{k}="{_label_value(str(x))}"' for k, x in labels.items())
            out.append(f"{full}{{{ls}}} {_num(float(v))}" if ls else f"{full} {_num(float(v))}")

    perf = {p.label: p.value for p in result.perfdata}
    family(
        "status",
        "Status of the last check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        [({}, result.status)],
    )
    family(
        "redirects",
        "Redirect events (reloads counted once, test traffic left out) in the window and the baseline.",
        [({"period": "window"}, result.redirects), ({"period": "baseline"}, result.baseline_redirects)],
    )
    family(
        "decided_redirects",
        "Redirect events with an outcome (success or error): the denominator of the rates.",
        [({"period": "window"}, result.decided), ({"period": "baseline"}, result.baseline_decided)],
    )
    family(
        "rate",
        "Share of the window's redirects with an outcome: success, denial (access_denied),"
        " failure (any error).",
        [({"rate": r.removesuffix("_rate")}, perf.get(r)) for r in RATES],
    )
    codes = [s for s in result.signals if s.kind == "code"]
    family(
        "error_share",
        "Each error code's share of the redirects with an outcome, in the window and the baseline.",
        [({"code": s.name, "period": "window"}, s.share) for s in codes]
        + [({"code": s.name, "period": "baseline"}, s.baseline_share) for s in codes],
    )
    makes = [s for s in result.signals if s.kind == "make"]
    family(
        "incompatible_redirects",
        "vehicle_incompatible redirects per make in the window and the baseline.",
        [({"make": s.name.split(":", 1)[1], "period": "window"}, s.count) for s in makes]
        + [({"make": s.name.split(":", 1)[1], "period": "baseline"}, s.baseline_count) for s in makes],
    )
    family("launches", "Launches in the window judged for abandonment.", [({}, perf.get("launches"))])
    family(
        "abandonment",
        "Share of the window's launches with no redirect back within the settle time.",
        [({}, perf.get("abandonment"))],
    )
    family(
        "signal_p_value",
        "Holm-adjusted one-sided p-value of each signal tested against the baseline.",
        [({"signal": s.name}, s.p_adjusted) for s in result.signals],
    )
    family(
        "alert",
        "What fired, by test or threshold: its status (1 WARNING, 2 CRITICAL).",
        [({"signal": a.name, "by": a.by}, a.status) for a in result.alerts],
    )
    family(
        "check_timestamp_seconds",
        "End of the window checked (Unix time).",
        [({}, _seconds(result.at))],
    )
    family(
        "log_end_timestamp_seconds",
        "Time of the last imported log line (Unix time).",
        [({}, _seconds(result.log_end))],
    )
    return "\n".join(out) + "\n"


def write_prometheus(result: CheckResult, path: str | os.PathLike) -> None:
    """Write :func:`prometheus_text` to *path* atomically: a temporary file in the same folder
    (named so node_exporter, which reads ``*.prom``, skips it), then renamed into place, so the
    collector never reads half a file."""
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(prometheus_text(result))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a node_exporter of another user
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
