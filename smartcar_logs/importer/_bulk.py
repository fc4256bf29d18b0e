"""A file loaded into empty tables builds their secondary indexes once, after its rows.

Inserting 200k redirects row by row into the ``state`` and ``ts`` B-trees (random keys)
costs more than sorting them once at the end (issue 25; benchmarks/README.md). Only the
secondary indexes go: the unique keys stay, as ``INSERT OR IGNORE`` needs them to skip
rows already stored. Everything happens inside the file's transaction, so a reader never
sees the tables without their indexes, and a failure rolls the drop back with the rows.
The index definitions are read back from ``sqlite_master``: ``store`` stays their owner.
"""

from __future__ import annotations

from contextlib import contextmanager

#: The tables whose secondary indexes wait for the load (the ones an import fills).
TABLES = ("redirects", "launches")


@contextmanager
def deferred_indexes(conn):
    """Drop the secondary indexes of the empty tables among :data:`TABLES`, run the body,
    then create them again. The caller holds the write transaction."""
    saved = []
    for table in TABLES:
        if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
            continue
        saved += conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        ).fetchall()
    for name, _ in saved:
        conn.execute(f"DROP INDEX {name}")
    yield
    # Not in a finally: after an error the caller rolls back, which restores them.
    for _, sql in saved:
        conn.execute(sql)
