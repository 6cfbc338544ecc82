"""The data behind a lägesbild as GeoPackage, GeoJSON or CSV (EPSG:4326 or 3006), and the CLI entry.

Layers: ``omraden`` (area status and counts), ``nyckeltal`` (key figures, no geometry), ``topplatser``,
``fynd``, ``handelser`` (precisely placed incidents), ``atgarder`` (open actions) and, for the internal
audience only, ``faltobservationer``. The partner export carries no field-sighting point and every
count under k is empty with its ``*_display`` text (``<k``). CSV cells are made formula-safe by
``csvsafe.neutralise_frame``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from trygghetskarta import schema
from trygghetskarta.errors import TrygghetskartaError, ValidationError
from trygghetskarta.lagesbild.report import WINDOWS, Lagesbild
from trygghetskarta.progress import Progress

if TYPE_CHECKING:
    from trygghetskarta.store import Store

EXPORT_FORMATS: tuple[str, ...] = ("gpkg", "geojson", "csv")
_RECORD_COLUMNS = {
    "fynd": ["id", "category", "severity", "positive", "status", "responsible", "reported_at", "walk_id", "area_id"],
    "handelser": ["id", "source", "type", "occurred_at", "precision", "owner_org", "area_id"],
    "faltobservationer": ["id", "type", "group_size", "age_band", "observed_at", "area_id"],
}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns a GIS reads: dates/times as ISO text, nullable numbers kept, lists joined."""
    out = frame.copy()
    for col in out.columns:
        if col == "geometry":
            continue
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S%z")
        elif out[col].map(lambda v: isinstance(v, dt.date | list)).any():
            out[col] = out[col].map(lambda v: v.isoformat() if isinstance(v, dt.date)
                                    else ", ".join(map(str, v)) if isinstance(v, list) else v)
    return out


def lagesbild_layers(report: Lagesbild, srid: int = schema.SRID_STORE) -> dict[str, pd.DataFrame]:
    """The report's data as named layers (GeoDataFrames in ``srid``; ``nyckeltal`` is a plain table)."""
    if srid not in schema.EXPORT_CRS:
        msg = f"--crs must be one of {', '.join(map(str, schema.EXPORT_CRS))}, got {srid}"
        raise ValidationError(msg)
    figures = report.area_figures
    # dropna=False keeps a column whose counts are all hidden (e.g. every partner sighting figure "<k").
    wide = figures.pivot_table(index="area_id", columns="kind", values=list(WINDOWS), aggfunc="first", dropna=False)
    wide.columns = [f"{kind}_{window}" for window, kind in wide.columns]
    shown = figures.pivot_table(index="area_id", columns="kind", values=[f"{w}_display" for w in WINDOWS],
                                aggfunc="first")
    shown.columns = [f"{kind}_{window}" for window, kind in shown.columns]
    status = report.area_status.drop(columns=[c for c in report.area_status if c.endswith("_level")
                                              and c != "level"])
    areas = status.merge(wide.reset_index(), on="area_id", how="left").merge(shown.reset_index(), on="area_id",
                                                                              how="left")
    layers: dict[str, pd.DataFrame] = {
        "omraden": gpd.GeoDataFrame(_plain(areas), geometry="geometry", crs=schema.CRS_STORE),
        "nyckeltal": _plain(pd.concat([report.kind_totals.assign(group="", group_label=""), report.key_figures],
                                      ignore_index=True).drop(columns=["suppressed"], errors="ignore")),
        "topplatser": gpd.GeoDataFrame(_plain(report.top_places), geometry="geometry", crs=schema.CRS_STORE),
        "fynd": _records(report.findings, "fynd", report.lang),
        "handelser": _records(report.incidents, "handelser", report.lang),
    }
    actions = report.open_actions.copy()
    layers["atgarder"] = _plain(actions)
    if report.audience == "intern" and report.sightings is not None:
        layers["faltobservationer"] = _records(report.sightings, "faltobservationer", report.lang)
    if srid != schema.SRID_STORE:
        layers = {name: (frame.to_crs(epsg=srid) if isinstance(frame, gpd.GeoDataFrame) else frame)
                  for name, frame in layers.items()}
    return layers


def _records(gdf: gpd.GeoDataFrame, layer: str, lang: str) -> gpd.GeoDataFrame:
    cols = [c for c in _RECORD_COLUMNS[layer] if c in gdf]
    out = gpd.GeoDataFrame(_plain(pd.DataFrame(gdf[cols])), geometry=gdf.geometry.to_numpy(), crs=schema.CRS_STORE)
    vocab = {"category": "category", "type": "incident_type" if layer == "handelser" else "sighting_type",
             "status": "status", "source": "incident_source"}
    for col, voc in vocab.items():
        if col in out:
            out[f"{col}_label"] = out[col].map(lambda k, v=voc: schema.label(v, k, lang))
    return out


def export_lagesbild(report: Lagesbild, out: Path | str, fmt: str | None = None, srid: int = schema.SRID_STORE,
                     progress: Progress | None = None) -> list[Path]:
    """Write the report's data: a GeoPackage with one layer per table, or one GeoJSON/CSV file per layer
    (``<stem>_<layer>.<ext>``; GeoJSON only for the layers with geometry). Returns the files written."""
    from trygghetskarta.csvsafe import neutralise_frame

    say = progress or (lambda _f, _m: None)
    out = Path(out)
    fmt = fmt or out.suffix.lstrip(".").lower()
    if fmt not in EXPORT_FORMATS:
        msg = f"unknown export format {fmt!r} for {out.name}; allowed: {', '.join(EXPORT_FORMATS)}"
        raise ValidationError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    layers = lagesbild_layers(report, srid)
    written: list[Path] = []
    if fmt == "gpkg" and out.exists():
        out.unlink()
    for i, (name, frame) in enumerate(layers.items()):
        say(i / len(layers), name)
        spatial = isinstance(frame, gpd.GeoDataFrame)
        if fmt == "gpkg":
            import pyogrio

            pyogrio.write_dataframe(frame, out, layer=name, driver="GPKG", append=out.exists())
            if out not in written:
                written.append(out)
        elif fmt == "geojson":
            if not spatial:
                continue
            target = out.with_name(f"{out.stem}_{name}.geojson")
            target.unlink(missing_ok=True)
            frame.to_file(target, driver="GeoJSON", engine="pyogrio")
            written.append(target)
        else:
            target = out.with_name(f"{out.stem}_{name}.csv")
            plain = pd.DataFrame(frame.drop(columns="geometry")) if spatial else pd.DataFrame(frame)
            if spatial:
                metric = frame.crs is not None and frame.crs.to_epsg() == schema.SRID_METRIC
                pts = frame.geometry.representative_point()
                plain["x" if metric else "lon_wgs84"] = pts.x.round(2 if metric else 7)
                plain["y" if metric else "lat_wgs84"] = pts.y.round(2 if metric else 7)
                plain["wkt"] = frame.geometry.to_wkt(rounding_precision=2 if metric else 7)
                plain["crs"] = f"EPSG:{frame.crs.to_epsg()}"
            neutralise_frame(plain).to_csv(target, index=False, encoding="utf-8")
            written.append(target)
    say(1.0, "klart")
    return written


def cli_lagesbild(store: Store, start: dt.date | str, end: dt.date | str, area: str | None = None,
                  audience: str = "intern", out: Path | str = Path("lagesbild.html"),
                  progress: Progress | None = None, **_: Any) -> int:
    """``trygghetskarta lagesbild``: build and write the lägesbild; the format follows ``out``'s suffix
    (.html, .pdf, .gpkg, .geojson, .csv). Returns the exit status (1 with one line on stderr on a user error)."""
    from trygghetskarta.lagesbild.periods import period_from_bounds
    from trygghetskarta.lagesbild.render import lagesbild_html, lagesbild_pdf
    from trygghetskarta.lagesbild.report import build_lagesbild

    out = Path(out)
    try:
        suffix = out.suffix.lower()
        if suffix not in (".html", ".pdf", ".gpkg", ".geojson", ".csv"):
            msg = f"--out {out}: use a .html, .pdf or .gpkg file (or .geojson/.csv for the data)"
            raise ValidationError(msg)
        period = period_from_bounds(start, end)
        area_ids = [store.area_id_by_name(area)] if area else None
        report = build_lagesbild(store, period, audience=audience, area_ids=area_ids, progress=progress)
        if suffix == ".html":
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(lagesbild_html(report), encoding="utf-8")
        elif suffix == ".pdf":
            lagesbild_pdf(report, out)
        else:
            export_lagesbild(report, out)
        store.audit("lagesbild", None, None, None, {"from": str(period.start), "to": str(period.end),
                                                    "audience": audience, "area": area or "", "out": out.name})
        if audience == "partner":  # what the partner figures cover (whole ISO weeks), in Swedish first
            from trygghetskarta import privacy

            for note in privacy.restricted_notes(period.start, period.end, k=report.k, lang=report.lang):
                print(note)
    except TrygghetskartaError as exc:
        print(f"trygghetskarta lagesbild: {exc}", file=sys.stderr)
        return 1
    return 0
