"""The HTML report: one self-contained file, charts embedded, code hidden, log strings escaped.

The report is built once per module (a kernel start is slow) from the hand-built fixture.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
from pathlib import Path

import pytest

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


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("CI"):
        pytest.fail("chromium is missing in CI: .ci/run installs it")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    return found


async def _render(url: str, screenshot: Path, profile: Path) -> dict:
    """Open *url* in headless Chromium over the DevTools protocol: console errors, images, a PNG."""
    from tornado.websocket import websocket_connect

    proc = await asyncio.create_subprocess_exec(
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1200,900", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        while True:  # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/..."
            line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
            if not line:
                raise RuntimeError("chromium exited before it listened")
            if "DevTools listening on" in line:
                port = int(line.split("ws://127.0.0.1:")[1].split("/")[0])
                break
        from tornado.httpclient import AsyncHTTPClient

        pages = json.loads((await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/json/list")).body)
        page = next(p for p in pages if p["type"] == "page")
        ws = await websocket_connect(page["webSocketDebuggerUrl"], max_message_size=1 << 28)
        ids = iter(range(1, 1_000_000))
        events: list[dict] = []

        async def call(method: str, **params):
            n = next(ids)
            ws.write_message(json.dumps({"id": n, "method": method, "params": params}))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.read_message(), 60))
                if msg.get("id") == n:
                    assert "error" not in msg, msg
                    return msg["result"]
                events.append(msg)

        for domain in ("Page", "Runtime", "Log"):
            await call(f"{domain}.enable")
        await call("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in events):
            events.append(json.loads(await asyncio.wait_for(ws.read_message(), 60)))
        images = await call(
            "Runtime.evaluate",
            expression="Promise.all(Array.from(document.images).map(i => i.decode().then(() => i.naturalWidth,"
            " () => 0)))",
            awaitPromise=True,
            returnByValue=True,
        )
        height = await call("Runtime.evaluate", expression="document.body.scrollHeight", returnByValue=True)
        shot = await call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": 1200, "height": height["result"]["value"], "scale": 1},
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        errors = [
            e["params"]
            for e in events
            if e.get("method") == "Runtime.exceptionThrown"
            or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
            or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
        ]
        ws.close()
        return {"errors": errors, "image_widths": images["result"]["value"]}
    finally:
        proc.kill()
        await proc.wait()


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
