"""Time and peak memory of `trygghetskarta demo --size N` into a fresh embedded store (issue #2).

Target on a 2-core machine: 1,000,000 records in under 60 s and under 2 GB.
Run: .venv/bin/python benchmarks/bench_demo.py [--size 1000000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        subprocess.run([sys.executable, "-m", "trygghetskarta", "--db", url, "init"], check=True,
                       capture_output=True)
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "trygghetskarta", "--db", url, "demo", "--size", str(args.size)],
                             check=True, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size_mb = (Path(tmp) / "bench.sqlite").stat().st_size / 1e6
    print(res.stdout.strip())
    print(f"demo --size {args.size}: {elapsed:.1f} s, peak memory {peak_mb:.0f} MB, database {size_mb:.0f} MB")
    ok = elapsed < 60 and peak_mb < 2048
    print(f"target (< 60 s, < 2048 MB): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
