"""`smartcar-logs serve`: the database in Datasette with the package's metadata (issue 23).

Datasette's own test client reads a table page, a view, a stored query and a facet from the
metadata the package ships; the command is run with --get as a user would; and once the
server is started on a free port and a page is read in headless Chromium.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from helpers_browser import render
from smartcar_logs import analysis, serve
from smartcar_logs.descriptions import DESCRIPTIONS, TITLE
from smartcar_logs.store import open_db

ROOT = Path(__file__).resolve().parent.parent
NAME = "analysis"  # Datasette names the database after its file, analysis.db


def _datasette(path: Path):
    """A Datasette the way `serve` configures it, for the installed version."""
    from datasette.app import Datasette
    from datasette.version import __version__

    if serve._major(__version__) >= 1:
        return Datasette([str(path)], metadata=serve.metadata(NAME), config=serve.configuration(NAME))
    return Datasette([str(path)], metadata=serve.merged(NAME))


def _get(path: Path, url: str):
    async def go():
        return await _datasette(path).client.get(url)

    return asyncio.run(go())


def test_table_page_has_the_descriptions_and_default_facets(analysis_db_path):
    r = _get(analysis_db_path, f"/{NAME}/redirects")
    assert r.status_code == 200
    html = r.text
    assert DESCRIPTIONS["redirects"][0].split(":")[0] in html
    assert DESCRIPTIONS["redirects"][1]["has_code"] in html  # column descriptions are shown
    for facet in ("outcome", "category", "error_code", "make"):
        assert f'data-column="{facet}"' in html, facet


def test_tables_are_newest_first(analysis_db_path):
    rows = _get(analysis_db_path, f"/{NAME}/redirects.json?_shape=array").json()
    ts = [r["ts"] for r in rows]
    assert ts == sorted(ts, reverse=True) and ts[0] == "2026-10-16T13:00:00+00:00"


def test_a_view_reads_what_the_analysis_reads(analysis_db_path, analysis_db):
    rows = _get(analysis_db_path, f"/{NAME}/weekly_rates.json?_shape=array").json()
    got = pd.DataFrame(rows).sort_values("week").reset_index(drop=True)
    want = analysis.rates(analysis_db, period="week")
    assert got["week"].tolist() == want["period"].dt.strftime("%Y-%m-%d").tolist()
    for c in ("n", "denied", "denial_rate", "denial_rate_lo", "denial_rate_hi"):
        assert got[c].tolist() == pytest.approx(want[c].tolist(), rel=1e-12), c


def test_a_facet_counts_events(analysis_db_path, analysis_db):
    data = _get(analysis_db_path, f"/{NAME}/events.json?_facet=error_code&is_test=0").json()
    facet = {f["value"]: f["count"] for f in data["facet_results"]["error_code"]["results"]}
    want = analysis.error_codes(analysis_db).set_index("error_code")["n"].to_dict()
    assert facet == want  # reloads once, test traffic out, as the report


@pytest.mark.parametrize("query", sorted(serve.QUERIES))
def test_every_stored_query_runs(analysis_db_path, query):
    r = _get(analysis_db_path, f"/{NAME}/{query}.json?_shape=array")
    assert r.status_code == 200, r.text
    assert r.json(), query
    page = _get(analysis_db_path, f"/{NAME}/{query}")
    assert serve.QUERIES[query]["title"] in page.text


def test_stored_queries_answer_the_reports_questions(analysis_db_path, analysis_db):
    weeks = _get(analysis_db_path, f"/{NAME}/denial_rate_by_week.json?_shape=array").json()
    latest = analysis.rates(analysis_db, period="week").iloc[-1]
    assert weeks[0]["week"] == latest["period"].strftime("%Y-%m-%d")  # newest first
    assert weeks[0]["denial_pct"] == round(100 * latest["denial_rate"], 1) and weeks[0]["n"] == latest["n"]
    makes = _get(analysis_db_path, f"/{NAME}/top_incompatible_makes.json?_shape=array").json()
    want = analysis.incompatible_vehicles(analysis_db, by="make")
    assert [(m["make"], m["n"]) for m in makes] == list(zip(want["make"], want["n"]))
    steps = _get(analysis_db_path, f"/{NAME}/funnel.json?_shape=array").json()
    assert [s["n"] for s in steps] == analysis.funnel(analysis_db)["n"].tolist()
    errors = _get(analysis_db_path, f"/{NAME}/recent_errors.json?_shape=array").json()
    assert errors[0]["ts"] == "2026-10-16T13:00:00+00:00" and all(e["error_code"] != "" for e in errors[:1])


def test_metadata_and_configuration_are_kept_apart_for_datasette_1():
    """1.0 reads descriptions from metadata.yaml and facets, sort and queries from
    datasette.yaml: the two never mix, and 0.65 gets them merged."""
    meta, conf = serve.metadata(NAME), serve.configuration(NAME)
    for table in meta["databases"][NAME]["tables"].values():
        assert set(table) == {"description", "columns"}
    assert set(conf) == {"databases"} and set(conf["databases"][NAME]) == {"tables", "queries"}
    for table in conf["databases"][NAME]["tables"].values():
        assert set(table) <= {"facets", "sort_desc"}
    both = serve.merged(NAME)
    assert both["title"] == TITLE and both["databases"][NAME]["queries"] == serve.QUERIES
    assert both["databases"][NAME]["tables"]["redirects"] == {
        **meta["databases"][NAME]["tables"]["redirects"],
        **conf["databases"][NAME]["tables"]["redirects"],
    }


def test_every_facet_and_sort_names_a_real_column():
    db = open_db()
    for name, facets in serve.FACETS.items():
        assert set(facets) <= {c.name for c in db[name].columns}, name
    for name, column in serve.SORT_DESC.items():
        assert column in {c.name for c in db[name].columns}, name
    for q in serve.QUERIES.values():
        db.execute(q["sql"]).fetchall()  # runs on an empty database too


@pytest.mark.parametrize(
    ("version", "files"), [("0.65.5", ["metadata.json"]), ("1.0a19", ["datasette.json", "metadata.json"])]
)
def test_files_for_each_datasette_line(tmp_path, version, files):
    options = serve.datasette_files(tmp_path / "x" / "my logs.db", tmp_path, version)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == files
    assert options[:2] == ["--metadata", str(tmp_path / "metadata.json")]
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert list(meta["databases"]) == ["my logs"]
    if len(files) == 2:
        assert options[2:] == ["--config", str(tmp_path / "datasette.json")]
        assert "queries" not in json.dumps(meta["databases"]) and "facets" not in json.dumps(meta)


def _cli(*args, cwd=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "smartcar_logs.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=120,
    )


def test_serve_get_passes_through_to_datasette(analysis_db_path):
    home = _cli("serve", "--db", str(analysis_db_path), "-h", "127.0.0.1", "--get", "/")  # -h: --host
    assert home.returncode == 0, home.stderr
    assert TITLE in home.stdout and "The views count the way the report does" in home.stdout
    database = _cli("serve", "--db", str(analysis_db_path), "--get", f"/{NAME}")
    assert (
        database.returncode == 0
        and "weekly_rates" in database.stdout
        and "Denial rate by week" in database.stdout
    )
    facet = _cli("serve", "--db", str(analysis_db_path), "--get", f"/{NAME}/events.json?_facet=make")
    assert facet.returncode == 0 and "AUDI" in facet.stdout
    query = _cli("serve", "--db", str(analysis_db_path), "--get", f"/{NAME}/funnel.json?_shape=array")
    assert query.returncode == 0 and json.loads(query.stdout)[0]["step"] == "Connect launched"
    missing = _cli("serve", "--db", str(analysis_db_path), "--get", f"/{NAME}/no_such_table")
    assert missing.returncode == 1  # Datasette's own status for a page that is not 200


def test_serve_refuses_a_missing_database(tmp_path):
    r = _cli("serve", "--db", str(tmp_path / "none.db"), "--get", "/")
    assert r.returncode == 1 and "no database yet" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "none.db").exists()


def test_serve_without_datasette_says_how_to_install_it(analysis_db_path):
    hide = (
        "import sys; sys.modules['datasette'] = None;"
        f" sys.argv = ['smartcar-logs', 'serve', '--db', {str(analysis_db_path)!r}];"
        " from smartcar_logs.cli import main; main()"
    )
    r = subprocess.run(
        [sys.executable, "-c", hide],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert r.returncode == 1
    assert "pip install 'smartcar-logs[datasette]'" in r.stderr and "Traceback" not in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_datasette_in_a_real_browser(analysis_db_path, tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smartcar_logs.cli",
            "serve",
            "--db",
            str(analysis_db_path),
            "--port",
            str(port),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/{NAME}/weekly_rates"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"datasette did not start: {proc.stderr.read().decode()}") from None
                time.sleep(0.2)
        png = tmp_path / "datasette.png"
        got = asyncio.run(render(url, png, tmp_path / "profile"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert got["errors"] == []
    text = got["text"]
    assert "weekly_rates" in text and "ISO week" in text  # the view's description
    assert "2026-10-12" in text and "denial_rate_lo" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {png}")
