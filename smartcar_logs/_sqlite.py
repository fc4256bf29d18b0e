"""One way to take SQLite's write lock for a piece of work."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error), or nothing of the kind
    inside a transaction the caller already holds: the work then commits with the caller's.

    IMMEDIATE takes the write lock at the start, so a writer waits (busy timeout) before it
    reads what it is about to change, never half-way through (connections are opened with
    ``isolation_level=None``: no implicit transactions).
    """
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        if own:
            conn.execute("COMMIT")
    except BaseException:
        if own and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
