"""The cron case: a small file appended to a big database (``smartcar-logs import ... &&
smartcar-logs check`` every 5 minutes), and what the derived tables' refresh costs it.

A generated log (``--lines``, 28 days, half of its lines redirects, every launch through
``--launch-path``; ``--stateless`` makes every launch carry no ``state``) is cut by time at
15:00 on its last day (its busiest hour, ~1,100 lines): what comes before is imported once into
a base database; 15:00-15:05 and 15:00-16:00 are the follow-up files (the rest is left out).
Each follow-up is imported into a fresh copy of the base database, ``--repeat`` times, each
in a fresh process, and the medians are printed:

* ``wall``/``CPU``: the whole command, ``python -m smartcar_logs.cli import`` (interpreter
  start included; CPU of the process and its workers);
* ``refresh``: CPU seconds in ``store.refresh_pending`` (the same import run again in process
  with timers), and of that the retry links, the pairing of stateless launches by client and
  the touched states' events and attempts.

Every share printed says what it is a share of. The logs and the base database are kept in
``--dir`` and reused: run it with another tree first on the path for the figures before a
change (``PYTHONPATH=../main python benchmarks/bench_cron.py``).

    PYTHONPATH=. python benchmarks/bench_cron.py --dir /tmp/bench-cron
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

LAUNCH = "/connect/smartcar"
START = datetime(2026, 10, 1)
DAYS = 28
_TS = re.compile(rb"\[(\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d) ")


def _prepare(d: Path, lines: int, stateless: bool) -> dict[str, Path]:
    """The logs (base, 5 minutes, 1 hour) and the base database, made once."""
    from smartcar_logs.synthetic import generate_file

    d.mkdir(parents=True, exist_ok=True)
    big = d / "big.log"
    files = {"base": d / "base.log", "5 min": d / "f5m.log", "1 hour": d / "f1h.log"}
    if not big.exists():
        kw = {"launch_modes": "stateless"} if stateless else {}
        generate_file(big, lines=lines, seed=3, days=DAYS, redirect_share=0.5, launch_path=LAUNCH, **kw)
    if not all(p.exists() for p in files.values()):
        cut = START + timedelta(days=DAYS - 1, hours=15)
        with ExitStack() as stack:
            src = stack.enter_context(big.open("rb"))
            base, f5, f1 = (stack.enter_context(p.open("wb")) for p in files.values())
            for line in src:
                t = datetime.strptime(_TS.search(line).group(1).decode(), "%d/%b/%Y:%H:%M:%S")
                if t < cut:
                    base.write(line)
                elif t < cut + timedelta(hours=1):
                    f1.write(line)
                    if t < cut + timedelta(minutes=5):
                        f5.write(line)
    db = d / "base.db"
    if not db.exists():
        _cli(db, files["base"])
    return {**files, "db": db}


def _cli(db: Path, log: Path) -> tuple[float, float]:
    """One import through the command line in a fresh process: wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # -P: `-m` puts the working directory first on the path, so from a checkout the command
    # ran that checkout's code whatever PYTHONPATH said (the "before" runs were the after's).
    cmd = [sys.executable, "-P", "-m", "smartcar_logs.cli", "import", "--db", str(db)]
    cmd += ["--launch-path", LAUNCH]
    subprocess.run([*cmd, "-q", str(log)], check=True, env=os.environ)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _child(db: str, log: str) -> None:
    """The import in process, with CPU timers around the refresh and its parts; JSON out."""
    from smartcar_logs.importer import run
    from smartcar_logs.store import derived, open_db

    spent = {"refresh": 0.0, "retries": 0.0, "pairing": 0.0, "states": 0.0}

    def timed(owner, name: str, phase: str) -> None:
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            c0 = time.process_time()
            try:
                return real(*args, **kwargs)
            finally:
                spent[phase] += time.process_time() - c0

        setattr(owner, name, wrapper)

    timed(run, "refresh_pending", "refresh")
    timed(derived, "_link_retries", "retries")
    timed(derived, "_pair", "pairing")
    timed(derived, "_refresh", "states")
    c0 = time.process_time()
    run.import_paths(open_db(db), [log], launch_paths=[LAUNCH])
    spent["cpu"] = time.process_time() - c0
    print(json.dumps(spent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=400_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/bench-cron"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--stateless", action="store_true", help="every launch without a state")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(*a.child)
        return
    paths = _prepare(a.dir, a.lines, a.stateless)
    work = a.dir / "work.db"
    print(f"base: {paths['base']} ({sum(1 for _ in paths['base'].open('rb')):,} lines) in {paths['db']}")
    print(
        f"{'follow-up':10} {'lines':>6} {'wall s':>7} {'CPU s':>6} {'in-process CPU s':>16}"
        f" {'refresh CPU s':>14}"
        f" {'refresh/CPU':>12} {'retries':>8} {'pairing':>8} {'states':>7}"
    )
    for label in ("5 min", "1 hour"):
        log = paths[label]
        walls, cpus, inner = [], [], []
        for _ in range(a.repeat):
            for suffix in ("-wal", "-shm"):
                Path(f"{work}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(paths["db"], work)
            w, c = _cli(work, log)
            walls.append(w)
            cpus.append(c)
            shutil.copyfile(paths["db"], work)
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(work), str(log)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            inner.append(json.loads(out.strip().splitlines()[-1]))
        med = {k: statistics.median(r[k] for r in inner) for k in inner[0]}
        n = sum(1 for _ in log.open("rb"))
        print(
            f"{label:10} {n:6} {statistics.median(walls):7.2f} {statistics.median(cpus):6.2f}"
            f" {med['cpu']:16.3f}"
            f" {med['refresh']:14.3f} {med['refresh'] / med['cpu']:11.0%}"
            f" {med['retries']:8.3f} {med['pairing']:8.3f} {med['states']:7.3f}"
        )
    print("CPU s: the command's, interpreter start included; refresh/CPU: the refresh's share of")
    print("the in-process import's CPU seconds (the same import, timed inside one process)")


if __name__ == "__main__":
    main()
