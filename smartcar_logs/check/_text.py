"""The words of an alert: what moved, of how many, against which baseline, and how sure."""

from __future__ import annotations

__all__ = ["pct", "p_text", "alert_text"]


def pct(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.1%}" if x >= 0.001 or x == 0 else f"{x:.2%}"


def p_text(p: float) -> str:
    """``p<0.001`` or ``p=0.004``: the Holm-adjusted p-value, as the monitoring line shows it."""
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def alert_text(s, result) -> str:
    """``server_error 24.8% of 101 redirects with an outcome in the last 1h (baseline 1.0%, p<0.001)``."""
    last = f"in the last {result.window}"
    if s.kind == "silence":
        return (
            f"no redirects {last} while other lines kept arriving"
            f" (baseline expects {s.expected:.0f}, {p_text(s.p_adjusted)})"
        )
    if s.kind == "abandonment":
        return (
            f"abandonment {pct(s.share)} of {s.total:,} launches {last} had no redirect"
            f" (baseline {pct(s.baseline_share)}, {p_text(s.p_adjusted)})"
        )
    if s.kind == "make":
        make = s.name.split(":", 1)[1]
        return (
            f"vehicle_incompatible for {make}: {s.count:,} of {s.total:,} redirects with an outcome {last}"
            f" ({pct(s.share)}; baseline {pct(s.baseline_share)}, {p_text(s.p_adjusted)})"
        )
    name = "success" if s.kind == "success" else s.name
    return (
        f"{name} {pct(s.share)} of {s.total:,} redirects with an outcome {last}"
        f" (baseline {pct(s.baseline_share)}, {p_text(s.p_adjusted)})"
    )
