"""KML/KMZ and GPX, parsed with defusedxml (no entity expansion, no DTDs, no external references).

GPX: tracks and routes become lines (walk routes), waypoints become points (findings).
KML: every Placemark, with its name, description, time and ExtendedData fields.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
import numpy as np
import pandas as pd
import shapely
from defusedxml import DefusedXmlException
from shapely.geometry.base import BaseGeometry

from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest.limits import open_zip, read_member
from trygghetskarta.ingest.table import RawTable


def parse_xml(data: bytes, file: str) -> Element:
    """Parse untrusted XML; entity declarations and DTDs are refused."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        msg = (f"{file}: refused: the XML declares a DTD or entities ({type(exc).__name__}), "
               f"which could expand without limit")
        raise ValidationError(msg) from None
    except LookupError as exc:  # <?xml encoding="…"?> names an encoding Python does not know
        msg = f"{file}: the XML declares an unknown encoding {_declared_encoding(data)!r} ({exc}); save it as UTF-8"
        raise ValidationError(msg) from None
    except (ParseError, ValueError, UnicodeError, TypeError) as exc:
        msg = f"{file}: not well-formed XML ({exc})"
        raise ValidationError(msg) from None
    except RecursionError:
        msg = f"{file}: the XML is nested too deeply to read"
        raise ValidationError(msg) from None


def _declared_encoding(data: bytes) -> str:
    match = re.match(rb"\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']{0,60})", data[:512])
    return match.group(1).decode("ascii", "replace") if match else "?"


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(el: Element, name: str) -> Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name]


def _text(el: Element, name: str) -> str | None:
    c = _child(el, name)
    return c.text.strip() if c is not None and c.text and c.text.strip() else None


# --- GPX -----------------------------------------------------------------------------------------

def _gpx_point(el: Element) -> tuple[float, float] | None:
    try:
        lat, lon = float(el.get("lat", "")), float(el.get("lon", ""))
    except ValueError:
        return None
    return (lon, lat) if np.isfinite(lat) and np.isfinite(lon) else None


def table_from_gpx(data: bytes, file: str, *, lines: bool) -> RawTable:
    """Tracks and routes (``lines=True``) or waypoints of a GPX file."""
    root = parse_xml(data, file)
    if _local(root.tag) != "gpx":
        msg = f"{file}: not a GPX file (root element <{_local(root.tag)}>)"
        raise ValidationError(msg)
    records: list[dict[str, object]] = []
    geoms: list[BaseGeometry | None] = []
    reasons: list[str | None] = []
    if lines:
        for kind, seg_name, pt_name in (("trk", "trkseg", "trkpt"), ("rte", None, "rtept")):
            for i, el in enumerate(_children(root, kind), start=1):
                segs = _children(el, seg_name) if seg_name else [el]
                parts, first_time = [], None
                for seg in segs:
                    pts = [_gpx_point(p) for p in _children(seg, pt_name)]
                    good = [p for p in pts if p is not None]
                    if first_time is None:
                        first_time = next((_text(p, "time") for p in _children(seg, pt_name) if _text(p, "time")),
                                          None)
                    if len(good) >= 2:
                        parts.append(good)
                geom: BaseGeometry | None = None
                if len(parts) == 1:
                    geom = shapely.linestrings(parts[0])
                elif parts:
                    geom = shapely.multilinestrings([shapely.linestrings(p) for p in parts])
                records.append({"name": _text(el, "name") or f"{Path(file).stem} {kind} {i}",
                                "desc": _text(el, "desc") or _text(el, "cmt"), "time": first_time,
                                "type": _text(el, "type")})
                geoms.append(geom)
                reasons.append(None if geom else f"{kind} {i} has fewer than two valid points")
        what = "tracks or routes"
    else:
        for el in _children(root, "wpt"):
            point = _gpx_point(el)
            records.append({"name": _text(el, "name"), "desc": _text(el, "desc") or _text(el, "cmt"),
                            "time": _text(el, "time"), "type": _text(el, "type") or _text(el, "sym")})
            geoms.append(shapely.Point(point) if point else None)
            reasons.append(None if point else "waypoint lat/lon attributes missing or not numbers")
        what = "waypoints"
    if not records:
        hint = "; tracks import as --kind walk, waypoints as --kind finding"
        msg = f"{file}: the GPX file has no {what}{hint}"
        raise ValidationError(msg)
    frame = pd.DataFrame(records, columns=["name", "desc", "time", "type"], dtype=object)
    return RawTable(frame, np.array(geoms, dtype=object), np.array(reasons, dtype=object),
                    np.arange(len(records)) + 1, "gpx", declared_crs="EPSG:4326", geographic_names=True)


# --- KML -----------------------------------------------------------------------------------------

def _kml_coords(el: Element | None) -> list[tuple[float, float]]:
    if el is None:
        return []
    coords_el = next((c for c in el.iter() if _local(c.tag) == "coordinates"), None)
    if coords_el is None or not coords_el.text:
        return []
    out = []
    for token in coords_el.text.split():
        parts = token.split(",")
        try:
            x, y = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            return []
        if not (np.isfinite(x) and np.isfinite(y)):  # "nan", "inf": no position (as in a GPX point)
            return []
        out.append((x, y))
    return out


MAX_NESTING = 16  # MultiGeometry inside MultiGeometry: more levels than any real file has


class _TooDeepError(Exception):
    """A MultiGeometry nested more than ``MAX_NESTING`` levels deep."""


def _kml_geometry(el: Element, depth: int = 0) -> BaseGeometry | None:
    if depth > MAX_NESTING:
        raise _TooDeepError
    name = _local(el.tag)
    if name == "Point":
        c = _kml_coords(el)
        return shapely.Point(c[0]) if c else None
    if name == "LineString":
        c = _kml_coords(el)
        return shapely.LineString(c) if len(c) >= 2 else None
    if name == "Polygon":
        outer = _child(el, "outerBoundaryIs")
        shell = _kml_coords(outer)
        holes = [_kml_coords(h) for h in _children(el, "innerBoundaryIs")]
        if len(shell) < 4:
            return None
        return shapely.Polygon(shell, [h for h in holes if len(h) >= 4])
    if name == "MultiGeometry":
        parts = [g for g in (_kml_geometry(c, depth + 1) for c in el) if g is not None]
        if not parts:
            return None
        points = [p for p in parts if isinstance(p, shapely.Point)]
        if len(points) == len(parts):
            return shapely.MultiPoint(points)
        lines = [p for p in parts if isinstance(p, shapely.LineString)]
        if len(lines) == len(parts):
            return shapely.MultiLineString(lines)
        polygons = [p for p in parts if isinstance(p, shapely.Polygon)]
        if len(polygons) == len(parts):
            return shapely.MultiPolygon(polygons)
        return shapely.GeometryCollection(parts)
    return None


def table_from_kml(data: bytes, file: str) -> RawTable:
    """Every Placemark of a KML document."""
    root = parse_xml(data, file)
    if _local(root.tag) != "kml":
        msg = f"{file}: not a KML file (root element <{_local(root.tag)}>)"
        raise ValidationError(msg)
    records: list[dict[str, object]] = []
    geoms: list[BaseGeometry | None] = []
    for pm in (e for e in root.iter() if _local(e.tag) == "Placemark"):
        rec: dict[str, object] = {"name": _text(pm, "name"), "description": _text(pm, "description")}
        stamp = _child(pm, "TimeStamp")
        rec["time"] = _text(stamp, "when") if stamp is not None else None
        ext = _child(pm, "ExtendedData")
        if ext is not None:
            for d in ext.iter():
                if _local(d.tag) == "Data" and d.get("name"):
                    rec[str(d.get("name"))] = _text(d, "value")
                elif _local(d.tag) == "SimpleData" and d.get("name"):
                    rec[str(d.get("name"))] = (d.text or "").strip() or None
        geom = None
        for c in pm:
            if _local(c.tag) in ("Point", "LineString", "Polygon", "MultiGeometry"):
                try:
                    geom = _kml_geometry(c)
                except _TooDeepError:
                    msg = (f"{file}: placemark {len(records) + 1}: geometry nested more than {MAX_NESTING} levels "
                           f"deep (MultiGeometry inside MultiGeometry); refused")
                    raise ValidationError(msg) from None
                break
        records.append(rec)
        geoms.append(geom)
    if not records:
        msg = f"{file}: the KML file has no placemarks"
        raise ValidationError(msg)
    frame = pd.DataFrame(records, dtype=object)
    reasons = np.array([None if g is not None else "placemark has no readable geometry" for g in geoms],
                       dtype=object)
    return RawTable(frame, np.array(geoms, dtype=object), reasons, np.arange(len(records)) + 1, "kml",
                    declared_crs="EPSG:4326", geographic_names=True)


def table_from_kmz(path: Path, file: str) -> RawTable:
    """The main KML document inside a KMZ archive (checked for archive bombs first)."""
    with open_zip(path) as archive:
        names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
        if not names:
            msg = f"{file}: the KMZ archive holds no .kml document"
            raise ValidationError(msg)
        main = "doc.kml" if "doc.kml" in names else names[0]
        data = read_member(archive, main, file)
    table = table_from_kml(data, file)
    table.fmt = "kmz"
    return table
