"""``check``: the monitoring plugin, with its own exit statuses (0 OK .. 3 UNKNOWN)."""

from __future__ import annotations

import sys

import click

from .._console import clean
from . import cli, db_option


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
    from ..check import parse_duration

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
    from ..check import json_text, nagios_text, run_check, write_prometheus
    from ..store import StoreError, open_db

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
    from ..check import UNKNOWN, CheckResult, parse_time, write_prometheus

    try:
        write_prometheus(CheckResult(UNKNOWN, reason, parse_time(None).isoformat(), "", ""), path)
    except OSError:
        pass  # the status line says why the check could not run; this is a courtesy


def _clean_lines(text: str) -> str:
    """:func:`clean` (no terminal control characters from the logs) line by line."""
    return "\n".join(clean(line) for line in text.split("\n"))
