"""What every table, view and column of the database holds: one text per name.

Read by Datasette's metadata (:mod:`smartcar_logs.serve`) and by docs/schema.md, which is
generated from here (``python -m smartcar_logs.descriptions > docs/schema.md``); a test holds
both to the tables and views a fresh database really has.  Units are said where a number has
one: seconds, and for every share or rate what it is a share of.  Times are UTC ISO 8601 text.
"""

from __future__ import annotations

import sqlite3
import sys

from .store import RETRY_WINDOW_MINUTES, open_db
from .views import CONVERSION_WINDOW_MINUTES

__all__ = ["DESCRIPTIONS", "TITLE", "DESCRIPTION", "schema_markdown", "schema_overview"]

TITLE = "Smartcar Connect redirects"
DESCRIPTION = (
    "Connect redirects and launches imported from access logs by smartcar-logs. The views count "
    "the way the report does: a reload of the same redirect once, test traffic left out, rates "
    "over success + error events with their 95% Wilson interval."
)

_WHERE = {
    "source_fp": "The sources row (fingerprint) of the file the line came from",
    "line_no": "Line number in that file (1-based)",
    "byte_offset": "Byte offset of the line in the uncompressed content; with source_fp, the row's identity",
    "import_id": "The imports row of the run that stored it",
}
_REQUEST = {
    "ts": "Time of the request (UTC, ISO 8601)",
    "method": "HTTP method",
    "path": "URL path requested, without the query string",
    "http_status": "HTTP status the server answered",
    "client_ip": "Client IP address as logged (hashed or NULL under --redact)",
    "user_agent": "User agent as logged (hashed or NULL under --redact)",
}
_RATE = "{what} / {of}; NULL when {of} is 0"
_LO = "Lower bound of the 95% Wilson interval of {name}"
_HI = "Upper bound of the 95% Wilson interval of {name}"


def _rates(*names: tuple[str, str, str]) -> dict[str, str]:
    out = {}
    for name, what, of in names:
        out[name] = _RATE.format(what=what, of=of)
        out[f"{name}_lo"] = _LO.format(name=name)
        out[f"{name}_hi"] = _HI.format(name=name)
    return out


_PERIOD_COUNTS = {
    "n": "Success + error events (reloads once, test traffic out): the denominator of both rates",
    "success": "Success events",
    "errors": "Error events",
    "denied": "access_denied error events",
    "empty": "Redirects that carried neither a code nor an error (in neither rate)",
    **_rates(
        ("denial_rate", "denied", "n (share of success + error events)"),
        ("failure_rate", "errors", "n (share of success + error events)"),
    ),
}

#: table or view -> (description, {column: description}), every column of a fresh database.
DESCRIPTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "redirects": (
        "One row per Connect redirect request found in the logs: the outcome Connect sent back "
        "to the app's REDIRECT_URI. Raw: a reload is a second row, test traffic is in.",
        {
            "id": "Row id",
            **_WHERE,
            **_REQUEST,
            "outcome": "success, error or empty (no code and no error: not counted in rates)",
            "flow": "How a success came back: code, code+user_id, user_id or reauth; NULL otherwise",
            "category": "Chart bucket: success, denied, exited, incompatible, account, system, other, empty",
            "error_code": "Connect's error parameter (known codes lowercased); NULL unless outcome = error",
            "error_known": "1 when error_code is a documented Connect code, 0 when not, NULL for no error",
            "error_description": "error_description as sent (log text)",
            "state": "The app's state parameter, which links a redirect to its launch (hashed or NULL "
            "under --redact)",
            "user_id": "Smartcar user_id sent on success",
            "has_code": "1 when an authorization code was sent (the code itself is never stored)",
            "vehicle_id": "Smartcar vehicle_id, when sent",
            "external_id": "external_id, when sent",
            "virtual_key_url": "virtual_key_url, when sent",
            "vin": "VIN sent with vehicle_incompatible, upper-cased",
            "vin_valid": "1 when the VIN passes length, alphabet and check-digit checks",
            "is_test": "1 for Smartcar test traffic (test VIN 0SC..., make SIMULATED), left out of the "
            "analysis",
            "vin_make": "Manufacturer decoded from the VIN",
            "vin_year": "Model year decoded from the VIN",
            "make": "Make Connect sent, canonical upper case (aliases collapsed)",
            "make_raw": "Make as sent",
            "model": "Model Connect sent",
            "year": "Model year Connect sent (1900-2100), NULL when absent or not a year",
            "year_raw": "Year as sent",
            "status_code": "status_code parameter, when sent",
            "error_message": "error_message parameter, when sent",
            "flags": "JSON list of oddities in the URL (double_encoded, invalid_utf8, ...)",
            "extras": "JSON object of every other query parameter",
        },
    ),
    "launches": (
        "One row per request to the app's Connect-launch endpoint (--launch-path): the start of the funnel.",
        {
            "id": "Row id",
            **_WHERE,
            **_REQUEST,
            "state": "state in the launch URL; NULL or '' when it carried none",
        },
    ),
    "rejects": (
        "Lines that looked like a redirect but could not be read, with the reason.",
        {
            "id": "Row id",
            "source_fp": _WHERE["source_fp"],
            "path": "File the line came from",
            "line_no": _WHERE["line_no"],
            "byte_offset": _WHERE["byte_offset"],
            "import_id": _WHERE["import_id"],
            "reason": "Why the line was rejected",
            "raw": "The line, truncated and with codes redacted; NULL under --redact",
        },
    ),
    "events": (
        "One row per redirect event: the redirects sharing state, outcome, error code and is_test "
        "(reloads) collapsed into their first line. What the analysis and the views count.",
        {
            "id": "The redirects id of the event's first line",
            "ts": "Time of the first line (UTC)",
            "state": "state; NULL for a redirect without one (its own event)",
            "outcome": "success, error or empty",
            "category": "Chart bucket, as in redirects",
            "error_code": "Error code, lowercased; NULL unless outcome = error (or none was sent)",
            "error_known": "1 when error_code is documented by Connect",
            "error_description": "error_description of the first line",
            "hits": "Log lines collapsed into this event (1 + reloads)",
            "is_test": "1 for test traffic",
            "make": "Canonical make sent",
            "model": "Model sent",
            "year": "Model year sent",
            "vin": "VIN sent",
            "vin_make": "Manufacturer from the VIN",
            "vin_year": "Model year from the VIN",
        },
    ),
    "attempts": (
        "One row per state seen in a launch or a redirect, and per launch without a state (paired "
        "with its client's next redirects, an inference): the launch, the attempt's events and "
        "whether the same client retried after an error (one NAT and browser can be two people).",
        {
            "state": "The state that links launch and redirects; ~launch:SOURCE:OFFSET for a launch "
            "without a state",
            "launched": "First launch line's time (UTC); NULL when no launch carried this state",
            "launch_lines": "Launch lines with this state (reloads of the launch page included)",
            "first_ts": "First redirect event's time; NULL when none came back",
            "last_ts": "Last redirect event's time",
            "redirects": "Redirect log lines (reloads included)",
            "events": "Redirect events (reloads once)",
            "success_events": "Success events",
            "error_events": "Error events",
            "first_error_ts": "First error event's time",
            "last_error_ts": "Last error event's time",
            "first_success_ts": "First success event's time",
            "last_success_ts": "Last success event's time",
            "first_outcome": "Outcome of the first event",
            "first_category": "Category of the first event",
            "final_outcome": "Outcome of the last event",
            "final_error_code": "Error code of the last event",
            "secs_redirect": "Seconds from launch to the first redirect",
            "secs_success": "Seconds from launch to the first success",
            "is_test": "1 when any event was test traffic",
            "user_id": "Smartcar user_id sent, if any",
            "pairing": "How launch and redirect were paired: state, js-sdk (the JavaScript SDK's "
            "originalState), client (inferred) (a stateless launch and its client's next redirect); "
            "NULL when nothing was paired",
            "launch_stateless": "1 when the launch carried no state",
            "client": "64-bit hash of client IP and user agent, the key retries are linked by",
            "retried": "For an attempt ending in an error: 1 when the same client or user_id started "
            f"another attempt within {RETRY_WINDOW_MINUTES} minutes, 0 when not; NULL otherwise",
            "retry_succeeded": "1 when that retry succeeded, 0 when it did not; NULL without a retry",
        },
    ),
    "daily_outcomes": (
        "Events per UTC day by outcome, category and error code, counted like the report: "
        "reloads once, test traffic out.",
        {
            "day": "UTC day (YYYY-MM-DD)",
            "outcome": "success, error or empty",
            "category": "Chart bucket",
            "error_code": "Lowercased error code for errors ('' when none was sent); NULL otherwise",
            "n": "Events (reloads once)",
            "lines": "Log lines behind them (reloads included)",
        },
    ),
    "raw_daily_outcomes": (
        "Redirect log lines per UTC day as logged: reloads counted each time, test traffic in "
        "(is_test). Not what the report counts: use daily_outcomes for that.",
        {
            "day": "UTC day (YYYY-MM-DD)",
            "outcome": "success, error or empty",
            "category": "Chart bucket",
            "error_code": "Error code as stored",
            "is_test": "1 for test traffic",
            "lines": "Log lines",
        },
    ),
    "daily_rates": (
        "Denial and failure rate per UTC day with n and the 95% Wilson interval, every day from "
        "the first to the last event (days without events have n = 0).",
        {"day": "UTC day (YYYY-MM-DD)", **_PERIOD_COUNTS},
    ),
    "weekly_rates": (
        "Denial and failure rate per ISO week (Monday to Sunday, UTC) with n and the 95% Wilson "
        "interval; the first and last weeks are usually partial.",
        {"week": "Monday that starts the week (YYYY-MM-DD)", **_PERIOD_COUNTS},
    ),
    "daily_funnel": (
        "The funnel per launch day (cohort): launched, redirect received, succeeded, with "
        "abandonment and conversion rates; a launch counts on the day of its first launch line, "
        "whenever its redirect came.",
        {
            "day": "UTC day of the launches (YYYY-MM-DD)",
            "launch_lines": "Launch log lines that day (with or without state)",
            "launches_without_state": "Launch lines without a state (paired by client where they have one)",
            "launch_reloads": "Launch lines repeating a state already launched",
            "launched": "Launches: distinct states, and each stateless launch with a client; no test traffic",
            "returned": "Launches a redirect came back for (by state, or paired by client: inferred)",
            "late": f"Of those, returned more than {CONVERSION_WINDOW_MINUTES} minutes after the launch",
            "succeeded": "Launches that reached a success",
            "abandoned": "launched - returned",
            **_rates(
                ("abandonment_rate", "abandoned", "launched (share of launches)"),
                ("conversion_rate", "succeeded", "launched (share of launches)"),
            ),
            "launched_inferred": "Of launched, the stateless launches (paired by client: inferred)",
            "returned_inferred": "Of returned, those paired by client (inferred)",
            "succeeded_inferred": "Of succeeded, those paired by client (inferred)",
            "paired_share": "returned_inferred / launched_inferred: share of the stateless launches a "
            "redirect could be paired with; NULL without any",
            "launches_unmeasurable": "Stateless launch lines without a client: cannot be paired, in no "
            "other count but launch_lines and launches_without_state",
        },
    ),
    "incompatible_vehicles": (
        "vehicle_incompatible events by make, model and year (reloads once, test traffic out); "
        "make and year fall back to the VIN's when Connect sent none.",
        {
            "make": "Make sent, else the VIN's manufacturer, else (unknown)",
            "model": "Model sent, else (unknown)",
            "year": "Year sent, else the VIN's model year",
            "n": "vehicle_incompatible events",
            "share": "n / all vehicle_incompatible events (share of incompatible events)",
            "make_from_vin": "Of n, events whose make came from the VIN",
            "from_vin": "Of n, events whose make or year came from the VIN",
        },
    ),
    "sources": (
        "One row per distinct input content (a renamed or rotated copy is the same source), "
        "with its checkpoint and counters summed over every import of it.",
        {
            "fingerprint": "Content identity: hash of the first bytes",
            "head_hash": "Hash of the longest head the content had",
            "fp_len": "Bytes that head covers",
            "path": "Last path or URL it was read from",
            "size": "Size in bytes when last read",
            "compression": "gzip, bz2, xz, zstd or NULL",
            "format": "Log format it was read as",
            "bytes_done": "Checkpoint: every line before this byte offset is imported",
            "tail_hash": "Hash of the bytes just before the checkpoint",
            "lines": "Lines read",
            "redirects": "Redirect lines",
            "launches": "Launch lines",
            "ordinary": "Other traffic lines (skipped)",
            "rejected": "Rejected lines",
            "first_ts": "First timestamp seen",
            "last_ts": "Last timestamp seen",
            "first_import_id": "First import that read it",
            "last_import_id": "Last import that read it",
            "last_status": "imported, up to date, empty or error",
            "note": "Last message about it (for humans)",
            "marks": "JSON: hashes at 2 KiB, 4 KiB, ... offsets, to check shorter copies",
            "waiting": "Bytes of a last line still waiting for its newline",
            "settings": "Key of the settings it was last read under: a change re-reads it",
        },
    ),
    "source_heads": (
        "The head hashes content is looked up by: one per line end within a source's first KiB.",
        {
            "head_hash": "Hash of the content's first fp_len bytes",
            "fp_len": "Bytes hashed",
            "fingerprint": "The sources row",
        },
    ),
    "imports": (
        "One row per run of smartcar-logs import.",
        {
            "id": "Import id",
            "started_at": "Start (UTC)",
            "finished_at": "End (UTC); NULL for a run that did not finish",
            "options": "JSON: the options of the run (paths, redaction)",
            "files": "Files and objects read",
            "lines_read": "Lines read (= redirects + launches + ordinary + rejected)",
            "redirects": "Redirect lines read",
            "launches": "Launch lines read",
            "inserted": "Rows stored",
            "duplicates": "Lines already stored (a re-read)",
            "ordinary": "Other traffic lines",
            "rejected": "Rejected lines",
            "errors": "Files that could not be read",
            "reread": "Lines read again because the settings changed (their earlier rows replaced)",
        },
    ),
    "settings": (
        "The settings that decide what a line is, remembered from the first import that gave them "
        "and used by every later one (smartcar-logs settings shows them).",
        {
            "key": "redirect_paths, launch_paths, format, log_format, url_field, time_field or redact",
            "value": "Its value (JSON)",
        },
    ),
    "redirect_paths": (
        "The redirect paths recognised: given with --redirect-path or found from Smartcar evidence.",
        {
            "path": "URL path",
            "how": "explicit (--redirect-path) or evidence",
            "first_import_id": "Import that first recognised it",
        },
    ),
    "objects": (
        "Objects read from S3, GCS or Azure: a re-import skips those found here unchanged.",
        {
            "url": "Object URL (no credentials, no query string)",
            "tag": "ETag or generation",
            "size": "Size in bytes",
            "fingerprint": "Its sources row",
            "import_id": "Import that read it",
            "status": "imported, up to date, empty or error",
        },
    ),
    "derived_pending": (
        "Files whose rows events and attempts do not cover yet (empty after a finished import).",
        {"source_fp": "The sources row", "import_id": "The import that stored the rows"},
    ),
    "meta": (
        "Settings of this database: schema version, derived-table version and the salt of hashed values.",
        {"key": "Name", "value": "Value (the salt lets whoever has the file test guesses of hashed values)"},
    ),
}


def schema_markdown(conn: sqlite3.Connection) -> str:
    """docs/schema.md: every table and view of *conn* with its columns and what they hold.

    Raises :class:`KeyError` naming a table, view or column that has no description.
    """
    kinds = dict(
        conn.execute(
            "SELECT name, type FROM sqlite_master"
            " WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    )
    missing = sorted(set(kinds) - set(DESCRIPTIONS))
    if missing:
        raise KeyError(f"no description for {', '.join(missing)} in smartcar_logs/descriptions.py")
    out = [
        "# The database",
        "",
        "<!-- Generated by `python -m smartcar_logs.descriptions > docs/schema.md` from",
        "     smartcar_logs/descriptions.py; tests/test_views.py checks it. Do not edit by hand. -->",
        "",
        f"{DESCRIPTION} Times are UTC ISO 8601 text.",
        "",
        "Tables: " + ", ".join(f"[`{n}`](#{n})" for n in DESCRIPTIONS if kinds.get(n) == "table") + ".",
        "Views: " + ", ".join(f"[`{n}`](#{n})" for n in DESCRIPTIONS if kinds.get(n) == "view") + ".",
    ]
    for name, (text, columns) in DESCRIPTIONS.items():
        if name not in kinds:
            continue
        have = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]
        undescribed = [c for c in have if c not in columns]
        if undescribed:
            raise KeyError(f"{name}: no description for column {', '.join(undescribed)}")
        out += ["", f"## {name}", "", f"{kinds[name].capitalize()}. {text}", "", "| column | |", "|---|---|"]
        out += [f"| `{c}` | {columns[c]} |" for c in have]
    return "\n".join(out) + "\n"


def schema_overview(conn: sqlite3.Connection) -> str:
    """The README's schema section: one line per table and view of *conn*, with every column.

    The same names as :func:`schema_markdown` (and its KeyError for an undescribed one), in
    one table a reader can scan; docs/schema.md says what each column holds.
    """
    schema_markdown(conn)  # every name described, or the KeyError that says which is not
    kinds = dict(conn.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')"))
    out = ["| table or view | what it holds | columns |", "|---|---|---|"]
    for name, (text, _) in DESCRIPTIONS.items():
        if name in kinds:
            have = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]
            kind = "" if kinds[name] == "table" else " (view)"
            out.append(f"| `{name}`{kind} | {text.split('. ')[0].rstrip('.')} | {', '.join(have)} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # python -m smartcar_logs.descriptions > docs/schema.md
    sys.stdout.write(schema_markdown(open_db().conn))
