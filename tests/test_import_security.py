"""Issue 11, critical: an upload must never make GDAL read another file, fetch a URL or run for ever.

Each test reproduces an attack found by the probe: a ``.geojson`` that is really an ``OGRVRTDataSource``
reading the users table, ``CSV:/etc/passwd``, ``/vsicurl/http://…``, a GeoPackage whose layer is a view with
an endless recursive query, and files that exhaust time or memory.
"""

from __future__ import annotations

import http.server
import os
import sqlite3
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from trygghetskarta import gdalsafe
from trygghetskarta.auth import create_user
from trygghetskarta.cli import main
from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest import import_file, read_file, sandbox, uploads, vector
from trygghetskarta.ingest.plan import read_here
from trygghetskarta.store import Store

LON, LAT = 17.7523, 59.4907


def _vrt(db: Path) -> str:
    return (f'<OGRVRTDataSource><OGRVRTLayer name="u"><SrcDataSource>{db}</SrcDataSource>'
            '<SrcSQL>SELECT username AS kategori, password_hash AS beskrivning, '
            "'2026-08-22' AS datum, 59.49 AS lat, 17.75 AS lon FROM users</SrcSQL>"
            '<GeometryType>wkbNone</GeometryType></OGRVRTLayer></OGRVRTDataSource>')


@pytest.fixture
def users_db(sqlite_store: Store) -> Store:
    """The embedded database with a user in it: the file a VRT would point at (PostGIS holds no file)."""
    create_user(sqlite_store, "planner_anna", "planerare", password="ett långt lösenord 1")
    return sqlite_store


def _sqlite_file(store: Store) -> Path:
    return Path(str(store.engine.url.database))


def test_vrt_disguised_as_geojson_is_refused_and_reads_no_user(users_db: Store, tmp_path: Path) -> None:
    db = _sqlite_file(users_db)
    upload = tmp_path / "fynd.geojson"
    upload.write_text(_vrt(db), encoding="utf-8")
    with pytest.raises(ValidationError, match="not a GeoJSON file"):
        read_file(upload, "finding")
    with pytest.raises(ValidationError, match="not a GeoJSON file"):
        import_file(users_db, upload, "finding")
    assert users_db.count("finding") == 0


@pytest.mark.parametrize("suffix", [".gpkg", ".json", ".topojson", ".zip"])
def test_vrt_under_other_vector_names_is_refused(tmp_path: Path, suffix: str) -> None:
    upload = tmp_path / f"fynd{suffix}"
    upload.write_text(_vrt(tmp_path / "x.sqlite"), encoding="utf-8")
    with pytest.raises(ValidationError, match="refused|not a|zip"):
        read_file(upload, "finding")


def test_gdal_in_the_reader_cannot_open_a_vrt_even_past_the_name_check(users_db: Store, tmp_path: Path) -> None:
    """Defence in depth: with the magic-byte check bypassed, GDAL itself has no VRT driver to run it."""
    db = _sqlite_file(users_db)
    vrt = tmp_path / "u.vrt"
    vrt.write_text(_vrt(db), encoding="utf-8")
    gdalsafe.harden()
    assert gdalsafe.registered_drivers() <= gdalsafe.ALLOWED_DRIVERS | gdalsafe.UNSKIPPABLE
    assert "OGR_VRT" not in gdalsafe.registered_drivers()
    with pytest.raises(ValidationError, match="cannot read layer"):
        vector._read_layer(str(vrt), "geojson", vrt.name, [], None)


def test_connection_strings_and_virtual_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such file"):
        read_file("CSV:/etc/passwd", "finding")
    for text in ("CSV:/etc/passwd", "/vsicurl/http://127.0.0.1:9/x.geojson", "GPKG:/etc/x.gpkg:users",
                 "/vsizip//tmp/x.zip/a.shp"):
        with pytest.raises(ValidationError, match="virtual file system or connection"):
            gdalsafe.source_path(Path(text), "x")


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - shared by the handler instances of one test

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"type": "FeatureCollection", "features": []}')

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def http_server() -> Iterator[str]:
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_no_request_leaves_the_server_through_gdal(http_server: str, tmp_path: Path) -> None:
    url = f"/vsicurl/{http_server}/x.geojson"
    with pytest.raises(ValidationError):
        read_file(url, "finding")
    gdalsafe.harden()
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_dataframe(url)  # even GDAL called directly in this process does not go out
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_dataframe(f"{http_server}/x.geojson")
    assert _Recorder.hits == []


def _gpkg_with_view(path: Path, *, keep_table: bool) -> None:
    frame = gpd.GeoDataFrame({"kategori": ["klotter"], "datum": ["2026-08-22 21:00"]},
                             geometry=[shapely.Point(LON, LAT)], crs="EPSG:4326")
    frame.to_file(path, driver="GPKG", layer="fynd")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE VIEW loop AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
                     "SELECT n AS fid, 'klotter' AS kategori FROM r")
        conn.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier) "
                     "VALUES ('loop', 'attributes', 'loop')")
        # make the view the first layer in file order
        conn.execute("UPDATE gpkg_contents SET rowid = rowid + 100 WHERE table_name = 'fynd'")
        if not keep_table:
            conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'fynd'")


def test_geopackage_view_with_endless_query_is_never_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_IMPORT_MAX_SECONDS", "20")
    path = tmp_path / "fynd.gpkg"
    _gpkg_with_view(path, keep_table=True)
    started = time.monotonic()
    plan = read_file(path, "finding")
    assert time.monotonic() - started < 15
    assert plan.accepted["category"].tolist() == ["klotter"]  # the real table, not the view

    only_view = tmp_path / "loop.gpkg"
    _gpkg_with_view(only_view, keep_table=False)
    with pytest.raises(ValidationError, match="layers that are views are not read"):
        read_file(only_view, "finding")


def test_a_reader_that_runs_too_long_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_IMPORT_MAX_SECONDS", "1")
    started = time.monotonic()
    with pytest.raises(ValidationError, match=r"big\.csv: the import was stopped after 1 s"):
        sandbox.run(time.sleep, 30, file="big.csv")
    assert time.monotonic() - started < 10
    assert sandbox.run(os.getpid, file="x") != os.getpid()  # the server is still there for the next import


def test_a_reader_that_needs_too_much_memory_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_IMPORT_MAX_MEMORY_MB", "200")
    with pytest.raises(ValidationError, match=r"wide\.csv: the import was stopped: reading the file needed more "
                                              r"than 200 MB"):
        sandbox.run(bytearray, 1024 * 1024 * 1024, file="wide.csv")


def test_read_file_runs_within_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "fynd.csv"
    rows = "".join(f"klotter,2026-08-22 21:00,{LAT + i * 1e-6:.6f},{LON}\n" for i in range(100_000))
    path.write_text("kategori,datum,lat,lon\n" + rows, encoding="utf-8")
    monkeypatch.setenv("TRYGGHETSKARTA_IMPORT_MAX_MEMORY_MB", "1")  # far too little for 100,000 rows
    with pytest.raises(ValidationError, match=r"fynd\.csv: the import was stopped"):
        read_file(path, "finding")
    monkeypatch.setenv("TRYGGHETSKARTA_IMPORT_MAX_MEMORY_MB", "4096")
    path.write_text("kategori,datum,lat,lon\n" + rows[: rows.index("\n") + 1], encoding="utf-8")
    assert len(read_file(path, "finding").accepted) == 1


def test_shapefile_members_are_unpacked_by_fixed_names_and_checked(tmp_path: Path) -> None:
    archive = tmp_path / "fynd.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("evil.shp", _vrt(tmp_path / "x.sqlite"))
        z.writestr("evil.dbf", b"")
    with pytest.raises(ValidationError, match="not a Shapefile file"):
        read_file(archive, "finding")
    escaping = tmp_path / "up" / "fynd.zip"
    escaping.parent.mkdir()
    with zipfile.ZipFile(escaping, "w") as z:
        z.writestr("../evil.shp", b"\x00\x00\x27\x0a" + bytes(96))
    with pytest.raises(ValidationError, match="the zip holds no .shp file"):
        read_file(escaping, "finding")
    assert not (tmp_path / "evil.shp").exists()


def test_the_reader_in_the_child_matches_the_reader_in_process(tmp_path: Path) -> None:
    path = tmp_path / "fynd.geojson"
    gpd.GeoDataFrame({"kategori": ["klotter"], "datum": ["2026-08-22 21:00"]},
                     geometry=[shapely.Point(LON, LAT)], crs="EPSG:4326").to_file(path, driver="GeoJSON")
    child, here = read_file(path, "finding"), read_here(path, "finding")
    assert child.accepted.drop(columns="geometry").equals(here.accepted.drop(columns="geometry"))
    assert child.accepted.geometry.equals(here.accepted.geometry)


def test_rejection_report_cells_never_run_as_formulas(tmp_path: Path) -> None:
    path = tmp_path / "fynd.csv"
    path.write_text('kategori,datum,lat,lon\nklotter,"=HYPERLINK(""http://127.0.0.1:9/"",""x"")",'
                    f"{LAT},{LON}\nklotter,@SUM(1+1),{LAT},{LON}\nklotter,2026-08-22,{LAT},{LON}\n",
                    encoding="utf-8")
    plan = read_file(path, "finding")
    assert plan.rejected_rows == 2
    text = plan.report_csv().decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "'@SUM" in text
    assert ",=" not in text
    assert ",@" not in text
    report = tmp_path / "avvisade.csv"
    assert main(["init"]) == 0
    assert main(["import", str(path), "--kind", "finding", "--dry-run", "--report", str(report)]) == 0
    assert report.read_bytes() == plan.report_csv()


def test_uploads_get_plain_names_inside_the_uploads_folder() -> None:
    path = uploads.save("../../etc/pass wd;rm -rf.GeoJSON", b"{}")
    assert path.parent.parent == uploads.folder()
    assert path.name == "pass_wd_rm_-rf.geojson"  # what messages show: the user's file, cleaned
    uploads.discard(path)
    assert not path.parent.exists()


def test_unconfirmed_uploads_are_removed_after_the_time_limit(capsys: pytest.CaptureFixture[str]) -> None:
    old = uploads.save("gammal.csv", b"a,b\n")
    fresh = uploads.save("ny.csv", b"a,b\n")
    day_ago = time.time() - 25 * 3600
    os.utime(old.parent, (day_ago, day_ago))  # an upload's age is its own folder's
    assert uploads.remove_stale() == 1
    assert not old.exists()
    assert fresh.exists()
    os.utime(fresh.parent, (day_ago, day_ago))
    assert main(["init"]) == 0
    assert main(["gallra"]) == 0
    assert "uploads: deleted 1 unconfirmed import files older than 24 h" in capsys.readouterr().out
    assert not fresh.exists()


def test_a_process_started_by_a_hardened_one_hardens_too() -> None:
    """A child (the CLI, the app server) inherits GDAL_SKIP from a hardened parent and must still harden."""
    import subprocess
    import sys

    gdalsafe.harden()
    assert os.environ["GDAL_SKIP"]
    code = ("from trygghetskarta import gdalsafe; d = gdalsafe.registered_drivers(); "
            "assert 'OGR_VRT' not in d and 'GeoJSON' in d, d; print('ok')")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"
