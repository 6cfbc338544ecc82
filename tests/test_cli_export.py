"""The command line (DESIGN.md §6): init, demo, export; exit codes; GeoPackage CRS; formula-safe CSV."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest

from trygghetskarta import export
from trygghetskarta.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trygghetskarta", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300, check=False)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["--db", url, "demo", "--seed", "5"]) == 0
    return url


def test_init_twice_is_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    first = run("--db", url, "init")
    second = run("--db", url, "init")
    assert first.returncode == 0 and "none -> 0007" in first.stdout
    assert second.returncode == 0 and "already up to date" in second.stdout


def test_default_database_lives_in_the_data_folder(tmp_path: Path) -> None:
    res = run("init", env={"TRYGGHETSKARTA_DATA_DIR": str(tmp_path / "d")})
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "d" / "trygghetskarta.sqlite").exists()


@pytest.mark.parametrize("srid", [4326, 3006])
def test_export_geopackage_opens_with_the_right_crs(db: str, tmp_path: Path, srid: int) -> None:
    out = tmp_path / f"f{srid}.gpkg"
    assert main(["--db", db, "export", "--kind", "finding", "--format", "gpkg", "--crs", str(srid),
                 "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out)]) == 0
    info = pyogrio.read_info(out, layer="finding")
    assert info["crs"] == f"EPSG:{srid}"
    from trygghetskarta.store import open_store

    expected = len(open_store(db).read("finding", start="2026-10-01", end="2026-10-31"))
    assert info["features"] == expected > 0
    ogrinfo = subprocess.run(["ogrinfo", "-so", str(out), "finding"], capture_output=True, text=True, check=False)
    if ogrinfo.returncode == 0:  # GDAL's own tool, when installed, agrees
        assert f"Feature Count: {expected}" in ogrinfo.stdout


@pytest.mark.parametrize("kind", ["finding", "sighting", "incident", "area", "walk", "action", "nightwalk"])
@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv"])
def test_every_kind_exports_in_every_format(db: str, tmp_path: Path, kind: str, fmt: str) -> None:
    out = tmp_path / f"{kind}.{fmt}"
    assert main(["--db", db, "export", "--kind", kind, "--format", fmt, "--out", str(out)]) == 0
    assert out.stat().st_size > 0


def test_csv_cells_never_start_a_formula(db: str, tmp_path: Path) -> None:
    from trygghetskarta.store import open_store

    s = open_store(db)
    f = s.read("finding").iloc[[0]].copy()
    f["description"] = "=HYPERLINK(\"http://x\")"
    f["external_id"] = "t:formula"
    s.insert("finding", f.drop(columns=["id"]))
    out = tmp_path / "f.csv"
    assert main(["--db", db, "export", "--kind", "finding", "--format", "csv", "--out", str(out)]) == 0
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    cells = [c for row in rows[1:] for c in row]
    assert "'=HYPERLINK(\"http://x\")" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    assert export.safe_csv_cell("-1+1") == "'-1+1"
    assert export.safe_csv_cell(-1.5) == -1.5


def test_user_error_is_one_line_with_exit_1(tmp_path: Path) -> None:
    res = run("--db", f"sqlite:///{tmp_path / 'none.sqlite'}", "export", "--kind", "finding", "--format", "csv",
              "--out", str(tmp_path / "x.csv"))
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "trygghetskarta init" in res.stderr


def test_usage_error_exits_2() -> None:
    res = run("export", "--kind", "nonsense")
    assert res.returncode == 2


def test_database_password_is_never_printed() -> None:
    res = run("--db", "postgresql://tk:topphemligt@127.0.0.1:1/none", "init")
    assert res.returncode == 1
    assert "topphemligt" not in res.stdout + res.stderr
