"""The HTML report: run the packaged report notebook with papermill, convert it with nbconvert.

:func:`build_report` executes ``smartcar_logs/notebooks/report.ipynb`` (shipped inside the
package) in a fresh ``python3`` kernel with the database path and date range as papermill
parameters, then converts the executed notebook to one self-contained HTML file: code cells
hidden, charts embedded as base64 PNG, and no external scripts (no require.js, MathJax or
Mermaid from a CDN), so the file can be mailed or opened offline.

Every string that came from a log (makes, models, error descriptions) is data, never markup:
the notebook renders tables through :func:`smartcar_logs.display.html_table`, which escapes
cell text, and charts are PNG images.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from . import analysis
from .locations import database_path
from .store import open_db, pending_files

__all__ = [
    "ReportError",
    "build_report",
    "report_notebook_path",
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


#: Output metadata the report notebook sets on the text that says the range holds nothing.
EMPTY_MARK = "smartcar_logs_empty"


def _drop_after_empty(notebook: Any) -> Any:
    """A report with nothing to chart ends after the text that says why and what to try:
    its sections would be a row of "No data" boxes."""
    for i, cell in enumerate(notebook.cells):
        if any(EMPTY_MARK in out.get("metadata", {}) for out in cell.get("outputs", [])):
            notebook.cells = notebook.cells[: i + 1]
            break
    return notebook


def _to_html(notebook: Any) -> str:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    try:
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
    except Exception as e:
        # nbconvert's templates are data files of its install: one missing or broken raised a
        # ValueError the command took for a bad --since/--until (a usage error, exit 2).
        raise ReportError(
            f"the report ran but its HTML could not be written by nbconvert ({type(e).__name__}: {e}); "
            "reinstalling it usually helps: pip install --force-reinstall nbconvert"
        ) from e
    return body


def _section_progress(say: Callable[[str], None]) -> Callable[..., None]:
    """An nbclient ``on_cell_start`` hook that names each report section as it starts."""

    def hook(cell: Any, cell_index: int, **_: Any) -> None:
        if cell.get("cell_type") == "markdown" and cell.get("source", "").startswith("#"):
            say(cell["source"].splitlines()[0].lstrip("# ").strip())

    return hook


def build_report(
    db_path: str | os.PathLike | None,
    out_html: str | os.PathLike,
    since: Any = None,
    until: Any = None,
    *,
    period: str | None = None,
    include_test: bool = False,
    kernel_name: str = DEFAULT_KERNEL,
    timeout: int = 600,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Run the report notebook on a database and write one self-contained HTML file.

    Parameters
    ----------
    db_path : str or os.PathLike or None
        An existing database (made by ``smartcar-logs import``); None applies the command
        line's rule (``$SMARTCAR_LOGS_DB``, else the per-user database: see :mod:`.locations`).
    out_html : str or os.PathLike
        The HTML file to write (its folder is created if missing).
    since, until : date-like, optional
        Inclusive start and exclusive end of the report (UTC ISO dates such as
        ``"2026-10-01"``); None means from the first / to the last record.
    period : {"hour", "day", "week", "month"}, optional
        Bucket for the charts over time; chosen from the data when None
        (:func:`smartcar_logs.analysis.choose_period`).
    include_test : bool, default False
        Include test traffic.
    kernel_name : str, default "python3"
        Jupyter kernel to execute in; it must be able to import ``smartcar_logs``.
    timeout : int, default 600
        Seconds one notebook cell may run.
    progress : callable, optional
        Called with a short line of text as each section of the report starts.

    Returns
    -------
    pathlib.Path
        *out_html*, absolute.

    Raises
    ------
    smartcar_logs.store.StoreError
        The database does not exist or cannot be opened.
    ValueError
        *since*, *until* or *period* is malformed, or *since* is not before *until*.
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

    db_file = database_path(db_path).resolve()
    db = open_db(db_file, create=False)  # raises StoreError with a readable message
    lo, hi = analysis.bounds(since, until)
    if lo is not None and hi is not None and lo >= hi:
        db.conn.close()
        raise ValueError(f"since ({lo}) is not before until ({hi}): the range is empty")
    say = progress or (lambda text: None)
    if period is None:
        say("choosing the period from the data")
        period = analysis.choose_period(db, lo, hi, include_test)
    analysis.check_period(period)
    lag = pending_files(db.conn)
    if lag:  # an import still running (or killed): the report is made without those files
        files = f"{lag:,} imported file{'' if lag == 1 else 's'}"
        say(f"{files} not counted yet: an import is running or was killed")
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
                say(f"running the report notebook (by {period})")
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
                    on_cell_start=_section_progress(say),  # passed on to nbclient
                )
        except PapermillExecutionError as e:
            kept = out.with_name(out.stem + ".failed.ipynb")
            if executed.exists():
                kept.write_bytes(executed.read_bytes())
            raise ReportError(
                f"the report notebook failed ({e.ename}: {e.evalue}); the executed notebook is in {kept}"
            ) from None
        except Exception as e:  # kernel missing or dead: jupyter_client raises many kinds
            raise ReportError(
                f"could not run the report notebook in kernel {kernel_name!r} "
                f"({type(e).__name__}: {e}); is ipykernel installed in {sys.executable}?"
            ) from None
        notebook = nbformat.read(executed, as_version=4)
    say("writing the HTML")
    out.write_text(_to_html(_drop_after_empty(notebook)), encoding="utf-8")
    return out
