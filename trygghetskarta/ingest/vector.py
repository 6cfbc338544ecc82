"""GeoJSON, TopoJSON, GeoPackage and zipped Shapefile through pyogrio (GDAL), opened only as what they claim.

GDAL picks a driver by a file's content. So before GDAL sees an upload, the bytes must be what the declared
format says (``check_magic``): a JSON object for GeoJSON/TopoJSON, an SQLite database with the GeoPackage
tables for a GeoPackage, a Shapefile header for the ``.shp`` of an archive. GDAL itself runs with only those
drivers registered and no network (``trygghetskarta.gdalsafe``). A GeoPackage is read only from its real
tables (``gpkg_contents`` rows of type ``features``/``attributes`` backed by a table, never a view), and a
zipped Shapefile is unpacked (within the archive limits) into a private folder instead of read through
``/vsizip``. The import runs in a child process with a time and memory budget (``ingest.sandbox``).
"""

from __future__ import annotations

import sqlite3
import tempfile
import warnings
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from shapely.errors import GEOSException

from trygghetskarta import gdalsafe
from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest.limits import open_zip, read_member
from trygghetskarta.ingest.table import RawTable

_GDAL_ERRORS = (DataSourceError, DataLayerError, GEOSException, RuntimeError, ValueError,
                OSError, TypeError, KeyError, IndexError)
_SQLITE_HEADER = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11", b"\x00\x00\x00\x00")
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_FORMAT_NAMES = {"geojson": "GeoJSON", "gpkg": "GeoPackage", "shapefile": "Shapefile"}


def check_magic(head: bytes, fmt: str, file: str) -> None:
    """Refuse a file whose first bytes are not those of the declared vector format."""
    ok = True
    if fmt == "geojson":
        ok = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"
    elif fmt == "gpkg":
        ok = head.startswith(_SQLITE_HEADER) and head[68:72] in _GPKG_APPLICATION_IDS
    elif fmt == "shapefile":
        ok = head.startswith(_SHP_MAGIC)
    if not ok:
        msg = (f"{file}: refused: the content is not a {_FORMAT_NAMES.get(fmt, fmt)} file although its name says "
               f"so (first bytes {head[:16]!r})")
        raise ValidationError(msg)


def gpkg_layers(path: Path, file: str) -> list[str]:
    """The GeoPackage's readable layers: ``gpkg_contents`` entries that are real tables, in file order.

    Read with Python's sqlite3, read-only, with no schema-defined SQL functions trusted, so nothing in the
    file (views, triggers) runs. A layer that is a view is refused by name.
    """
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        msg = f"{file}: cannot open as a GeoPackage ({exc})"
        raise ValidationError(msg) from None
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA query_only = ON")
        objects = dict(conn.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')"))
        if "gpkg_contents" not in objects:
            msg = f"{file}: not a GeoPackage (it has no gpkg_contents table)"
            raise ValidationError(msg)
        contents = conn.execute("SELECT table_name, data_type FROM gpkg_contents ORDER BY rowid").fetchall()
    except sqlite3.Error as exc:
        msg = f"{file}: cannot read the GeoPackage's table of contents ({exc})"
        raise ValidationError(msg) from None
    finally:
        conn.close()
    layers, views = [], []
    for name, data_type in contents:
        if str(data_type) not in ("features", "attributes"):
            continue
        if objects.get(name) == "table":
            layers.append(str(name))
        elif objects.get(name) == "view":
            views.append(str(name))
    if not layers:
        reason = f"; layers that are views are not read ({', '.join(views[:5])})" if views else ""
        msg = f"{file}: holds no layer with features or attributes{reason}"
        raise ValidationError(msg)
    return layers


def _extract_shapefile(path: Path, folder: Path, file: str) -> tuple[Path, list[str]]:
    """Unpack the archive's first Shapefile (its .shp and sidecar files only) into ``folder``."""
    warn: list[str] = []
    with open_zip(path) as archive:
        names = [n for n in archive.namelist()
                 if not n.endswith("/") and not n.startswith("__MACOSX") and "/." not in "/" + n]
        shps = [n for n in names if n.lower().endswith(".shp")]
        if not shps:
            msg = f"{file}: the zip holds no .shp file"
            raise ValidationError(msg)
        if len(shps) > 1:
            warn.append(f"{file}: {len(shps)} shapefiles in the archive; read {shps[0]!r} only")
        stem = shps[0][:-4]
        for name in names:
            suffix = PurePosixPath(name).suffix.lower()
            if name[: -len(suffix) or None] == stem and suffix in _SHAPEFILE_PARTS:
                # a fixed, plain name in our own folder: the member's path never decides where bytes go
                (folder / f"layer{suffix}").write_bytes(read_member(archive, name, file))
    shp = folder / "layer.shp"
    with shp.open("rb") as fh:
        check_magic(fh.read(100), "shapefile", f"{file}: {shps[0]}")
    return shp, warn


def _layers(source: str, file: str) -> list[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL's notes on a broken file; the error below says enough
            info = pyogrio.list_layers(source)
    except _GDAL_ERRORS as exc:
        msg = f"{file}: cannot open as a geodata file ({exc})"
        raise ValidationError(msg) from None
    if len(info) == 0:
        msg = f"{file}: holds no layers"
        raise ValidationError(msg)
    return [str(name) for name in info[:, 0]]


def table_from_vector(path: Path, fmt: str, file: str) -> RawTable:
    """Read the first layer of a vector file (a zipped Shapefile is read from its unpacked parts)."""
    gdalsafe.harden()
    if fmt == "shapefile":
        with tempfile.TemporaryDirectory(prefix="tk-shp-") as folder:
            shp, warn = _extract_shapefile(path, Path(folder), file)
            return _read_layer(str(shp), fmt, file, warn, None)
    source = gdalsafe.source_path(path, file)
    with Path(source).open("rb") as fh:
        check_magic(fh.read(100), fmt, file)
    layers = gpkg_layers(Path(source), file) if fmt == "gpkg" else _layers(source, file)
    warn = [f"{file}: {len(layers)} layers ({', '.join(layers[:5])}); read {layers[0]!r} only"] if len(layers) > 1 \
        else []
    return _read_layer(source, fmt, file, warn, layers[0])


def _read_layer(source: str, fmt: str, file: str, warn: list[str], layer: str | None) -> RawTable:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = pyogrio.read_dataframe(source, layer=layer, on_invalid="ignore")
    except _GDAL_ERRORS as exc:
        msg = f"{file}: cannot read layer {layer or 1!r} ({exc})"
        raise ValidationError(msg) from None
    warn.extend(f"{file}: {w.message}" for w in caught)
    geoms = np.asarray(frame.geometry.array, dtype=object) if "geometry" in frame.columns else \
        np.full(len(frame), None, dtype=object)
    declared = None
    if getattr(frame, "crs", None) is not None:
        epsg = frame.crs.to_epsg(min_confidence=70)
        declared = f"EPSG:{epsg}" if epsg else frame.crs.to_wkt()
    attrs = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    rows = np.arange(len(frame)) + 1  # feature number
    reasons = np.full(len(frame), None, dtype=object)
    reasons[:] = "feature has no geometry, or one that cannot be read (e.g. a line with one point)"
    return RawTable(attrs.reset_index(drop=True), geoms, reasons, rows, fmt, declared_crs=declared,
                    geographic_names=True, warnings=warn)
