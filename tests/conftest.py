"""Shared fixtures: a fresh store on SQLite and on a real PostGIS server, and the real data folder.

Under ``CI=true`` a test that needs PostGIS, a browser or the real data fails instead of skipping, so CI can never pass
without exercising them.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from trygghetskarta.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"
PG_ADMIN_URL = os.environ.get("TRYGGHETSKARTA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    """Skip locally, fail under CI."""
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own data folder, so nothing touches the developer's database or media."""
    monkeypatch.setenv("TRYGGHETSKARTA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TRYGGHETSKARTA_DB", raising=False)
    monkeypatch.delenv("TRYGGHETSKARTA_MEDIA_DIR", raising=False)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")  # no tile is ever fetched in tests (protocol maps too)


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.is_dir():
        unavailable(f"the real data folder is not beside the project ({REALDATA})")
    return REALDATA


def _pg_database() -> Generator[str, None, None]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a runtime dependency
        unavailable("psycopg is not installed")
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"tk_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        unavailable(f"no PostgreSQL server at {PG_ADMIN_URL}: {exc}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        unavailable(f"PostGIS is not installed on the server (Debian: postgresql-15-postgis-3): {exc}")
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a fresh, empty PostGIS database (dropped afterwards)."""
    yield from _pg_database()


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, initialised store: once on an embedded SQLite file, once on a real PostGIS server."""
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
        s.init()
        yield s
        s.dispose()
        return
    gen = _pg_database()
    url = next(gen)
    s = open_store(url)
    s.init()
    try:
        yield s
    finally:
        s.dispose()
        gen.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    s.init()
    yield s
    s.dispose()


def chromium_path() -> str:
    """Debian's chromium, never a downloaded browser."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium through Playwright (``executable_path``), one per test module."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    from e2e_support import SHOTS, launch_chromium

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = launch_chromium(p, executable)
        yield b
        b.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the tests for pytest-xdist (``make test`` runs ``-n 2 --dist loadgroup``): a module's tests stay on
    one worker (its module fixtures are made once), and the modules that drive a running app in Chromium share
    one group, so two of them never compete for the two cores (a tap waits for a busy server otherwise)."""
    for item in items:
        module = item.nodeid.split("::")[0]
        name = Path(module).name
        group = "app-in-chromium" if name.startswith(("test_e2e", "test_sso_e2e")) else module
        item.add_marker(pytest.mark.xdist_group(group))


_SESSION_START = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the axe-core counts by impact (tests/test_e2e_axe.py) in the run's output, also when the test ran on
    an xdist worker (whose printed output is not shown for a passing test)."""
    summary = ROOT / "test-output" / "e2e" / "axe-summary.txt"
    if summary.is_file() and summary.stat().st_mtime >= _SESSION_START:
        terminalreporter.section("accessibility (axe-core)")
        terminalreporter.write(summary.read_text(encoding="utf-8"))
