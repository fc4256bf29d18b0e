"""Fixtures shared by the test modules (pytest finds them here; no import needed).

Helpers that tests import by name live beside this file: ``logs`` (the log-line builder and
shared values), ``fixtures_analysis`` (the hand-built analysis database, its rows documented),
``helpers_hostile`` (CLI runners and table snapshots for the hostile-input and fault tests).
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Real object stores and a Dask cluster on 127.0.0.1 (moto, GCS emulator, Azurite, LocalCluster).
from cloud import (  # noqa: F401
    azure,
    azure_endpoint,
    dask_cluster,
    gcs,
    gcs_endpoint,
    offline_env,
    s3,
    s3_endpoint,
)
from fixtures_analysis import build_analysis_db
from smartcar_logs.locations import default_database
from smartcar_logs.store import open_db


@pytest.fixture(autouse=True)
def _no_real_user_database(tmp_path_factory, monkeypatch):
    """No test reads or writes the real per-user database (~/.local/share/smartcar-logs/):
    $SMARTCAR_LOGS_DB is unset and the user data folder (XDG_DATA_HOME, which platformdirs
    reads on Linux) is a fresh temporary folder, not created, for every test. HOME stays: the
    Jupyter kernel and matplotlib's font cache live under it."""
    monkeypatch.delenv("SMARTCAR_LOGS_DB", raising=False)
    data = tmp_path_factory.mktemp("user") / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    # a platform whose user folder ignores XDG_DATA_HOME (macOS, Windows) fails here, loudly
    assert default_database().is_relative_to(data), default_database()


@pytest.fixture(scope="module")
def analysis_db_path(tmp_path_factory) -> Path:
    """Path of a fresh copy of the hand-built database (fixtures_analysis.py), one per test module."""
    return build_analysis_db(tmp_path_factory.mktemp("analysis") / "analysis.db")


@pytest.fixture(scope="module")
def analysis_db(analysis_db_path):
    """The hand-built database, open (read it only: it is shared by the module's tests)."""
    db = open_db(analysis_db_path, create=False)
    yield db
    db.conn.close()


def _generated_db(path: Path, **generate) -> Path:
    """A generated log (``smartcar-logs generate``), imported with its launch path."""
    from smartcar_logs.importer import import_paths
    from smartcar_logs.synthetic import generate_file

    log = path.with_suffix(".log")
    generate_file(log, **generate)
    db = open_db(path)
    import_paths(db, [str(log)], launch_paths=["/connect/smartcar"])
    db.conn.close()
    return path


@pytest.fixture(scope="session")
def one_day_db_path(tmp_path_factory) -> Path:
    """One generated day, 2,000 lines (about 55 redirects): small data, charted by hour."""
    return _generated_db(tmp_path_factory.mktemp("one-day") / "one-day.db", lines=2000, days=1, seed=3)


@pytest.fixture(scope="session")
def no_redirects_db_path(tmp_path_factory) -> Path:
    """Two generated days of ordinary traffic only: no redirect, no launch, and a few
    OAuth-looking callbacks of other providers (the generator writes them) left as ordinary."""
    return _generated_db(
        tmp_path_factory.mktemp("no-redirects") / "none.db", lines=500, days=2, seed=4, redirect_share=0
    )
