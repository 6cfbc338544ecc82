"""A structure-aware fuzz of every importer: CSV, XLSX, GeoJSON, KML, GPX, GeoPackage, zipped Shapefile, KMZ
and the police events JSON (issue 11).

Each case builds a plausible file of its format (a valid skeleton with random or mutated fields, geometry,
encodings and dates), then often mutates its bytes (truncation, flipped, inserted, deleted or repeated
bytes) or, for the archive and database formats, one of its parts. The file is read with
``plan.read_here``, the reader *in this process*, so that the sandbox (which turns a crash in its child into a
``ValidationError``) cannot hide a bug: the only exceptions allowed are the project's own
(``TrygghetskartaError``), and their message names the file. A plan that comes back must be consistent.

The run is reproducible (``derandomize=True``, no example database): ``CASES`` adds up to the number of
cases per run.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import sqlite3
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from shapely.geometry.base import BaseGeometry

from trygghetskarta.errors import TrygghetskartaError
from trygghetskarta.ingest.fields import SUPPORTED_KINDS
from trygghetskarta.ingest.plan import read_here

CASES = {"csv": 350, "xlsx": 200, "geojson": 300, "kml": 250, "gpx": 200, "gpkg": 200, "shapefile": 200,
         "kmz": 150, "polisen": 200}


def fuzz(fmt: str) -> Callable[..., object]:
    return settings(max_examples=CASES[fmt], derandomize=True, database=None, deadline=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))


# ---------------------------------------------------------------------------------------------- shared pieces

# Upplands-Bro (the default kommun) in every CRS the importer knows, so that many cases get far into the reader
CENTRE = {"EPSG:4326": (17.6757, 59.5477), "EPSG:3006": (651253.0, 6604093.0), "EPSG:3011": (131661.0, 6603733.0),
          "EPSG:3021": (1605793.0, 6604545.0), "EPSG:3857": (1967656.0, 8299731.0)}
ODD_NUMBERS = [0.0, -0.0, 1.0, -1.0, 90.0, -91.0, 95.0, 180.0, 1000.0, 1e9, -1e9, 1e308, -1e308, 5e-324,
               float("nan"), float("inf"), float("-inf")]
KINDS = st.sampled_from(SUPPORTED_KINDS)
WORDS = ["klotter", "Trasig lampa", "gångtunnel", "mörk stig", "trygg plats", "ovrigt", "skadegörelse",
         "Misshandel", "Stöld", "Nattvandrarna", "ny", "bedomd", "1", "2", "3", "9", "allvarlig", "ja", "nej",
         "mörker", "dagsljus", "Pelle Svensson", "ring 070-123 45 67", "anna@example.se", "19121212-1212",
         "NULL", "n/a", "-", "", " ", "=HYPERLINK(\"http://127.0.0.1\")", "nan", "inf", "Kommun", "Polisen"]
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
CELL_TEXT = st.one_of(st.sampled_from(WORDS), TEXT)
DATE_TEXTS = ["2026-08-22", "2026-08-22 21:30", "2026-08-22T21:30:00Z", "2026-08-22 9:48:12 +02:00", "22/8 2026",
              "22.08.2026 17.59", "22 augusti 2026 kl. 17.59", "20260822", "2021-08", "0001-01-01", "-1",
              "9999-12-31", "1899-12-31", "2026-02-30", "2026-03-29 02:30", "2026-10-25 02:30", "idag", "",
              "2026-08-22T25:61", "1e9", "99/99/9999", "2026-13-01", "0", "1/1 0001", "2100-12-31", "2101-01-01"]


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.sampled_from(DATE_TEXTS))
    stamp = draw(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)))
    form = draw(st.sampled_from(["%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S+01:00", "%d/%m %Y", "%d.%m.%Y",
                                 "%Y%m%d", "%d %B %Y", "%Y-%m"]))
    return f"{stamp.year:04d}" + stamp.strftime(form.replace("%Y", "")) if form.startswith("%Y") else \
        stamp.strftime(form.replace("%Y", f"{stamp.year:04d}"))


NUMBER = st.one_of(st.sampled_from(ODD_NUMBERS), st.floats(allow_nan=True, allow_infinity=True),
                   st.integers(-(2**70), 2**70).map(float))


def rare(draw: st.DrawFn, n: int) -> bool:
    """True once in ``n + 1`` draws. Not ``integers(0, n) == 0``: hypothesis favours bounds and the simplest
    (first) choice, so the rare branch is the last one."""
    return draw(st.sampled_from(range(n + 1))) == n


@st.composite
def positions(draw: st.DrawFn, crs: str | None = None) -> tuple[float, float]:
    """A coordinate pair: mostly near the kommun in some CRS, sometimes anything."""
    if rare(draw, 4):
        return draw(NUMBER), draw(NUMBER)
    x0, y0 = CENTRE[crs or draw(st.sampled_from(sorted(CENTRE)))]
    scale = 0.05 if abs(x0) < 1000 else 5000.0
    dx, dy = draw(st.floats(-1, 1)), draw(st.floats(-1, 1))
    x, y = x0 + dx * scale, y0 + dy * scale
    return (y, x) if rare(draw, 5) else (x, y)


def _num(v: float, comma: bool = False) -> str:
    text = repr(float(v)) if not float(v).is_integer() or abs(v) > 1e15 else str(int(v))
    return text.replace(".", ",") if comma else text


def _wkt_of(geom: BaseGeometry) -> str:
    return shapely.to_wkt(geom, rounding_precision=-1)


@st.composite
def geometries(draw: st.DrawFn, crs: str = "EPSG:4326", depth: int = 0) -> BaseGeometry:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "invalid value encountered": NaN coordinates are meant
            return draw(_geometries(crs, depth))
    except (shapely.errors.GEOSException, ValueError):  # odd numbers GEOS will not build: an empty one
        return shapely.Point()


@st.composite
def _geometries(draw: st.DrawFn, crs: str, depth: int) -> BaseGeometry:
    kind = draw(st.sampled_from(["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "Collection",
                                 "Empty", "Bowtie"]))
    pts = [draw(positions(crs)) for _ in range(draw(st.integers(1, 5)))]
    if kind == "Point":
        return shapely.Point(pts[0])
    if kind == "LineString":
        return shapely.LineString([*pts, pts[0]] if len(pts) == 1 else pts)
    if kind == "Polygon":
        x, y = pts[0]
        d = draw(st.sampled_from([1e-3, 100.0, 0.0]))
        return shapely.Polygon([(x, y), (x + d, y), (x + d, y + d), (x, y)])
    if kind == "MultiPoint":
        return shapely.MultiPoint(pts)
    if kind == "MultiLineString":
        return shapely.MultiLineString([[*pts, pts[0]]])
    if kind == "Bowtie":
        x, y = pts[0]
        return shapely.Polygon([(x, y), (x + 1, y + 1), (x + 1, y), (x, y + 1), (x, y)])
    if kind == "Collection" and depth < 3:
        return shapely.GeometryCollection([draw(geometries(crs, depth + 1)) for _ in range(draw(st.integers(0, 2)))])
    return draw(st.sampled_from([shapely.Point(), shapely.LineString(), shapely.GeometryCollection()]))


def _nested_collection_wkt(depth: int) -> str:
    return "GEOMETRYCOLLECTION (" * depth + "POINT (17.7 59.5)" + ")" * depth


@st.composite
def geometry_cells(draw: st.DrawFn, crs: str) -> str:
    """A WKT or hex WKB cell (or something that looks like one)."""
    choice = draw(st.sampled_from(range(10)))
    if choice <= 3:
        return _wkt_of(draw(geometries(crs)))
    if choice <= 5:
        hexed = shapely.to_wkb(draw(geometries(crs)), hex=True)
        cut = draw(st.integers(0, len(hexed)))
        return hexed if draw(st.booleans()) else hexed[:cut]
    if choice == 6:
        return f"SRID={draw(st.sampled_from(['4326', '3006', 'x', '']))};{_wkt_of(draw(geometries(crs)))}"
    if choice == 7:
        return _nested_collection_wkt(draw(st.sampled_from([2, 50, 500, 5000])))
    return draw(st.sampled_from(["POINT EMPTY", "POINT (1 2", "POINT (nan nan)", "POINT Z (17.7 59.5 1)",
                                 "LINESTRING (17.7 59.5)", "POLYGON ((0 0, 1 1, 0 0))", "0000000000",
                                 "0101000000000000000000F87F000000000000F87F", "010700000000000000", "01",
                                 "POINT (1e400 1)", "MULTIPOINT ((1 2), EMPTY)", "CIRCULARSTRING (0 0, 1 1, 2 0)"]))


@st.composite
def mutated(draw: st.DrawFn, data: bytes, keep: int = 0) -> bytes:
    """``data`` with 0-3 byte-level mutations (never touching the first ``keep`` bytes)."""
    out = bytearray(data)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):  # about half the cases stay well-formed
        if len(out) <= keep:
            break
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "repeat", "zero"]))
        # a position drawn independently of the length, so that generation is the same whatever the length
        # (an XLSX holds its save time, so its length differs between runs)
        pos = keep + draw(st.integers(0, 2**20)) % (len(out) - keep)
        if op == "truncate":
            del out[pos:]
        elif op == "flip":
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del out[pos:pos + draw(st.integers(1, 64))]
        elif op == "repeat":
            chunk = out[pos:pos + draw(st.integers(1, 64))]
            out[pos:pos] = chunk * draw(st.integers(1, 20))
        else:
            end = pos + draw(st.integers(1, 16))
            out[pos:end] = b"\x00" * len(out[pos:end])
    return bytes(out)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def or_noise(files: st.SearchStrategy[bytes], prefix: bytes = b"") -> st.SearchStrategy[bytes]:
    """Mostly ``files``; one case in six is random bytes (after ``prefix``, e.g. the format's magic)."""
    return st.one_of(files, files, files, files, files, st.binary(max_size=200).map(lambda b: prefix + b))


def check_read(folder: Path, name: str, data: bytes, kind: str) -> None:
    """Read the file in this process: a plan, or one of the project's own errors naming the file."""
    path = folder / name
    path.write_bytes(data)
    try:
        plan = read_here(path, kind)
    except TrygghetskartaError as exc:
        assert name in str(exc), f"the message does not name the file: {exc}"
        event("refused with the project's own error")
        return
    finally:
        path.unlink()
    accepted, rejected = plan.accepted, plan.rejected
    event("read: some rows accepted" if len(accepted) else "read: every row rejected")
    assert list(rejected.columns) == ["source_row", "column", "value", "reason"]
    assert rejected["reason"].map(lambda r: isinstance(r, str) and bool(r)).all()
    assert not set(accepted["source_row"]) & set(rejected["source_row"])
    assert len(accepted) + plan.rejected_rows <= plan.total_rows
    if len(accepted):
        geoms = accepted.geometry.to_numpy()
        present = ~shapely.is_missing(geoms)
        assert shapely.is_valid(geoms[present]).all()
        if present.any():
            minx, miny, maxx, maxy = shapely.bounds(geoms[present]).T
            assert (minx >= -180).all() and (maxx <= 180).all() and (miny >= -90).all() and (maxy <= 90).all()
        assert accepted["external_id"].notna().all()
        assert not accepted["external_id"].duplicated().any()


# ---------------------------------------------------------------------------------------------- CSV

HEADER_WORDS = ["kategori", "datum", "beskrivning", "allvarlighet", "status", "typ", "organisation", "titel",
                "start", "id", "kalla", "klart senast", "ljus", "noggrannhet", "gruppstorlek", "antal vandrare",
                "walkers", "namn", "befolkning", "positiv", "precision", "rubrik", "brottstyp", "_uuid",
                "grupp/kategori", "observations", "name", "datetime", "summary", "location.gps", ""]
REQUIRED_HEADERS = ["kategori", "datum", "typ", "organisation", "namn", "titel", "kalla"]
VOCABULARY_WORDS = {"kategori": ["klotter", "Trasig lampa", "gångtunnel", "skadegörelse", "mörk stig", "nonsens"],
                    "typ": ["Misshandel", "Stöld", "grupp ungdomar", "Skadegörelse", "nonsens"],
                    "kalla": ["polisen_api", "Polisen", "kommunen", "ovrigt", "nonsens"]}
GEOMETRY_SCHEMES = {"latlon": ("lat", "lon"), "latitud": ("latitud", "longitud"), "xy": ("x", "y"),
                    "EN": ("E", "N"), "point": ("position",), "geopoint": ("grupp/geopoint",), "wkt": ("wkt",),
                    "geometry": ("geometry",), "none": ()}


def _position_cells(draw: st.DrawFn, scheme: str, crs: str) -> list[object]:
    """The cells of one position in the column ``scheme`` (none for "none")."""
    x, y = draw(positions(crs))
    comma = rare(draw, 5)
    if scheme in ("latlon", "latitud"):
        return [_num(y, comma), _num(x, comma)]
    if scheme in ("xy", "EN"):
        return [_num(x, comma), _num(y, comma)]
    if scheme == "point":
        return [f"{_num(y)},{_num(x)}"]
    if scheme == "geopoint":
        return [f"{_num(y)} {_num(x)} {draw(st.sampled_from(['0', '12.5', 'x']))} "
                f"{draw(st.sampled_from(['4', '-1', 'nan', '']))}"]
    if scheme in ("wkt", "geometry"):
        return [draw(geometry_cells(crs))]
    return []


def _extra_cell(draw: st.DrawFn, name: str) -> object:
    """A cell for the column ``name``: a date, a vocabulary word, a number or any text, as the header suggests."""
    folded = str(name).lower()
    if folded in ("datum", "start", "klart senast", "datetime"):
        return draw(date_texts())
    if folded in VOCABULARY_WORDS and not rare(draw, 4):
        return draw(st.sampled_from(VOCABULARY_WORDS[folded]))
    if folded in ("allvarlighet", "befolkning", "noggrannhet", "walkers", "antal vandrare", "id"):
        return draw(st.one_of(st.sampled_from(["1", "2", "3", "-4", "1.5", "1e400", "12 345", "9" * 30, ""]),
                              NUMBER.map(_num)))
    return draw(CELL_TEXT)


@st.composite
def table_rows(draw: st.DrawFn) -> tuple[list[str], list[list[object]]]:
    """A header and rows of cells (strings, numbers or dates) with coordinates in one of the column schemes."""
    scheme = draw(st.sampled_from(sorted(GEOMETRY_SCHEMES)))
    crs = draw(st.sampled_from(sorted(CENTRE)))
    extra = draw(st.lists(st.one_of(st.sampled_from(HEADER_WORDS), TEXT), max_size=4))
    if not rare(draw, 3):  # the required field of every kind, so that many cases get as far as the rows
        extra = [*REQUIRED_HEADERS, *extra]
    header = [*GEOMETRY_SCHEMES[scheme], *extra]
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        cells = _position_cells(draw, scheme, crs)
        cells += [_extra_cell(draw, name) for name in extra]
        cells = cells[: len(header) + draw(st.integers(-1, 1))] if rare(draw, 9) else cells
        if rare(draw, 20) and cells:  # a cell past the length cap
            cells[-1] = "x" * 100_001
        rows.append(cells)
    return header, rows


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header, rows = draw(table_rows())
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))

    def quote(v: object) -> str:
        text = str(v)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in f'{sep}"\n\r') else text

    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines: list[list[object]] = [list(header), *rows]
    text = newline.join(sep.join(quote(v) for v in r) for r in lines)
    if rare(draw, 30):
        text = sep.join(f"c{i}" for i in range(draw(st.sampled_from([501, 5000])))) + newline + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    return draw(mutated(text.encode(encoding, errors="replace")))


@fuzz("csv")
@given(data=or_noise(csv_files()), kind=KINDS)
def test_fuzz_csv(folder: Path, data: bytes, kind: str) -> None:
    check_read(folder, "fuzz.csv", data, kind)


# ---------------------------------------------------------------------------------------------- XLSX

XLSX_VALUES = st.one_of(CELL_TEXT, NUMBER.filter(np.isfinite), st.integers(-(2**40), 2**40), st.booleans(),
                        st.none(), st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 1, 1)),
                        st.dates(min_value=dt.date(1900, 1, 1)), st.sampled_from(["=1+1", "=A1", "=NOW()"]))


@st.composite
def zip_members_mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """An archive with one member mutated, dropped or renamed (rewritten as a valid zip)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(i.filename, archive.read(i.filename)) for i in archive.infolist()]
    if members:
        i = draw(st.integers(0, len(members) - 1))
        op = draw(st.sampled_from(["mutate", "mutate", "drop", "rename", "empty"]))
        name, body = members[i]
        if op == "mutate":
            members[i] = (name, draw(mutated(body)))
        elif op == "drop":
            del members[i]
        elif op == "rename":
            members[i] = (draw(st.sampled_from(["x/" + name, name.upper(), "../" + name, name + ".bak"])), body)
        else:
            members[i] = (name, b"")
    out = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]))
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, body in members:
            archive.writestr(name, body)
    return out.getvalue()


@st.composite
def xlsx_files(draw: st.DrawFn) -> bytes:
    header, rows = draw(table_rows())
    book = openpyxl.Workbook()  # not write_only: its row generator complains when a case is abandoned
    sheet = book.worksheets[0]  # a new workbook's one sheet
    sheet.title = draw(st.sampled_from(["Blad1", "Sheet", "Ä-Ö"]))
    sheet.append([None if h == "" else ILLEGAL_CHARACTERS_RE.sub("", h) for h in header])
    for r in rows:
        cells = [draw(XLSX_VALUES) if rare(draw, 4) else v for v in r]
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v[:32_000]) if isinstance(v, str) else v for v in cells])
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    how = draw(st.sampled_from(range(4)))
    if how == 1:
        return draw(zip_members_mutated(data))
    if how == 2:
        return draw(mutated(data))
    return data


@fuzz("xlsx")
@given(data=or_noise(xlsx_files()), kind=KINDS)
def test_fuzz_xlsx(folder: Path, data: bytes, kind: str) -> None:
    check_read(folder, "fuzz.xlsx", data, kind)


# ---------------------------------------------------------------------------------------------- GeoJSON

JSON_VALUES = st.one_of(CELL_TEXT, NUMBER.filter(np.isfinite), st.booleans(), st.none(), date_texts(),
                        st.lists(st.integers(), max_size=3),
                        st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2))


def _geojson_geometry(geom: BaseGeometry) -> object:
    return json.loads(shapely.to_geojson(geom)) if not geom.is_empty or geom.geom_type != "Point" else \
        {"type": "Point", "coordinates": []}


@st.composite
def geojson_geometries(draw: st.DrawFn, crs: str) -> object:
    choice = draw(st.sampled_from(range(8)))
    if choice <= 3:
        return _geojson_geometry(draw(geometries(crs)))
    if choice == 4:
        return None
    if choice == 5:  # replaced by a GeometryCollection nested this deep after json.dumps (which would recurse)
        return f"__NESTED_{draw(st.sampled_from([2, 30, 200, 3000]))}__"
    if choice == 6:
        return {"type": draw(st.sampled_from(["Point", "LineString", "Polygon", "Nonsense", "MultiPolygon"])),
                "coordinates": draw(st.sampled_from([[], [[]], "17.7,59.5", [None, 1], [[1, 2], [3]], 5,
                                                     [[[[17.7, 59.5]]]], [1e400, 2]]))}
    return draw(st.sampled_from([{}, [], "POINT (17.7 59.5)", {"type": "Point"}, {"coordinates": [1, 2]}]))


@st.composite
def geojson_files(draw: st.DrawFn) -> bytes:
    crs = draw(st.sampled_from(["EPSG:4326", "EPSG:4326", "EPSG:3006", "EPSG:3011"]))
    features = []
    for _ in range(draw(st.integers(0, 6))):
        props = draw(st.dictionaries(st.one_of(st.sampled_from(HEADER_WORDS), TEXT), JSON_VALUES, max_size=5))
        if draw(st.booleans()):
            props["datum"] = draw(date_texts())
        feature: dict[str, object] = {"type": "Feature", "properties": props, "geometry": draw(geojson_geometries(crs))}
        if rare(draw, 9):
            feature["id"] = draw(st.one_of(st.integers(), TEXT, st.none()))
        features.append(feature)
    doc: dict[str, object] = {"type": "FeatureCollection", "features": features}
    declared = draw(st.sampled_from([None, crs, "EPSG:3006", "urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:999999",
                                     "nonsense"]))
    if declared is not None:
        doc["crs"] = {"type": "name", "properties": {"name": declared}}
    shape = draw(st.sampled_from(range(10)))
    if shape == 0 and features:
        doc = features[0]
    elif shape == 1:
        doc = {"type": "Topology", "objects": {"a": {"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [0, 0], "properties": {"kategori": "klotter"}}]}},
               "arcs": draw(st.sampled_from([[], [[[0, 0], [1, 1]]], "x"])),
               "transform": draw(st.sampled_from([{"scale": [1, 1], "translate": [17.7, 59.5]}, {}, None]))}
    text = re.sub(r'"__NESTED_(\d+)__"', lambda m: _nested_geojson(int(m.group(1))),
                  json.dumps(doc, ensure_ascii=draw(st.booleans())))
    data = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig"])))
    return draw(mutated(data)) if rare(draw, 2) else data


def _nested_geojson(depth: int) -> str:
    point = '{"type": "Point", "coordinates": [17.7, 59.5]}'
    return '{"type": "GeometryCollection", "geometries": [' * depth + point + "]}" * depth


@fuzz("geojson")
@given(data=or_noise(geojson_files()), name=st.sampled_from(["fuzz.geojson", "fuzz.json"]),
       kind=KINDS)
def test_fuzz_geojson(folder: Path, data: bytes, name: str, kind: str) -> None:
    check_read(folder, name, data, kind)


# ---------------------------------------------------------------------------------------------- KML and KMZ

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text for an XML element: escaped, without the characters XML 1.0 forbids (mutations add those later)."""
    return escape(_NOT_XML.sub("", text))


KML_NAMESPACES = ['xmlns="http://www.opengis.net/kml/2.2"', 'xmlns="http://earth.google.com/kml/2.1"', "",
                  'xmlns:kml="http://www.opengis.net/kml/2.2"']


@st.composite
def coordinate_texts(draw: st.DrawFn, n_min: int = 1) -> str:
    pts = [draw(positions("EPSG:4326")) for _ in range(draw(st.integers(n_min, 5)))]
    sep = draw(st.sampled_from([" ", "\n", "  \t"]))
    text = sep.join(f"{_num(x)},{_num(y)}" + draw(st.sampled_from(["", ",0", ",12.5", ","])) for x, y in pts)
    if rare(draw, 6):
        text = draw(st.sampled_from(["", "17.7", "17.7;59.5", "a,b", "1,2,3,4,5", ",,,"]))
    return text


@st.composite
def kml_geometries(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["Point", "LineString", "Polygon", "MultiGeometry", "Nothing"]))
    if kind == "Point":
        return f"<Point><coordinates>{escape(draw(coordinate_texts()))}</coordinates></Point>"
    if kind == "LineString":
        return f"<LineString><coordinates>{escape(draw(coordinate_texts(2)))}</coordinates></LineString>"
    if kind == "Polygon":
        ring = draw(coordinate_texts(3))
        first = ring.split()[0] if ring.split() else ""
        inner = "".join(f"<innerBoundaryIs><LinearRing><coordinates>{escape(draw(coordinate_texts(3)))}"
                        "</coordinates></LinearRing></innerBoundaryIs>" for _ in range(draw(st.integers(0, 1))))
        return (f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{escape(ring)} {escape(first)}</coordinates>"
                f"</LinearRing></outerBoundaryIs>{inner}</Polygon>")
    if kind == "MultiGeometry" and depth < 3:
        parts = "".join(draw(kml_geometries(depth + 1)) for _ in range(draw(st.integers(0, 3))))
        return f"<MultiGeometry>{parts}</MultiGeometry>"
    if kind == "MultiGeometry":
        n = draw(st.sampled_from([5, 17, 100, 5000]))
        return "<MultiGeometry>" * n + "<Point><coordinates>17.7,59.5</coordinates></Point>" + "</MultiGeometry>" * n
    return ""


@st.composite
def kml_placemarks(draw: st.DrawFn) -> str:
    name = f"<name>{xml_text(draw(CELL_TEXT))}</name>" if draw(st.booleans()) else ""
    desc = f"<description><![CDATA[{_NOT_XML.sub('', draw(CELL_TEXT)).replace(']]>', '')}]]></description>" \
        if draw(st.booleans()) \
        else ""
    when = f"<TimeStamp><when>{escape(draw(date_texts()))}</when></TimeStamp>" if draw(st.booleans()) else ""
    data = "".join(f"<Data name={quoteattr(draw(st.sampled_from(HEADER_WORDS)))}><value>{xml_text(draw(CELL_TEXT))}"
                   f"</value></Data>" for _ in range(draw(st.integers(0, 3))))
    simple = "".join(f"<SimpleData name={quoteattr(draw(st.sampled_from(HEADER_WORDS)))}>{xml_text(draw(CELL_TEXT))}"
                     f"</SimpleData>" for _ in range(draw(st.integers(0, 2))))
    ext = f"<ExtendedData>{data}<SchemaData>{simple}</SchemaData></ExtendedData>" if data or simple else ""
    return f"<Placemark>{name}{desc}{when}{ext}{draw(kml_geometries())}</Placemark>"


def _xml_bytes(draw: st.DrawFn, body: str) -> bytes:
    encoding = draw(st.sampled_from(["UTF-8", "UTF-8", "ISO-8859-1", "windows-1252", "UTF-16", "x-no-such",
                                     "ascii", None]))
    actual = draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])) if rare(draw, 5) else \
        (encoding or "utf-8")
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>\n' if encoding else ""
    try:
        data = (declaration + body).encode(actual, errors="replace")
    except LookupError:
        data = (declaration + body).encode("utf-8")
    return draw(mutated(data)) if rare(draw, 2) else data  # a third mutated: most XML mutations break it


@st.composite
def kml_documents(draw: st.DrawFn) -> bytes:
    marks = "".join(draw(kml_placemarks()) for _ in range(draw(st.integers(0, 5))))
    if draw(st.booleans()):
        marks = f"<Folder><name>mapp</name>{marks}</Folder>"
    root = draw(st.sampled_from(["kml", "kml", "kml", "gpx", "Document"]))
    body = f"<{root} {draw(st.sampled_from(KML_NAMESPACES))}><Document>{marks}</Document></{root}>"
    if rare(draw, 20):
        body = draw(st.sampled_from(['<!DOCTYPE kml [<!ENTITY a "aaaa">]><kml>&a;</kml>', "<kml>", "",
                                     "<kml><Placemark></kml>", "<a>" * 3000 + "</a>" * 3000]))
    return _xml_bytes(draw, body)


@fuzz("kml")
@given(data=or_noise(kml_documents()), kind=KINDS)
def test_fuzz_kml(folder: Path, data: bytes, kind: str) -> None:
    check_read(folder, "fuzz.kml", data, kind)


@st.composite
def kmz_files(draw: st.DrawFn) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]))) as archive:
        names = draw(st.lists(st.sampled_from(["doc.kml", "a.kml", "files/b.KML", "images/x.png", "doc.txt"]),
                              max_size=3, unique=True))
        for name in names:
            archive.writestr(name, draw(kml_documents()) if name.lower().endswith(".kml") else draw(st.binary(
                max_size=50)))
    data = out.getvalue()
    how = draw(st.sampled_from(range(4)))
    if how == 1:
        return draw(zip_members_mutated(data))
    if how == 2:
        return draw(mutated(data))
    return data


@fuzz("kmz")
@given(data=or_noise(kmz_files()), kind=KINDS)
def test_fuzz_kmz(folder: Path, data: bytes, kind: str) -> None:
    check_read(folder, "fuzz.kmz", data, kind)


# ---------------------------------------------------------------------------------------------- GPX


@st.composite
def gpx_points(draw: st.DrawFn, tag: str) -> str:
    x, y = draw(positions("EPSG:4326"))
    lat = draw(st.sampled_from([_num(y), _num(y), "", "abc", "NaN", "1e400", None]))
    lon = draw(st.sampled_from([_num(x), _num(x), "", "abc", "-inf", None]))
    attrs = (f" lat={quoteattr(lat)}" if lat is not None else "") + (f" lon={quoteattr(lon)}" if lon is not None
                                                                      else "")
    inner = "".join([
        f"<time>{escape(draw(date_texts()))}</time>" if draw(st.booleans()) else "",
        f"<name>{xml_text(draw(CELL_TEXT))}</name>" if draw(st.booleans()) else "",
        f"<desc>{xml_text(draw(CELL_TEXT))}</desc>" if rare(draw, 3) else "",
        f"<type>{xml_text(draw(CELL_TEXT))}</type>" if rare(draw, 3) else "",
        f"<sym>{xml_text(draw(CELL_TEXT))}</sym>" if rare(draw, 5) else "",
    ])
    return f"<{tag}{attrs}>{inner}</{tag}>"


@st.composite
def gpx_documents(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        what = draw(st.sampled_from(["wpt", "trk", "rte"]))
        if what == "wpt":
            parts.append(draw(gpx_points("wpt")))
        elif what == "trk":
            segs = "".join("<trkseg>" + "".join(draw(gpx_points("trkpt")) for _ in range(draw(st.integers(0, 5))))
                           + "</trkseg>" for _ in range(draw(st.integers(0, 3))))
            parts.append(f"<trk><name>{xml_text(draw(CELL_TEXT))}</name>{segs}</trk>")
        else:
            pts = "".join(draw(gpx_points("rtept")) for _ in range(draw(st.integers(0, 5))))
            parts.append(f"<rte>{pts}</rte>")
    root = draw(st.sampled_from(["gpx", "gpx", "gpx", "kml"]))
    ns = draw(st.sampled_from(['xmlns="http://www.topografix.com/GPX/1/1"', "", 'version="1.0"']))
    return _xml_bytes(draw, f"<{root} {ns}>{''.join(parts)}</{root}>")


@fuzz("gpx")
@given(data=or_noise(gpx_documents()), kind=KINDS)
def test_fuzz_gpx(folder: Path, data: bytes, kind: str) -> None:
    check_read(folder, "fuzz.gpx", data, kind)


# ---------------------------------------------------------------------------------------------- GeoPackage


def _base_frames() -> dict[str, gpd.GeoDataFrame]:
    x, y = CENTRE["EPSG:3006"]
    lon, lat = CENTRE["EPSG:4326"]
    return {
        "points4326": gpd.GeoDataFrame(
            {"kategori": ["klotter", "gångtunnel", "okänd"], "datum": ["2026-08-22 20:00", "0001-01-01", "x"],
             "allvarlighet": [1, 3, 9], "beskrivning": ["Tags", "Mörk", None]},
            geometry=[shapely.Point(lon, lat), shapely.Point(lon + 0.01, lat), None], crs="EPSG:4326"),
        "lines3006": gpd.GeoDataFrame(
            {"titel": ["Runda", "Kort"], "start": [dt.datetime(2026, 8, 22, 19), dt.datetime(2026, 8, 23, 19)],
             "antal": [4.5, -1.0]},
            geometry=[shapely.LineString([(x, y), (x + 500, y + 200)]), shapely.LineString([(x, y), (x, y + 1)])],
            crs="EPSG:3006"),
        "areas3011": gpd.GeoDataFrame(
            {"namn": ["Centrum", "Väst"], "befolkning": [1200, 0]},
            geometry=[shapely.box(131000, 6603000, 132000, 6604000), shapely.box(130000, 6603000, 130500, 6603500)],
            crs="EPSG:3011"),
        "nocrs": gpd.GeoDataFrame({"typ": ["Misshandel"], "datum": ["2026-08-22"]},
                                  geometry=[shapely.Point(x, y)], crs=None),
    }


@pytest.fixture(scope="module")
def gpkg_bases(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("gpkg-bases")
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "'crs' was not provided" for the base without a CRS, on purpose
        for name, frame in _base_frames().items():
            path = folder / f"{name}.gpkg"
            frame.to_file(path, driver="GPKG", layer=name)
            out.append(path)
        two = folder / "two_layers.gpkg"
        frames = _base_frames()
        frames["points4326"].to_file(two, driver="GPKG", layer="a")
        frames["lines3006"].to_file(two, driver="GPKG", layer="b", mode="a")
    out.append(two)
    return out


GPKG_SQL = [
    "UPDATE {t} SET geom = randomblob(abs(random()) % 60)",
    "UPDATE {t} SET geom = substr(geom, 1, abs(random()) % length(geom))",
    "UPDATE {t} SET geom = NULL",
    "UPDATE {t} SET geom = X'4750000100000000'",
    "UPDATE {t} SET geom = X'47500001E6100000' || X'0101000000000000000000F87F000000000000F87F'",
    "UPDATE {t} SET geom = X'475000010000000001070000000100000001070000000000000000'",
    "UPDATE gpkg_geometry_columns SET srs_id = {n}",
    "UPDATE gpkg_spatial_ref_sys SET definition = 'nonsense' WHERE srs_id > 0",
    "UPDATE gpkg_contents SET data_type = 'tiles'",
    "UPDATE gpkg_contents SET table_name = 'missing'",
    "DELETE FROM gpkg_geometry_columns",
    "DELETE FROM gpkg_spatial_ref_sys",
    "DROP TABLE gpkg_contents",
    "DROP TABLE {t}",
    "ALTER TABLE {t} RENAME TO {t}_x",
    "CREATE VIEW v AS SELECT * FROM {t}; UPDATE gpkg_contents SET table_name = 'v'",
    "UPDATE {t} SET {c} = {v}",
    "INSERT INTO {t} ({c}) VALUES ({v})",
    "UPDATE gpkg_contents SET min_x = 'a', max_y = 1e400",
    "PRAGMA application_id = 0; PRAGMA user_version = 1",
    "PRAGMA journal_mode = WAL; UPDATE {t} SET {c} = {v}",
]
SQL_VALUES = ["NULL", "X'00FF'", "1e308", "-9223372036854775808", "'0001-01-01'", "'-1'", "''", "'" + "x" * 300 + "'",
              "'2026-08-22T21:30:00Z'", "'klotter'", "3.5", "'=1+1'"]


@st.composite
def gpkg_files(draw: st.DrawFn, bases: list[Path]) -> bytes:
    base = draw(st.sampled_from(bases))
    data = base.read_bytes()
    statements = draw(st.lists(st.sampled_from(GPKG_SQL), max_size=3))
    if statements:
        work = base.with_name(f"work-{base.name}")
        work.write_bytes(data)
        conn = sqlite3.connect(work)
        try:
            tables = [r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents")] or ["x"]
            for sql in statements:
                table = draw(st.sampled_from(tables))
                cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")') if r[1] not in ("fid", "geom")]
                stmt = sql.format(t=f'"{table}"', c=f'"{draw(st.sampled_from(cols))}"' if cols else "fid",
                                  v=draw(st.sampled_from(SQL_VALUES)), n=draw(st.sampled_from([0, -1, 3006, 99999])))
                try:
                    conn.executescript(stmt)
                except sqlite3.Error:  # a statement that does not apply to this base file: go on without it
                    conn.rollback()
            conn.commit()
        finally:
            conn.close()
        data = work.read_bytes()
        work.unlink()
    return draw(mutated(data, keep=draw(st.sampled_from([100, 100, 0]))))


@fuzz("gpkg")
@given(data=st.data(), kind=KINDS)
def test_fuzz_gpkg(folder: Path, gpkg_bases: list[Path], data: st.DataObject, kind: str) -> None:
    content = data.draw(or_noise(gpkg_files(gpkg_bases), b"SQLite format 3\x00"))
    check_read(folder, "fuzz.gpkg", content, kind)


# ---------------------------------------------------------------------------------------------- zipped Shapefile


@pytest.fixture(scope="module")
def shapefile_bases(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, bytes]]:
    folder = tmp_path_factory.mktemp("shp-bases")
    out = []
    for name, frame in _base_frames().items():
        sub = folder / name
        sub.mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no CRS on purpose; "allvarlighet" cut to 10 characters
            frame.to_file(sub / f"{name}.shp", driver="ESRI Shapefile", engine="pyogrio")
        out.append({p.name: p.read_bytes() for p in sorted(sub.iterdir())})
        shutil.rmtree(sub)
    return out


PRJ_TEXTS = [b"", b"nonsense", b'GEOGCS["x"]', b'PROJCS["SWEREF99 TM",GEOGCS["SWEREF99"]]', b"\xff\xfe\x00",
             b'LOCAL_CS["x"]']
CPG_TEXTS = [b"UTF-8", b"1252", b"x-no-such-encoding", b"", b"\x00", b"UTF-16", b"LDID/87"]


@st.composite
def shapefile_zips(draw: st.DrawFn, bases: list[dict[str, bytes]]) -> bytes:
    members = dict(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(members))) if members else None
        op = draw(st.sampled_from(["mutate", "mutate", "mutate", "drop", "prj", "cpg", "folder", "upper", "extra"]))
        if name is None:
            break
        if op == "mutate":
            keep = 100 if name.endswith((".shp", ".shx")) and draw(st.booleans()) else 0
            members[name] = draw(mutated(members[name], keep=keep))
        elif op == "drop" and not name.endswith(".shp"):
            del members[name]
        elif op == "prj":
            members[name.rsplit(".", 1)[0] + ".prj"] = draw(st.sampled_from(PRJ_TEXTS))
        elif op == "cpg":
            members[name.rsplit(".", 1)[0] + ".cpg"] = draw(st.sampled_from(CPG_TEXTS))
        elif op == "folder":
            members = {f"data/{k}": v for k, v in members.items()}
        elif op == "upper":
            members = {k.upper(): v for k, v in members.items()}
        elif op == "extra":
            members["other.shp"] = members[name]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    data = out.getvalue()
    return draw(mutated(data)) if rare(draw, 4) else data


@fuzz("shapefile")
@given(data=st.data(), kind=KINDS)
def test_fuzz_shapefile_zip(folder: Path, shapefile_bases: list[dict[str, bytes]], data: st.DataObject,
                            kind: str) -> None:
    content = data.draw(or_noise(shapefile_zips(shapefile_bases), b"PK\x03\x04"))
    check_read(folder, "fuzz.zip", content, kind)


# ---------------------------------------------------------------------------------------------- police events JSON


@st.composite
def police_events(draw: st.DrawFn) -> object:
    x, y = draw(positions("EPSG:4326"))
    gps = draw(st.sampled_from([f"{_num(y)},{_num(x)}", f"{_num(y)}, {_num(x)}", f"{_num(y)} {_num(x)}", "", "59.5",
                                "a,b", None]))
    location: object = {"name": draw(st.sampled_from(["Upplands-Bro", "Stockholms län", "", None])), "gps": gps}
    if rare(draw, 9):
        location = draw(st.sampled_from([None, "Upplands-Bro", [1, 2], {"gps": 59.5}]))
    event: dict[str, object] = {
        "id": draw(st.one_of(st.integers(-5, 10**12), TEXT, st.none())),
        "datetime": draw(st.one_of(date_texts(), st.sampled_from(
            ["2026-08-22 9:48:12 +02:00", "2026-08-22 21:48:12 +0200"]), st.none(), st.integers())),
        "name": draw(CELL_TEXT), "summary": draw(CELL_TEXT), "url": "/aktuellt/handelser/2026/augusti/22/",
        "type": draw(st.sampled_from(["Misshandel", "Stöld", "Trafikolycka", "Sammanfattning natt", "", "Brand"])),
        "location": location,
    }
    for key in draw(st.lists(st.sampled_from(sorted(event)), max_size=2, unique=True)):
        del event[key]
    return event


@st.composite
def police_files(draw: st.DrawFn) -> bytes:
    events: object = [draw(police_events()) for _ in range(draw(st.integers(0, 6)))]
    if rare(draw, 15):
        events = draw(st.sampled_from([[1, 2], [[]], [None], "x", {"a": 1}, [[[[[]]]]] * 2]))
    text = json.dumps(events, ensure_ascii=draw(st.booleans()))
    if rare(draw, 30):
        text = "[" * 100_000 + "]" * 100_000
    data = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig"])))
    return draw(mutated(data)) if rare(draw, 2) else data


@fuzz("polisen")
@given(data=or_noise(police_files(), b"["),
       kind=st.sampled_from(["incident", "incident", "incident", "finding"]))
def test_fuzz_police_json(folder: Path, data: bytes, kind: str) -> None:
    check_read(folder, "fuzz.json", data, kind)


def test_the_fuzz_runs_at_least_2000_cases() -> None:
    assert sum(CASES.values()) >= 2000
    assert set(CASES) == {"csv", "xlsx", "geojson", "kml", "gpx", "gpkg", "shapefile", "kmz", "polisen"}
