"""``read_file``: parse and validate a file for one record kind, without writing anything."""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from trygghetskarta import gdalsafe, records, schema, settings
from trygghetskarta.errors import TrygghetskartaError, ValidationError
from trygghetskarta.ingest import limits, sandbox
from trygghetskarta.ingest.boundary import municipality as resolve_municipality
from trygghetskarta.ingest.crs import CrsDecision, detect_crs, normalise_crs, sample_xy, transform_geometries
from trygghetskarta.ingest.fields import SUPPORTED_KINDS, map_fields
from trygghetskarta.ingest.polisen import apply_profile, table_from_api_json
from trygghetskarta.ingest.table import RawTable, RejectionReport
from trygghetskarta.ingest.tabular import frame_from_csv, frame_from_xlsx, points_from_columns
from trygghetskarta.ingest.validate import GeometryCheck, check_geometries
from trygghetskarta.ingest.vector import table_from_vector
from trygghetskarta.ingest.xmlformats import table_from_gpx, table_from_kml, table_from_kmz

REJECTION_COLUMNS = ("source_row", "column", "value", "reason")
FORMATS_BY_SUFFIX = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".geojson": "geojson",
    ".topojson": "geojson", ".json": "json", ".gpkg": "gpkg", ".zip": "zip", ".kml": "kml", ".kmz": "kmz",
    ".gpx": "gpx",
}


@dataclass
class ImportPlan(RejectionReport):
    """What an import would write (``accepted``, EPSG:4326) and refuse (``rejected``), and why."""

    path: Path
    kind: str
    format: str
    accepted: gpd.GeoDataFrame
    rejected: pd.DataFrame
    detected_crs: str | None
    crs_note: str
    masked: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    total_rows: int = 0


def detect_format(path: Path, head: bytes) -> str:
    """The format of a file, from its suffix and, where that is unclear, its first bytes."""
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if fmt == "json" or (fmt is None and stripped[:1] in (b"{", b"[")):
        return "polisen_json" if stripped[:1] == b"[" else "geojson"
    if fmt == "zip" or (fmt is None and head.startswith(b"PK")):
        import zipfile

        with limits.open_zip(path) as archive:
            names = [n.lower() for n in archive.namelist()]
        if "xl/workbook.xml" in names:
            return "xlsx"
        if any(n.endswith(".kml") for n in names):
            return "kmz"
        if any(n.endswith(".shp") for n in names):
            return "shapefile"
        if any(n.endswith((".csv", ".geojson", ".gpkg")) for n in names):
            msg = f"{path.name}: a zip archive is read only when it holds a Shapefile; unzip it first"
            raise ValidationError(msg)
        del zipfile
        msg = f"{path.name}: the zip archive holds no Shapefile (.shp), KML or workbook"
        raise ValidationError(msg)
    if fmt is not None:
        return fmt
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if stripped[:1] == b"<":
        return "gpx" if b"<gpx" in head else "kml"
    return "csv"


def frame_from_table_file(path: Path, name: str, what: str) -> pd.DataFrame:
    """A filled-in CSV or XLSX template (the EST weekly report, the trygghetsmätning) as text columns, within the
    size and row limits; any other format is refused with ``what`` (e.g. "an EST report is a CSV or XLSX file
    (the template)")."""
    limits.check_file_size(path)
    with path.open("rb") as handle:
        head = handle.read(4096)
    fmt = detect_format(path, head)
    if fmt == "csv":
        frame = frame_from_csv(path.read_bytes(), name)
    elif fmt == "xlsx":
        frame = frame_from_xlsx(path, name)
    else:
        msg = f"{name}: {what}, not {fmt}"
        raise ValidationError(msg)
    limits.check_rows(len(frame), name)
    return frame


def _read_table(path: Path, fmt: str, kind: str) -> RawTable:
    file = path.name
    if fmt == "csv":
        return points_from_columns(frame_from_csv(path.read_bytes(), file), file, "csv")
    if fmt == "xlsx":
        return points_from_columns(frame_from_xlsx(path, file), file, "xlsx")
    if fmt == "polisen_json":
        return table_from_api_json(path.read_bytes(), file)
    if fmt in ("geojson", "gpkg", "shapefile"):
        return table_from_vector(path, fmt, file)
    if fmt == "kml":
        return table_from_kml(path.read_bytes(), file)
    if fmt == "kmz":
        return table_from_kmz(path, file)
    if fmt == "gpx":
        return table_from_gpx(path.read_bytes(), file, lines=kind in ("walk", "nightwalk"))
    msg = f"{file}: unsupported format {fmt!r}"
    raise ValidationError(msg)


def content_ids(kind: str, values: pd.DataFrame, geoms: np.ndarray) -> pd.Series:
    """A deterministic external id from a row's content (not its file or position in the file)."""
    parts = [pd.Series([kind] * len(values), index=values.index, dtype=object)]
    for f in records.FIELDS[kind]:
        if f.name in ("external_id",):
            continue
        col = values[f.name]
        parts.append(col.astype(object).where(col.notna().to_numpy(), "").astype(str))
    wkt = shapely.to_wkt(geoms, rounding_precision=7, trim=True) if len(geoms) else np.empty(0, dtype=object)
    parts.append(pd.Series(wkt, index=values.index, dtype=object).fillna(""))
    joined = parts[0].str.cat(parts[1:], sep="\x1f")
    # identical rows are distinct records (e.g. two crimes at one privacy-snapped point in one month):
    # the k-th copy gets k in its hash, so a re-import still matches each copy to itself
    nth = joined.groupby(joined, sort=False).cumcount()
    joined = joined.where(nth == 0, joined + "\x1f#" + nth.astype(str))
    return joined.map(lambda s: "sha256:" + hashlib.sha256(s.encode("utf-8")).hexdigest()[:32])


def read_file(
    path: str | Path,
    kind: str,
    *,
    crs: object = None,
    municipality: object = None,
    defaults: dict[str, object] | None = None,
) -> ImportPlan:
    """Parse and validate ``path`` as records of ``kind`` without writing anything.

    ``crs`` overrides the file's own CRS (it is still checked for mislabelling); ``municipality`` is a
    kommunkod, a GeoDataFrame or a shapely geometry (default: the ``kommunkod`` setting); ``defaults``
    gives values for fields the file has no column for (e.g. ``{"category": "ovrigt"}``).
    """
    path = Path(path)
    file = path.name
    _check_arguments(kind, defaults, file)
    limits.check_file_size(path)
    return sandbox.run(read_here, gdalsafe.source_path(path, file), kind, crs=crs, municipality=municipality,
                       defaults=defaults, file=file)


def _check_arguments(kind: str, defaults: dict[str, object] | None, file: str) -> None:
    if kind not in SUPPORTED_KINDS:
        msg = f"{file}: cannot import kind {kind!r}; choose one of {', '.join(SUPPORTED_KINDS)}"
        raise ValidationError(msg)
    unknown_defaults = set(defaults or {}) - set(records.field_names(kind))
    if unknown_defaults:
        msg = f"defaults for unknown fields of {kind}: {', '.join(sorted(unknown_defaults))}"
        raise ValidationError(msg)


def read_here(
    path: str | Path,
    kind: str,
    *,
    crs: object = None,
    municipality: object = None,
    defaults: dict[str, object] | None = None,
) -> ImportPlan:
    """``read_file`` in this process, without the time and memory budget (the sandbox's child runs this)."""
    path = Path(path)
    file = path.name
    _check_arguments(kind, defaults, file)
    defaults = dict(defaults or {})
    user_crs = normalise_crs(crs) if crs is not None else None
    limits.check_file_size(path)
    with path.open("rb") as handle:
        head = handle.read(4096)
    fmt = detect_format(path, head)
    table = _read_table(path, fmt, kind)
    limits.check_rows(len(table.frame), file)
    if fmt == "polisen_json" and kind != "incident":
        msg = f"{file}: police events import as --kind incident, not {kind}"
        raise ValidationError(msg)
    apply_profile(table, kind)
    warnings = list(table.warnings)
    decision, check = _place(table, kind, user_crs, municipality, file, warnings)
    mapping = map_fields(table, kind, defaults, file)
    warnings.extend(mapping.warnings)
    rows = table.source_rows
    rejections = list(mapping.rejections)
    bad_geom = np.flatnonzero(~check.ok)
    rejections.extend((int(rows[i]), "geometry", _geometry_value(table.geoms[i]), str(check.reasons[i]))
                      for i in bad_geom)
    rejected_rows = {r[0] for r in rejections}
    keep = ~np.isin(rows, np.fromiter(rejected_rows, dtype=int, count=len(rejected_rows)))
    values, kept_geoms, kept_rows = _one_per_record(kind, mapping.values[keep].reset_index(drop=True),
                                                    check.geoms[keep], rows[keep], rejections)
    columns = records.field_names(kind)
    accepted = gpd.GeoDataFrame(values[columns], geometry=gpd.GeoSeries(kept_geoms, crs=schema.CRS_STORE),
                                crs=schema.CRS_STORE)
    accepted["source_row"] = kept_rows.astype("int64")
    rejected = pd.DataFrame(rejections, columns=list(REJECTION_COLUMNS))
    rejected = rejected.sort_values("source_row", kind="stable").reset_index(drop=True)
    rejected["source_row"] = rejected["source_row"].astype("int64")
    return ImportPlan(path, kind, fmt, accepted, rejected, decision.crs, decision.note, mapping.masked, warnings,
                      len(table.frame))


def _place(table: RawTable, kind: str, user_crs: str | None, municipality: object, file: str,
           warnings: list[str]) -> tuple[CrsDecision, GeometryCheck]:
    """The file's CRS (the user's, else the declared one, checked against the coordinates) and its geometries
    in EPSG:4326, each checked (type, validity, within the municipality and its buffer)."""
    muni = resolve_municipality(municipality)
    declared = user_crs or table.declared_crs
    if user_crs and table.declared_crs and user_crs != table.declared_crs:
        warnings.append(f"{file}: the file declares {table.declared_crs}; using {user_crs} as asked")
    x, y = sample_xy(table.geoms)
    decision = detect_crs(x, y, declared=declared, municipality_3006=muni.geom_3006, municipality_name=muni.name,
                          file=file, geographic_names=table.geographic_names)
    if decision.mislabelled:
        warnings.append(f"{file}: {decision.note}")
    geoms = table.geoms
    present = ~shapely.is_missing(geoms)
    geoms_4326 = geoms.copy()
    if present.any():
        geoms_4326[present] = transform_geometries(geoms[present], decision.crs, schema.CRS_STORE,
                                                   swapped=decision.swapped)
    check = check_geometries(geoms_4326, kind, muni, float(settings.get("boundary_buffer_m")),
                             table.missing_reasons)
    return decision, check


def _one_per_record(kind: str, values: pd.DataFrame, geoms: np.ndarray, rows: np.ndarray,
                    rejections: list[tuple[int, str, str, str]]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The accepted rows with an external id each (a content id where the file has none) and without a second
    row of the same record (rejected, naming the first)."""
    if not len(values):
        return values, geoms, rows
    missing_id = values["external_id"].isna().to_numpy()
    if missing_id.any():
        ids = content_ids(kind, values[missing_id], geoms[missing_id])
        values.loc[missing_id, "external_id"] = ids.to_numpy()
    dup = values["external_id"].duplicated(keep="first").to_numpy()
    if not dup.any():
        return values, geoms, rows
    first = dict(zip(values["external_id"][~dup], rows[~dup], strict=True))
    rejections.extend((int(rows[i]), "external_id", str(values["external_id"].iloc[i]),
                       f"same record as row {first[values['external_id'].iloc[i]]} of this file")
                      for i in np.flatnonzero(dup))
    return values[~dup].reset_index(drop=True), geoms[~dup], rows[~dup]


def _geometry_value(geom: BaseGeometry | None) -> str:
    if geom is None:
        return ""
    text = shapely.to_wkt(geom, rounding_precision=7, trim=True)
    return text if len(text) <= 120 else text[:117] + "..."


def warm_up() -> None:
    """Read one small file here, so the lazy imports, the CRS database and the default kommun's boundary are
    loaded once in the server and shared by every forked child instead of loaded again by each."""
    with tempfile.TemporaryDirectory(prefix="tk-warm-") as folder:
        sample = Path(folder) / "warm.csv"
        sample.write_text("kategori,datum,lat,lon\nklotter,2026-08-22 21:30,59.4907,17.7523\n", encoding="utf-8")
        with contextlib.suppress(TrygghetskartaError):
            read_here(sample, "finding")
