"""What the commands print: log-derived text made safe for a terminal, and the import summary."""

from __future__ import annotations

import re

import click

__all__ = ["clean", "print_import", "print_settings_news", "print_settings"]

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
        if f.status == "not re-read":
            echo(f"{clean(f.path)}: not re-read: {clean(f.message)}")
            continue
        share = f" ({f.format_share:.0%} of sample lines matched)" if f.format_share is not None else ""
        resumed = f", resumed at byte {f.resumed_from:,}" if f.resumed_from else ""
        resumed += ", re-read from the start (settings changed)" if f.reread else ""
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
            # One path: named in the command; several: the user picks (an app's other OAuth
            # callbacks, Google's say, look the same).
            path = clean(top[0][0]) if len(top) == 1 else "PATH"
            echo(
                f"    ordinary: {total:,} OAuth-looking requests without Smartcar evidence on "
                f"{shown}{more}; if {'it' if len(top) == 1 else 'one'} is your Connect redirect path, "
                f"this takes it, in what was imported too: "
                f"smartcar-logs import --db {clean(db_path)} --redirect-path {path}"
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


def print_settings_news(result) -> None:
    """On stderr: what the run's options changed in the remembered settings, what was re-read
    because of it, and what could not be re-read (it keeps the rows it had)."""
    echo = click.echo
    for c in result.settings_changes:
        echo(f"settings: {clean(c)}", err=True)
    for w in result.warnings:
        echo(f"warning: {clean(w)}", err=True)
    reread = result.reread
    if reread:
        n = len(reread)
        echo(
            f"re-read {n:,} input{'s' if n != 1 else ''} imported under other settings, from the start "
            f"({clean(reread[0].reread)})",
            err=True,
        )
    if result.not_reread and (reread or result.settings_changes):
        n = len(result.not_reread)
        echo(
            f"warning: {n:,} input{'s' if n != 1 else ''} imported under other settings could not be "
            "re-read and keep their rows:",
            err=True,
        )
        for d in result.not_reread[:10]:
            echo(f"  {clean(d['path'] or '<stdin>')}: {clean(d['why'])}", err=True)
        if n > 10:
            echo(f"  ... and {n - 10:,} more (import --json lists them)", err=True)


def print_settings(d: dict, db_path: str) -> None:
    """The remembered settings, one per line (``smartcar-logs settings``)."""
    echo = click.echo
    if d.get("stored") is False:
        echo(f"{clean(db_path)}: no settings stored yet (the first import stores them)")
    s = d["settings"]

    def paths(v):
        return ", ".join(map(clean, v)) or "(none)"

    redirect = paths(s["redirect_paths"]) if s["redirect_paths"] else "(recognised from evidence)"
    echo(f"redirect paths: {redirect}")
    echo(f"launch paths:   {paths(s['launch_paths'])}")
    echo(f"format:         {clean(s['format'])}")
    for k in ("log_format", "url_field", "time_field"):
        if s[k]:
            echo(f"{k.replace('_', '-') + ':':<16}{clean(s[k])}")
    redact = (
        ", ".join(f"{clean(f)}={clean(m)}" for f, m in sorted(s["redact"].items())) or "(none: values kept)"
    )
    echo(f"redaction:      {redact}")
    if d.get("evidence_paths"):
        echo(f"redirect paths confirmed by evidence: {paths(d['evidence_paths'])}")
    if d.get("stale"):
        echo(f"{d['stale']:,} inputs hold rows read under other settings (import re-reads those it can)")
