"""``serve`` (Datasette) and ``notebooks``: the database for those who browse it."""

from __future__ import annotations

import os
import sys

import click

from .._console import clean
from . import _open, cli, db_option


# -h is Datasette's --host: only --help is ours.
@cli.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": ["--help"],
    }
)
@db_option
@click.argument("datasette_args", nargs=-1, type=click.UNPROCESSED)
def serve(db_path, datasette_args):
    """Open the database in Datasette, with descriptions, facets and stored queries.

    Other options go to `datasette serve` (--port, --host, --get PATH, ...). Needs
    pip install 'smartcar-logs[datasette]'.

    \b
    Example:
        smartcar-logs serve --port 8001
        smartcar-logs serve --get /smartcar_logs/weekly_rates.json
    """
    from ..serve import DatasetteMissing, datasette_version, run

    try:
        datasette_version()
    except DatasetteMissing as e:
        raise click.ClickException(str(e)) from None
    _open(db_path, create=False).conn.close()  # views made current before Datasette reads them
    sys.exit(run(db_path, datasette_args))


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False))
@db_option
@click.option("--force", is_flag=True, help="Overwrite notebooks of the same names in FOLDER.")
def notebooks(folder, db_path, force):
    """Write the analysis notebooks into FOLDER, reading the database --db.

    \b
    Example:
        smartcar-logs notebooks analysis/ --db ~/logs/smartcar_logs.db
        jupyter lab analysis/
    """
    from ..notebook_copies import NotebooksExist, write_notebooks

    try:
        paths = write_notebooks(folder, db_path, overwrite=force)
    except NotebooksExist as e:
        raise click.ClickException(f"{clean(e)} (--force overwrites)") from None
    except OSError as e:
        raise click.ClickException(f"{clean(folder)}: {clean(e.strerror or e)}") from None
    if not os.path.exists(db_path):
        click.echo(f"warning: {clean(db_path)} does not exist yet: import logs into it first", err=True)
    for p in paths:
        click.echo(str(p))
