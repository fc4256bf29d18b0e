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


# --- small, odd and empty data (issue 23, item 5) -----------------------------------------------


def _text(html: str) -> str:
    """The words a reader sees: tags out, whitespace folded."""
    body = re.sub(r"<style.*?</style>|<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace(" .", ".").replace(" ,", ",")


@pytest.fixture(scope="module")
def no_redirects_report(no_redirects_db_path, tmp_path_factory):
    path = report.build_report(no_redirects_db_path, tmp_path_factory.mktemp("none") / "r.html")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def one_day_report(one_day_db_path, tmp_path_factory):
    path = report.build_report(one_day_db_path, tmp_path_factory.mktemp("one-day") / "r.html")
    return path.read_text(encoding="utf-8")


def test_a_database_without_redirects_says_what_was_imported_and_what_to_try(
    no_redirects_report, no_redirects_db_path
):
    from smartcar_logs import analysis

    text = _text(no_redirects_report)
    assert "nothing at all" not in text and "holds data" not in text
    assert "No Connect redirects and no launches were found" in text
    assert "The 1 import read 1 file, 500 lines: 500 ordinary lines" in text
    paths = analysis.oauth_looking_paths(no_redirects_db_path)
    for path, n in zip(paths["path"], paths["lines"]):
        assert f"{path} ({n} request{'' if n == 1 else 's'})" in text
    assert "--redirect-path PATH" in text and "--launch-path PATH" in text
    # nothing to chart: the report ends there, not in a row of empty boxes
    assert 'src="data:image/png;base64,' not in no_redirects_report
    assert "Outcomes over time" not in text and "No data in this range" not in text


def test_describe_empty_escapes_paths_and_points_at_the_range():
    import pandas as pd

    totals = pd.DataFrame([{"imports": 2, "files": 3, "lines_read": 1, "redirects": 0, "launches": 0,
                            "ordinary": 1, "rejected": 0}])  # fmt: skip
    paths = pd.DataFrame({"path": ["/cb<script>"], "lines": [1]})
    html = display.describe_empty(totals, paths).data
    assert "/cb&lt;script&gt;" in html and "<script>" not in html
    assert "The 2 imports read 3 files, 1 line: 1 ordinary line" in _text(html)
    outside = display.describe_empty(
        totals, paths, since="2027-01-01", held=("2026-10-01T00", "2026-10-20T00")
    )
    assert "from 2026-10-01 to 2026-10-20" in _text(outside.data) and "--since" in _text(outside.data)
    none = display.describe_empty(totals.assign(imports=0, files=0, lines_read=0, ordinary=0), paths.head(0))
    assert "nothing has been imported" in _text(none.data)


def test_one_day_report_by_hour_with_plain_numbers(one_day_report, one_day_db_path):
    from smartcar_logs import analysis

    text = _text(one_day_report)
    assert "charted by hour" in text and "Outcome mix per hour" not in text  # the title is in the PNG
    cmp = analysis.compare_latest(one_day_db_path, period="hour")
    after = cmp.iloc[0]["after"]
    assert (
        f"The last two complete hours, starting {cmp.iloc[0]['before']:%Y-%m-%d %H}:00 and {after:%Y-%m-%d %H}:00"
        in text
    )
    a = analysis.attempt_summary(one_day_db_path).iloc[0]
    assert int(a["retried_inferred"]) > 0  # the generator retries some errors
    if int(a["recovered_inferred"]) == int(a["retried_inferred"]):
        assert "The same number as the line above: every one of those retries succeeded." in text
    else:
        assert "did not succeed" in text
    # plurals: never "1 redirects", "1 attempts" ...
    assert not re.search(
        r"(?<![\d.,])1 (redirects|requests|lines|attempts|files|imports|errors|retries)\b", text
    )
    # a missing make reads the same everywhere
    assert "(unknown)" not in text and "(not sent)" not in text
    by_make = analysis.incompatible_vehicles(one_day_db_path, by="make")
    if (by_make["make"] == analysis.UNKNOWN).any():
        assert "(no make sent)" in text


def test_plural():
    assert display.plural(1, "request") == "1 request"
    assert display.plural(0, "request") == "0 requests"
    assert display.plural(2, "retry", "retries") == "2 retries"
    assert display.plural(1234, "line") == "1,234 lines"


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
        report.build_report(analysis_db_path, tmp_path / "r.html", period="fortnight")


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


def _stand_in_notebook(tmp_path, monkeypatch, code: str) -> None:
    """The report runs a two-cell notebook (its parameters, then *code*) instead of its own."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell("db_path = since = until = period = include_test = None", metadata={"tags": ["parameters"]}),
        new_code_cell(code),
    ])  # fmt: skip
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "stand-in.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(report, "report_notebook_path", lambda: path)


def test_failing_notebook_is_a_report_error_and_kept(analysis_db_path, tmp_path, monkeypatch):
    _stand_in_notebook(tmp_path, monkeypatch, "raise RuntimeError('boom')")
    with pytest.raises(report.ReportError, match="RuntimeError: boom"):
        report.build_report(analysis_db_path, tmp_path / "r.html")
    assert (tmp_path / "r.failed.ipynb").is_file()
    assert not (tmp_path / "r.html").exists()


def test_a_log_whose_launches_carry_no_state_has_its_funnel_labelled_inferred(tmp_path):
    from smartcar_logs import analysis, import_paths
    from smartcar_logs.store import open_db
    from smartcar_logs.synthetic import generate_file

    log = tmp_path / "stateless.log"
    truth = generate_file(log, lines=6_000, seed=21, days=2, launch_modes="stateless")["funnel"]["stateless"]
    db = open_db(tmp_path / "s.db")
    import_paths(db, [str(log)], launch_paths=["/connect/smartcar"])
    fs = analysis.funnel_summary(db)
    db.conn.close()
    html = report.build_report(tmp_path / "s.db", tmp_path / "r.html").read_text(encoding="utf-8")
    assert "paired by client (inferred)" in html and "NAT" in html
    launched = int(fs.loc[0, "launched"])
    assert abs(launched - truth["launched"]) <= 0.03 * truth["launched"]
    # the funnel table shows the count and the inferred share of it, not an empty funnel
    assert re.search(rf"Launched \(launch attempts\)</td>\s*<td[^>]*>{launched:,}<", html)
    assert "Paired with a redirect (of launches without a state)" in html


def test_a_broken_nbconvert_install_is_a_report_error_not_a_usage_error(
    analysis_db_path, tmp_path, monkeypatch
):
    # nbconvert raises ValueError when its "lab" template is missing from the install; the
    # command used to take any ValueError for bad dates: "Usage: ..." and exit 2.
    import nbconvert
    from click.testing import CliRunner

    from smartcar_logs.cli import cli

    _stand_in_notebook(tmp_path, monkeypatch, "print('charts')")

    def missing_template(self, *a, **k):
        raise ValueError("No template sub-directory with name 'lab' found in the following paths")

    monkeypatch.setattr(nbconvert.HTMLExporter, "from_notebook_node", missing_template)
    out = tmp_path / "r.html"
    res = CliRunner().invoke(cli, ["report", "--db", str(analysis_db_path), "--out", str(out)])
    assert res.exit_code == 1, res.output
    assert "Usage:" not in res.output and "Traceback" not in res.output
    assert "HTML could not be written by nbconvert" in res.output and "template sub-directory" in res.output
    assert not out.exists()
