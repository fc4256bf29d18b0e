"""What the commands print: log-derived text made safe for a terminal, and the import summary."""

from __future__ import annotations

import re

import click

__all__ = ["clean", "print_import"]

# ANSI CSI/OSC/other escapes, C0/C1 controls, and Unicode bidi overrides/isolates and line
# separators (they reorder or split what the terminal shows). Tab and newline become spaces
# so a log value can never start a line of its own.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_BREAKS = re.compile(r"[\t\n\u2028\u2029]")


def clean(s: object) -> str:
    """Log-derived text for the terminal: ANSI escapes and control characters removed."""
    return _BREAKS.sub(" ", _CONTROL.sub("", str(s)))


def print_import(result, db_path: str) -> None:
    """The import summary: one paragraph per file, then the totals of the run."""
    echo = click.echo
    for f in result.files:
        if f.status == "error":
            continue  # said once, on stderr, as it happened
        share = f" ({f.format_share:.0%} of sample lines matched)" if f.format_share is not None else ""
        resumed = f", resumed at byte {f.resumed_from:,}" if f.resumed_from else ""
        waiting = ", 1 line waiting for its newline" if f.partial_line else ""
        if f.status == "empty":
            echo(f"{clean(f.path)}: {clean(f.message)}")
            continue
        if f.status == "up to date" and not f.lines:
            echo(f"{clean(f.path)}: up to date{waiting}")
            continue
        echo(f"{clean(f.path)}: {f.status}, format {clean(f.format)}{share}{resumed}{waiting}")
        echo(
            f"  {f.lines:,} new lines: {f.redirects:,} redirects ({f.inserted:,} new, "
            f"{f.duplicates:,} already stored), {f.launches:,} launches, "
            f"{f.ordinary:,} ordinary, {f.rejected:,} rejected"
        )
        for reason, n in f.reject_reasons.items():
            echo(f"    rejected {n:,}: {clean(reason)}")
        if f.ignored_callbacks:
            top = sorted(f.ignored_callbacks.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = ", ".join(f"{clean(p)} {n:,}" for p, n in top[:3])
            more = f" and {len(top) - 3} more" if len(top) > 3 else ""
            total = sum(f.ignored_callbacks.values())
            echo(
                f"    ordinary: {total:,} OAuth-looking requests without Smartcar evidence on "
                f"{shown}{more} (--redirect-path takes a path as a Connect redirect path)"
            )
    if result.objects_listed:
        echo(
            f"{result.objects_listed:,} objects listed; {result.objects_skipped:,} objects already "
            "imported (skipped from the listing)"
        )
    if not result.lines_read:
        if result.files and all(f.status == "error" for f in result.files):
            return  # nothing but errors, already on stderr: no table of zeros
        echo(f"database: {clean(db_path)}")
        return
    echo("")
    echo(f"{'lines read':<22}{result.lines_read:>12,}")
    echo(f"{'redirects':<22}{result.redirects:>12,}")
    echo(f"{'  inserted':<22}{result.inserted:>12,}")
    echo(f"{'  already stored':<22}{result.duplicates:>12,}")
    if result.launches:
        echo(f"{'launches':<22}{result.launches:>12,}")
    echo(f"{'ordinary lines':<22}{result.ordinary:>12,}")
    echo(f"{'rejected':<22}{result.rejected:>12,}")
    if any(result.by_outcome.values()):
        echo("new redirects by outcome:")
        for k, n in result.by_outcome.items():
            if n:
                echo(f"  {clean(k):<38}{n:>8,}")
    if result.redirect_paths:
        echo("redirect paths: " + ", ".join(f"{clean(p)} ({n:,})" for p, n in result.redirect_paths.items()))
    # Here, not at the top: the importer package pulls in what `summary` and the others never
    # need (importing it with this module raised the import's peak RSS 85 -> 132 MB).
    from .importer import _speed

    echo(f"parser: {_speed.describe()}")
    echo(f"database: {clean(db_path)}")
