"""Object storage as input: ``s3://``, ``gs://``, ``az://``/``abfs://`` through fsspec.

An object is known by its URL (bucket + key) and its version tag: the ETag on S3 and Azure,
the generation on GCS, and its size. The ``objects`` table remembers the tag and size of every
object imported, so a re-import *lists* the prefix and opens nothing it has already read: one
LIST call per 1,000 keys instead of one GET per object. An object whose tag changed is read
again like a rewritten file: its content fingerprint decides what is new (see checkpoint).

Credentials come from each cloud's own chain (environment, profile, instance or workload
identity) through s3fs, gcsfs and adlfs; this module never takes, stores or prints one. The
S3 endpoint comes from ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` (botocore reads them),
so MinIO, R2 and test servers work unchanged; GCS's from ``STORAGE_EMULATOR_HOST``; Azure's
from ``AZURE_STORAGE_CONNECTION_STRING`` or ``AZURE_STORAGE_ACCOUNT_NAME``.

``--since``/``--until`` prune objects by the date in their key before anything is read, for
the layouts the clouds write: ALB/ELB ``AWSLogs/<account>/elasticloadbalancing/<region>/YYYY/MM/DD/``,
CloudFront ``<distribution>.YYYY-MM-DD-HH.<id>.gz``, GCS logging sinks ``…/YYYY/MM/DD/…`` and
Azure diagnostics ``…/y=YYYY/m=MM/d=DD/…``. The date is the day the object was written for
(UTC), so an object delivered just after midnight can hold the last minutes of the day before:
prune with a day to spare when that matters. Keys without a date are always kept.

They are refused when any input is local (a file, a folder, stdin): :func:`check_window`. Those
have no key date, and filtering their lines by time instead would let the file's checkpoint
pass lines that were left out, so a later run without the flags would never import them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

__all__ = [
    "SCHEMES",
    "RemoteError",
    "WindowError",
    "check_window",
    "RemoteObject",
    "is_remote",
    "key_date",
    "list_objects",
    "open_object",
    "safe_url",
]

#: URL scheme -> the fsspec protocol and the extra that installs it.
SCHEMES = {
    "s3": ("s3", "s3"),
    "s3a": ("s3", "s3"),
    "gs": ("gcs", "gcs"),
    "gcs": ("gcs", "gcs"),
    "az": ("az", "azure"),
    "abfs": ("abfs", "azure"),
    "abfss": ("abfs", "azure"),
    "memory": ("memory", None),  # fsspec's in-process store: tests and notebooks
}

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.I)
_GLOB = re.compile(r"[*?\[]")
# Never logs: the databases a user may keep beside them, and the marker object AWS writes
# when access logging is switched on ("Enable AccessLog for ELB: ...").
_NOT_LOGS = (".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite", ".sqlite3")
_MARKERS = ("ELBAccessLogTestFile",)


class RemoteError(Exception):
    """A bucket or object cannot be listed or read; the message names it and says why."""


@dataclass(frozen=True)
class RemoteObject:
    """One listed object: its URL, its version tag (ETag or generation) and size in bytes."""

    url: str
    tag: str | None
    size: int | None


def scheme_of(path: str) -> str | None:
    m = _SCHEME.match(path)
    return m.group(1).lower() if m else None


def is_remote(path: str) -> bool:
    """Whether *path* names object storage (``s3://``, ``gs://``, ``az://``...)."""
    return scheme_of(path) in SCHEMES


class WindowError(ValueError):
    """``--since``/``--until`` given with inputs they cannot select; the message says which."""


def check_window(paths: Iterable[str], since: date | None, until: date | None) -> None:
    """Refuse a date window that would not do what it says: one with a local input in it.

    ``--since``/``--until`` leave out objects by the date in their key, before reading them. A
    local file, folder or stdin has no such date, and its lines would all be imported. Filtering
    its lines by time was the alternative; it is not done because a file is imported up to a
    checkpoint: lines left out before it would be lost to every later run, flags or not.

    Raises
    ------
    WindowError
        A window (either bound) with a local input, or a window that is empty.
    """
    if since is None and until is None:
        return
    if since is not None and until is not None and since >= until:
        raise WindowError(f"--since {since} is not before --until {until}: the window is empty")
    local = [p for p in paths if not is_remote(p)]
    if local:
        first = "stdin" if local[0] == "-" else local[0]
        more = (
            f" (and {len(local) - 1} more local input{'s' if len(local) > 2 else ''})"
            if len(local) > 1
            else ""
        )
        raise WindowError(
            f"--since/--until select object-storage objects by the date in their key; {first}{more} "
            "is local, and every line of it would be imported. Drop --since/--until (a re-import reads "
            "only what is new), or limit what is shown with `report --since ... --until ...`"
        )


def safe_url(url: str) -> str:
    """*url* fit to print or store: any ``user:secret@`` and query string removed.

    fsspec accepts credentials in a URL for some stores and Azure users paste SAS tokens
    (``?sv=...&sig=...``); neither belongs in a database or a terminal.
    """
    m = _SCHEME.match(url)
    if not m:
        return url
    rest = url[m.end() :]
    host, sep, path = rest.partition("/")
    host = host.rpartition("@")[2]
    return f"{m.group(1).lower()}://{host}{sep}{path.split('?', 1)[0]}"


def _filesystem(url: str):
    scheme = scheme_of(url)
    protocol, extra = SCHEMES[scheme]
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec comes with every extra
        raise RemoteError(
            f"{safe_url(url)}: object storage needs: pip install 'smartcar-logs[{extra}]'"
        ) from None
    try:
        # No listing cache: a long-lived process (a notebook, a Dask worker) must see the
        # objects written since its last import, and reads pin the tag they list.
        return fsspec.filesystem(protocol, use_listings_cache=False)
    except ImportError:
        raise RemoteError(
            f"{safe_url(url)}: reading {scheme}:// needs an extra: pip install 'smartcar-logs[{extra}]'"
        ) from None


def _strip(fs, url: str) -> str:
    return fs._strip_protocol(url)


def _url(scheme: str, path: str) -> str:
    return f"{scheme}://{path.lstrip('/')}"


def _tag(info: dict) -> str | None:
    """The version tag of a listed object: what changes when its content does."""
    for key in ("generation", "ETag", "etag", "version_id", "VersionId"):
        v = info.get(key)
        if v:
            return str(v).strip('"')
    # fsspec's memory store has no tag: its creation time changes on every write.
    created = info.get("created")
    return None if created is None else f"created:{created}"


_DATE_PATTERNS = (
    # ALB/ELB: AWSLogs/<account>/elasticloadbalancing/<region>/YYYY/MM/DD/<file>
    re.compile(r"/elasticloadbalancing/[^/]+/(\d{4})/(\d{2})/(\d{2})/"),
    # CloudFront standard logs: <distribution>.YYYY-MM-DD-HH.<unique id>.gz
    re.compile(r"(?:^|/)[A-Z0-9]+\.(\d{4})-(\d{2})-(\d{2})-\d{2}\.[^/]+$"),
    # Azure diagnostic settings: .../y=YYYY/m=MM/d=DD/h=HH/...
    re.compile(r"/y=(\d{4})/m=(\d{2})/d=(\d{2})(?:/|$)"),
    # GCS logging sinks (and most date-partitioned layouts): .../YYYY/MM/DD/...
    re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/"),
)


def key_date(key: str) -> date | None:
    """The day an object's key says it holds, for the ALB, CloudFront, GCS-sink and Azure layouts.

    >>> key_date("AWSLogs/123/elasticloadbalancing/eu-west-1/2026/10/01/x_20261001T0005Z_1.2.3.4_a.log.gz")
    datetime.date(2026, 10, 1)
    >>> key_date("cf/E2EXAMPLE.2026-10-01-12.abcd1234.gz")
    datetime.date(2026, 10, 1)
    >>> key_date("requests/2026/10/02/00:00:00_00:59:59_S0.json")
    datetime.date(2026, 10, 2)
    >>> key_date("logs/access.log.1") is None
    True
    """
    for rx in _DATE_PATTERNS:
        m = rx.search(key)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:  # 2026/13/45: not a date after all
                continue
    return None


def _in_window(key: str, since: date | None, until: date | None) -> bool:
    if since is None and until is None:
        return True
    d = key_date(key)
    if d is None:
        return True
    return (since is None or d >= since) and (until is None or d < until)


def _wanted(path: str) -> bool:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return bool(name) and not name.startswith(".") and not name.endswith(_NOT_LOGS) and name not in _MARKERS


def list_objects(url: str, *, since: date | None = None, until: date | None = None) -> list[RemoteObject]:
    """The objects *url* names, oldest key first: one object, every object under a prefix
    (``s3://bucket/AWSLogs/``, ``gs://bucket``) or those matching a glob
    (``'s3://bucket/AWSLogs/*/elasticloadbalancing/*/2026/10/*/*.log.gz'``).

    Objects whose key dates fall outside [*since*, *until*) are left out before anything is
    read. Raises :class:`RemoteError` when the listing fails (no such bucket, no access).
    """
    scheme = scheme_of(url)
    fs = _filesystem(url)
    path = _strip(fs, url)
    label = safe_url(url)
    try:
        if _GLOB.search(path):
            found = fs.glob(path, detail=True)
        elif path.rstrip("/") and not url.endswith("/") and fs.isfile(path):
            found = {path: fs.info(path)}
        else:
            found = fs.find(path.rstrip("/"), detail=True)
    except FileNotFoundError:
        raise RemoteError(f"{label}: no such bucket or prefix") from None
    except PermissionError as e:
        raise RemoteError(f"{label}: access denied ({_reason(e)})") from None
    except OSError as e:
        raise RemoteError(f"{label}: cannot list: {_reason(e)}") from None
    out = []
    for p, info in sorted(found.items()):
        if info.get("type", "file") != "file" or p.endswith("/"):
            continue  # "folders" and the zero-byte markers consoles create for them
        if not _wanted(p) or not _in_window(p, since, until):
            continue
        out.append(RemoteObject(_url(scheme, p), _tag(info), info.get("size")))
    return out


def _reason(e: BaseException) -> str:
    # botocore and azure errors can quote request details; the first line is the reason.
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]


def open_object(url: str, block_size: int = 4 << 20) -> BinaryIO:
    """Open an object for reading: seekable, with ``peek`` (for the compression sniff).

    Reads are in *block_size* ranged GETs, so resuming a checkpoint or a tail check reads
    only the bytes it needs.
    """
    fs = _filesystem(url)
    label = safe_url(url)
    try:
        f = fs.open(_strip(fs, url), "rb", block_size=block_size)
    except FileNotFoundError:
        raise RemoteError(f"{label}: no such object (deleted since it was listed?)") from None
    except PermissionError as e:
        raise RemoteError(f"{label}: access denied ({_reason(e)})") from None
    except OSError as e:
        raise RemoteError(f"{label}: cannot read: {_reason(e)}") from None
    # fsspec files already buffer in blocks; BufferedReader adds peek() and keeps .name.
    reader = io.BufferedReader(f, block_size)
    return reader


def object_tag(f) -> str | None:
    """The version tag of an opened object (what was actually read), when the store says."""
    raw = getattr(f, "raw", f)
    details = getattr(raw, "details", None)
    return _tag(details) if isinstance(details, dict) else None


def known_objects(conn, objects: Iterable[RemoteObject]) -> set[str]:
    """URLs among *objects* already imported with the same tag and size: nothing to read."""
    objects = list(objects)
    if not objects:
        return set()
    have = {}
    urls = [o.url for o in objects]
    for i in range(0, len(urls), 500):
        part = urls[i : i + 500]
        for url, tag, size in conn.execute(
            f"SELECT url, tag, size FROM objects WHERE url IN ({', '.join('?' * len(part))})", part
        ):
            have[url] = (tag, size)
    return {o.url for o in objects if o.tag is not None and have.get(o.url) == (o.tag, o.size)}


def remember_object(conn, obj: RemoteObject, fingerprint: str | None, import_id: int, status: str) -> None:
    """Record that *obj* (at its tag and size) was read: call inside the file's transaction."""
    conn.execute(
        """INSERT INTO objects (url, tag, size, fingerprint, import_id, status)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (url) DO UPDATE SET tag = excluded.tag, size = excluded.size,
               fingerprint = excluded.fingerprint, import_id = excluded.import_id,
               status = excluded.status""",
        (obj.url, obj.tag, obj.size, fingerprint, import_id, status),
    )


@dataclass
class Plan:
    """What an import will read: local paths and remote objects, in order."""

    items: list  # str paths and RemoteObject
    listed: int = 0  # objects listed (after --since/--until)
    skipped: int = 0  # of those, already imported unchanged
    failed: list = None  # (url, message) of listings that failed


def plan(conn, paths: Iterable[str], since: date | None = None, until: date | None = None) -> Plan:
    """Replace every object-storage URL in *paths* by the objects it names that are not
    already imported unchanged; local paths pass through in place."""
    out = Plan([], failed=[])
    for p in paths:
        if not is_remote(p):
            out.items.append(p)
            continue
        try:
            objects = list_objects(p, since=since, until=until)
        except RemoteError as e:
            out.failed.append((safe_url(p), str(e)))
            continue
        known = known_objects(conn, objects)
        out.listed += len(objects)
        out.skipped += len(known)
        out.items.extend(o for o in objects if o.url not in known)
    return out
