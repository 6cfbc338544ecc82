"""A real ``trygghetskarta serve-api`` process on a free 127.0.0.1 port, for the Open311 tests and the public
load check (benchmarks/bench_public.py)."""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e2e_support import PYTHON, ROOT, app_env, free_port


@dataclass
class Api:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def cli(data_dir: Path, *args: str, db_url: str | None = None, extra_env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``python -m trygghetskarta ARGS`` with the test's data folder."""
    return subprocess.run([PYTHON, "-m", "trygghetskarta", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**app_env(data_dir, db_url), **(extra_env or {})}, timeout=300, check=check)


@contextlib.contextmanager
def running_api(data_dir: Path, db_url: str | None = None, extra_env: dict[str, str] | None = None,
                timeout: float = 60.0) -> Iterator[Api]:
    """``trygghetskarta serve-api --port P`` until the block ends (the database must be initialised)."""
    port = free_port()
    log = data_dir / f"api_{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([PYTHON, "-m", "trygghetskarta", "serve-api", "--port", str(port)], cwd=ROOT,
                                env={**app_env(data_dir, db_url), **(extra_env or {})}, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                    if resp.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                msg = f"serve-api did not start (exit {proc.poll()}):\n{log.read_text(errors='replace')[-3000:]}"
                raise RuntimeError(msg)
            time.sleep(0.2)
        yield Api(url, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def report_row(store: Any, **key: Any) -> dict[str, Any]:
    """The stored resident's report (``store.public_report``); fails the test when there is none."""
    row = store.public_report(**key)
    assert row is not None, f"no resident's report for {key}"
    return dict(row)
