"""Open the database in Datasette with the metadata and configuration the package ships.

Kept in two parts the way Datasette 1.0 splits them: :func:`metadata` is what describes the
data (title, descriptions of tables, views and columns; 1.0's ``metadata.yaml``) and
:func:`configuration` is how it is shown (facets, sort order, stored queries; 1.0's
``datasette.yaml``).  Datasette 0.65 reads both from one metadata file: :func:`datasette_files`
merges them for it, and hands 1.x the two files apart.

Datasette is an optional dependency (``pip install 'smartcar-logs[datasette]'``); nothing
here imports it until :func:`run` is called.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .descriptions import DESCRIPTION, DESCRIPTIONS, TITLE

__all__ = [
    "QUERIES",
    "FACETS",
    "SORT_DESC",
    "DatasetteMissing",
    "database_name",
    "metadata",
    "configuration",
    "merged",
    "datasette_files",
    "run",
    "datasette_version",
]

INSTALL_HINT = "pip install 'smartcar-logs[datasette]'"

#: Facets shown above each table and view (the columns a reader filters by first).
FACETS: dict[str, list[str]] = {
    "redirects": ["outcome", "category", "error_code", "make"],
    "events": ["outcome", "category", "error_code", "make"],
    "attempts": ["final_outcome", "first_category", "final_error_code"],
    "daily_outcomes": ["outcome", "category", "error_code"],
    "raw_daily_outcomes": ["outcome", "category", "error_code"],
    "incompatible_vehicles": ["make"],
    "rejects": ["reason"],
}
#: Newest first: the column each table and view is sorted by, descending.
SORT_DESC: dict[str, str] = {
    "redirects": "ts",
    "launches": "ts",
    "events": "ts",
    "attempts": "first_ts",
    "rejects": "id",
    "imports": "id",
    "sources": "last_import_id",
    "objects": "import_id",
    "daily_outcomes": "day",
    "raw_daily_outcomes": "day",
    "daily_rates": "day",
    "weekly_rates": "week",
    "daily_funnel": "day",
}

#: Stored (canned) queries for the report's questions; each reads the views, so it counts
#: the way the report does.
QUERIES: dict[str, dict[str, str]] = {
    "denial_rate_by_week": {
        "title": "Denial rate by week",
        "description": "access_denied events as a percentage of success + error events (n), per ISO week, "
        "with the 95% Wilson interval. The first and last weeks are usually partial.",
        "sql": """SELECT week, n, denied,
       round(100.0 * denial_rate, 1) AS denial_pct,
       round(100.0 * denial_rate_lo, 1) AS denial_pct_lo,
       round(100.0 * denial_rate_hi, 1) AS denial_pct_hi,
       errors, round(100.0 * failure_rate, 1) AS failure_pct
FROM weekly_rates ORDER BY week DESC""",
    },
    "top_incompatible_makes": {
        "title": "Top incompatible makes",
        "description": "vehicle_incompatible events by make (the VIN's manufacturer when Connect sent no "
        "make); share_pct is the percentage of all vehicle_incompatible events.",
        "sql": """SELECT make, SUM(n) AS n, round(100.0 * SUM(share), 1) AS share_pct,
       SUM(make_from_vin) AS make_from_vin
FROM incompatible_vehicles GROUP BY make ORDER BY n DESC, make LIMIT 20""",
    },
    "top_incompatible_models": {
        "title": "Top incompatible makes and models",
        "description": "vehicle_incompatible events by make and model; share_pct is the percentage of all "
        "vehicle_incompatible events.",
        "sql": """SELECT make, model, SUM(n) AS n, round(100.0 * SUM(share), 1) AS share_pct
FROM incompatible_vehicles GROUP BY make, model ORDER BY n DESC, make, model LIMIT 20""",
    },
    "funnel": {
        "title": "Connection funnel",
        "description": "Connect launched, redirect received, success, over the whole database: launches are "
        "distinct states, test traffic out. share_of_launches is n / launches; share_of_previous is "
        "n / the step before.",
        "sql": """WITH t AS (
    SELECT COALESCE(SUM(launched), 0) AS launched, COALESCE(SUM(returned), 0) AS returned,
           COALESCE(SUM(succeeded), 0) AS succeeded
    FROM daily_funnel
),
steps AS (
    SELECT 1 AS i, 'Connect launched' AS step, launched AS n, launched AS previous, launched FROM t
    UNION ALL SELECT 2, 'Redirect received', returned, launched, launched FROM t
    UNION ALL SELECT 3, 'Success', succeeded, returned, launched FROM t
)
SELECT step, n,
       CASE WHEN launched > 0 THEN 1.0 * n / launched END AS share_of_launches,
       CASE WHEN previous > 0 THEN 1.0 * n / previous END AS share_of_previous
FROM steps ORDER BY i""",
    },
    "recent_errors": {
        "title": "Recent errors",
        "description": "The latest 100 error events (reloads once, test traffic out), newest first.",
        "sql": """SELECT ts, error_code, category, error_description, make, model, year, hits, state
FROM events WHERE outcome = 'error' AND is_test = 0
ORDER BY ts DESC LIMIT 100""",
    },
}


class DatasetteMissing(Exception):
    """Datasette is not installed; the message says how to install it."""


def database_name(path: str | os.PathLike) -> str:
    """The name Datasette gives the database at *path* (its file name without the suffix)."""
    return Path(path).stem


def metadata(db_name: str) -> dict[str, Any]:
    """What describes the data: Datasette 1.0's ``metadata.yaml``."""
    tables = {
        name: {"description": text, "columns": dict(columns)}
        for name, (text, columns) in DESCRIPTIONS.items()
    }
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "source": "smartcar-logs",
        "source_url": "https://pypi.org/project/smartcar-logs/",
        "databases": {db_name: {"description": DESCRIPTION, "tables": tables}},
    }


def configuration(db_name: str) -> dict[str, Any]:
    """How it is shown: Datasette 1.0's ``datasette.yaml`` (facets, sort order, stored queries)."""
    tables: dict[str, dict[str, Any]] = {}
    for name, facets in FACETS.items():
        tables.setdefault(name, {})["facets"] = list(facets)
    for name, column in SORT_DESC.items():
        tables.setdefault(name, {})["sort_desc"] = column
    return {"databases": {db_name: {"tables": tables, "queries": copy.deepcopy(QUERIES)}}}


def merged(db_name: str) -> dict[str, Any]:
    """:func:`metadata` and :func:`configuration` in one dict: Datasette 0.65's metadata file."""

    def merge(a: dict, b: dict) -> dict:
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    return merge(metadata(db_name), configuration(db_name))


def _major(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        return 0


def datasette_files(db_path: str | os.PathLike, folder: str | os.PathLike, version: str) -> list[str]:
    """Write the metadata (and for Datasette 1.x the configuration) into *folder*; return the
    ``datasette serve`` options that read them."""
    name = database_name(db_path)
    folder = Path(folder)
    if _major(version) >= 1:
        meta, conf = folder / "metadata.json", folder / "datasette.json"
        meta.write_text(json.dumps(metadata(name), indent=2), encoding="utf-8")
        conf.write_text(json.dumps(configuration(name), indent=2), encoding="utf-8")
        return ["--metadata", str(meta), "--config", str(conf)]
    meta = folder / "metadata.json"
    meta.write_text(json.dumps(merged(name), indent=2), encoding="utf-8")
    return ["--metadata", str(meta)]


def datasette_version() -> str:
    """The installed Datasette's version; :class:`DatasetteMissing` when there is none."""
    try:
        from datasette.version import __version__
    except ImportError:
        raise DatasetteMissing(f"Datasette is not installed: {INSTALL_HINT}") from None
    return __version__


def run(db_path: str | os.PathLike, args: Sequence[str] = ()) -> int:
    """``datasette serve DB`` with the package's metadata; *args* pass through to Datasette
    (``--port``, ``--get PATH``, ``--host``, ...). Returns Datasette's exit status.

    The caller opens the database first (:func:`smartcar_logs.store.open_db`), so its views
    are current before Datasette reads them.
    """
    import tempfile

    version = datasette_version()
    from datasette.cli import serve

    with tempfile.TemporaryDirectory(prefix="smartcar-logs-datasette-") as folder:
        options = datasette_files(db_path, folder, version)
        try:
            serve.main([str(db_path), *options, *args], prog_name="smartcar-logs serve", standalone_mode=True)
        except SystemExit as e:
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0
