"""The ``smartcar-logs`` command line: a thin click layer over the library.

The group, the shared ``--db`` option and the console-script entry live here; the commands
live one room per idea (``_import``, ``_read``, ``_generate``, ``_serve``, ``_check``).

Exit status, in every command: 0 success; 1 a file or the database could not be used;
2 usage error. ``import`` exits 0 when lines were rejected (they are recorded data: the
``rejects`` table, and a count on stderr), and 65 (EX_DATAERR) for them with ``--strict``.
"""

from __future__ import annotations

import sys

import click

from .._console import clean


def _load_sqlite_utils_without_pandas() -> None:
    """Import sqlite-utils with pandas and numpy hidden from it.

    sqlite-utils imports them, when installed, only to recognise their values passed to
    insert(); the importer never passes any, and they add half a second to every
    command's start. Later ``import pandas`` (report, notebooks) works as usual. Called by
    :func:`main`, the console-script entry, before any command imports the store; a library
    user importing ``smartcar_logs`` gets sqlite-utils exactly as installed.
    """
    hidden = [m for m in ("pandas", "numpy") if m not in sys.modules]
    if "sqlite_utils" in sys.modules or len(hidden) < 2:
        return
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]  # makes `import numpy` fail
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for m in hidden:
            del sys.modules[m]


def _open(db_path: str, create: bool = True, busy_timeout: float | None = None):
    from ..locations import make_default_folder
    from ..store import StoreError, open_db

    try:
        if create:  # the first import into the per-user database makes its folder
            make_default_folder(db_path)
        return open_db(db_path, create=create, busy_timeout=busy_timeout)
    except StoreError as e:
        raise click.ClickException(clean(e)) from None


class _DbOption(click.Option):
    """``--db``, whose help says the rule and the file it gives where the command runs, computed
    when the help is shown (the environment of the process, not of the import of this module)."""

    def get_help_record(self, ctx):
        from ..locations import database_rule

        self.help = database_rule()
        return super().get_help_record(ctx)


def _resolve_db(ctx, param, value):
    """The library's rule (--db, else $SMARTCAR_LOGS_DB, else the per-user database), as text."""
    from ..locations import database_path

    return str(database_path(value))


db_option = click.option(
    "--db",
    "db_path",
    cls=_DbOption,
    default=None,
    callback=_resolve_db,
    type=click.Path(dir_okay=False),
    metavar="PATH",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="smartcar-logs")
def cli():
    """Turn access logs into a SQLite database of Smartcar Connect outcomes.

    Every command uses one database: --db PATH, else $SMARTCAR_LOGS_DB, else the per-user
    database (on Linux ~/.local/share/smartcar-logs/smartcar_logs.db), so an import run from
    cron and a summary typed anywhere meet. Each command's --help shows the file it uses here.
    """


def main() -> None:
    """The ``smartcar-logs`` console script: the fast start, then the click group."""
    _load_sqlite_utils_without_pandas()
    cli()


# The commands register themselves on ``cli`` when their rooms are imported.
from . import _check, _generate, _import, _read, _serve  # noqa: E402, F401
