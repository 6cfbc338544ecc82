"""Benchmark: import a 100,000-row findings CSV into a fresh embedded (SQLite) store.

    .venv/bin/python benchmarks/bench_import.py [--rows 100000]

Prints the time, the CPU time (which other work on the machine does not inflate: compare it when the wall time
jumps), the peak memory (tracemalloc for Python allocations, ru_maxrss for the process and for the
sandboxed reader process) and rows per second. Targets: under 10 s and under 1 GB on a 2-core machine.
Also reads the same file in-process (``read_here``, no sandbox) in the same run, to show what the import
sandbox (a forked reader with a time and memory budget, issue 11) costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trygghetskarta import schema
from trygghetskarta.ingest import import_file, read_file, sandbox
from trygghetskarta.ingest.plan import read_here
from trygghetskarta.store import open_store

# A box over Kungsängen–Bro; the corners fall outside Upplands-Bro, so ~9 % are rejected with distances
LON = (17.60, 17.78)
LAT = (59.47, 59.53)


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    cats = np.array([c.sv for c in schema.CATEGORIES])
    lon = rng.uniform(*LON, rows)
    lat = rng.uniform(*LAT, rows)
    minutes = rng.integers(0, 365 * 24 * 60, rows)
    # the year before today: an import refuses dates in the future
    start = np.datetime64(dt.date.today() - dt.timedelta(days=366)).astype("datetime64[m]")
    stamps = start + minutes.astype("timedelta64[m]")
    text = np.array(["Trasig lampa vid gångvägen", "Klotter på tunneln", "Mörkt och öde", ""])
    with path.open("w", encoding="utf-8") as f:
        f.write("kategori;datum;lat;lon;allvarlighet;beskrivning\n")
        for c, t, y, x, s, d in zip(cats[rng.integers(0, len(cats), rows)], stamps.astype(str), lat, lon,
                                    rng.integers(1, 4, rows), text[rng.integers(0, len(text), rows)], strict=True):
            f.write(f"{c};{t.replace('T', ' ')};{y:.6f};{x:.6f};{s};{d}\n")


def _cpu_seconds() -> float:
    """User and system CPU time of this process (the reader child's is ``sandbox.LAST_CPU_S``: it is forked by
    the sandbox's long-lived server, so this process's RUSAGE_CHILDREN never counts it)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python allocations (slows the import 3-6 times; time is then not comparable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "fynd.csv"
        write_csv(csv, args.rows)
        store = open_store("sqlite:///" + str(Path(folder) / "bench.sqlite"))
        store.init()
        if args.tracemalloc:
            tracemalloc.start()
        marks: dict[str, float] = {}

        def mark(share: float, what: str) -> None:  # the first time each tenth of the import is reached
            marks.setdefault(f"{share:.1f}", time.perf_counter())

        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        result = import_file(store, csv, "finding", progress=mark)
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before + (sandbox.LAST_CPU_S[0] if sandbox.LAST_CPU_S else float("nan"))
        peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else 0
        tracemalloc.stop()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stored = store.count("finding")
        store.dispose()
        child_mb = sandbox.LAST_PEAK_MB[0] if sandbox.LAST_PEAK_MB else float("nan")
        t0 = time.perf_counter()
        read_file(csv, "finding")
        sandboxed = time.perf_counter() - t0
        t0 = time.perf_counter()
        read_here(csv, "finding")
        in_process = time.perf_counter() - t0
    print(result.summary_line())
    print(f"rows in file: {args.rows}, stored: {stored}")
    print(f"time: {elapsed:.2f} s (target < 10 s): read + validate {marks['0.6'] - start:.2f} s, "
          f"store.insert {marks['1.0'] - marks['0.7']:.2f} s")
    # CPU seconds do not grow when other work shares the cores; a time far above them means a loaded machine
    print(f"CPU time of the import: {cpu:.2f} s (this process and the reader process; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    traced = f"peak Python allocations (tracemalloc): {peak / 1024 / 1024:.0f} MB; " if args.tracemalloc else ""
    print(f"{traced}peak process RSS (ru_maxrss): {rss_mb:.0f} MB, reader process {child_mb:.0f} MB "
          f"(target < 1024 MB each)")
    print(f"read + validate alone: {sandboxed:.2f} s in the sandbox vs {in_process:.2f} s in-process "
          f"(naive, no budget)")
    print(f"rows/second: {args.rows / elapsed:,.0f}")
    ok = elapsed < 10 and rss_mb < 1024 and child_mb < 1024 and stored == result.accepted
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
