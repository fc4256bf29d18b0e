"""The SQL views count what the analysis functions count (issue 23).

Each view is compared with its function column by column, by name, on two databases: the
hand-built fixture (reloads, test traffic, retries, a stateless launch, a late return) and a
generated log imported through the importer (thousands of events over four weeks, some of
them test traffic). The comparison is generic: every column the view and the function share
must agree, so a change to what a function counts fails here until its view follows.
"""

from __future__ import annotations

import math
import os
import sqlite3

import numpy as np
import pandas as pd
import pytest

from fixtures_analysis import build_analysis_db
from smartcar_logs import analysis
from smartcar_logs.store import open_db
from smartcar_logs.synthetic import generate_file
from smartcar_logs.views import VIEWS, WILSON, wilson_columns, wilson_ctes


@pytest.fixture(scope="module")
def generated_db_path(tmp_path_factory):
    from smartcar_logs.importer import import_paths

    folder = tmp_path_factory.mktemp("views-generated")
    log = folder / "access.log"
    generate_file(str(log), lines=40_000, redirect_share=0.1, seed=23, days=28)
    db = open_db(folder / "gen.db")
    import_paths(db, [str(log)], launch_paths=["/connect/smartcar"])
    db.conn.close()
    return folder / "gen.db"


@pytest.fixture(scope="module", params=["fixture", "generated"])
def db(request, analysis_db_path, generated_db_path):
    path = analysis_db_path if request.param == "fixture" else generated_db_path
    db = open_db(path, create=False)
    yield db
    db.conn.close()


def test_the_generated_database_has_what_the_views_must_handle(generated_db_path):
    db = open_db(generated_db_path, create=False)
    reloads, test_events, retried, launches = db.execute(
        "SELECT (SELECT SUM(hits - 1) FROM events), (SELECT COUNT(*) FROM events WHERE is_test = 1),"
        " (SELECT COUNT(*) FROM attempts WHERE retried = 1), (SELECT COUNT(*) FROM launches)"
    ).fetchone()
    assert reloads > 0 and test_events > 0 and retried > 0 and launches > 0


def _view(db, name: str) -> pd.DataFrame:
    cur = db.execute(f"SELECT * FROM {name}")
    return pd.DataFrame.from_records(cur.fetchall(), columns=[d[0] for d in cur.description])


def _assert_same(view: pd.DataFrame, func: pd.DataFrame, keys: list[str]) -> None:
    """Every column of *view* that *func* has agrees, row for row by *keys*."""
    shared = [c for c in view.columns if c in func.columns and c not in keys]
    assert shared, "the view shares no column with its function"
    assert len(view) == len(func)
    v = view.sort_values(keys).reset_index(drop=True)
    f = func.sort_values(keys).reset_index(drop=True)
    for k in keys:
        assert v[k].astype(str).tolist() == f[k].astype(str).tolist(), k
    for c in shared:
        got = pd.to_numeric(v[c], errors="coerce").to_numpy(dtype=float)
        want = pd.to_numeric(f[c], errors="coerce").to_numpy(dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, equal_nan=True, err_msg=c)


def _days(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = pd.to_datetime(frame.pop("period")).dt.strftime("%Y-%m-%d")
    return frame


@pytest.mark.parametrize("by", ["outcome", "category", "error_code"])
def test_daily_outcomes_equals_outcome_counts(db, by):
    view = _view(db, "daily_outcomes")
    view["error_code"] = view["error_code"].where(view["outcome"] == "error", view["outcome"])
    per = view.groupby(["day", by], as_index=False)["n"].sum()
    func = _days(analysis.outcome_counts(db, period="day", by=by), "day")
    _assert_same(per, func, ["day", by])
    # and the log lines behind them: every non-test redirect line, reloads included
    (lines,) = db.execute("SELECT COUNT(*) FROM redirects WHERE is_test = 0 AND ts IS NOT NULL").fetchone()
    assert view["lines"].sum() == lines and view["n"].sum() < lines


@pytest.mark.parametrize(
    ("view", "period", "key"), [("daily_rates", "day", "day"), ("weekly_rates", "week", "week")]
)
def test_rate_views_equal_rates(db, view, period, key):
    got = _view(db, view)
    want = _days(analysis.rates(db, period=period), key)
    assert list(got.columns) == [key, *(c for c in want.columns if c != key)]
    _assert_same(got, want, [key])


def test_daily_funnel_equals_funnel_summary(db):
    got = _view(db, "daily_funnel")
    want = _days(analysis.funnel_summary(db, period="day"), "day")
    assert set(want.columns) <= set(got.columns)
    _assert_same(got, want, ["day"])


@pytest.mark.parametrize("by", ["make", "make_model", "make_year"])
def test_incompatible_vehicles_equals_the_function(db, by):
    keys = {"make": ["make"], "make_model": ["make", "model"], "make_year": ["make", "year"]}[by]
    view = _view(db, "incompatible_vehicles")
    view["year"] = pd.array(view["year"], dtype="Int64")
    from_vin = "from_vin" if by == "make_year" else "make_from_vin"
    per = view.groupby(keys, as_index=False, dropna=False).agg(
        n=("n", "sum"), share=("share", "sum"), from_vin=(from_vin, "sum")
    )
    _assert_same(per, analysis.incompatible_vehicles(db, by=by), keys)


def test_views_leave_test_traffic_out_and_count_reloads_once(analysis_db):
    # The fixture's s10 is the one test redirect (an AUDI incompatible on 10-09); s02, s11 and
    # s20 were reloaded.
    assert (
        analysis_db.execute("SELECT COUNT(*) FROM incompatible_vehicles WHERE year IS NULL").fetchone()[0]
        == 0
    )
    day = dict(
        analysis_db.execute("SELECT outcome, n FROM daily_outcomes WHERE day = '2026-10-09'").fetchall()
    )
    assert day == {"error": 1}  # s11 twice (a reload) and the test s10: one event
    raw = analysis_db.execute(
        "SELECT SUM(lines) FROM raw_daily_outcomes WHERE day = '2026-10-09'"
    ).fetchone()[0]
    assert raw == 3


def test_the_canned_funnel_query_equals_funnel(db):
    from smartcar_logs.serve import QUERIES

    cur = db.execute(QUERIES["funnel"]["sql"])
    got = pd.DataFrame.from_records(cur.fetchall(), columns=[d[0] for d in cur.description])
    _assert_same(got, analysis.funnel(db), ["step"])


@pytest.mark.parametrize(
    ("k", "n"),
    [(0, 0), (0, 1), (1, 1), (0, 20), (3, 10), (81, 263), (1, 10**6), (499_999, 10**6), (10**9, 10**9 + 7)],
)
def test_wilson_sql_equals_wilson_interval_without_sqrt(k, n):
    conn = sqlite3.connect(":memory:")
    sql = f"WITH {wilson_ctes('(SELECT ? AS k, ? AS n)', [('r', 'k', 'n')])} SELECT {wilson_columns('r', 'k', 'n')} FROM {WILSON}"
    assert "sqrt" not in sql.lower()  # plain SQLite: no math functions needed
    rate, *got = conn.execute(sql, (k, n)).fetchone()
    want = analysis.wilson_interval(k, n)
    assert rate == (k / n if n else None)
    for g, w in zip(got, want):
        if math.isnan(w):
            assert g is None
        else:
            assert g == pytest.approx(w, rel=1e-12, abs=1e-15)


OLD_VIEWS = """
CREATE VIEW IF NOT EXISTS daily_outcomes AS
    SELECT substr(ts, 1, 10) AS day, outcome, category, error_code, count(*) AS n
    FROM redirects GROUP BY day, outcome, category, error_code;
CREATE VIEW IF NOT EXISTS incompatible_vehicles AS
    SELECT make, model, year, count(*) AS n FROM redirects
    WHERE error_code = 'vehicle_incompatible' AND is_test = 0
    GROUP BY make, model, year ORDER BY n DESC;
"""


def test_an_older_database_gets_the_new_views(tmp_path):
    path = build_analysis_db(tmp_path / "old.db")
    conn = sqlite3.connect(path)
    for name in VIEWS:
        conn.execute(f"DROP VIEW {name}")
    conn.executescript(OLD_VIEWS)  # what versions before issue 23 made
    assert conn.execute("SELECT SUM(n) FROM daily_outcomes").fetchone()[0] == 27  # every line
    conn.close()
    db = open_db(path, create=False)
    have = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
    assert have == VIEWS
    assert (
        db.execute("SELECT SUM(n) FROM daily_outcomes").fetchone()[0] == analysis.summary(db).loc[0, "events"]
    )


def test_views_are_left_alone_when_current(analysis_db_path):
    # No write when nothing changed: opening must not wait for another process's import.
    conn = sqlite3.connect(analysis_db_path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        db = open_db(analysis_db_path, create=False, busy_timeout=0)
        assert db.execute("SELECT COUNT(*) FROM daily_rates").fetchone()[0] == 12
        db.conn.close()
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_the_sqlite3_command_line_reads_every_view(analysis_db_path):
    import shutil
    import subprocess

    cli = shutil.which("sqlite3")
    if cli is None and os.environ.get("CI"):
        pytest.fail("the sqlite3 command line is missing in CI: .ci/run installs it")
    if cli is None:
        pytest.skip("no sqlite3 command line here (apt-get install sqlite3; .ci/run does it)")
    for name in VIEWS:
        out = subprocess.run(
            [cli, str(analysis_db_path), f"SELECT COUNT(*) FROM {name}"], capture_output=True, text=True
        )
        assert out.returncode == 0 and out.stderr == "" and int(out.stdout) > 0, (name, out.stderr)


def test_an_empty_database_has_empty_views_not_errors():
    db = open_db()
    for name in VIEWS:
        assert db.execute(f"SELECT * FROM {name}").fetchall() == [], name
    from smartcar_logs.serve import QUERIES

    steps = db.execute(QUERIES["funnel"]["sql"]).fetchall()
    assert steps == [
        ("Connect launched", 0, None, None),
        ("Redirect received", 0, None, None),
        ("Success", 0, None, None),
    ]
