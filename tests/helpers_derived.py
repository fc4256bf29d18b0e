"""The check the derived tables must pass wherever the importer keeps them: equal to a rebuild
from the rows (test_derived's orders of files, test_lifecycle's rotations and killed runs)."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from hypothesis.stateful import RuleBasedStateMachine, invariant

from logs import CB, LAUNCH, write
from smartcar_logs import import_paths
from smartcar_logs.store import open_db, rebuild_derived


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


class FilesEqualARebuild(RuleBasedStateMachine):
    """A stateful model's base: small files imported one run each (the cron case), and after
    every import the derived tables equal a rebuild's. A subclass's rule writes the lines
    (:meth:`import_file`)."""

    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        self.db = open_db(self.dir / "m.db")
        self.n = 0

    def import_file(self, data: bytes) -> None:
        self.n += 1
        path = write(self.dir, f"{self.n}.log", data)
        import_paths(self.db, [path], redirect_paths=[CB], launch_paths=[LAUNCH])

    @invariant()
    def derived_tables_equal_a_rebuild(self):
        assert derived_tables(self.db.conn) == rebuilt_tables(self.db.conn)

    def teardown(self):
        self.db.conn.close()
        shutil.rmtree(self.dir, ignore_errors=True)
