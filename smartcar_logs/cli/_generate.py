"""``generate``: a synthetic access log with Connect redirects, for demos and tests."""

from __future__ import annotations

import json
import sys

import click

from .._console import clean
from . import cli


def _check_writer(fmt: str) -> str:
    """A usage error before the output file is created (imported only for `generate`)."""
    from ..synthetic import WRITERS

    if fmt not in WRITERS:
        raise click.BadParameter(f"choose one of: {', '.join(sorted(WRITERS))}")
    return fmt


def _launch_modes(given: tuple[str, ...]) -> str | list:
    """``--launch-mode`` values as generate_log's *launch_modes*: one mode, or (weight, mode) rows."""
    from ..synthetic.launches import LAUNCH_MODES

    rows = []
    for value in given or ("state",):
        mode, _, weight = value.partition(":")
        if mode not in LAUNCH_MODES:
            raise click.BadParameter(
                f"{mode!r}: choose one of {', '.join(LAUNCH_MODES)}", param_hint="--launch-mode"
            )
        try:
            rows.append((float(weight or 1), mode))
        except ValueError:
            raise click.BadParameter(
                f"{value!r}: the weight after ':' is a number", param_hint="--launch-mode"
            ) from None
    return rows[0][1] if len(rows) == 1 else rows


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
    "--launch-mode",
    "launch_modes",
    multiple=True,
    metavar="MODE[:WEIGHT]",
    help="How launch and redirect carry `state` (repeatable, weighted): state (the launch URL has it), "
    "stateless (the app makes it on the server, as most do), js-sdk (the JavaScript SDK's).  "
    "[default: state]",
)
@click.option(
    "--incident",
    "incidents",
    multiple=True,
    metavar="KIND@OFFSET",
    help="Inject an incident (repeatable): server_error, denial, config_break or incompatible[:MAKE], "
    "from OFFSET (-1h: an hour before the end; +2d: two days after the start) to the end.",
)
def generate(
    out,
    lines,
    redirect_share,
    seed,
    start,
    days,
    fmt,
    redirect_path,
    launch_path,
    as_json,
    flat,
    incidents,
    launch_modes,
):
    """Write a SYNTHETIC access log with Connect redirects mixed in (.gz compresses)."""
    from ..synthetic import generate_file, generate_log

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
        launch_modes=_launch_modes(launch_modes),
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
