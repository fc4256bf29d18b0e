"""The ``smartcar-logs`` command line: a thin click layer over the library.

Exit status, in every command: 0 success; 1 a file or the database could not be used;
2 usage error. ``import`` exits 0 when lines were rejected (they are recorded data: the
``rejects`` table, and a count on stderr), and 65 (EX_DATAERR) for them with ``--strict``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys

import click

from ._console import clean, print_import


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
    from .locations import make_default_folder
    from .store import StoreError, open_db

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
        from .locations import database_rule

        self.help = database_rule()
        return super().get_help_record(ctx)


def _resolve_db(ctx, param, value):
    """The library's rule (--db, else $SMARTCAR_LOGS_DB, else the per-user database), as text."""
    from .locations import database_path

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


@cli.command(name="import")
@click.argument("files", nargs=-1, required=True)
@db_option
@click.option(
    "--redirect-path",
    "redirect_paths",
    multiple=True,
    metavar="PATH",
    help="The app's REDIRECT_URI path (repeatable). Without it, Smartcar redirect "
    "paths are recognised from Smartcar-specific evidence.",
)
@click.option(
    "--launch-path",
    "launch_paths",
    multiple=True,
    metavar="PATH",
    help="The app's own Connect-launch endpoint (repeatable), for the funnel.",
)
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    help="Log format: auto (detected per file); nginx or apache (combined or common, detected); "
    "alb, elb, cloudfront, w3c, s3, heroku, haproxy, envoy, "
    "uwsgi, ssl-request, gcp, cloudflare, azure, traefik-json, kong, caddy, traefik-clf, combined, "
    "common, werkzeug, json, urls, custom; WRAPPER+FORMAT for lines inside docker, cri, syslog, "
    "journald or compose envelopes, e.g. syslog+haproxy (see docs/formats.md).",
)
@click.option(
    "--log-format",
    metavar="STRING",
    help="Read the files with this Apache LogFormat or nginx log_format string (the 'custom' format).",
)
@click.option(
    "--url-field",
    metavar="FIELD",
    help="JSON logs: the field holding the request URL or path?query (dotted for nested).",
)
@click.option(
    "--time-field", metavar="FIELD", help="JSON logs: the field holding the request time (dotted for nested)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for large files (default: one per core).",
)
@click.option(
    "--redact",
    "redact",
    multiple=True,
    metavar="FIELD=MODE",
    help="Privacy (repeatable): FIELD vin, user_id, client_ip, user_agent, state or all; "
    "MODE keep, hash (salted, joins still work) or drop. E.g. --redact all=hash "
    "--redact client_ip=drop. Authorization codes are never stored.",
)
@click.option(
    "--busy-timeout",
    type=click.FloatRange(min=0),
    default=60,
    show_default=True,
    envvar="SMARTCAR_LOGS_BUSY_TIMEOUT",
    metavar="SECONDS",
    help="How long to wait for a database another process holds locked.",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="DATE",
    help="Object storage: leave out objects whose key date (ALB, CloudFront, GCS sink, Azure "
    "layouts) is before DATE (UTC, YYYY-MM-DD), without reading them. Refused with local files.",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="DATE",
    help="Object storage: leave out objects whose key date is DATE or later.",
)
@click.option(
    "--dask",
    "dask_address",
    envvar="DASK_SCHEDULER_ADDRESS",
    metavar="ADDRESS",
    help="Scan on a Dask cluster: local[:N] starts N worker processes here; tcp://host:8786 "
    "uses a running scheduler (default: $DASK_SCHEDULER_ADDRESS).",
)
@click.option(
    "--final",
    is_flag=True,
    help="The files are finished: import a last line that has no newline now "
    "(otherwise it waits for its newline, or until the file is unchanged for --settle seconds).",
)
@click.option(
    "--settle",
    type=click.FloatRange(min=0),
    default=300,
    show_default=True,
    metavar="SECONDS",
    help="A last line without newline in a file unchanged this long is imported.",
)
@click.option(
    "--strict", is_flag=True, help="Exit 65 when lines were rejected (default: 0, count on stderr)."
)
def import_(
    files,
    db_path,
    redirect_paths,
    launch_paths,
    fmt,
    log_format,
    url_field,
    time_field,
    as_json,
    quiet,
    jobs,
    redact,
    busy_timeout,
    since,
    until,
    dask_address,
    final,
    settle,
    strict,
):
    """Import access logs (plain, gzip, bz2, xz or zstd; '-' for stdin), from local files
    or object storage (s3://, gs://, az://; pip install 'smartcar-logs[cloud]').

    \b
    Example:
        smartcar-logs import /var/log/nginx/access.log*
        smartcar-logs import --redirect-path /smartcar/callback --json access.log.gz
        smartcar-logs import --since 2026-10-01 s3://my-logs/AWSLogs/123456789012/elasticloadbalancing/
        smartcar-logs import --dask local:4 gs://my-sink/requests/
    """
    from . import formats
    from .importer import expand_inputs, import_paths

    try:
        format_options = formats.check_options(fmt, log_format, url_field, time_field)
    except formats.OptionError as e:
        raise click.BadParameter(clean(e), param_hint=e.option) from None
    from .privacy import RedactionError, parse_redact, policy_conflicts

    try:
        policy = parse_redact(redact)
    except RedactionError as e:
        raise click.BadParameter(str(e), param_hint="--redact") from None
    from .importer.remote import WindowError, check_window

    try:
        check_window(files, since.date() if since else None, until.date() if until else None)
    except WindowError as e:
        raise click.BadParameter(clean(e), param_hint="--since/--until") from None
    if dask_address and "-" in files:
        raise click.BadParameter("--dask reads files and objects, not stdin", param_hint="--dask")
    from .importer.remote import is_remote

    planned = expand_inputs(files)
    missing = [f for f in planned if f != "-" and not is_remote(f) and not os.path.exists(f)]
    if missing and len(missing) == len(planned):
        # Nothing to read: say so once, and leave no database (nor imports row) behind.
        for f in missing:
            click.echo(f"error: {clean(f)}: no such file or directory", err=True)
        sys.exit(1)
    db = _open(db_path, busy_timeout=busy_timeout)
    for w in policy_conflicts(db, policy):
        click.echo(f"warning: {clean(w)}", err=True)
    total = 0
    for f in planned:  # the bar counts bytes of the files a folder or glob names
        try:
            total += os.path.getsize(f) if f != "-" else 0
        except OSError:
            pass
    bar = None
    if not quiet:
        from tqdm import tqdm

        # disable=None: no bar when stderr is not a terminal.
        bar = tqdm(
            total=total or None,
            unit="B",
            unit_scale=True,
            file=sys.stderr,
            disable=None,
            desc="importing",
            leave=False,
        )

    def on_file(r):
        if r.status == "error":
            click.echo(f"error: {clean(r.message)}", err=True)
        for w in r.warnings:
            click.echo(f"warning: {clean(w)}", err=True)

    from .importer.cluster import ClusterError, connect

    connected = []

    def dask_client():  # called only when there is something to read: a re-import may not
        connected.append(connect(dask_address))
        return connected[-1][0]

    try:
        result = import_paths(
            db,
            files,
            fmt=fmt,
            redirect_paths=redirect_paths,
            launch_paths=launch_paths,
            progress=bar.update if bar is not None else None,
            on_file=on_file,
            format_options=format_options,
            redaction=policy,
            jobs=jobs,
            since=since.date() if since else None,
            until=until.date() if until else None,
            dask=dask_client if dask_address else None,
            final=final,
            settle=settle,
        )
    except sqlite3.Error as e:  # the run's own bookkeeping (imports row) could not be written
        from .store import db_error_message

        raise click.ClickException(db_error_message(e, db, clean(db_path))) from None
    except ClusterError as e:
        raise click.ClickException(clean(e)) from None
    finally:
        for client, cluster in connected:
            client.close()
            if cluster is not None:
                cluster.close()
    if bar is not None:
        bar.close()
    if as_json:
        d = result.to_dict()
        out = {
            k: d[k]
            for k in (
                "import_id",
                "lines_read",
                "redirects",
                "inserted",
                "duplicates",
                "launches",
                "ordinary",
                "rejected",
                "errors",
                "by_outcome",
                "redirect_paths",
                "objects_listed",
                "objects_skipped",
            )
        }
        out["files"] = d["files"]
        out["db"] = db_path
        click.echo(json.dumps(out, indent=2))
    elif not quiet:
        print_import(result, db_path)
    if result.rejected:
        n = result.rejected
        click.echo(
            f"{n:,} line{'s' if n != 1 else ''} rejected: stored in the rejects table with the reason",
            err=True,
        )
    sys.exit(result.exit_status(strict=strict))


def _vehicle_label(make: str, model: str | None) -> str:
    """'HONDA Accord'; what was not sent is said so, in the words the report uses."""
    from .redirect import vehicle_label

    return vehicle_label(make, model, with_model=model is not None)


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--top", default=10, show_default=True, help="How many makes and models to list.")
@click.option("--include-test", is_flag=True, help="Include test traffic (test VINs, simulated vehicles).")
def summary(db_path, as_json, top, include_test):
    """Totals by outcome and error code, denial rate, top incompatible vehicles."""
    from .summary import summarize

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


def _check_writer(fmt: str) -> str:
    """A usage error before the output file is created (imported only for `generate`)."""
    from .synthetic import WRITERS

    if fmt not in WRITERS:
        raise click.BadParameter(f"choose one of: {', '.join(sorted(WRITERS))}")
    return fmt


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--lines",
    type=click.IntRange(min=0),
    default=100_000,
    show_default=True,
    help="Number of lines to write.",
)
@click.option(
    "--redirect-share",
    type=click.FloatRange(0, 1),
    default=0.03,
    show_default=True,
    help="Share of lines that are Connect redirects.",
)
@click.option("--seed", default=0, show_default=True, help="Random seed (same seed, same file).")
@click.option("--start", default="2026-10-01T00:00:00+00:00", show_default=True, help="First timestamp.")
@click.option("--days", type=click.IntRange(min=1), default=28, show_default=True, help="Days the log spans.")
@click.option(
    "--format",
    "fmt",
    default="combined",
    show_default=True,
    callback=lambda ctx, param, value: _check_writer(value),
    help="Line format to write (see smartcar_logs.synthetic.WRITERS).",
)
@click.option("--redirect-path", default="/smartcar/callback", show_default=True)
@click.option("--launch-path", default="/connect/smartcar", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the ground-truth counts as JSON.")
@click.option("--flat", is_flag=True, help="Constant rates: no daily rhythm (for testing `check`).")
@click.option(
    "--incident",
    "incidents",
    multiple=True,
    metavar="KIND@OFFSET",
    help="Inject an incident (repeatable): server_error, denial, config_break or incompatible[:MAKE], "
    "from OFFSET (-1h: an hour before the end; +2d: two days after the start) to the end.",
)
def generate(
    out, lines, redirect_share, seed, start, days, fmt, redirect_path, launch_path, as_json, flat, incidents
):
    """Write a SYNTHETIC access log with Connect redirects mixed in (.gz compresses)."""
    from .synthetic import generate_file, generate_log

    kwargs = dict(
        lines=lines,
        redirect_share=redirect_share,
        seed=seed,
        start=start,
        days=days,
        fmt=fmt,
        redirect_path=redirect_path,
        launch_path=launch_path,
        flat=flat,
        incidents=incidents,
    )
    try:
        if out == "-":
            counts = generate_log(sys.stdout.buffer, **kwargs)
        else:
            counts = generate_file(out, **kwargs)
    except ValueError as e:  # an argument out of range, an unknown format
        raise click.UsageError(clean(e)) from None
    except OSError as e:
        raise click.ClickException(f"{out}: {e}") from None
    if as_json:
        click.echo(json.dumps(counts, indent=2, default=str), err=(out == "-"))
    elif out != "-":
        click.echo(f"wrote {lines:,} synthetic lines to {out}", err=True)


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
    from .report import ReportError, build_report
    from .store import StoreError

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
    from .export import export_csv
    from .store import StoreError

    db = _open(db_path, create=False)
    try:
        paths = export_csv(db, out, **({"tables": tables} if tables else {}))
    except ValueError as e:  # --table names no table
        raise click.UsageError(clean(e)) from None
    except (StoreError, OSError) as e:
        raise click.ClickException(clean(e)) from None
    for p in paths:
        click.echo(str(p))


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
    from .serve import DatasetteMissing, datasette_version, run

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
    from .notebook_copies import NotebooksExist, write_notebooks

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


class _PluginCommand(click.Command):
    """A command that exits as a monitoring plugin: a usage error (or a database that cannot be
    used) is UNKNOWN, 3, with a status line on stdout; click's 2 would read as CRITICAL."""

    def _unknown(self, e: click.ClickException):
        click.echo(f"CONNECT UNKNOWN - {clean(e.format_message())}")
        sys.exit(3)

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as e:
            self._unknown(e)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.ClickException as e:
            self._unknown(e)


def _duration(ctx, param, value):
    from .check import parse_duration

    try:
        return parse_duration(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@cli.command(cls=_PluginCommand)
@db_option
@click.option(
    "--window",
    default="1h",
    show_default=True,
    metavar="DURATION",
    callback=_duration,
    help="The period judged.",
)
@click.option(
    "--baseline",
    default="7d",
    show_default=True,
    metavar="DURATION",
    callback=_duration,
    help="The period just before the window it is judged against.",
)
@click.option("--at", metavar="TIME", help="End of the window (ISO 8601; naive is UTC)  [default: now]")
@click.option(
    "-w",
    "--warning",
    multiple=True,
    metavar="LABEL=RANGE",
    help="WARNING when a perfdata value leaves RANGE (monitoring-plugins syntax; repeatable), "
    "e.g. denial_rate=0.15, redirects=10: .",
)
@click.option("-c", "--critical", multiple=True, metavar="LABEL=RANGE", help="CRITICAL likewise.")
@click.option("--ignore", multiple=True, metavar="CODE", help="An error code neither tested nor shown.")
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.001,
    show_default=True,
    help="Family-wise false-alarm rate of the statistical tests.",
)
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="A test fires only on at least this many events.",
)
@click.option(
    "--prometheus",
    "prom",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Also write the node_exporter textfile-collector format to FILE (atomically).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the plugin output.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing (the exit status and --prometheus only).")
def check(db_path, window, baseline, at, warning, critical, ignore, alpha, min_count, prom, as_json, quiet):
    """Is Connect working? The last --window against the --baseline before it, as a
    Nagios/Icinga plugin: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

    \b
    Example:
        smartcar-logs check --critical server_error=0.05 --prometheus /var/lib/node_exporter/smartcar.prom
    """
    from .check import json_text, nagios_text, run_check, write_prometheus
    from .store import StoreError, open_db

    try:
        db = open_db(db_path, create=False)
    except StoreError as e:
        if prom:  # the collector must not keep serving the last good status
            _write_unknown(prom, str(e))
        raise click.ClickException(str(e)) from None
    try:
        result = run_check(
            db,
            window=window,
            baseline=baseline,
            at=at,
            warning=warning,
            critical=critical,
            ignore=ignore,
            alpha=alpha,
            min_count=min_count,
        )
    except ValueError as e:  # a threshold or --at that does not parse
        raise click.UsageError(str(e)) from None
    status = result.status
    if prom:
        try:
            write_prometheus(result, prom)
        except OSError as e:
            click.echo(f"error: {clean(prom)}: {e.strerror or e}", err=True)
            status = status or 3  # UNKNOWN, unless the check itself found worse
    if not quiet:
        click.echo(json_text(result) if as_json else _clean_lines(nagios_text(result)))
    sys.exit(status)


def _write_unknown(path: str, reason: str) -> None:
    from .check import UNKNOWN, CheckResult, parse_time, write_prometheus

    try:
        write_prometheus(CheckResult(UNKNOWN, reason, parse_time(None).isoformat(), "", ""), path)
    except OSError:
        pass  # the status line says why the check could not run; this is a courtesy


def _clean_lines(text: str) -> str:
    """:func:`clean` (no terminal control characters from the logs) line by line."""
    return "\n".join(clean(line) for line in text.split("\n"))


def main() -> None:
    """The ``smartcar-logs`` console script: the fast start, then the click group."""
    _load_sqlite_utils_without_pandas()
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
