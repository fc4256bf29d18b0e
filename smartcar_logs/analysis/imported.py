"""What the imports brought in: lines, files, ordinary traffic, and paths that looked like OAuth.

A report on a database without redirects has nothing to chart; these say why, and what to try
(``--redirect-path`` with one of the OAuth-looking paths the importer left as ordinary).
"""

from __future__ import annotations

import pandas as pd

from ..store import oauth_looking
from ._sql import DbLike, connect

__all__ = ["import_totals", "oauth_looking_paths"]

_TOTALS = ("files", "lines_read", "redirects", "launches", "ordinary", "rejected")


def import_totals(db: DbLike) -> pd.DataFrame:
    """Totals over every import into the database.

    Parameters
    ----------
    db : sqlite_utils.Database or path

    Returns
    -------
    pandas.DataFrame
        One row: ``imports`` (runs), ``files``, ``lines_read``, ``redirects``, ``launches``,
        ``ordinary`` (lines that were neither) and ``rejected``, as the runs counted them
        (a file read again counts again in ``files``, never its lines).

    Examples
    --------
    >>> import_totals(db).loc[0, "lines_read"]  # doctest: +SKIP
    503
    """
    db = connect(db)
    sums = ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in _TOTALS)
    return pd.read_sql_query(f"SELECT count(*) AS imports, {sums} FROM imports", db.conn)


def oauth_looking_paths(db: DbLike) -> pd.DataFrame:
    """Paths whose requests looked like an OAuth redirect but showed no Smartcar evidence.

    The importer keeps them as ordinary traffic; if one of them is in fact the app's Connect
    redirect path, importing again with ``--redirect-path PATH`` takes it.

    Parameters
    ----------
    db : sqlite_utils.Database or path

    Returns
    -------
    pandas.DataFrame
        ``path`` and ``lines``, most lines first; paths imported as redirect paths since are
        left out.

    Examples
    --------
    >>> oauth_looking_paths(db)  # doctest: +SKIP
                         path  lines
    0          /auth/callback      3
    1  /auth/google/callback      2
    """
    found = oauth_looking(connect(db).conn)
    return pd.DataFrame({"path": list(found), "lines": list(found.values())}, columns=["path", "lines"])
