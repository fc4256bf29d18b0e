"""CSV export of the main tables for spreadsheet users, safe against formula injection.

Log lines are attacker-controlled: a make of ``=HYPERLINK("http://evil", "click")`` would be a
live formula once the CSV is opened in Excel, LibreOffice or Google Sheets.  Following OWASP's
"CSV Injection" advice, every text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading single quote, which spreadsheets show as text; the csv module's
quoting takes care of commas, quotes and newlines.  Numbers stored as numbers are written
unchanged (``-5`` stays a number).

Files are UTF-8 with a byte-order mark (so Excel reads accents right), and created readable by
their owner only, like the database, because they hold VINs, user ids and IP addresses.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from .store import open_db

__all__ = ["DEFAULT_TABLES", "FORMULA_PREFIXES", "export_csv", "safe_cell"]

#: The tables exported when none are named.
DEFAULT_TABLES = ("redirects", "launches", "sources", "rejects")

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_BATCH = 5000


def safe_cell(value: Any) -> Any:
    """Neutralise one value for a CSV cell.

    Parameters
    ----------
    value : Any
        A value from SQLite (str, int, float, bytes or None).

    Returns
    -------
    Any
        Text starting with a formula character gets a leading ``'``; bytes are decoded as
        UTF-8 (invalid bytes replaced) first; None becomes the empty string; numbers are
        returned as they are.

    Examples
    --------
    >>> safe_cell("=1+1")
    "'=1+1"
    >>> safe_cell("-5"), safe_cell(-5)
    ("'-5", -5)
    >>> safe_cell("AUDI")
    'AUDI'
    """
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rows(cursor: Any) -> Iterable[Sequence[Any]]:
    while True:
        batch = cursor.fetchmany(_BATCH)
        if not batch:
            return
        yield from batch


def export_csv(
    db: sqlite_utils.Database | str | os.PathLike,
    out_dir: str | os.PathLike,
    tables: Sequence[str] = DEFAULT_TABLES,
) -> list[Path]:
    """Write each table to ``<out_dir>/<table>.csv``, one header row then every row.

    Parameters
    ----------
    db : sqlite_utils.Database or str or os.PathLike
        The database, or the path of an existing one.
    out_dir : str or os.PathLike
        Folder for the files; created if missing.  Existing files are replaced.
    tables : sequence of str, default ("redirects", "launches", "sources", "rejects")
        Tables to export, in this order.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of *tables*.

    Raises
    ------
    ValueError
        A named table does not exist in the database.
    smartcar_logs.store.StoreError
        The database path does not exist.

    Examples
    --------
    >>> export_csv("data/smartcar_logs.db", "export")  # doctest: +SKIP
    [PosixPath('export/redirects.csv'), PosixPath('export/launches.csv'), ...]
    """
    if not isinstance(db, sqlite_utils.Database):
        db = open_db(db, create=False)
    existing = set(db.table_names())
    missing = [t for t in tables if t not in existing]
    if missing:
        raise ValueError(f"no such table: {', '.join(missing)} (tables: {', '.join(sorted(existing))})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        path = out / f"{table}.csv"
        cursor = db.execute(f"SELECT * FROM {_quote_ident(table)} ORDER BY rowid")
        header = [d[0] for d in cursor.description]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8-sig", errors="backslashreplace", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([safe_cell(h) for h in header])
            for row in _rows(cursor):
                writer.writerow([safe_cell(v) for v in row])
        written.append(path)
    return written
