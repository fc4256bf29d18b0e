"""Where the database is: one rule for every command, the report and the notebooks.

``--db PATH`` when given, else ``$SMARTCAR_LOGS_DB``, else one file per user in the platform's
data folder (platformdirs' ``user_data_dir``: ``~/.local/share/smartcar-logs/smartcar_logs.db``
on Linux, or under ``$XDG_DATA_HOME`` when set; ``~/Library/Application Support/smartcar-logs/``
on macOS; ``%LOCALAPPDATA%\\smartcar-logs\\`` on Windows).

Why a per-user file rather than a path relative to the current directory: an import run from
cron (whose directory is ``$HOME`` or ``/``) and a ``summary`` typed in a project folder must
meet the same database, and a relative default made the second command of a new user fail
with "folder data does not exist". The folder of the default is created by the first import
(owner-only, like the database file); a folder named by ``--db`` or the variable is never
created, so a typo in it is an error rather than a new, empty database somewhere unexpected.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DB_ENV", "DB_NAME", "database_path", "database_rule", "default_database", "make_default_folder"]

#: The environment variable naming the database when ``--db`` is not given.
DB_ENV = "SMARTCAR_LOGS_DB"
#: The default database's file name, inside the per-user data folder.
DB_NAME = "smartcar_logs.db"
_APP = "smartcar-logs"


def default_database() -> Path:
    """The per-user database: ``<user data folder>/smartcar-logs/smartcar_logs.db``.

    Returns
    -------
    pathlib.Path
        Absolute; the file and its folder may not exist yet.

    Examples
    --------
    >>> default_database().name
    'smartcar_logs.db'
    """
    from platformdirs import user_data_dir

    return Path(user_data_dir(_APP, appauthor=False)) / DB_NAME


def database_path(path: str | os.PathLike | None = None) -> Path:
    """The database to use: *path* (``--db``), else ``$SMARTCAR_LOGS_DB``, else the default.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The database the user named; None (or ``""``) applies the rule.

    Returns
    -------
    pathlib.Path
        With ``~`` expanded; relative paths stay relative to the current directory.

    Examples
    --------
    >>> str(database_path("mine.db"))
    'mine.db'
    """
    if path is not None and str(path) != "":
        return Path(path).expanduser()
    env = os.environ.get(DB_ENV, "")
    if env.strip():
        return Path(env).expanduser()
    return default_database()


def make_default_folder(path: str | os.PathLike) -> None:
    """Create the per-user data folder (owner-only) when *path* is the default database in it.

    What the first import does before creating the database. A folder the user named
    (``--db``, ``$SMARTCAR_LOGS_DB``) is never created: a typo there is an error.

    Raises
    ------
    smartcar_logs.store.StoreError
        The folder cannot be created (a read-only home).
    """
    default = default_database()
    if Path(path).expanduser().absolute() != default or default.parent.is_dir():
        return
    try:
        default.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        from .store import StoreError

        raise StoreError(f"{default.parent}: cannot create the database folder: {e.strerror or e}") from None


def database_rule() -> str:
    """The rule, and the file it gives here and now: the ``--db`` help of every command."""
    return (
        f"SQLite database file. Default: ${DB_ENV} if set, else the per-user database "
        f"{default_database()} (its folder made by the first import). Here: {database_path()}"
    )
