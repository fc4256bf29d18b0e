"""smartcar-logs side by side with GoAccess and a DuckDB one-liner, whole process against whole process.

The two inputs of issue 14, made with the project's own generator so anyone can reproduce them:

* ``generate --lines 1000000 --seed 1``: a 209 MB combined log with about 3% redirects and as
  many launches, imported with ``--launch-path /connect/smartcar``;
* ``generate --lines 200000 --seed 3 --redirect-share 1.0``: what a pre-filtered export looks
  like (every line a redirect or a launch), where the cost per record sets the time;
* the same export with ``--launch-mode stateless``: what most sites send (the app makes
  ``state`` on the server, so no launch line carries it), where every launch is paired by client;

and the export again as logrotate leaves a log, in four consecutive files given oldest first,
where what an import pays per file shows.

Each tool runs as its own process (interpreter start included) on the same file, interleaved
and repeated; the median run of each by wall time is kept, with its CPU time (user + sys, worker
processes included) and its peak RSS. "records" are the rows smartcar-logs stores: redirects
plus launches. The DuckDB one-liner is what an analyst would write in a notebook: one
``read_csv`` of the log as a single text column, ``WHERE line LIKE '%/smartcar/callback?%'``
and ``url_decode(regexp_extract(...))`` for six fields into a table of a DuckDB file. It does
far less than an import (no exactly-once, no format detection, no normalisation, no launches),
but it sets the speed a user compares us with.

    python benchmarks/bench_compare.py             # both inputs, median of 5 (make bench)
    python benchmarks/bench_compare.py --readme    # also rewrite benchmarks/README.md's table
    python benchmarks/bench_compare.py --only-ours --repeat 1    # quick: smartcar-logs alone

GoAccess comes from the system (``apt-get install goaccess``) and DuckDB from the ``bench``
extra (``pip install -e '.[bench]'``); either one missing is said and its columns stay empty.
On a loaded machine wall times swing: compare the ratios of one run, and the CPU times.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
BIN = Path(sys.executable).parent
CLI = (
    [str(BIN / "smartcar-logs")]
    if (BIN / "smartcar-logs").exists()
    else [sys.executable, "-m", "smartcar_logs.cli"]
)
LAUNCH = "/connect/smartcar"

_EXPORT = ["--lines", "200000", "--seed", "3", "--redirect-share", "1.0"]
#: (label, file name, generator arguments, files it is split into) of each input.
INPUTS = (
    ("1M-line mix", "mix-1m-seed1.log", ["--lines", "1000000", "--seed", "1"], 1),
    ("redirect-only export", "redirects-200k-seed3.log", _EXPORT, 1),
    ("the export in 4 rotated files", "redirects-200k-seed3.log", _EXPORT, 4),
    # As most sites launch: the state made on the server, so every launch is paired by client.
    (
        "the export, stateless launches",
        "redirects-200k-seed3-stateless.log",
        [*_EXPORT, "--launch-mode", "stateless"],
        1,
    ),
)

# The analyst's one-liner: six fields of every callback line into a table. Run as its own
# process so that its interpreter and DuckDB's start are counted like ours.
DUCKDB = r'''
import sys, duckdb
db, logs = sys.argv[1], sys.argv[2:]
con = duckdb.connect(db)
f = lambda k: f"url_decode(regexp_extract(line, '[?&]{k}=([^& ]*)', 1)) AS {k}"
con.execute(f"""
CREATE OR REPLACE TABLE redirects AS
SELECT regexp_extract(line, '\\[([^\\]]+)\\]', 1) AS time, {f('error')}, {f('error_description')},
       {f('state')}, {f('user_id')}, {f('make')}
FROM read_csv(?, columns={{'line': 'VARCHAR'}}, header=false, delim='\\x01', quote='', escape='',
              auto_detect=false)
WHERE line LIKE '%/smartcar/callback?%'""", [logs])
print(con.execute("SELECT count(*) FROM redirects").fetchone()[0])
'''


def measured(cmd: list[str], ok=(0, 65)) -> dict:
    """Run *cmd*: wall seconds, CPU seconds and peak RSS (MB) with its children, and stdout."""
    err_file = tempfile.TemporaryFile()  # a file, not a pipe: a chatty stderr cannot block
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file)
    out = p.stdout.read()
    # wait4 reports the child with the descendants it reaped (worker processes): RUSAGE_BOTH.
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stdout.close()
    if p.returncode not in ok:
        err_file.seek(0)
        err = err_file.read()
        raise RuntimeError(
            f"{' '.join(cmd)} failed with {p.returncode}: {err.decode(errors='replace')[-500:]}"
        )
    return {
        "seconds": wall,
        "cpu": ru.ru_utime + ru.ru_stime,
        "rss_mb": ru.ru_maxrss / 1024,
        "out": out.decode(errors="replace"),
    }


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm", ".wal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def ensure_input(name: str, gen_args: list[str], parts: int = 1) -> list[Path]:
    """The generated file, or its *parts* consecutive pieces (the same lines, oldest first)."""
    path = OUT / name
    OUT.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        t0 = time.perf_counter()
        subprocess.run(
            [*CLI, "generate", str(path), *gen_args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"  generated {name} ({' '.join(gen_args)}) in {time.perf_counter() - t0:.1f} s", flush=True)
    if parts == 1:
        return [path]
    pieces = [OUT / f"{path.stem}.{i + 1}-of-{parts}.log" for i in range(parts)]
    if not all(p.exists() for p in pieces):
        lines = path.read_bytes().splitlines(keepends=True)
        size = -(-len(lines) // parts)
        for i, piece in enumerate(pieces):
            piece.write_bytes(b"".join(lines[i * size : (i + 1) * size]))
    return pieces


#: Our import's variants, each its own process: the compiled hot loop or the pure one
#: (SMARTCAR_LOGS_PURE), with the SQLite tuning of issue 25 (16 KiB pages, 64 MiB cache) or
#: without it (store's constants set back to SQLite's defaults in that process only).
VARIANTS = {
    "ours": ("compiled", True),
    "pure": ("pure", True),
    "untuned": ("compiled", False),
    "pure-untuned": ("pure", False),
}
_UNTUNED = (
    "import sys; from smartcar_logs import store; store.PAGE_SIZE = store.CACHE_KIB = None; "
    "from smartcar_logs.cli import main; sys.argv[0] = 'smartcar-logs'; main()"
)


def ours(
    paths: list[Path],
    jobs: int | None,
    source: str | None = None,
    parser: str = "compiled",
    tuned: bool = True,
    summary: bool = False,
) -> dict:
    """The import through the command line; *source*: another checkout's package instead.

    *summary*: then the first ``summary`` on the new database, as a user who imports and
    then looks would run it; its time is added as ``end_to_end``.
    """
    db = fresh(OUT / f"{paths[0].stem}.db")
    cli = CLI
    if source is not None:
        # -P: "-m" would otherwise put the working directory (this checkout) first on the path.
        cli = ["env", f"PYTHONPATH={source}", sys.executable, "-P", "-m", "smartcar_logs.cli"]
    elif not tuned:
        cli = [sys.executable, "-c", _UNTUNED]
    cli = ["env", f"SMARTCAR_LOGS_PURE={int(parser == 'pure')}", *cli]
    cmd = [*cli, "import", "--db", str(db), "--launch-path", LAUNCH, "--json", "-q"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    cmd += map(str, paths)
    r = measured(cmd)
    res = json.loads(r.pop("out"))
    if source is None and res.get("parser") != parser:
        raise RuntimeError(f"asked for the {parser} path, the import ran {res.get('parser')}")
    r["records"] = res["redirects"] + res["launches"]
    r["redirects"] = res["redirects"]
    r["lines"] = res["lines_read"]
    if summary:
        s = measured([*cli, "summary", "--db", str(db)])
        r["summary"] = s["seconds"]
        r["end_to_end"] = r["seconds"] + s["seconds"]
    return r


def goaccess(paths: list[Path]) -> dict:
    r = measured(
        [
            "goaccess",
            *map(str, paths),
            "--log-format=COMBINED",
            "-o",
            str(OUT / "goaccess.json"),
            "--no-progress",
        ],
        ok=(0,),
    )
    r.pop("out")
    return r


def duckdb_one_liner(paths: list[Path]) -> dict:
    db = fresh(OUT / f"{paths[0].stem}.duckdb")
    r = measured([sys.executable, "-c", DUCKDB, str(db), *map(str, paths)], ok=(0,))
    r["records"] = int(r.pop("out").strip() or 0)
    return r


def compiled_built() -> bool:
    return (
        subprocess.run(
            [sys.executable, "-c", "from smartcar_logs.importer import _speed; assert _speed.available()"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ).returncode
        == 0
    )


def have_duckdb() -> bool:
    return (
        subprocess.run(
            [sys.executable, "-c", "import duckdb"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ).returncode
        == 0
    )


def typical(runs: list[dict]) -> dict | None:
    """The median run by wall time. On a shared machine the load swings between runs, and the
    fastest of a few runs is whichever happened to meet a quiet moment: with tools
    interleaved, the median compares them under the same mix of loads."""
    return sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2] if runs else None


def compare(
    repeat: int = 5, jobs: int | None = None, only_ours: bool = False, before: str | None = None
) -> list[dict]:
    """Run every tool on both inputs, interleaved, *repeat* times; the median run of each.

    *before*: a checkout (its folder holding ``smartcar_logs/``) whose import runs too, in
    the same run, for a before/after comparison on the same machine load.
    """
    OUT.mkdir(parents=True, exist_ok=True)
    tools = {}
    for name, (parser, tuned) in VARIANTS.items():
        if parser == "compiled" and not compiled_built():
            print(f"{name}: the compiled extension is not built (pip install -e . with a C compiler)")
            continue
        tools[name] = lambda paths, p=parser, t=tuned, n=name: ours(
            paths, jobs, parser=p, tuned=t, summary=n in ("ours", "pure")
        )
    if before:
        tools["before"] = lambda paths: ours(paths, jobs, before)
    if not only_ours:
        if shutil.which("goaccess"):
            tools["goaccess"] = goaccess
        else:
            print("GoAccess: not installed (apt-get install goaccess); its columns stay empty")
        if have_duckdb():
            tools["duckdb"] = duckdb_one_liner
        else:
            print("DuckDB: not installed (pip install -e '.[bench]'); its columns stay empty")
    rows = []
    for label, name, gen_args, parts in INPUTS:
        paths = ensure_input(name, gen_args, parts)
        runs: dict[str, list] = {t: [] for t in tools}
        for _ in range(repeat):
            for t, fn in tools.items():
                runs[t].append(fn(paths))
        rows.append(
            {
                "label": label,
                "files": paths,
                "args": gen_args,
                "mb": sum(p.stat().st_size for p in paths) / 1e6,
                **{t: typical(r) for t, r in runs.items()},
            }
        )
    return rows


def _t(r: dict | None) -> str:
    return "" if r is None else f"{r['seconds']:.2f} s"


def _ratio(a: dict, b: dict | None) -> str:
    return "" if b is None else f"{a['seconds'] / b['seconds']:.2f}"


NAMES = {
    "ours": "compiled, tuned SQLite",
    "pure": "pure Python, tuned SQLite",
    "untuned": "compiled, SQLite defaults",
    "pure-untuned": "pure Python, SQLite defaults",
    "before": "before (--before checkout)",
    "goaccess": "GoAccess",
    "duckdb": "DuckDB one-liner",
}


def table(rows: list[dict]) -> str:
    """One row per input and tool: wall and CPU seconds, records/s, the ratios to GoAccess
    and to the DuckDB one-liner (wall time of the same run), peak RSS, and for the tuned
    imports the import followed by the first ``summary`` (end to end)."""
    lines = [
        "| input | tool | wall | CPU | records/s | / GoAccess | / DuckDB | import + first summary "
        "| / GoAccess | peak RSS |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        g, d = r.get("goaccess"), r.get("duckdb")
        records = next((r[t]["records"] for t in VARIANTS if r.get(t)), None)
        head = f"{r['label']}: `generate {' '.join(r['args'])}` ({r['mb']:.0f} MB"
        head += f", {records:,} records)" if records else ")"
        for t in (*VARIANTS, "before", "goaccess", "duckdb"):
            x = r.get(t)
            if x is None:
                continue
            rate = f"{x['records'] / x['seconds']:,.0f}" if x.get("records") and t != "goaccess" else ""
            e2e = x.get("end_to_end")
            e2e_t = "" if e2e is None else f"{e2e:.2f} s"
            e2e_g = "" if e2e is None or g is None else f"{e2e / g['seconds']:.2f}"
            lines.append(
                f"| {head} | {NAMES[t]} | {_t(x)} | {x['cpu']:.2f} s | {rate}"
                f" | {_ratio(x, g) if t != 'goaccess' else ''} | {_ratio(x, d) if t != 'duckdb' else ''}"
                f" | {e2e_t} | {e2e_g}"
                f" | {x['rss_mb']:.0f} MB |"
            )
            head = ""
    return "\n".join(lines)


def update_readme(text_block: str, marker: str = "bench-compare") -> bool:
    """Replace the block between ``<!-- marker -->`` and ``<!-- /marker -->`` in
    benchmarks/README.md, where the speed tables live."""
    readme = ROOT / "benchmarks" / "README.md"
    text = readme.read_text()
    new, n = re.subn(
        rf"(<!-- {marker} -->\n).*?(<!-- /{marker} -->)",
        lambda m: m.group(1) + text_block + "\n" + m.group(2),
        text,
        flags=re.S,
    )
    if n:
        readme.write_text(new)
    return bool(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readme", action="store_true", help="rewrite the README comparison table")
    ap.add_argument("--repeat", type=int, default=5, help="runs per tool; the median is kept")
    ap.add_argument("--jobs", type=int, default=None, help="smartcar-logs import --jobs (default: its own)")
    ap.add_argument("--only-ours", action="store_true", help="skip GoAccess and DuckDB")
    ap.add_argument("--before", metavar="DIR", help="also run the import of another checkout (before/after)")
    args = ap.parse_args()
    from bench_import import machine  # one description of the machine for both tables

    rows = compare(args.repeat, args.jobs, args.only_ours, args.before)
    # For bench_phases: the targets it sets the import's floor against.
    (OUT / "compare.json").write_text(
        json.dumps(
            [
                {"label": r["label"], **{t: r[t]["seconds"] for t in ("goaccess", "duckdb") if r.get(t)}}
                for r in rows
            ]
        )
    )
    block = f"Machine: {machine()}.\n\n{table(rows)}"
    print()
    print(block)
    if args.readme:
        print(
            "benchmarks/README.md updated"
            if update_readme(block)
            else "benchmarks/README.md has no <!-- bench-compare --> block"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
