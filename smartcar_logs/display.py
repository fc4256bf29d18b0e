"""HTML pieces the report and the notebooks display: escaped tables, headline cards, sentences.

Every string that came from a log (makes, models, error descriptions) is data, never markup:
:func:`html_table` escapes cell text, and the sentences carry numbers and dates only.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

__all__ = [
    "html_table",
    "metric_table",
    "headline_html",
    "describe_comparison",
    "generated_at",
]


def html_table(
    frame: pd.DataFrame,
    *,
    percent: Iterable[str] = (),
    caption: str | None = None,
    index: bool = False,
    decimals: int = 1,
    max_rows: int | None = 50,
) -> Any:
    """A DataFrame as an escaped HTML table for notebook output.

    Cell text is escaped (``<script>`` shows as text), so log strings are safe to display.

    Parameters
    ----------
    frame : pandas.DataFrame
    percent : iterable of str
        Columns to show as percentages.
    caption : str, optional
        Escaped too.
    index : bool, default False
    decimals : int, default 1
        Decimals for percentages and other floats.
    max_rows : int, optional
        Show only the first *max_rows* rows (the caption says so).

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> "&lt;b&gt;" in html_table(pd.DataFrame({"make": ["<b>"]})).data
    True
    """
    from IPython.display import HTML

    shown = frame
    if max_rows is not None and len(frame) > max_rows:
        shown = frame.head(max_rows)
        caption = f"{caption or ''} (first {max_rows} of {len(frame)} rows)".strip()
    shown = shown.copy()
    pct = set(percent)
    text_cols = []
    for position, col in enumerate(shown.columns, start=1 + int(index)):
        series = shown[col]
        if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and col not in pct:
            # nullable ints (Int64): pandas prints <NA>, na_rep does not reach them
            shown[col] = series.astype(object).where(series.notna(), "")
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            text_cols.append(position)
    formatters = {
        col: (lambda v, d=decimals: "" if pd.isna(v) else f"{v:.{d}%}") for col in shown.columns if col in pct
    }
    table_id = f"t{uuid.uuid4().hex[:12]}"
    table = shown.to_html(
        escape=True,
        index=index,
        na_rep="",
        formatters=formatters,
        float_format=lambda v: f"{v:,.{decimals}f}",
        classes="report-table",
        border=0,
        table_id=table_id,
    )
    if caption:
        table = table.replace(">", f"><caption>{html.escape(caption)}</caption>", 1)
    if text_cols:
        selectors = ", ".join(
            f"#{table_id} td:nth-child({i}), #{table_id} th:nth-child({i})" for i in text_cols
        )
        table = f"<style>{selectors} {{ text-align: left; }}</style>\n{table}"
    return HTML(table)


def _fmt_rate(value: float, lo: float, hi: float) -> tuple[str, str]:
    if pd.isna(value):
        return "–", "no data"
    return f"{value:.1%}", f"95% CI {lo:.1%} – {hi:.1%}"


def headline_html(summary: pd.DataFrame, funnel_summary: pd.DataFrame | None = None) -> Any:
    """The headline numbers as a row of cards.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`smartcar_logs.analysis.summary`.
    funnel_summary : pandas.DataFrame, optional
        From :func:`smartcar_logs.analysis.funnel_summary`; its cards are added when it has
        launches.

    Returns
    -------
    IPython.display.HTML
    """
    from IPython.display import HTML

    s = summary.iloc[0]
    cards = [
        ("Redirects", f"{int(s['events']):,}", f"{int(s['redirects']):,} log lines, reloads once"),
        ("Success", f"{int(s['success']):,}", f"{int(s['errors']):,} errors, {int(s['empty']):,} empty"),
        ("Denial rate", *_fmt_rate(s["denial_rate"], s["denial_rate_lo"], s["denial_rate_hi"])),
        ("Failure rate", *_fmt_rate(s["failure_rate"], s["failure_rate_lo"], s["failure_rate_hi"])),
        ("Incompatible vehicles", f"{int(s['incompatible']):,}", "vehicle_incompatible redirects"),
    ]
    if funnel_summary is not None and int(funnel_summary.iloc[0]["launched"]) > 0:
        f = funnel_summary.iloc[0]
        cards.append(
            (
                "Launch → success",
                *_fmt_rate(f["conversion_rate"], f["conversion_rate_lo"], f["conversion_rate_hi"]),
            )
        )
        cards.append(
            (
                "Abandoned",
                *_fmt_rate(f["abandonment_rate"], f["abandonment_rate_lo"], f["abandonment_rate_hi"]),
            )
        )
    parts = [
        f'<div class="card"><div class="value">{html.escape(v)}</div>'
        f'<div class="label">{html.escape(label)}</div>'
        f'<div class="sub">{html.escape(sub)}</div></div>'
        for label, v, sub in cards
    ]
    return HTML('<div class="headline">' + "".join(parts) + "</div>")


def _fmt_value(row: pd.Series, col: str, pct: bool) -> str:
    value = row[col]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    if pct:
        text = f"{value:.1%}"
        lo, hi = row.get(f"{col}_lo"), row.get(f"{col}_hi")
        if lo is not None and hi is not None and not pd.isna(lo) and not pd.isna(hi):
            text += f" (95% CI {lo:.1%} – {hi:.1%})"
        return text
    if isinstance(value, (int, float)) and float(value).is_integer():
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def metric_table(
    frame: pd.DataFrame,
    labels: dict[str, str],
    *,
    percent: Iterable[str] = (),
    caption: str | None = None,
) -> Any:
    """The first row of *frame* as a two-column Metric / Value table.

    Parameters
    ----------
    frame : pandas.DataFrame
        A one-row result such as :func:`smartcar_logs.analysis.attempt_summary`.
    labels : dict
        Column -> label, in display order; other columns are not shown.
    percent : iterable of str
        Columns shown as percentages, followed by their ``_lo``/``_hi`` interval when the
        frame has one.
    caption : str, optional

    Returns
    -------
    IPython.display.HTML
    """
    row = frame.iloc[0]
    pct = set(percent)
    table = pd.DataFrame(
        {
            "Metric": list(labels.values()),
            "Value": [_fmt_value(row, col, col in pct) for col in labels],
        }
    )
    return html_table(table, caption=caption)


def describe_comparison(comparison: pd.DataFrame, period: str = "period") -> str:
    """One Markdown sentence per rate saying how it moved and whether that is significant.

    Parameters
    ----------
    comparison : pandas.DataFrame
        From :func:`smartcar_logs.analysis.compare_latest` (or ``compare_periods`` with
        ``before``/``after`` columns added).
    period : str
        The period word ("week"), for the sentence.

    Returns
    -------
    str
        Markdown text (numbers and dates only; no log strings).
    """
    if comparison.empty:
        return f"Fewer than two {period}s have redirects, so there is nothing to compare yet."
    lines = []
    for metric, row in comparison.iterrows():
        name = str(metric).replace("_", " ")
        before = pd.Timestamp(row["before"]).strftime("%Y-%m-%d")
        after = pd.Timestamp(row["after"]).strftime("%Y-%m-%d")
        verdict = (
            f"**a significant change** ({row['test']}, p = {row['p_value']:.3g})"
            if row["significant"]
            else f"not a significant change ({row['test']}, p = {row['p_value']:.3g})"
        )
        lines.append(
            f"- The {name} went from {row['rate_before']:.1%} "
            f"({int(row['k_before'])}/{int(row['n_before'])}, {period} of {before}) to "
            f"{row['rate_after']:.1%} ({int(row['k_after'])}/{int(row['n_after'])}, "
            f"{period} of {after}): {verdict}; difference {row['diff']:+.1%}, "
            f"95% CI {row['diff_lo']:+.1%} to {row['diff_hi']:+.1%}."
        )
    return "\n".join(lines)


def generated_at() -> str:
    """The current UTC time, for the report's byline."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
