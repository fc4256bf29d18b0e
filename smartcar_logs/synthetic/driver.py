"""The driver: spread lines over time with a daily rhythm, merge the pooled ordinary lines with
the planned Connect lines hour by hour, write in large batches, and return the ground truth.
"""

from __future__ import annotations

import gzip
import os
import random
from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from typing import BinaryIO

from .catalogue import DEFAULT_HOST, GOOGLE_CALLBACK_PATH, RATE_GOOGLE, RATE_NOISE
from .connect import (
    GOOGLE,
    NOISE_KEYS,
    OUTCOMES,
    T_SHIFT,
    Specials,
    expected_lines_per_attempt,
    expected_redirects_per_attempt,
)
from .incidents import Incident, Plan, parse_incident
from .launches import mode_table
from .traffic import build_pool
from .writers import CLOCKS, WRITERS, Request

# Daily rhythm (local hour -> relative traffic), synthetic.
# fmt: off
HOURLY = (0.30, 0.22, 0.18, 0.16, 0.17, 0.25, 0.45, 0.75, 1.00, 1.15, 1.20, 1.20,
          1.15, 1.15, 1.20, 1.20, 1.15, 1.10, 1.10, 1.15, 1.10, 0.90, 0.65, 0.45)
# fmt: on
WEEKEND_FACTOR = 0.8
POOL_BITS = 13  # up to 8192 distinct ordinary requests
_POOL = 1 << POOL_BITS  # key ids >= _POOL are the hour's special lines
_SHIFT = 32
_MASK = (1 << _SHIFT) - 1
_BATCH = 1 << 17


def _parse_start(start: datetime | str, tz: timezone) -> datetime:
    dt = datetime.fromisoformat(start) if isinstance(start, str) else start
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)  # naive means local time at the given offset
    return dt.astimezone(tz).replace(microsecond=0)


def generate_log(
    out: BinaryIO,
    *,
    lines: int,
    redirect_share: float = 0.03,
    seed: int = 0,
    start: datetime | str = "2026-10-01T00:00:00+00:00",
    days: int = 28,
    fmt: str = "combined",
    redirect_path: str = "/smartcar/callback",
    launch_path: str = "/connect/smartcar",
    tz_offset_minutes: int = 0,
    host: str | None = None,
    flat: bool = False,
    incidents: Iterable[str | Incident] = (),
    launch_modes: str | tuple | list = "state",
) -> dict:
    """Write exactly *lines* SYNTHETIC access-log lines (bytes, each ending in ``\\n``) to *out*.

    Deterministic for a given seed and arguments.  Timestamps never go backwards; they run from
    *start* (naive means local time) over *days* days with a daily rhythm, written at UTC offset
    *tz_offset_minutes*.  *redirect_share* is the approximate share of lines that are Connect
    redirects.  *host* is the site name: the ``vhost_combined`` prefix (default ``example.com``),
    internal referers, and in the ``urls`` format it turns targets into ``https://{host}/...``.
    *launch_modes* is how launch and redirect carry ``state`` (see :mod:`.launches`): one of
    ``"state"`` (the launch URL carries it), ``"stateless"`` (made on the server, never in the
    launch line) and ``"js-sdk"`` (the JavaScript SDK's base64 JSON on the redirect), or a table
    of ``(weight, mode)`` rows mixing them per attempt.

    Returns the ground truth (every count is of lines actually written):

    ``lines``; ``ordinary`` (pooled lines); ``redirects`` (lines whose path is *redirect_path*,
    reloads included); ``reloads``; ``redirects_unique`` (= redirects - reloads); ``launches``
    (lines whose path is *launch_path*); ``retries`` (launches that retry after an error);
    ``matched`` (non-reload redirects whose launch is in the file; each launch has at most one);
    ``abandoned`` (= launches - matched: no redirect came back); ``orphans`` (state but no
    launch); ``no_state``; ``by_outcome`` / ``by_outcome_unique`` ({"success": n, <each error
    code>: n}, over redirect lines / without reloads); ``by_flow`` (success lines: user_id / code
    / code+user_id); ``by_status`` (redirect lines by HTTP status); ``vehicle_info`` and
    ``test_vins`` (vehicle_incompatible lines with vehicle params / a 0SC test VIN);
    ``google_callbacks`` (``google_errors`` of them carry ``error=``); ``noise`` ({"code",
    "error", "user_id"}: look-alike query keys on other paths); ``first_ts`` / ``last_ts``
    (ISO 8601 at the given offset, None without lines); ``funnel`` ({mode: {"launched",
    "returned", "succeeded"}}: launch lines of that mode, those whose redirect came back in the
    file, and of those the successes; a retry is a launch of its own); ``incidents`` ({incident: redirects it
    changed or dropped}); and the arguments used.

    *flat* drops the daily rhythm and the hour-to-hour jitter: constant rates, for the tests of
    ``check`` (``lines=hours * 200, redirect_share=0.5`` is about 100 redirects an hour).
    *incidents* (``"server_error@-1h"`` or :class:`~.incidents.Incident`) are injected; see
    :mod:`.incidents`.
    """
    plan_incidents = [parse_incident(i) if isinstance(i, str) else i for i in incidents]
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(sorted(WRITERS))}")
    if lines < 0:
        raise ValueError("lines must be >= 0")
    if not 0.0 <= redirect_share <= 1.0:
        raise ValueError("redirect_share must be between 0 and 1")
    if days <= 0:
        raise ValueError("days must be > 0")
    if redirect_path == launch_path:
        raise ValueError("redirect_path and launch_path must differ")
    line_writer = WRITERS[fmt]
    tz = timezone(timedelta(minutes=tz_offset_minutes))
    t0 = _parse_start(start, tz)
    site = host or DEFAULT_HOST
    rng = random.Random(seed)
    rnd = rng.random

    # Time axis: "aligned" seconds T counted from the local hour containing start; bucket b is
    # local hour b, valid seconds [lo, hi) within it.
    off0 = t0.minute * 60 + t0.second
    hour0 = t0.replace(minute=0, second=0)
    span = max(1, int(round(days * 86400)))
    t_lo, t_hi = off0, off0 + span
    n_buckets = (t_hi + 3599) // 3600
    bounds = [(max(t_lo - b * 3600, 0), min(t_hi - b * 3600, 3600)) for b in range(n_buckets)]
    weights = []
    for b, (lo, hi) in enumerate(bounds):
        h = hour0 + timedelta(hours=b)
        if flat:
            w = 1.0
        else:
            w = HOURLY[h.hour] * (WEEKEND_FACTOR if h.weekday() >= 5 else 1.0) * rng.uniform(0.85, 1.15)
        weights.append(w * (hi - lo) / 3600)
    cum = list(accumulate(weights))
    total_w = cum[-1]

    def sample_time() -> int:
        b = min(bisect_right(cum, rnd() * total_w), n_buckets - 1)
        lo, hi = bounds[b]
        return b * 3600 + lo + int(rnd() * (hi - lo))

    # Phase 1: plan the special lines.
    sp = Specials(rng, site, redirect_path, launch_path, t_hi, sample_time, mode_table(launch_modes))
    if plan_incidents:
        sp.incidents = Plan(plan_incidents, t_lo, t_hi, seed, OUTCOMES)
    n_google = round(lines * RATE_GOOGLE) if GOOGLE_CALLBACK_PATH not in (redirect_path, launch_path) else 0
    n_noise = {role: round(lines * RATE_NOISE[key]) for role, key in NOISE_KEYS.items()}
    budget = max(0, lines - n_google - sum(n_noise.values()))
    n_attempts = round(lines * redirect_share / expected_redirects_per_attempt())
    n_attempts = min(n_attempts, int(budget / expected_lines_per_attempt()))
    for _ in range(n_attempts):
        sp.plan_attempt()
    for _ in range(n_google):
        sp.plan_lookalike(GOOGLE)
    for role, n in n_noise.items():
        for _ in range(n):
            sp.plan_lookalike(role)
    events = sorted(sp.events)
    del sp.events
    if len(events) > lines:
        del events[lines:]
    n_ordinary = lines - len(events)

    # Ordinary lines per hour: largest-remainder allocation proportional to the weights.
    raw = [n_ordinary * w / total_w for w in weights]
    alloc = [int(x) for x in raw]
    short = n_ordinary - sum(alloc)
    for b in sorted(range(n_buckets), key=lambda b: raw[b] - alloc[b], reverse=True)[:short]:
        alloc[b] += 1

    parts_fn = line_writer.parts

    def encoded_parts(req: Request) -> tuple[bytes, bytes]:
        a, c = parts_fn(req, host)
        return a.encode(), c.encode()

    # a smaller pool for small files (tests): it is a power of two so getrandbits picks uniformly
    pool_bits = min(POOL_BITS, max(6, n_ordinary.bit_length()))
    pool = build_pool(rng, site, {redirect_path, launch_path}, 1 << pool_bits) if n_ordinary else []
    pool_parts = [encoded_parts(req) for req in pool]
    clock = CLOCKS[line_writer.clock] if line_writer.clock else None
    sec_table = [s.encode() for s in clock.seconds(tz_offset_minutes)] if clock else None

    # Phase 2: write hour by hour, merging pooled lines with the rendered special lines.
    write = out.write
    buf: list[bytes] = []
    extend = buf.extend
    append = buf.append
    getbits = rng.getrandbits
    ev_i, n_ev = 0, len(events)
    first_T = last_T = None
    for b in range(n_buckets):
        lo, hi = bounds[b]
        width = hi - lo
        keys = [((lo + int(rnd() * width)) << _SHIFT) | getbits(pool_bits) for _ in range(alloc[b])]
        hour_sp: list[tuple[bytes, bytes]] = []
        base = b * 3600
        end_t = base + 3600
        while ev_i < n_ev and (events[ev_i] >> T_SHIFT) < end_t:
            ev = events[ev_i]
            ev_i += 1
            keys.append((((ev >> T_SHIFT) - base) << _SHIFT) | (_POOL + len(hour_sp)))
            hour_sp.append(encoded_parts(sp.render(ev)))
        if not keys:
            continue
        keys.sort()
        if first_T is None:
            first_T = base + (keys[0] >> _SHIFT)
        last_T = base + (keys[-1] >> _SHIFT)
        if clock is not None:
            hp = clock.hour_prefix(hour0 + timedelta(hours=b)).encode()
            for key in keys:
                i = key & _MASK
                a, c = pool_parts[i] if i < _POOL else hour_sp[i - _POOL]
                extend((a, hp, sec_table[key >> _SHIFT], c))
        else:
            for key in keys:
                i = key & _MASK
                append(pool_parts[i][0] if i < _POOL else hour_sp[i - _POOL][0])
        if len(buf) >= _BATCH:
            write(b"".join(buf))
            buf.clear()
    if buf:
        write(b"".join(buf))

    def iso(T: int | None) -> str | None:
        return None if T is None else (hour0 + timedelta(seconds=T)).isoformat()

    c = sp.c
    return {
        "lines": lines,
        "ordinary": n_ordinary,
        "redirects": c["redirects"],
        "reloads": c["reloads"],
        "redirects_unique": c["redirects"] - c["reloads"],
        "launches": c["launches"],
        "retries": c["retries"],
        "matched": c["matched"],
        "abandoned": c["launches"] - c["matched"],
        "orphans": c["orphans"],
        "no_state": c["no_state"],
        "by_outcome": sp.by_outcome,
        "by_outcome_unique": sp.by_outcome_unique,
        "by_flow": sp.by_flow,
        "by_status": dict(sorted(sp.by_status.items())),
        "vehicle_info": c["vehicle_info"],
        "test_vins": c["test_vins"],
        "google_callbacks": c["google_callbacks"],
        "google_errors": c["google_errors"],
        "noise": sp.noise,
        "funnel": sp.funnel,
        "first_ts": iso(first_T),
        "last_ts": iso(last_T),
        "seed": seed,
        "fmt": fmt,
        "start": t0.isoformat(),
        "days": days,
        "redirect_share": redirect_share,
        "redirect_path": redirect_path,
        "launch_path": launch_path,
        "tz_offset_minutes": tz_offset_minutes,
        "host": host,
        "flat": flat,
        "incidents": dict(sp.incidents.counts) if sp.incidents is not None else {},
        "launch_modes": launch_modes,
    }


def generate_file(path: str | os.PathLike, **kwargs) -> dict:
    """:func:`generate_log` into *path*; gzip when it ends in ``.gz`` (reproducible bytes: mtime 0)."""
    path = os.fspath(path)
    with open(path, "wb") as raw:
        if path.endswith(".gz"):
            name = os.path.basename(path)[:-3]
            with gzip.GzipFile(filename=name, mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
                return generate_log(gz, **kwargs)
        return generate_log(raw, **kwargs)
