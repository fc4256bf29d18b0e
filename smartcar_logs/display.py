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
    "describe_empty",
    "plural",
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


def _fmt_rate(value: float, lo: float, hi: float, of: str = "") -> tuple[str, str]:
    if pd.isna(value):
        return "–", "no data"
    return f"{value:.1%}", (f"{of}; " if of else "") + f"95% CI {lo:.1%} – {hi:.1%}"


def headline_html(summary: pd.DataFrame, funnel_summary: pd.DataFrame | None = None) -> Any:
    """The headline numbers as a row of cards, each saying what its percentage is of.

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
    events = int(s["events"])

    def share(k: Any) -> str:
        return f"{int(k) / events:.0%} of redirects" if events else "no redirects"

    def rate(row: pd.Series, col: str, of: str) -> tuple[str, str]:
        return _fmt_rate(row[col], row[f"{col}_lo"], row[f"{col}_hi"], of)

    cards = [
        ("Redirects", f"{events:,}", f"{plural(s['redirects'], 'log line')}; a reload counts once"),
        ("Success", f"{int(s['success']):,}", f"{share(s['success'])}; {plural(s['errors'], 'error')}"),
        ("Denial rate", *rate(s, "denial_rate", "of success + error")),
        ("Failure rate", *rate(s, "failure_rate", "of success + error")),
        ("Incompatible vehicles", f"{int(s['incompatible']):,}", share(s["incompatible"])),
    ]
    if funnel_summary is not None and int(funnel_summary.iloc[0]["launched"]) > 0:
        f = funnel_summary.iloc[0]
        # Launches without a state are paired by client: an inference the card must not hide.
        of = (
            "of launches"
            if not int(f["launched_inferred"])
            else "of launches, some paired by client (inferred)"
        )
        cards.append(("Launch → success", *rate(f, "conversion_rate", of)))
        cards.append(("Abandoned", *rate(f, "abandonment_rate", f"{of}, no redirect back")))
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
    """Markdown saying, per rate, what the test supports: a change with its size, or none seen.

    Parameters
    ----------
    comparison : pandas.DataFrame
        From :func:`smartcar_logs.analysis.compare_latest` (``before``/``after`` columns,
        ``p_holm``, and ``attrs["partial"]``).
    period : str
        The period word ("week"), for the sentences.

    Returns
    -------
    str
        Markdown text (numbers and dates only; no log strings).
    """
    fmt = "%Y-%m-%d %H:00" if period == "hour" else "%Y-%m-%d"  # by hour, the date alone says too little
    partial = [pd.Timestamp(p).strftime(fmt) for p in comparison.attrs.get("partial", [])]
    left_out = (
        f" The {period} of {', '.join(partial)} is not complete in this range and is left out."
        if len(partial) == 1
        else (f" The partial {period}s ({', '.join(partial)}) are left out." if partial else "")
    )
    if comparison.empty:
        return f"Fewer than two complete {period}s have redirects, so there is nothing to compare.{left_out}"
    first = comparison.iloc[0]
    before = pd.Timestamp(first["before"]).strftime(fmt)
    after = pd.Timestamp(first["after"]).strftime(fmt)
    m = int(comparison["p_value"].notna().sum())
    lines = [
        f"The last two complete {period}s, starting {before} and {after}, compared ({m} rates tested "
        f"together, p-values Holm-adjusted).{left_out}",
        "",
    ]
    for metric, row in comparison.iterrows():
        name = str(metric).replace("_", " ")
        counts = (
            f"{row['rate_before']:.1%} ({int(row['k_before']):,} of {int(row['n_before']):,}) → "
            f"{row['rate_after']:.1%} ({int(row['k_after']):,} of {int(row['n_after']):,})"
        )
        if row["test"] == "n/a":
            lines.append(f"- **{name.capitalize()}**: {counts}; not testable (a {period} without redirects).")
            continue
        size = (
            f"difference {row['diff'] * 100:+.1f} points "
            f"(95% CI {row['diff_lo'] * 100:+.1f} to {row['diff_hi'] * 100:+.1f})"
        )
        p = f"p = {row['p_holm']:.2g} ({row['test']})"
        if row["significant"]:
            word = "an increase" if row["diff"] > 0 else "a decrease"
            lines.append(f"- **{name.capitalize()}**: {word}, {counts}; {size}, {p}.")
        else:
            lines.append(
                f"- **{name.capitalize()}**: no detectable change, {counts}; {size}, {p}. "
                "The interval shows the changes the data cannot rule out."
            )
    return "\n".join(lines)


def plural(n: Any, word: str, words: str | None = None) -> str:
    """*n* and the word for it, singular for one: ``1 request``, ``2 requests``, ``1,200 lines``.

    Examples
    --------
    >>> plural(1, "request"), plural(2, "request"), plural(1200, "entry", "entries")
    ('1 request', '2 requests', '1,200 entries')
    """
    n = int(n)
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def label_vehicles(frame: pd.DataFrame) -> pd.DataFrame:
    """*frame* with a missing make or model in words, as everywhere: ``(no make sent)``.

    The analysis frames carry :data:`smartcar_logs.redirect.UNKNOWN` in ``make`` and ``model``;
    this is for showing them.

    Examples
    --------
    >>> label_vehicles(pd.DataFrame({"make": ["(unknown)"], "model": ["(unknown)"]})).iloc[0].tolist()
    ['(no make sent)', '(no model sent)']
    """
    from .redirect import NO_MAKE, NO_MODEL, UNKNOWN

    out = frame.copy()
    for col, words in (("make", NO_MAKE), ("model", NO_MODEL)):
        if col in out.columns:
            out[col] = out[col].replace({UNKNOWN: words})
    return out


def describe_empty(
    totals: pd.DataFrame,
    oauth_paths: pd.DataFrame,
    *,
    since: Any = None,
    until: Any = None,
    held: tuple[str | None, str | None] = (None, None),
    max_paths: int = 5,
) -> Any:
    """Why a report has nothing to show, what was imported, and what to try.

    Parameters
    ----------
    totals : pandas.DataFrame
        From :func:`smartcar_logs.analysis.import_totals`.
    oauth_paths : pandas.DataFrame
        From :func:`smartcar_logs.analysis.oauth_looking_paths`.
    since, until : str, optional
        The report's range, as given.
    held : (str or None, str or None)
        First and last record in the whole database
        (:func:`smartcar_logs.analysis.data_range`); when set, the records are outside the
        range and the text says where they are.
    max_paths : int, default 5
        Name at most this many OAuth-looking paths.

    Returns
    -------
    IPython.display.HTML
        Paths come from logs: they are escaped.
    """
    from IPython.display import HTML

    esc = html.escape
    first, last = held
    if first:
        where = f"between {since or 'the start'} and {until or 'the end'}" if since or until else "here"
        text = (
            f"<p><strong>No redirects and no launches {esc(where)}.</strong> The database holds records "
            f"from {esc(first[:10])} to {esc((last or first)[:10])}: widen <code>--since</code> / "
            "<code>--until</code>.</p>"
        )
        return HTML(text)
    t = totals.iloc[0]
    lines = int(t["lines_read"])
    if int(t["imports"]) == 0 or lines == 0:
        text = (
            "<p><strong>No redirects and no launches: nothing has been imported into this database "
            "yet.</strong> Run <code>smartcar-logs import --db DB ACCESS.LOG</code> first.</p>"
        )
        return HTML(text)
    parts = [
        f"<p><strong>No Connect redirects and no launches were found.</strong> The "
        f"{plural(t['imports'], 'import')} read {plural(t['files'], 'file')}, {plural(lines, 'line')}: "
        f"{plural(t['ordinary'], 'ordinary line')} (other traffic, "
        f"{int(t['ordinary']) / lines:.0%} of the lines) and {plural(t['rejected'], 'rejected line')}.</p>",
        "<p>What to try:</p><ul>",
    ]
    if len(oauth_paths):
        shown = oauth_paths.head(max_paths)
        named = ", ".join(
            f"<code>{esc(str(p))}</code> ({plural(n, 'request')})"
            for p, n in zip(shown["path"], shown["lines"])
        )
        more = len(oauth_paths) - len(shown)
        parts.append(
            f"<li>These paths looked like an OAuth redirect but carried no sign of Smartcar: {named}"
            + (f" and {plural(more, 'more path')}" if more else "")
            + ". If one is your app's Connect redirect URI, import again with "
            "<code>--redirect-path PATH</code>.</li>"
        )
    else:
        parts.append(
            "<li>No request looked like an OAuth redirect. If your app's Connect redirect URI is on "
            "another host or in another log, import that log; if it has an unusual path, name it with "
            "<code>--redirect-path PATH</code>.</li>"
        )
    parts.append(
        "<li>To see the funnel, name the app's launch endpoint with <code>--launch-path PATH</code>."
        "</li></ul>"
    )
    return HTML("".join(parts))


def generated_at() -> str:
    """The current UTC time, for the report's byline."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
