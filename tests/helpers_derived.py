"""The check the derived tables must pass wherever the importer keeps them: equal to a rebuild
from the rows (test_derived's orders of files, test_lifecycle's rotations and killed runs)."""

from __future__ import annotations

import sqlite3

from smartcar_logs.store import rebuild_derived


def derived_tables(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {
        "events": conn.execute("SELECT * FROM events ORDER BY id").fetchall(),
        "attempts": conn.execute("SELECT * FROM attempts ORDER BY state").fetchall(),
    }


def rebuilt_tables(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """What :func:`derived_tables` would be after a rebuild, computed on a copy."""
    copy = sqlite3.connect(":memory:", isolation_level=None)
    conn.backup(copy)
    copy.execute("BEGIN")
    rebuild_derived(copy)
    copy.execute("COMMIT")
    return derived_tables(copy)
