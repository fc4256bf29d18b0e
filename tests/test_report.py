"""The HTML report: one self-contained file, charts embedded, code hidden, log strings escaped.

The report is built once per module (a kernel start is slow) from the hand-built fixture.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from helpers_browser import render as _render
from smartcar_logs import display, report
from smartcar_logs.store import StoreError


@pytest.fixture(scope="module")
def built(analysis_db_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "sub" / "report.html"
    path = report.build_report(analysis_db_path, out, since="2026-10-01", until="2026-10-19")
    return path, path.read_text(encoding="utf-8")


def test_build_report_returns_the_file(built):
    path, html = built
    assert path.is_file() and path.is_absolute() and path.name == "report.html"
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "<title>Smartcar Connect report</title>" in html


def test_charts_are_embedded_png(built):
    _, html = built
    # outcome mix, rates (one figure), funnel + abandonment, top bars, heatmap
    assert html.count('src="data:image/png;base64,') == 5


def test_no_code_and_no_external_resources(built):
    _, html = built
    assert 'class="jp-CodeMirrorEditor' not in html and '<div class="highlight' not in html
    assert 'class="jp-OutputPrompt' not in html
    for code in ("from smartcar_logs", "analysis.connect", "plt.subplots", "db_path ="):
        assert code not in html
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert not re.search(r"<link[^>]*href=\"?https?:", html)
    assert "Traceback" not in html and "Warning" not in html


def test_log_strings_are_escaped(built):
    _, html = built
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the make
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the model
    assert "&lt;script&gt;alert(&quot;desc&quot;)" in html or '&lt;script&gt;alert("desc")' in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "onerror=alert(1)>" not in html


def test_key_numbers_and_parameters(built):
    _, html = built
    # the parameters made it into the notebook: the range is printed, the period chosen (18 days)
    assert "<strong>2026-10-01</strong>" in html and "<strong>2026-10-19</strong>" in html
    assert "charted by <strong>day</strong>" in html
    assert "27.3%" in html  # denial rate 6/22
    assert "63.6%" in html  # failure rate 14/22
    assert "50.0%" in html  # launch -> success 5/10
    assert "1 test redirect (test VINs, simulated vehicles) left out" in html
    assert (
        "15.4% of the attempts with an error (2 of 13; 95% CI 4.3% – 42.2%)" in html
    )  # recovered, same state


def test_every_chart_has_a_how_to_read_note_and_percentages_say_of_what(built):
    _, html = built
    assert html.count("How to read:") == 4  # outcome mix, rates, funnel, heatmap
    assert "of success + error" in html and "% of error redirects" in html and "of launches" in html
    # 10-01..10-19 holds two complete weeks, but charted by day: the last two complete days
    assert "The last two complete days" in html and "Holm-adjusted" in html
    assert "(unknown)" not in html  # a missing model reads "(not sent)"


def test_report_in_a_real_browser(built, tmp_path):
    """Issue 12: no console errors, every chart decodes, and a screenshot to look at."""
    path, html = built
    png = tmp_path / "report.png"
    got = asyncio.run(_render(path.as_uri(), png, tmp_path / "profile"))
    assert got["errors"] == []
    widths = got["image_widths"]
    assert len(widths) == html.count('src="data:image/png;base64,') == 5
    assert all(w > 300 for w in widths)  # decoded, and chart-sized
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 100_000  # the whole page, not a blank one
    print(f"screenshot: {png}")


def test_missing_database_fails_before_starting_a_kernel(tmp_path):
    with pytest.raises(StoreError):
        report.build_report(tmp_path / "none.db", tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_bad_dates_and_period_are_rejected(analysis_db_path, tmp_path):
    with pytest.raises(ValueError, match="since"):
        report.build_report(analysis_db_path, tmp_path / "r.html", since="yesterday")
    with pytest.raises(ValueError, match="period"):
        report.build_report(analysis_db_path, tmp_path / "r.html", period="hour")


def test_html_table_escapes_and_formats():
    import pandas as pd

    table = display.html_table(
        pd.DataFrame({"make": ["<b>x</b>"], "share": [0.25], "year": pd.array([None], dtype="Int64")}),
        percent=["share"],
        caption="<i>cap</i>",
    ).data
    assert "&lt;b&gt;x&lt;/b&gt;" in table and "<b>" not in table
    assert "&lt;i&gt;cap&lt;/i&gt;" in table
    assert "25.0%" in table and "&lt;NA&gt;" not in table


def test_report_notebook_ships_inside_the_package():
    path = report.report_notebook_path()
    assert path.is_file()
    assert path.parent.parent.name == "smartcar_logs"


def test_unknown_kernel_is_a_report_error(analysis_db_path, tmp_path):
    with pytest.raises(report.ReportError, match="kernel 'no-such-kernel'"):
        report.build_report(analysis_db_path, tmp_path / "r.html", kernel_name="no-such-kernel")


def test_failing_notebook_is_a_report_error_and_kept(analysis_db_path, tmp_path, monkeypatch):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell("db_path = since = until = period = include_test = None", metadata={"tags": ["parameters"]}),
        new_code_cell("raise RuntimeError('boom')"),
    ])  # fmt: skip
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nb, broken)
    monkeypatch.setattr(report, "report_notebook_path", lambda: broken)
    with pytest.raises(report.ReportError, match="RuntimeError: boom"):
        report.build_report(analysis_db_path, tmp_path / "r.html")
    assert (tmp_path / "r.failed.ipynb").is_file()
    assert not (tmp_path / "r.html").exists()
