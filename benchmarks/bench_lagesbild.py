"""Benchmark: a lägesbild for a quarter over 100,000 records renders (HTML + PDF) in under 15 s.

    .venv/bin/python benchmarks/bench_lagesbild.py [--size 100000] [--db URL]

Fills a fresh SQLite store (or the given database) with the demo generator at ``--size`` records and
prints the time of each step. Exits 1 when building + rendering both formats takes 15 s or more.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from trygghetskarta import demo, lagesbild
from trygghetskarta.store import open_store

LIMIT_S = 15.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        store.init()
        t0 = time.perf_counter()
        demo.fill(store, seed=1, size=args.size)
        total = sum(store.count(k) for k in ("finding", "incident", "sighting", "nightwalk"))
        print(f"fill: {time.perf_counter() - t0:.1f} s, {total:,} records")
        period = lagesbild.period_from_date("quarter", "2026-10-01")
        timings = {}
        for audience in ("intern", "partner"):
            t = time.perf_counter()
            report = lagesbild.build_lagesbild(store, period, audience=audience)
            timings[f"{audience} build"] = time.perf_counter() - t
            t = time.perf_counter()
            html = lagesbild.lagesbild_html(report)
            (Path(tmp) / f"{audience}.html").write_text(html, encoding="utf-8")
            timings[f"{audience} html"] = time.perf_counter() - t
            t = time.perf_counter()
            lagesbild.lagesbild_pdf(report, Path(tmp) / f"{audience}.pdf")
            timings[f"{audience} pdf"] = time.perf_counter() - t
            n = int(report.kind_totals["count"].fillna(0).sum())
            print(f"{audience}: {n:,} records in {period.label()}")
        for name, seconds in timings.items():
            print(f"{name:>15}: {seconds:6.2f} s")
        worst = max(sum(v for k, v in timings.items() if k.startswith(a)) for a in ("intern", "partner"))
        print(f"lägesbild (build + HTML + PDF), slowest audience: {worst:.2f} s (limit {LIMIT_S:.0f} s)")
        store.dispose()
    return 0 if worst < LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
