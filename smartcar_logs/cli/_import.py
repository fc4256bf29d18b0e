"""``import`` and ``settings``: the stored settings and what a run reads."""

from __future__ import annotations

import json
import os
import sqlite3
import sys

import click

from .._console import clean, print_import, print_settings_news
from . import _open, cli, db_option


@cli.command(name="import")
@click.argument("files", nargs=-1)
@db_option
@click.option(
    "--redirect-path",
    "redirect_paths",
    multiple=True,
    metavar="PATH",
    help="The app's REDIRECT_URI path (repeatable; remembered). Without any, Smartcar redirect "
    "paths are recognised from Smartcar-specific evidence.",
)
@click.option(
    "--launch-path",
    "launch_paths",
    multiple=True,
    metavar="PATH",
    help="The app's own Connect-launch endpoint (repeatable; remembered), for the funnel.",
)
@click.option(
    "--no-redirect-path",
    "no_redirect_paths",
    multiple=True,
    metavar="PATH",
    help="Remove a remembered redirect path (repeatable).",
)
@click.option(
    "--no-launch-path",
    "no_launch_paths",
    multiple=True,
    metavar="PATH",
    help="Remove a remembered launch path (repeatable).",
)
@click.option(
    "--reset-settings",
    is_flag=True,
    help="Forget the remembered settings first (then apply the options given).",
)
@click.option(
    "--format",
    "fmt",
    default=None,
    help="Log format (remembered; default auto: detected per file); nginx or apache (combined or "
    "common, detected); alb, elb, cloudfront, w3c, s3, heroku, haproxy, envoy, uwsgi, ssl-request, gcp, "
    "cloudflare, azure, traefik-json, kong, caddy, traefik-clf, combined, common, werkzeug, json, urls, "
    "custom; WRAPPER+FORMAT for lines inside docker, cri, syslog, journald or compose envelopes, e.g. "
    "syslog+haproxy (see docs/formats.md).",
)
@click.option(
    "--log-format",
    metavar="STRING",
    help="Read the files with this Apache LogFormat or nginx log_format string (the 'custom' "
    "format; remembered, '' forgets it).",
)
@click.option(
    "--url-field",
    metavar="FIELD",
    help="JSON logs: the field holding the request URL or path?query (dotted for nested; remembered).",
)
@click.option(
    "--time-field",
    metavar="FIELD",
    help="JSON logs: the field holding the request time (dotted for nested; remembered).",
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
    help="Privacy (repeatable; remembered, applies to rows written from then on): FIELD vin, "
    "user_id, client_ip, user_agent, state or all; MODE keep, hash (salted, joins still work) or "
    "drop. E.g. --redact all=hash --redact client_ip=drop. Authorization codes are never stored.",
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
    no_redirect_paths,
    no_launch_paths,
    reset_settings,
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

    The settings (paths, format, fields, redaction) are remembered in the database: later
    runs use them without the flags. A changed setting is applied to what was imported too:
    the files still there are re-read (no FILES needed). `smartcar-logs settings` shows them.

    \b
    Example:
        smartcar-logs import /var/log/nginx/access.log*
        smartcar-logs import --redirect-path /smartcar/callback --json access.log.gz
        smartcar-logs import --launch-path /connect
        smartcar-logs import --since 2026-10-01 s3://my-logs/AWSLogs/123456789012/elasticloadbalancing/
        smartcar-logs import --dask local:4 gs://my-sink/requests/
    """
    from .. import formats
    from ..importer import import_paths, plan_inputs

    try:
        # As typed: None leaves a remembered value, '' forgets it (importer/settings.py).
        format_options = formats.check_options(fmt, log_format, url_field, time_field)
    except formats.OptionError as e:
        raise click.BadParameter(clean(e), param_hint=e.option) from None
    from ..privacy import RedactionError, parse_redact

    try:
        parse_redact(redact)  # a usage error here; the library merges the fields named
    except RedactionError as e:
        raise click.BadParameter(str(e), param_hint="--redact") from None
    from ..importer.remote import WindowError, check_window

    try:
        check_window(files, since.date() if since else None, until.date() if until else None)
    except WindowError as e:
        raise click.BadParameter(clean(e), param_hint="--since/--until") from None
    if dask_address and "-" in files:
        raise click.BadParameter("--dask reads files and objects, not stdin", param_hint="--dask")
    plan = plan_inputs(files)
    if plan.paths and len(plan.missing) == len(plan.paths):
        # Nothing to read: say so once, and leave no database (nor imports row) behind.
        for f in plan.missing:
            click.echo(f"error: {clean(f)}: no such file or directory", err=True)
        sys.exit(1)
    if not files and not os.path.exists(db_path):
        raise click.UsageError(f"no database yet at {db_path}: give the FILES to import")
    db = _open(db_path, busy_timeout=busy_timeout)
    bar = None
    if not quiet:
        from tqdm import tqdm

        # disable=None: no bar when stderr is not a terminal; sized when the run says its total.
        bar = tqdm(
            total=None,
            unit="B",
            unit_scale=True,
            file=sys.stderr,
            disable=None,
            desc="importing",
            leave=False,
        )

    def on_total(n: int) -> None:
        if bar is not None and n:
            bar.total = n
            bar.refresh()

    def on_file(r):
        if r.status == "error":
            click.echo(f"error: {clean(r.message)}", err=True)
        for w in r.warnings:
            click.echo(f"warning: {clean(w)}", err=True)

    from ..importer.cluster import ClusterError, connect
    from ..store import StoreError

    connected = []

    def dask_client():  # called only when there is something to read: a re-import may not
        connected.append(connect(dask_address))
        return connected[-1][0]

    try:
        result = import_paths(
            db,
            plan,
            fmt=fmt,
            redirect_paths=redirect_paths,
            launch_paths=launch_paths,
            no_redirect_paths=no_redirect_paths,
            no_launch_paths=no_launch_paths,
            reset_settings=reset_settings,
            on_total=on_total,
            progress=bar.update if bar is not None else None,
            on_file=on_file,
            format_options=format_options,
            redaction=redact or None,
            jobs=jobs,
            since=since.date() if since else None,
            until=until.date() if until else None,
            dask=dask_client if dask_address else None,
            final=final,
            settle=settle,
        )
    except sqlite3.Error as e:  # the run's own bookkeeping (imports row) could not be written
        from ..store import db_error_message

        raise click.ClickException(db_error_message(e, db, clean(db_path))) from None
    except StoreError as e:  # the derived tables' rebuild after a re-read
        raise click.ClickException(clean(e)) from None
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
        click.echo(json.dumps(result.to_json(db_path), indent=2))
    elif not quiet:
        print_import(result, db_path)
    print_settings_news(result)
    if not files and not result.files:
        click.echo("nothing to re-read: every input imported was read under the current settings", err=True)
    if result.rejected:
        n = result.rejected
        click.echo(
            f"{n:,} line{'s' if n != 1 else ''} rejected: stored in the rejects table with the reason",
            err=True,
        )
    sys.exit(result.exit_status(strict=strict))


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def settings(db_path, as_json):
    """Show the settings remembered in the database: every import uses them.

    \b
    Change them with import's options; they apply to what was imported too:
        smartcar-logs import --launch-path /connect      (add; no FILES: re-read what is there)
        smartcar-logs import --no-launch-path /connect   (remove)
        smartcar-logs import --format auto               (back to auto-detection)
        smartcar-logs import --reset-settings            (all back to the defaults)
    """
    from .._console import print_settings
    from ..importer.settings import show

    db = _open(db_path, create=False)
    d = show(db.conn)
    if as_json:
        click.echo(json.dumps({**d, "db": db_path}, indent=2))
    else:
        print_settings(d, db_path)
