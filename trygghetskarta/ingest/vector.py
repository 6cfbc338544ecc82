"""GeoJSON, TopoJSON, GeoPackage and zipped Shapefile through pyogrio (GDAL)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from shapely.errors import GEOSException

from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest.limits import open_zip
from trygghetskarta.ingest.table import RawTable

_GDAL_ERRORS = (DataSourceError, DataLayerError, GEOSException, RuntimeError, ValueError,
                OSError, TypeError, KeyError, IndexError)


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
    """Read the first layer of a vector file (a zipped Shapefile is read inside the archive)."""
    source = str(path)
    warn: list[str] = []
    if fmt == "shapefile":
        with open_zip(path) as archive:
            shps = [n for n in archive.namelist() if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
        if not shps:
            msg = f"{file}: the zip holds no .shp file"
            raise ValidationError(msg)
        if len(shps) > 1:
            warn.append(f"{file}: {len(shps)} shapefiles in the archive; read {shps[0]!r} only")
        source = f"/vsizip/{path}/{shps[0]}"
    layers = _layers(source, file)
    if len(layers) > 1:
        warn.append(f"{file}: {len(layers)} layers ({', '.join(layers[:5])}); read {layers[0]!r} only")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = pyogrio.read_dataframe(source, layer=layers[0], on_invalid="ignore")
    except _GDAL_ERRORS as exc:
        msg = f"{file}: cannot read layer {layers[0]!r} ({exc})"
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
