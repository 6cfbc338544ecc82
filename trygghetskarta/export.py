"""Exports of stored records as GeoPackage, GeoJSON or CSV, in EPSG:4326 or EPSG:3006.

What a viewer gets is what the store lets that viewer read. CSV cells that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are neutralised with a leading
apostrophe; the CSV carries WKT geometry plus lon/lat (or x/y in EPSG:3006) so it imports back losslessly.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from trygghetskarta import access, records, schema
from trygghetskarta.access import Viewer
from trygghetskarta.csvsafe import neutralise_frame, safe_csv_cell  # noqa: F401 - export.safe_csv_cell is public
from trygghetskarta.errors import PermissionDeniedError, ValidationError
from trygghetskarta.store import Store

FORMATS = ("gpkg", "geojson", "csv")
EXPORT_KINDS = ("finding", "sighting", "incident", "area", "walk", "action", "nightwalk")
# Internal columns that never leave the store.
_DROP = ("geom",)


def frame_for_export(store: Store, kind: str, viewer: Viewer | None = None, start: Any = None, end: Any = None,
                     srid: int = schema.SRID_STORE) -> gpd.GeoDataFrame:
    """The records of ``kind`` the viewer may see, ready to write (in ``srid``)."""
    if kind not in EXPORT_KINDS:
        msg = f"unknown kind {kind!r}; allowed: {', '.join(EXPORT_KINDS)}"
        raise ValidationError(msg)
    if srid not in schema.EXPORT_CRS:
        msg = f"--crs must be one of {', '.join(map(str, schema.EXPORT_CRS))}, got {srid}"
        raise ValidationError(msg)
    pol = access.policy(viewer, kind)
    if pol.mode == "none":
        msg = f"role {viewer.role if viewer else 'admin'} may not export {kind} records"
        raise PermissionDeniedError(msg)
    if pol.mode == "aggregate":
        from trygghetskarta import privacy

        # Area sums of published cells over whole ISO weeks, with the weeks they cover (SECURITY.md).
        totals = privacy.sighting_area_totals(store, viewer, start=start, end=end)
        window = privacy.publication_periods(start, end)
        totals["published_from"] = window.start.isoformat() if window.start else ""
        totals["published_to"] = window.end.isoformat() if window.end else ""
        areas = store.areas()[["id", "geometry"]].rename(columns={"id": "area_id"})
        gdf = gpd.GeoDataFrame(totals.merge(areas, on="area_id", how="left"), geometry="geometry",
                               crs=schema.CRS_STORE)
    else:
        gdf = store.read(kind, viewer, start=start, end=end)
    gdf = gdf.drop(columns=[c for c in _DROP if c in gdf])
    if srid != schema.SRID_STORE:
        gdf = gdf.to_crs(epsg=srid)
    return gdf


def write_frame(gdf: gpd.GeoDataFrame, fmt: str, out: Path, layer: str) -> Path:
    """Write one frame as GeoPackage (layer), GeoJSON or CSV (WKT + coordinates, formula-safe)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt not in FORMATS:
        msg = f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}"
        raise ValidationError(msg)
    plain = gdf.copy()
    for col in plain.columns:
        if plain[col].dtype == object and plain[col].map(lambda v: isinstance(v, dt.date)).any():
            plain[col] = plain[col].map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
    if fmt == "csv":
        frame = pd.DataFrame(plain.drop(columns=plain.geometry.name))
        metric = gdf.crs is not None and gdf.crs.to_epsg() == schema.SRID_METRIC
        pts = gdf.geometry.representative_point()
        frame["x" if metric else "lon"] = pts.x.round(2 if metric else 7)
        frame["y" if metric else "lat"] = pts.y.round(2 if metric else 7)
        frame = frame.drop(columns=[c for c in ("lon", "lat") if metric and c in frame])
        frame["wkt"] = gdf.geometry.to_wkt(rounding_precision=2 if metric else 7)
        frame["crs"] = f"EPSG:{gdf.crs.to_epsg()}" if gdf.crs is not None else ""
        neutralise_frame(frame).to_csv(out, index=False, encoding="utf-8")
        return out
    if fmt == "geojson":
        if out.exists():
            out.unlink()
        plain.to_file(out, driver="GeoJSON", engine="pyogrio")
        return out
    plain.to_file(out, driver="GPKG", layer=layer, engine="pyogrio")
    return out


def export_kind(store: Store, kind: str, fmt: str, out: Path, *, srid: int = schema.SRID_STORE,
                start: Any = None, end: Any = None, viewer: Viewer | None = None) -> int:
    """Export one kind to ``out``; returns the number of rows written. Logged in the audit log."""
    gdf = frame_for_export(store, kind, viewer, start, end, srid)
    write_frame(gdf, fmt, out, layer=kind)
    store.audit("export", viewer, kind, None, {"format": fmt, "rows": len(gdf), "crs": srid,
                                                "from": str(start or ""), "to": str(end or "")})
    return len(gdf)


def export_notes(kind: str, viewer: Viewer | None = None, start: Any = None, end: Any = None,
                 lang: str = "sv") -> list[str]:
    """What to tell the user next to an export: for figures a partner gets only on the publication grid,
    the rule and the whole ISO weeks the period was widened to (Swedish first)."""
    if kind not in EXPORT_KINDS or access.policy(viewer, kind).mode != "aggregate":
        return []
    from trygghetskarta import privacy

    return privacy.restricted_notes(start, end, lang=lang)


def record_columns(kind: str) -> list[str]:
    """Columns an export of ``kind`` carries, in order (for documentation and round-trip tests)."""
    return ["id", *records.field_names(kind)]
