"""Benchmark: what several app instances over one database cost per run and per write (issue 15).

- ``Store.data_version()``: the one primary-key read of a single row each Streamlit run makes (µs per read, on a
  warm pooled connection, as the app's process-wide store has it);
- what advancing it adds to a write transaction (one single-row UPDATE with and without the step);
- one ``view_restricted`` audit event (``Store.audit_views``), written per page view of restricted rows.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_data_version.py [--sqlite PATH] [--pg URL] [--reads 5000]``.
Without ``--pg`` only SQLite is measured; the PostGIS database named must be empty or initialised (it is
initialised).
Medians of ``--repeat`` rounds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from trygghetskarta.access import Viewer
from trygghetskarta.store import RestrictedView, Store, open_store
from trygghetskarta.store import tables as t


def _per_call_us(fn: Callable[[], object], n: int, repeat: int) -> float:
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds)


def measure(store: Store, reads: int, repeat: int) -> dict[str, float]:
    viewer = Viewer("bench", "faltgrupp")
    store.data_version()  # warm the pool

    store.set_meta("bench", "0")

    def one_update(changes: bool) -> Callable[[], None]:
        def run() -> None:  # a write transaction of one single-row UPDATE, with and without the version step
            with store.write(changes_data=changes) as conn:
                conn.execute(sa.update(t.meta).where(t.meta.c.key == "bench").values(value="1"))
        return run

    writes = max(reads // 20, 50)
    views = [RestrictedView("sighting", frozenset(range(10)))]
    return {
        "data_version read (µs)": _per_call_us(store.data_version, reads, repeat),
        "1-row write + version step (µs)": _per_call_us(one_update(True), writes, repeat),
        "1-row write, no step (µs)": _per_call_us(one_update(False), writes, repeat),
        "view_restricted audit (µs)": _per_call_us(lambda: store.audit_views(viewer, views, context="page:bench"),
                                                   writes, repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sqlite", type=Path, help="an SQLite file (default: a new temporary one)")
    parser.add_argument("--pg", help="a PostgreSQL+PostGIS URL to measure too")
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"SQLite": f"sqlite:///{args.sqlite or Path(tmp) / 'bench.sqlite'}"}
        if args.pg:
            urls["PostGIS"] = args.pg
        results = {}
        for name, url in urls.items():
            store = open_store(url)
            store.init()
            results[name] = measure(store, args.reads, args.repeat)
            store.dispose()
    names = list(results)
    print(f"{'':34}" + "".join(f"{n:>12}" for n in names))
    for row in next(iter(results.values())):
        print(f"{row:34}" + "".join(f"{results[n][row]:12.1f}" for n in names))


if __name__ == "__main__":
    main()
