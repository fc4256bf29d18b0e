"""What pairing launches without a ``state`` by client costs the derived tables' refresh.

A generated log (``--lines``, one day per 100k lines) is imported into a fresh database in two
launch modes: ``state`` (every launch carries its state: pairing has only orphans to look at)
and ``stateless`` (every launch is paired by client). Then, per mode, it prints:

* ``import``: the whole import, derived tables included (one rebuild: a new database);
* ``rebuild``: ``store.rebuild_derived`` on the imported database;
* ``pair``: ``store.pairing.pair_by_client`` alone, on the rebuilt tables (nothing to write);
* ``refresh``: importing one more small file of the same site (``--more`` lines, the next
  day), the incremental path: its states, the pairing (recomputed from all candidates) and
  the retry links of what changed.

The logs are written to ``--dir`` and reused when there: run it with this tree first, then
with another tree first on the path for the figures before a change (its importer on the
same logs; the pairing column prints as "-"):

    PYTHONPATH=. python benchmarks/bench_pairing.py --lines 200000 --dir /tmp/bench-pairing
    PYTHONPATH=../main python benchmarks/bench_pairing.py --lines 200000 --dir /tmp/bench-pairing
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from smartcar_logs import import_paths, store
from smartcar_logs.store import open_db

LAUNCH = "/connect/smartcar"


def _gen(path: Path, lines: int, mode: str, start: str, days: int, seed: int, share: float) -> Path:
    from smartcar_logs.synthetic import generate_file

    if path.exists():
        return path
    kw = {} if mode == "state" else {"launch_modes": mode}
    generate_file(path, lines=lines, seed=seed, start=start, days=days, redirect_share=share, **kw)
    return path


def _timed(fn, *args, **kwargs) -> float:
    t = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t


def _rebuild(conn) -> None:
    conn.execute("BEGIN")
    store.rebuild_derived(conn)
    conn.execute("COMMIT")


def _pair_all(conn, pairing) -> None:
    conn.execute("BEGIN")
    pairing.pair_by_client(conn)
    conn.execute("COMMIT")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--more", type=int, default=5_000)
    ap.add_argument("--redirect-share", type=float, default=0.03)
    ap.add_argument("--dir", type=Path, default=None, help="where the logs are written and reused")
    args = ap.parse_args()
    days = max(1, args.lines // 100_000)
    try:
        from smartcar_logs.store import pairing as _pairing
    except ImportError:  # a checkout from before the pairing
        _pairing = None
    print(f"{'mode':10} {'import s':>9} {'rebuild s':>10} {'pair s':>8} {'refresh s':>10}  attempts")
    with tempfile.TemporaryDirectory() as tmp:
        logs = args.dir or Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        for mode in ("state", "stateless"):
            try:
                share = args.redirect_share
                name = f"{mode}-{args.lines}-{share}"
                big = _gen(
                    logs / f"{name}.log", args.lines, mode, "2026-10-01T00:00:00+00:00", days, 1, share
                )
                more = _gen(
                    logs / f"{name}-more.log", args.more, mode, f"2026-10-{1 + days:02d}", 1, 2, share
                )
            except TypeError:
                print(f"{mode:10} (the generator has no launch modes here)")
                continue
            db = open_db(Path(tmp, f"{mode}.db"))
            conn = db.conn
            t_import = _timed(import_paths, db, [str(big)], launch_paths=[LAUNCH])
            t_rebuild = _timed(_rebuild, conn)
            t_pair = "-" if _pairing is None else f"{_timed(_pair_all, conn, _pairing):8.3f}"
            t_refresh = _timed(import_paths, db, [str(more)], launch_paths=[LAUNCH])
            (n,) = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()
            print(f"{mode:10} {t_import:9.3f} {t_rebuild:10.3f} {t_pair:>8} {t_refresh:10.3f}  {n:,}")
            conn.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
