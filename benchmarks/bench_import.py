"""Import benchmark: smartcar-logs side by side with GoAccess, lnav and a naive Python loop.

Generates logs with the project's own generator, imports each into a fresh database through
the real command line (so interpreter start is included), and prints input MB/s, lines/s,
redirect records/s and peak RSS, with the other tools' times on the same file in the same run.

    python benchmarks/bench_import.py            # 1M and 10M lines (make bench)
    python benchmarks/bench_import.py --quick    # 200k lines: a smoke run
    python benchmarks/bench_import.py --readme   # also rewrite the README's results table

Figures vary with the machine and its load: run it on a quiet machine and compare ratios.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import shutil
import subprocess
import sys
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

NAIVE = r"""
import re, sys
from urllib.parse import urlsplit, parse_qsl
rx = re.compile(r'(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) (\S+)')
n = hits = 0
with open(sys.argv[1], "rb") as f:
    for raw in f:
        n += 1
        m = rx.match(raw.decode("utf-8", "replace"))
        if m and m.group(4).startswith("/smartcar/callback?"):
            dict(parse_qsl(urlsplit(m.group(4)).query, keep_blank_values=True))
            hits += 1
print(n, hits)
"""


def run_rss(cmd: list[str]) -> tuple[float, float, str]:
    """Run *cmd*; return (wall seconds, the child's own peak RSS in MB, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 65):
        raise RuntimeError(f"{' '.join(cmd)} failed with {p.returncode}")
    return wall, ru.ru_maxrss / 1024, out.decode(errors="replace")


def generate(path: Path, lines: int, share: float, seed: int = 1) -> dict:
    from smartcar_logs.synthetic import generate_file

    if path.exists():
        return {}
    t0 = time.perf_counter()
    truth = generate_file(str(path), lines=lines, redirect_share=share, seed=seed)
    print(f"  generated {path.name}: {lines:,} lines in {time.perf_counter() - t0:.1f} s", flush=True)
    return truth


def fresh_db(name: str) -> Path:
    db = OUT / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return db


def bench_import(path: Path, label: str, content_bytes: int | None = None) -> dict:
    db = fresh_db(f"{path.stem}.db")
    wall, rss, out = run_rss([*CLI, "import", "--db", str(db), "--json", "-q", str(path)])
    import json

    res = json.loads(out)
    size = content_bytes or path.stat().st_size  # MB/s of log content, also for gzip
    return {
        "label": label,
        "file": path.name,
        "mb": size / 1e6,
        "lines": res["lines_read"],
        "redirects": res["redirects"],
        "seconds": wall,
        "rss_mb": rss,
        "mb_s": size / 1e6 / wall,
        "lines_s": res["lines_read"] / wall,
        "records_s": res["redirects"] / wall,
        "db": db,
    }


def best_of(n: int, fn):
    results = [fn() for _ in range(n)]
    return min(results, key=lambda r: r["seconds"])


def time_cmd(cmd: list[str], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - t0)
    return best


def others(path: Path) -> dict:
    """GoAccess, lnav and the naive Python loop on the same plain file."""
    out = {}
    out["naive python"] = time_cmd([sys.executable, "-c", NAIVE, str(path)])
    if shutil.which("goaccess"):
        out["goaccess"] = time_cmd(
            [
                "goaccess",
                str(path),
                "--log-format=COMBINED",
                "-o",
                str(OUT / "goaccess.json"),
                "--no-progress",
            ]
        )
    if shutil.which("lnav"):
        q = ";SELECT count(*) FROM access_log WHERE cs_uri_stem = '/smartcar/callback'"
        out["lnav"] = time_cmd(["lnav", "-n", "-c", q, str(path)])
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    sqlite = __import__("sqlite3").sqlite_version
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, SQLite {sqlite}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small files only (smoke run)")
    ap.add_argument("--readme", action="store_true", help="rewrite the README results table")
    ap.add_argument("--repeat", type=int, default=3, help="runs per import; the best is kept")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    n1 = 200_000 if args.quick else 1_000_000
    n10 = 0 if args.quick else 10_000_000

    print(f"machine: {machine()}")
    plain = OUT / f"combined-{n1}.log"
    generate(plain, n1, 0.03)
    gz = OUT / f"combined-{n1}.log.gz"
    if not gz.exists():
        with open(plain, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    allred = OUT / f"redirects-{n1}.log"
    if not allred.exists():
        # Every line a redirect: the generator's redirect lines, without its launches.
        tmp = OUT / "redirects-source.log"
        generate(tmp, int(n1 * 2.4), 1.0, seed=2)
        with open(tmp, "rb") as src, open(allred, "wb") as dst:
            kept = 0
            for line in src:
                if b" /smartcar/callback" in line:
                    dst.write(line)
                    kept += 1
                    if kept == n1:
                        break
        tmp.unlink()

    rows = []
    r_plain = best_of(
        args.repeat,
        lambda: bench_import(
            plain, "1M lines, 3% redirects, plain" if not args.quick else "200k lines, 3%, plain"
        ),
    )
    rows.append(r_plain)
    rows.append(
        best_of(
            args.repeat,
            lambda: bench_import(
                gz, f"same, gzip ({gz.stat().st_size / 1e6:.0f} MB on disk)", plain.stat().st_size
            ),
        )
    )
    r_all = best_of(1, lambda: bench_import(allred, "100% redirect lines"))
    rows.append(r_all)
    if n10:
        big = OUT / f"combined-{n10}.log"
        generate(big, n10, 0.03, seed=3)
        rows.append(bench_import(big, "10M lines, 3% redirects"))

    # gzip: import time against decompression alone (ISA-L, what the importer uses, and gzip -d).
    def decompress_only():
        from isal import igzip

        t0 = time.perf_counter()
        with igzip.open(gz, "rb") as f:
            while f.read(1 << 22):
                pass
        return time.perf_counter() - t0

    t_isal = min(decompress_only() for _ in range(3))
    t_gunzip = time_cmd(["gzip", "-dc", str(gz)], 3) if shutil.which("gzip") else None

    tools = others(plain)

    # summary and report on the database of 100% redirects
    t_summary = time_cmd([*CLI, "summary", "--db", str(r_all["db"])], 3)
    t_report = None
    try:
        html = OUT / "report.html"
        t0 = time.perf_counter()
        subprocess.run(
            [*CLI, "report", "--db", str(r_all["db"]), "--out", str(html)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        t_report = time.perf_counter() - t0
    except (subprocess.CalledProcessError, FileNotFoundError):
        pass

    lines = [
        f"Machine: {machine()}.",
        "",
        "| input | size | time | MB/s | lines/s | records/s | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['mb']:.0f} MB | {r['seconds']:.2f} s | {r['mb_s']:.0f} | "
            f"{r['lines_s']:,.0f} | {r['records_s']:,.0f} | {r['rss_mb']:.0f} MB |"
        )
    lines.append("")
    lines.append(f"Same {plain.stat().st_size / 1e6:.0f} MB plain file, other tools (same run):")
    lines.append("")
    lines.append("| tool | time | smartcar-logs is faster by |")
    lines.append("|---|---:|---:|")
    for name, t in tools.items():
        lines.append(f"| {name} | {t:.2f} s | {t / r_plain['seconds']:.1f}x |")
    lines.append("")
    g = rows[1]
    lines.append(
        f"gzip: import {g['seconds']:.2f} s; decompression alone {t_isal:.2f} s (ISA-L)"
        + (f", {t_gunzip:.2f} s (gzip -dc)" if t_gunzip else "")
        + f": import / ISA-L decompression = {g['seconds'] / t_isal:.2f}x."
    )
    lines.append(
        f"On {r_all['redirects']:,} redirects: `smartcar-logs summary` {t_summary:.2f} s"
        + (f", `smartcar-logs report` {t_report:.1f} s." if t_report else " (report not available).")
    )
    table = "\n".join(lines)
    print()
    print(table)
    if args.readme:
        readme = ROOT / "benchmarks" / "README.md"  # where the speed tables live
        text = readme.read_text()
        new = re.sub(
            r"(<!-- bench -->\n).*?(\n<!-- /bench -->)",
            lambda m: m.group(1) + table + m.group(2),
            text,
            flags=re.S,
        )
        readme.write_text(new)
        print("benchmarks/README.md updated")


if __name__ == "__main__":
    main()
