"""GDAL, hardened once for the process: only the drivers the product reads and writes, no network, no VRT.

GDAL opens a file by its *content*, not its name: a ``.geojson`` that is really an ``OGRVRTDataSource`` can
point GDAL at any file on the server (``SrcDataSource``/``SrcSQL``), ``CSV:/etc/passwd`` reads a system file
and ``/vsicurl/http://…`` makes the server send requests. So, before any GDAL read:

- every vector driver except the four below is deregistered (``GDAL_SKIP``), so no content can select VRT,
  GDALG, CSV, SQLite, the network drivers (WFS, OAPIF, HTTP, …) or any other;
- network access through ``/vsicurl`` and friends is refused (``CPL_VSIL_CURL_ALLOWED_EXTENSIONS`` matches
  nothing; zero retries, one-second time-outs should anything still try);
- SQLite-based files may not reach outside themselves (``OGR_SQLITE_ALLOW_EXTERNAL_ACCESS=NO``), VRT Python
  pixel functions are off, and a directory is never listed when a file is opened.

``source_path`` refuses every path GDAL would treat specially (``/vsi…`` prefixes, ``DRIVER:`` connection
strings) for files that come from users. The import itself reads files in a separate process with a time and
memory budget (``trygghetskarta.ingest.sandbox``); this module is what both processes share.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from pathlib import Path

from trygghetskarta.errors import ValidationError

# The only GDAL vector drivers the product needs: import (GeoJSON, TopoJSON, GeoPackage, zipped Shapefile)
# and export (GeoPackage, GeoJSON). MEM opens no files; it is GDAL's in-memory scratch driver.
ALLOWED_DRIVERS = frozenset({"GeoJSON", "TopoJSON", "GPKG", "ESRI Shapefile", "MEM"})

# Set for every GDAL call of the process (as environment variables too, so child processes inherit them).
CONFIG: dict[str, str] = {
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".trygghetskarta-no-network",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "GDAL_ENABLE_DEPRECATED_DRIVER_OGR_VRT": "NO",
    "CPL_DEBUG": "OFF",
}
# GDAL_SKIP cannot name a driver whose name holds a space. "MapInfo File" is the one such driver besides
# "ESRI Shapefile"; it recognises files only by a .tab/.mif/.mid name, which the import never hands to GDAL.
UNSKIPPABLE = frozenset({"MapInfo File"})
# Never let these raster/vector drivers stay registered, even if a GDAL build lists them only as raster.
ALWAYS_SKIP = ("VRT", "OGR_VRT", "GDALG", "CSV", "SQLite", "HTTP", "WFS", "OAPIF", "OGCAPI", "CSW", "WMS",
               "WMTS", "DAAS", "PLSCENES", "EEDA", "Carto", "AmigoCloud", "NGW", "Elasticsearch", "ADBC",
               "GPSBabel")

_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_]*:")
_lock = threading.Lock()
_done: list[bool] = []  # one True once this process is hardened


def harden() -> None:
    """Apply the restrictions to this process (idempotent and cheap after the first call)."""
    if _done:
        return
    with _lock:
        if _done:
            return
        import pyogrio
        from pyogrio._ogr import _register_drivers

        # A process started by a hardened one inherits GDAL_SKIP, so some drivers are already gone: register
        # them all again first, so the skip list names every driver this GDAL has, not only those left.
        os.environ.pop("GDAL_SKIP", None)
        pyogrio.set_gdal_config_options({"GDAL_SKIP": None})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _register_drivers()
        skip = sorted((set(pyogrio.list_drivers()) - ALLOWED_DRIVERS - UNSKIPPABLE) | set(ALWAYS_SKIP))
        options = {**CONFIG, "GDAL_SKIP": " ".join(skip)}
        os.environ.update(options)
        pyogrio.set_gdal_config_options(options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "unable to find driver X to unload": X is not in this build
            _register_drivers()  # GDALAllRegister ends by deregistering every driver named in GDAL_SKIP
        left = set(pyogrio.list_drivers()) - ALLOWED_DRIVERS - UNSKIPPABLE
        if left:  # fail closed: never read a user's file with more drivers than intended
            msg = f"GDAL could not be restricted to {sorted(ALLOWED_DRIVERS)}; still registered: {sorted(left)}"
            raise RuntimeError(msg)
        _done.append(True)


def registered_drivers() -> set[str]:
    """The GDAL vector drivers this process can open files with (after ``harden``)."""
    harden()
    import pyogrio

    return set(pyogrio.list_drivers())


def source_path(path: Path, file: str) -> str:
    """The path GDAL may open for a user's file: a real, local, regular file named plainly.

    ``/vsi…`` virtual file systems, ``DRIVER:…`` connection strings and anything that is not a regular file
    are refused, so a name can never make GDAL read something other than the uploaded bytes.
    """
    text = str(path)
    if text.startswith("/vsi") or _PREFIX.match(text) or "\x00" in text:
        msg = f"{file}: refused: the path {text!r} names a GDAL virtual file system or connection, not a file"
        raise ValidationError(msg)
    resolved = Path(text).resolve()
    if not resolved.is_file():
        msg = f"{file}: no such file"
        raise ValidationError(msg)
    return str(resolved)
