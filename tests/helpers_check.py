"""Databases for the tests of ``check``: a SYNTHETIC log at constant rates (about 100 redirects
an hour), with or without an injected incident, imported through the real importer."""

from __future__ import annotations

from pathlib import Path

from smartcar_logs.importer import import_paths
from smartcar_logs.store import open_db
from smartcar_logs.synthetic import generate_file

#: The generated logs start here and run DAYS days; ``END`` is where they stop.
START = "2026-10-01T00:00:00+00:00"
DAYS = 3
END = "2026-10-04T00:00:00+00:00"
#: Redirects are this share of the lines; the lines are sized for PER_HOUR redirects an hour.
SHARE = 0.3
PER_HOUR = 100


def build_check_db(path: Path, seed: int, incidents: tuple[str, ...] = (), days: int = DAYS) -> dict:
    """Generate and import one log into *path*; return the generator's ground truth."""
    log = path.with_suffix(".log")
    truth = generate_file(
        log,
        lines=round(days * 24 * PER_HOUR / SHARE),
        redirect_share=SHARE,
        seed=seed,
        start=START,
        days=days,
        flat=True,
        incidents=incidents,
    )
    db = open_db(path)
    try:
        import_paths(
            db, [str(log)], launch_paths=["/connect/smartcar"], redirect_paths=["/smartcar/callback"]
        )
    finally:
        db.conn.close()
    log.unlink()
    return truth
