"""Geodata formats: GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ, GPX; XML and archive bombs refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest import read_file

LON, LAT = 17.752277, 59.49068
ROUTE = [(17.70, 59.50), (17.72, 59.505), (17.75, 59.49)]


def _findings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"kategori": ["klotter", "gångtunnel"], "datum": ["2026-08-22 20:00", "2026-08-23 21:15"],
         "text": ["Tags på väggen", "Mörk tunnel"]},
        geometry=[shapely.Point(LON, LAT), shapely.Point(17.64, 59.515)], crs="EPSG:4326")


@pytest.mark.parametrize(("suffix", "driver"), [(".geojson", "GeoJSON"), (".gpkg", "GPKG")])
def test_vector_files(tmp_path: Path, suffix: str, driver: str) -> None:
    path = tmp_path / f"f{suffix}"
    _findings().to_crs(3006).to_file(path, driver=driver)
    plan = read_file(path, "finding")
    assert plan.rejected.empty, plan.rejected
    assert plan.detected_crs == "EPSG:3006"
    assert plan.accepted["category"].tolist() == ["klotter", "gangtunnel"]
    assert plan.accepted.geometry.iloc[0].x == pytest.approx(LON, abs=1e-7)


def test_zipped_shapefile(tmp_path: Path) -> None:
    shp = tmp_path / "shp"
    shp.mkdir()
    _findings().to_crs(3011).to_file(shp / "fynd.shp")
    archive = tmp_path / "fynd.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for f in shp.iterdir():
            z.write(f, f.name)
    plan = read_file(archive, "finding")
    assert plan.detected_crs == "EPSG:3011"
    assert len(plan.accepted) == 2
    assert plan.accepted.geometry.iloc[1].y == pytest.approx(59.515, abs=1e-7)


def test_zip_bomb_refused_before_extracting(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.shp", b"\x00" * (30 * 1024 * 1024))
    assert archive.stat().st_size < 100_000
    with pytest.raises(ValidationError, match="bomb.zip: member 'a.shp' expands .* times"):
        read_file(archive, "finding")


def test_archive_total_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_IMPORT_MAX_MB", "1")
    archive = tmp_path / "big.kmz"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("doc.kml", b" " * 600_000)
        z.writestr("more.kml", b" " * 600_000)
    with pytest.raises(ValidationError, match="big.kmz: the archive would expand to"):
        read_file(archive, "finding")


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
 <Placemark><name>Trasig lampa</name><description>Vid cykelvägen</description>
  <TimeStamp><when>2026-10-01T20:10:00+02:00</when></TimeStamp>
  <Point><coordinates>17.752277,59.49068,0</coordinates></Point></Placemark>
 <Placemark><name>Mörk stig</name><ExtendedData><Data name="kategori"><value>Otillräcklig belysning</value></Data>
  <Data name="datum"><value>2026-10-01 20:20</value></Data></ExtendedData>
  <LineString><coordinates>17.70,59.50 17.72,59.505</coordinates></LineString></Placemark>
 <Placemark><name>Utan plats</name><TimeStamp><when>2026-10-01</when></TimeStamp></Placemark>
</Document></kml>"""


def test_kml_and_kmz(tmp_path: Path) -> None:
    path = tmp_path / "walk.kml"
    path.write_text(KML, encoding="utf-8")
    plan = read_file(path, "finding")
    assert plan.accepted["category"].tolist() == ["belysning_trasig", "belysning_otillracklig"]
    assert plan.accepted.geometry.iloc[1].geom_type == "LineString"
    assert plan.rejected["reason"].tolist() == ["placemark has no readable geometry"]
    assert plan.rejected["source_row"].tolist() == [3]
    kmz = tmp_path / "walk.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.writestr("doc.kml", KML)
    assert len(read_file(kmz, "finding").accepted) == 2


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&d;</name>
<Point><coordinates>17.75,59.49</coordinates></Point></Placemark></kml>"""


@pytest.mark.parametrize("suffix", [".kml", ".gpx"])
def test_xml_entity_expansion_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"laughs{suffix}"
    path.write_text(BILLION_LAUGHS.replace("kml", "gpx") if suffix == ".gpx" else BILLION_LAUGHS)
    with pytest.raises(ValidationError, match=f"laughs{suffix}: refused: the XML declares a DTD or entities"):
        read_file(path, "finding")


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
 <wpt lat="59.49068" lon="17.752277"><time>2026-10-01T18:05:00Z</time><name>Klotter</name><desc>På tunneln</desc></wpt>
 <wpt lat="59.51" lon="17.64"><time>2026-10-01T18:15:00Z</time><name>Buskar</name></wpt>
 <wpt lat="north" lon="17.64"><name>Trasig</name></wpt>
 <trk><name>Kvällsvandring Bro</name><trkseg>
  <trkpt lat="59.50" lon="17.70"><time>2026-10-01T18:00:00Z</time></trkpt>
  <trkpt lat="59.505" lon="17.72"><time>2026-10-01T18:10:00Z</time></trkpt>
  <trkpt lat="59.49" lon="17.75"><time>2026-10-01T18:20:00Z</time></trkpt></trkseg></trk>
</gpx>"""


def test_gpx_waypoints_are_findings_and_tracks_are_walk_routes(tmp_path: Path) -> None:
    path = tmp_path / "vandring.gpx"
    path.write_text(GPX, encoding="utf-8")
    findings = read_file(path, "finding")
    assert findings.accepted["category"].tolist() == ["klotter", "vegetation"]
    assert findings.accepted["description"].iloc[0] == "På tunneln"
    assert "waypoint lat/lon attributes missing or not numbers" in set(findings.rejected["reason"])
    walks = read_file(path, "walk")
    assert walks.rejected.empty, walks.rejected
    walk = walks.accepted.iloc[0]
    assert walk["title"] == "Kvällsvandring Bro"
    assert walk["started_at"].isoformat() == "2026-10-01T18:00:00+00:00"
    assert shapely.get_coordinates(walk.geometry).ravel().tolist() == pytest.approx([c for p in ROUTE for c in p])


def test_geojson_without_crs_member_but_in_sweref_is_detected(tmp_path: Path) -> None:
    x, y = 655840.08, 6597917.29  # SWEREF 99 TM inside Upplands-Bro (Kungsängen), written as if it were lon/lat
    path = tmp_path / "mislabelled.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                    '{"kategori":"klotter","datum":"2026-08-22"},"geometry":{"type":"Point","coordinates":'
                    f'[{x},{y}]}}}}]}}', encoding="utf-8")
    plan = read_file(path, "finding")
    assert plan.detected_crs == "EPSG:3006"
    assert any("does not fit" in w for w in plan.warnings)
    assert len(plan.accepted) == 1


@pytest.mark.parametrize(("name", "data"), [
    ("x.geojson", b'{"type": "FeatureCollection", "features": [}'),
    ("x.gpkg", b"SQLite format 3\x00" + b"\x01" * 100),
    ("x.kml", b"<kml><Placemark>"),
    ("x.gpx", b"<notgpx/>"),
    ("x.kmz", b"PK\x03\x04garbage"),
    ("x.json", b"[1, 2, 3]"),
    ("x.zip", b"PK\x05\x06" + b"\x00" * 18),
])
def test_broken_files_give_validation_errors_naming_the_file(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ValidationError, match=name.replace(".", r"\.")):
        read_file(path, "finding" if not name.endswith(".json") else "incident")
