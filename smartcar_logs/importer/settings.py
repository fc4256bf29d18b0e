"""Settings that stick: what decides what a line is, stored in the database on first use.

A cron line that forgets ``--launch-path`` must not classify new lines differently from old
ones, so the options that decide what a line is (redirect paths, launch paths, the format and
its ``--log-format``/``--url-field``/``--time-field``, and redaction) live in the ``settings``
table (layout: :data:`smartcar_logs.store.SETTINGS`) and every run starts from them. A run's
options *change* them: a path given is added, a format or field given replaces the stored
one; only an explicit option takes something away (``--no-launch-path PATH``, ``--format
auto``, ``reset``). An omitted flag never does.

Each source remembers the key of the settings it was read under (``sources.settings``). When
the classifying settings change, every source with another key is *stale*: the run re-reads
the ones it can still read (local files and archives, whose content still matches) from byte
0, after deleting their rows, so the database holds what a fresh one would for those inputs
and the current settings. The others (rotated away, rewritten, stdin, object storage) keep
their rows, and the run says so. Redaction is not part of the key: a change applies to the
rows written from then on (and to what is re-read for another reason).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import asdict, dataclass, field, replace

from .. import formats as _formats
from .. import privacy as _privacy
from .._sqlite import write_transaction
from ..store import SETTINGS, mark_derived_stale
from .discovery import InputPlan
from .paths import _norm_path

__all__ = [
    "Settings",
    "Change",
    "Applied",
    "apply",
    "load",
    "show",
    "stale_sources",
    "forget_source",
    "with_rereads",
    "end_run",
]

#: The settings that decide what a line is: a change re-reads what was imported.
CLASSIFYING = ("redirect_paths", "launch_paths", "format", "log_format", "url_field", "time_field")


@dataclass(frozen=True)
class Settings:
    """The settings of one database (the defaults before any are stored)."""

    redirect_paths: tuple[str, ...] = ()  # empty: recognised from Smartcar evidence
    launch_paths: tuple[str, ...] = ()
    format: str = "auto"
    log_format: str | None = None
    url_field: str | None = None
    time_field: str | None = None
    redact: dict = field(default_factory=dict)  # field -> hash | drop (keep is left out)

    @property
    def key(self) -> str:
        """A short hash of the classifying settings: equal keys read lines alike."""
        d = {k: v for k, v in asdict(self).items() if k in CLASSIFYING}
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def format_options(self) -> _formats.FormatOptions:
        return _formats.FormatOptions(self.log_format, self.url_field, self.time_field)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["redirect_paths"], d["launch_paths"] = list(self.redirect_paths), list(self.launch_paths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Settings:
        def paths(v) -> tuple[str, ...]:
            return tuple(sorted({_norm_path(p) for p in v or () if p and p.strip()}))

        redact = {k: m for k, m in (d.get("redact") or {}).items() if m != "keep"}
        return cls(
            paths(d.get("redirect_paths")),
            paths(d.get("launch_paths")),
            d.get("format") or "auto",
            d.get("log_format") or None,
            d.get("url_field") or None,
            d.get("time_field") or None,
            redact,
        )


@dataclass(frozen=True)
class Change:
    """What one run's options ask for; empty or None: not given, the stored value stands."""

    redirect_paths: tuple[str, ...] = ()
    launch_paths: tuple[str, ...] = ()
    no_redirect_paths: tuple[str, ...] = ()
    no_launch_paths: tuple[str, ...] = ()
    format: str | None = None  # "auto" given explicitly switches a stored format off
    log_format: str | None = None
    url_field: str | None = None
    time_field: str | None = None
    redact: dict | None = None  # a parsed policy (privacy.parse_redact), merged field by field
    reset: bool = False  # start from the defaults, then apply the rest

    @classmethod
    def of(
        cls,
        fmt,
        redirect_paths=(),
        launch_paths=(),
        no_redirect_paths=(),
        no_launch_paths=(),
        format_options=None,
        redaction=None,
    ) -> Change:
        """From :func:`.import_paths`'s arguments (*redaction*: specs, a policy or a Redaction)."""
        given = _formats.FormatOptions.of(format_options)
        if redaction is not None:
            redaction = _named_fields(redaction)
        return cls(
            tuple(redirect_paths), tuple(launch_paths), tuple(no_redirect_paths), tuple(no_launch_paths),
            fmt, given.log_format, given.url_field, given.time_field, redaction,
        )  # fmt: skip


def _named_fields(redaction) -> dict[str, str]:
    """The fields a ``--redact`` names, and their modes: ``["vin=hash"]`` changes the VIN only
    (a field not named keeps its remembered mode). A policy dict or a Redaction is whole."""
    if isinstance(redaction, _privacy.Redaction):
        return dict(redaction.policy)
    if isinstance(redaction, dict):
        return _privacy.parse_redact(redaction)
    out: dict[str, str] = {}
    for spec in redaction:
        policy = _privacy.parse_redact([spec])  # raises RedactionError for a bad spec
        field = spec.partition("=")[0].strip().lower().replace("-", "_")
        field = "client_ip" if field == "ip" else field
        out.update(policy if field == "all" else {field: policy[field]})
    return out


@dataclass
class Applied:
    """The settings a run reads with, and what changed them."""

    settings: Settings
    before: Settings | None  # None: the first use of this database
    changes: list[str] = field(default_factory=list)  # one line each, for people
    format_given: bool = False
    warnings: list[str] = field(default_factory=list)  # a redaction that mixes stored values

    @property
    def reread(self) -> bool:
        """Did the classifying settings change, so that what was imported is re-read?"""
        return self.before is not None and self.before.key != self.settings.key

    @property
    def why(self) -> str:
        """Why a source read under other settings is re-read (``FileResult.reread``)."""
        if self.reread:
            return "settings changed: " + "; ".join(self.changes)
        return "imported under other settings than the database's"


def load(conn: sqlite3.Connection) -> Settings | None:
    """The stored settings; None before the first import stores them."""
    try:
        rows = dict(conn.execute("SELECT key, value FROM settings").fetchall())
    except sqlite3.OperationalError:  # a database older than the settings table
        return None
    if not rows:
        return None
    return Settings.from_dict({k: json.loads(v) for k, v in rows.items()})


def _legacy(conn: sqlite3.Connection) -> Settings | None:
    """A database imported into before settings were stored: its last run's options, which
    the ``imports`` table recorded, are taken as the settings its rows were read under."""
    row = conn.execute(
        "SELECT options FROM imports WHERE options IS NOT NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None or not conn.execute("SELECT 1 FROM sources LIMIT 1").fetchone():
        return None
    try:
        return Settings.from_dict(json.loads(row[0]))
    except (ValueError, TypeError, AttributeError):
        return Settings()


def _save(conn: sqlite3.Connection, s: Settings) -> None:
    conn.execute("DELETE FROM settings")
    conn.executemany(SETTINGS.insert_sql(verb="INSERT"), [(k, json.dumps(v)) for k, v in s.to_dict().items()])


def _merge(conn: sqlite3.Connection, old: Settings, c: Change) -> tuple[Settings, list[str]]:
    base = Settings() if c.reset else old
    notes = ["settings reset to the defaults"] if c.reset and old != Settings() else []
    paths = {}
    for name, add, drop in (
        ("redirect", c.redirect_paths, c.no_redirect_paths),
        ("launch", c.launch_paths, c.no_launch_paths),
    ):
        have = set(getattr(base, f"{name}_paths"))
        add_n = {_norm_path(p) for p in add if p.strip()} - have
        drop_n = {_norm_path(p) for p in drop if p.strip()}
        if name == "redirect" and add_n and not have:
            # The first explicit redirect path switches evidence detection off (scan reads
            # only the paths given): the paths evidence confirmed so far are kept with it,
            # or adding /sc/cb would drop every redirect found on /smartcar/callback.
            found = {p for (p,) in conn.execute("SELECT path FROM redirect_paths WHERE how = 'evidence'")}
            kept = found - add_n - drop_n
            if kept:
                notes.append(
                    f"redirect paths confirmed by evidence kept as settings: {', '.join(sorted(kept))}"
                )
            add_n |= kept
        for p in sorted(drop_n - have - add_n):
            notes.append(f"--no-{name}-path {p}: not a {name} path of this database (nothing removed)")
        new = (have | add_n) - drop_n
        if add_n - drop_n:
            notes.append(f"{name} paths: added {', '.join(sorted(add_n - drop_n))}")
        if have & drop_n:
            notes.append(f"{name} paths: removed {', '.join(sorted(have & drop_n))}")
        paths[name] = tuple(sorted(new))
    fmt = base.format if c.format is None else c.format
    fields = {
        k: (getattr(base, k) if getattr(c, k) is None else (getattr(c, k) or None))
        for k in ("log_format", "url_field", "time_field")
    }
    if c.format is None and c.log_format and fmt not in ("auto", "custom"):
        fmt = "auto"  # a --log-format alone reads with it where it fits, as before
    redact = dict(base.redact)
    if c.redact is not None:
        for f, m in c.redact.items():
            if m == "keep":
                redact.pop(f, None)
            else:
                redact[f] = m
    new = Settings(paths["redirect"], paths["launch"], fmt, **fields, redact=redact)
    for k in ("format", "log_format", "url_field", "time_field"):
        if getattr(new, k) != getattr(old, k) and not c.reset:
            notes.append(
                f"{k.replace('_', '-')}: {getattr(old, k) or '(none)'} -> {getattr(new, k) or '(none)'}"
            )
    if new.redact != old.redact:
        notes.append(
            "redaction changed: it applies to rows written from now on (rows already stored "
            "keep theirs unless re-read)"
        )
    return new, notes


def apply(conn: sqlite3.Connection, change: Change, *, reset: bool = False) -> Applied:
    """Merge one run's options into the stored settings and store the result.

    The first use stores them; a database imported into before settings existed takes its
    last run's options as what its rows were read under, so a change is re-read there too.
    Sources not yet marked are marked with the settings they were read under.
    """
    change = replace(change, reset=True) if reset else change
    with write_transaction(conn):
        stored = load(conn)
        before = stored if stored is not None else _legacy(conn)
        new, notes = _merge(conn, before or Settings(), change)
        warnings = []
        if before is not None and new.redact != before.redact:
            warnings = _privacy.policy_conflicts(conn, _privacy.parse_redact(new.redact))
        if stored != new:
            _save(conn, new)
        # Sources read before settings were stored, or by an older version: the settings then.
        conn.execute("UPDATE sources SET settings = ? WHERE settings IS NULL", ((before or new).key,))
    return Applied(new, before, notes if before is not None else [], change.format is not None, warnings)


def keep_format(conn: sqlite3.Connection, applied: Applied, fmt_used: str, n_read: int) -> str | None:
    """A ``--format`` that auto-detection contradicted on a file is not kept as a setting:
    the stored format goes back to what it was, and the files read with it are stale (their
    key is the contradicted one), so the next run without ``--format`` re-reads them.
    *n_read* is how many files the run read with it. Returns the note to print, or None when
    nothing was reverted."""
    if not applied.format_given:
        return None
    back = (applied.before or Settings()).format
    if back == fmt_used:
        return None
    with conn:
        _save(conn, replace(applied.settings, format=back))
    note = f"--format {fmt_used} is not kept as a setting (auto-detection contradicts it)"
    if n_read:
        note += (
            f"; {'the file' if n_read == 1 else f'the {n_read} files'} read with it this run "
            f"{'is' if n_read == 1 else 'are'} re-read with format {back} by the next import "
            "(no FILES needed)"
        )
    return note


def stale_sources(conn: sqlite3.Connection, key: str) -> list[tuple[str, str | None, str]]:
    """Sources read under other settings: ``(fingerprint, path, why not re-readable or '')``."""
    out = []
    for fp, path in conn.execute(
        "SELECT fingerprint, path FROM sources WHERE settings IS NOT ? AND bytes_done > 0 ORDER BY rowid",
        (key,),
    ):
        if path is None:
            why = "read from stdin"
        elif "://" in path:
            why = "in object storage: re-read when its bucket or prefix is imported again"
        elif not os.path.isfile(path):
            why = "no longer there (rotated away or removed)"
        else:
            why = ""
        out.append((fp, path, why))
    return out


def is_stale(conn: sqlite3.Connection, fingerprint: str, key: str) -> bool:
    row = conn.execute(
        "SELECT settings IS NOT ? FROM sources WHERE fingerprint = ?", (key, fingerprint)
    ).fetchone()
    return bool(row and row[0])


def forget_source(conn: sqlite3.Connection, fingerprint: str, import_id: int) -> int:
    """Delete one source's rows and checkpoint, in the caller's transaction, so that it is
    read again from byte 0; return its checkpoint (``bytes_done``: every line ending by there
    was taken, an unterminated last one too).

    The runs that wrote the rows have their counts lowered by them, and this run's
    ``imports.reread`` notes the lines read again, so ``imports`` still adds up to the rows.
    The derived tables are marked for a rebuild (their states may have lost every row)."""
    for table, cols in (
        ("redirects", ("redirects", "inserted")),
        ("launches", ("launches",)),
        ("rejects", ("rejected",)),
    ):
        counts = conn.execute(
            f"SELECT import_id, count(*) FROM {table} WHERE source_fp = ? GROUP BY import_id", (fingerprint,)
        ).fetchall()
        sets = ", ".join(f"{c} = max(0, {c} - ?)" for c in cols)
        conn.executemany(
            f"UPDATE imports SET {sets} WHERE id = ?", [(*[n] * len(cols), i) for i, n in counts]
        )
        conn.execute(f"DELETE FROM {table} WHERE source_fp = ?", (fingerprint,))
    lines, bytes_done = conn.execute(
        "SELECT coalesce(sum(lines), 0), coalesce(sum(bytes_done), 0) FROM sources WHERE fingerprint = ?",
        (fingerprint,),
    ).fetchone()
    conn.execute("UPDATE imports SET reread = reread + ? WHERE id = ?", (lines, import_id))
    conn.execute("DELETE FROM sources WHERE fingerprint = ?", (fingerprint,))
    conn.execute("DELETE FROM source_heads WHERE fingerprint = ?", (fingerprint,))
    conn.execute("DELETE FROM derived_pending WHERE source_fp = ?", (fingerprint,))
    mark_derived_stale(conn)
    return bytes_done


def show(conn: sqlite3.Connection) -> dict:
    """The settings as ``smartcar-logs settings`` prints them: the stored ones (or what the
    next import would store), the paths evidence confirmed, and how many sources hold rows
    read under other settings."""
    stored = load(conn)
    s = stored or _legacy(conn) or Settings()
    evidence = [
        p for (p,) in conn.execute("SELECT path FROM redirect_paths WHERE how = 'evidence' ORDER BY path")
    ]
    (stale,) = conn.execute(
        "SELECT count(*) FROM sources WHERE settings IS NOT ? AND settings IS NOT NULL AND bytes_done > 0",
        (s.key,),
    ).fetchone()
    return {"stored": stored is not None, "settings": s.to_dict(), "evidence_paths": evidence, "stale": stale}


def with_rereads(conn: sqlite3.Connection, plan: InputPlan, key: str) -> tuple[list[str], list[str], int]:
    """A run's inputs: the stale sources that can be re-read (in the order they were first
    imported), then *plan*'s; those added for re-reading; and the bytes they all hold on disk,
    for a progress bar."""
    named = {os.path.abspath(p) for p in plan.paths if p != "-" and "://" not in p}
    extra, objects = [], []
    for fp, path, why in stale_sources(conn, key):
        if not why and path not in named:
            named.add(path)
            extra.append(path)
        elif path is not None and "://" in path:
            objects.append((fp,))
    # An object is skipped from a listing when its tag is known (remote.known_objects): a stale
    # one is forgotten there, so a listing that names it reads it, and the read re-reads it.
    # Harmless if the settings change back first: the read then finds it current, up to date.
    if objects:
        with conn:
            conn.executemany("DELETE FROM objects WHERE fingerprint = ?", objects)
    total = plan.total_bytes
    for p in extra:
        try:
            total += os.path.getsize(p)
        except OSError:
            pass
    return extra + list(plan.paths), extra, total


def end_run(conn: sqlite3.Connection, applied: Applied, res) -> None:
    """What the run's :class:`.ImportResult` says about settings: the settings it read with,
    what its options changed, and the inputs that keep rows read under other settings. A
    ``--format`` that auto-detection contradicted on a file is not kept (:func:`keep_format`)."""
    s = applied.settings
    res.settings, res.settings_changes = s.to_dict(), list(applied.changes)
    res.warnings = list(applied.warnings)
    if any(r.format_contradicted for r in res.files):
        note = keep_format(conn, applied, s.format, sum(r.status == "imported" for r in res.files))
        if note:
            res.settings_changes.append(note)
            s = load(conn) or s
            res.settings = s.to_dict()
    # Stale under the settings now stored; those this run read are the next run's re-reads.
    res.not_reread = [
        {"path": p, "why": why or "its content no longer matches what was imported (rewritten or truncated)"}
        for fp, p, why in stale_sources(conn, s.key)
        if fp not in {r.fingerprint for r in res.files if r.status == "imported"}
    ]
