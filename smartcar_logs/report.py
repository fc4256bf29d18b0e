"""The HTML report: run the packaged report notebook with papermill, convert it with nbconvert.

:func:`build_report` executes ``smartcar_logs/notebooks/report.ipynb`` (shipped inside the
package) in a fresh ``python3`` kernel with the database path and date range as papermill
parameters, then converts the executed notebook to one self-contained HTML file: code cells
hidden, charts embedded as base64 PNG, and no external scripts (no require.js, MathJax or
Mermaid from a CDN), so the file can be mailed or opened offline.

Every string that came from a log (makes, models, error descriptions) is data, never markup:
the notebook renders tables through :func:`html_table`, which escapes cell text, and charts
are PNG images.

The helpers :func:`html_table` and :func:`headline_html` are used by the notebooks.
"""

from __future__ import annotations

import html
import os
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from . import analysis
from .store import open_db

__all__ = [
    "ReportError",
    "build_report",
    "report_notebook_path",
    "html_table",
    "metric_table",
    "headline_html",
    "describe_comparison",
    "generated_at",
]

#: Kernel the report runs in; its spec must start the Python that has this package installed.
DEFAULT_KERNEL = "python3"

_TEMPLATE_NAME = "smartcar_report.html.j2"
# The lab template, minus every <script src=...> from a CDN, plus print-friendly styling.
_TEMPLATE = r"""
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
  body.jp-Notebook { max-width: 1100px; margin: 0 auto; padding: 1.5em 2em 4em; }
  .jp-Cell { padding: 0; }
  .jp-RenderedHTMLCommon table.report-table { font-size: 13px; margin: 0.6em 0 1.2em; }
  .jp-RenderedHTMLCommon table.report-table td,
  .jp-RenderedHTMLCommon table.report-table th { padding: 3px 10px; }
  .jp-RenderedHTMLCommon table.report-table caption { caption-side: top; text-align: left;
      font-weight: 600; padding-bottom: 4px; color: #333; }
  .headline { display: flex; flex-wrap: wrap; gap: 12px; margin: 0.5em 0 1em; }
  .headline .card { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px;
      min-width: 150px; background: #f6f8fa; }
  .headline .value { font-size: 22px; font-weight: 600; }
  .headline .label { font-size: 12px; color: #555; }
  .headline .sub { font-size: 11px; color: #777; }
  .jp-RenderedImage img { max-width: 100%; height: auto; }
  .jp-RenderedHTMLCommon table.report-table td:first-child,
  .jp-RenderedHTMLCommon table.report-table th:first-child { text-align: left; }
</style>
{%- endblock extra_css -%}
"""


class ReportError(Exception):
    """The report could not be built; the message says why, for humans."""


def report_notebook_path() -> Path:
    """Path of the report notebook shipped inside the package.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> report_notebook_path().name
    'report.ipynb'
    """
    return Path(str(resources.files("smartcar_logs") / "notebooks" / "report.ipynb"))


@contextmanager
def _kernel_env() -> Iterator[None]:
    """Let the kernel import this very package, installed or not, and draw inline PNGs."""
    root = str(Path(__file__).resolve().parent.parent)
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "MPLBACKEND")}
    parts = [root, *(p for p in (saved["PYTHONPATH"] or "").split(os.pathsep) if p and p != root)]
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    os.environ.pop("MPLBACKEND", None)  # an inherited Agg would swallow the charts
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _to_html(notebook: Any) -> str:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(notebook)
    return body


def build_report(
    db_path: str | os.PathLike,
    out_html: str | os.PathLike,
    since: Any = None,
    until: Any = None,
    *,
    period: str | None = None,
    include_test: bool = False,
    kernel_name: str = DEFAULT_KERNEL,
    timeout: int = 600,
) -> Path:
    """Run the report notebook on a database and write one self-contained HTML file.

    Parameters
    ----------
    db_path : str or os.PathLike
        An existing database (made by ``smartcar-logs import``).
    out_html : str or os.PathLike
        The HTML file to write (its folder is created if missing).
    since, until : date-like, optional
        Inclusive start and exclusive end of the report (UTC ISO dates such as
        ``"2026-10-01"``); None means from the first / to the last record.
    period : {"day", "week", "month"}, optional
        Bucket for the charts over time; chosen from the length of the range when None.
    include_test : bool, default False
        Include test traffic.
    kernel_name : str, default "python3"
        Jupyter kernel to execute in; it must be able to import ``smartcar_logs``.
    timeout : int, default 600
        Seconds one notebook cell may run.

    Returns
    -------
    pathlib.Path
        *out_html*, absolute.

    Raises
    ------
    smartcar_logs.store.StoreError
        The database does not exist or cannot be opened.
    ValueError
        *since*, *until* or *period* is malformed.
    ReportError
        The notebook failed; the executed notebook is kept next to *out_html* as
        ``<name>.failed.ipynb`` for debugging.

    Examples
    --------
    >>> build_report("data/smartcar_logs.db", "reports/report.html",
    ...              since="2026-10-01", until="2026-11-01")  # doctest: +SKIP
    PosixPath('/.../reports/report.html')
    """
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    db_file = Path(db_path).expanduser().resolve()
    db = open_db(db_file, create=False)  # raises StoreError with a readable message
    lo = analysis._bound(since, "since")
    hi = analysis._bound(until, "until")
    if period is None:
        period = analysis.choose_period(db, lo, hi)
    analysis._check_period(period)
    db.conn.close()

    out = Path(out_html).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    parameters = {
        "db_path": str(db_file),
        "since": lo,
        "until": hi,
        "period": period,
        "include_test": bool(include_test),
    }
    with tempfile.TemporaryDirectory(prefix="smartcar-report-") as tmp:
        executed = Path(tmp) / "report.ipynb"
        try:
            with _kernel_env():
                pm.execute_notebook(
                    str(report_notebook_path()),
                    str(executed),
                    parameters=parameters,
                    kernel_name=kernel_name,
                    progress_bar=False,
                    cwd=tmp,
                    execution_timeout=timeout,
                    # passed on to nbclient: keep the kernel's log chatter off our stderr
                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                )
        except PapermillExecutionError as e:
            kept = out.with_name(out.stem + ".failed.ipynb")
            if executed.exists():
                kept.write_bytes(executed.read_bytes())
            raise ReportError(
                f"the report notebook failed ({e.ename}: {e.evalue}); "
                f"the executed notebook is in {kept}"
            ) from None
        except Exception as e:  # kernel missing or dead: jupyter_client raises many kinds
            raise ReportError(
                f"could not run the report notebook in kernel {kernel_name!r} "
                f"({type(e).__name__}: {e}); is ipykernel installed in {sys.executable}?"
            ) from None
        notebook = nbformat.read(executed, as_version=4)
    out.write_text(_to_html(notebook), encoding="utf-8")
    return out


# --- helpers for the notebooks -------------------------------------------------------------


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
        col: (lambda v, d=decimals: "" if pd.isna(v) else f"{v:.{d}%}")
        for col in shown.columns
        if col in pct
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


def headline_html(
    summary: pd.DataFrame, funnel_summary: pd.DataFrame | None = None
) -> Any:
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
            ("Launch → success", *_fmt_rate(f["conversion_rate"], f["conversion_rate_lo"], f["conversion_rate_hi"]))
        )
        cards.append(
            ("Abandoned", *_fmt_rate(f["abandonment_rate"], f["abandonment_rate_lo"], f["abandonment_rate_hi"]))
        )
    parts = [
        '<div class="card"><div class="value">{}</div><div class="label">{}</div>'
        '<div class="sub">{}</div></div>'.format(html.escape(v), html.escape(label), html.escape(sub))
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
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
