"""``summary``, ``report`` and ``export``: reading a database that an import made."""

from __future__ import annotations

import json

import click

from .._console import clean
from . import _open, cli, db_option


def _vehicle_label(make: str, model: str | None) -> str:
    """'HONDA Accord'; what was not sent is said so, in the words the report uses."""
    from ..redirect import vehicle_label

    return vehicle_label(make, model, with_model=model is not None)


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--top", default=10, show_default=True, help="How many makes and models to list.")
@click.option("--include-test", is_flag=True, help="Include test traffic (test VINs, simulated vehicles).")
def summary(db_path, as_json, top, include_test):
    """Totals by outcome and error code, denial rate, top incompatible vehicles."""
    from ..summary import summarize

    db = _open(db_path, create=False)
    s = summarize(db, top=top, include_test=include_test)
    if as_json:
        click.echo(json.dumps(s, indent=2))
        return
    echo = click.echo
    echo(f"redirects: {s['redirects']:,}  ({clean(s['first_ts'] or '-')} .. {clean(s['last_ts'] or '-')})")
    if s["reloads"]:
        echo(
            f"  ({s['redirect_lines']:,} log lines; "
            f"{s['reloads']:,} reloads of the same redirect counted once)"
        )
    for k, n in s["by_outcome"].items():
        echo(f"  {clean(k):<40}{n:>10,}")
    if s["by_error_code"]:
        echo("errors by code:")
        for k, n in s["by_error_code"].items():
            echo(f"  {clean(k):<40}{n:>10,}")
    if s["denial_rate"] is not None:
        echo(
            f"denial rate: {s['denial_rate']:.1%} ({s['denied']:,} access_denied of "
            f"{s['decided']:,} success and error redirects)"
        )
    if s["top_incompatible_makes"]:
        echo("top incompatible makes:")
        for r in s["top_incompatible_makes"]:
            echo(f"  {clean(_vehicle_label(r['make'], None)):<40}{r['n']:>10,}")
        echo("top incompatible models:")
        for r in s["top_incompatible_models"]:
            echo(f"  {clean(_vehicle_label(r['make'], r['model'])):<40}{r['n']:>10,}")
    if s["test_redirects_excluded"]:
        n = s["test_redirects_excluded"]
        echo(f"({n:,} test redirect{'' if n == 1 else 's'} excluded; --include-test to count them)")
    if s.get("files_not_in_analysis"):
        n = s["files_not_in_analysis"]
        echo(
            f"{n:,} imported file{' is' if n == 1 else 's are'} not counted yet: an import is still running "
            "(or was killed); its end, or the next `smartcar-logs import`, brings them in"
        )
    if s.get("waiting_lines"):
        n = s["waiting_lines"]
        echo(
            f"{n:,} line{' is' if n == 1 else 's are'} waiting for a newline "
            "(imported once it comes, once the file is unchanged for --settle, or with import --final)"
        )


@cli.command()
@db_option
@click.option(
    "--out",
    "out",
    default="smartcar-logs-report.html",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="HTML file to write (its folder is created if missing).",
)
@click.option("--since", metavar="DATE", help="First day included (UTC, YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="First day excluded (UTC, YYYY-MM-DD).")
@click.option(
    "--period",
    type=click.Choice(["hour", "day", "week", "month"]),
    help="Bucket of the charts over time  [default: chosen from the data]",
)
@click.option("--include-test", is_flag=True, help="Include test traffic.")
def report(db_path, out, since, until, period, include_test):
    """Write the connection-funnel report: one self-contained HTML file.

    \b
    Example:
        smartcar-logs report --since 2026-10-01 --until 2026-11-01 --out october.html
    """
    if since and until and since.strip() >= until.strip():
        # ISO dates compare as text; a reversed range is a usage error, not an empty report
        raise click.UsageError(f"--since {since} is not before --until {until}")
    from ..report import ReportError, build_report
    from ..store import StoreError

    def progress(text: str) -> None:
        click.echo(f"report: {text}", err=True)

    try:
        path = build_report(
            db_path,
            out,
            since=since,
            until=until,
            period=period,
            include_test=include_test,
            progress=progress,
        )
    except ValueError as e:  # malformed or reversed dates
        raise click.UsageError(clean(e)) from None
    except (StoreError, ReportError, OSError) as e:
        raise click.ClickException(clean(e)) from None
    click.echo(str(path))


@cli.command()
@db_option
@click.option(
    "--out",
    "out",
    default="smartcar-logs-export",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the CSV files (created if missing).",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    help="Table to export (repeatable); default: redirects, launches, sources, rejects.",
)
def export(db_path, out, tables):
    """Export the main tables to CSV for spreadsheets (formula-injection safe)."""
    from ..export import export_csv
    from ..store import StoreError

    db = _open(db_path, create=False)
    try:
        paths = export_csv(db, out, **({"tables": tables} if tables else {}))
    except ValueError as e:  # --table names no table
        raise click.UsageError(clean(e)) from None
    except (StoreError, OSError) as e:
        raise click.ClickException(clean(e)) from None
    for p in paths:
        click.echo(str(p))
