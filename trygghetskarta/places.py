"""Places a reporter can choose without the map (issue 14, "Kan du inte använda kartan?"): the walk's area and
the areas inside it, the walk's earlier findings, then every other area, with a search over their names.

The project has no street addresses (no address register ships with it, and nothing is looked up over the
network), so an area stands for its representative point (inside the area) with an honest accuracy: the radius
of a circle as large as the area. The reporter describes the exact spot in the description.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from trygghetskarta import areas as areas_rule
from trygghetskarta import schema


@dataclass(frozen=True)
class Place:
    """A choosable place: ``kind`` "area" (``ref`` its id, ``name`` its name, ``detail`` its locality key) or
    "finding" (``ref`` its id, ``name`` its category key, ``detail`` its description); ``accuracy_m`` how far
    the spot may be from (lon, lat), None for a finding's own position; ``in_walk`` for the walk's places."""

    kind: str
    ref: int
    name: str
    lon: float
    lat: float
    accuracy_m: float | None
    detail: str = ""
    in_walk: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}"


def _area_places(areas: gpd.GeoDataFrame, wanted: Sequence[int] | None, in_walk: bool) -> list[Place]:
    frame = areas if wanted is None else areas[areas["id"].astype(int).isin(list(wanted))]
    if frame.empty:
        return []
    geoms = frame.geometry if frame.crs is not None else frame.geometry.set_crs(schema.CRS_STORE)
    points = geoms.to_crs(schema.CRS_STORE).representative_point()
    sizes = geoms.to_crs(schema.CRS_METRIC).area.to_numpy()
    localities = frame["locality"] if "locality" in frame.columns else pd.Series("", index=frame.index)
    out = []
    for aid, name, locality, point, size in zip(frame["id"], frame["name"], localities, points, sizes,
                                                strict=True):
        if point is None or point.is_empty:
            continue
        out.append(Place("area", int(aid), str(name), round(float(point.x), 6), round(float(point.y), 6),
                         round(math.sqrt(float(size) / math.pi)), str(locality or ""), in_walk))
    order = {int(a): i for i, a in enumerate(wanted)} if wanted is not None else {}
    return sorted(out, key=lambda p: (order.get(p.ref, 0), p.name.casefold()))


def _finding_places(findings: pd.DataFrame | None) -> list[Place]:
    if findings is None or findings.empty:
        return []
    frame = findings.dropna(subset=["lon", "lat"]).sort_values("id", ascending=False)
    descriptions = frame["description"] if "description" in frame.columns else pd.Series("", index=frame.index)
    return [Place("finding", int(fid), str(category), round(float(lon), 6), round(float(lat), 6), None,
                  "" if not isinstance(text, str) else text.strip(), True)
            for fid, category, lon, lat, text in zip(frame["id"], frame["category"], frame["lon"], frame["lat"],
                                                     descriptions, strict=True)]


def walk_places(areas: gpd.GeoDataFrame | None, *, walk_area_id: int | None = None,
                findings: pd.DataFrame | None = None) -> list[Place]:
    """The places to choose from, the walk's first: its area and the areas inside it (largest first), the
    walk's findings (newest first; columns id, category, lon, lat, optional description), then every other
    area by name."""
    areas = areas if areas is not None else gpd.GeoDataFrame({"id": [], "name": []}, geometry=[],
                                                              crs=schema.CRS_STORE)
    walk_ids: list[int] = []
    if walk_area_id is not None and not areas.empty:
        members = areas_rule.nesting(areas).members.get(int(walk_area_id), (int(walk_area_id),))
        metric = areas.set_index(areas["id"].astype(int)).geometry.to_crs(schema.CRS_METRIC).area
        walk_ids = sorted((m for m in members if m in metric.index), key=lambda m: (m != int(walk_area_id),
                                                                                       -float(metric[m])))
    first = _area_places(areas, walk_ids, True) if walk_ids else []
    rest = [p for p in _area_places(areas, None, False) if p.ref not in set(walk_ids)] if not areas.empty else []
    return [*first, *_finding_places(findings), *rest]


def _folded(text: str) -> str:
    """Lower case without diacritics, so "kungsangen" finds Kungsängen and "rab" finds Råby."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search(places: Sequence[Place], query: str, labels: Sequence[str] | None = None) -> list[Place]:
    """The places whose name, locality, description or ``labels`` (the texts the page shows, one per place)
    contain every word of ``query`` (case and diacritics ignored); all of them for an empty query, in order."""
    words = _folded(query or "").split()
    if not words:
        return list(places)
    shown = list(labels) if labels is not None else [""] * len(places)
    if len(shown) != len(places):
        msg = f"labels must be one per place ({len(places)}), got {len(shown)}"
        raise ValueError(msg)
    haystacks = [_folded(" ".join((p.name, p.detail, label))) for p, label in zip(places, shown, strict=True)]
    keep = np.array([all(w in h for w in words) for h in haystacks], dtype=bool)
    return [p for p, k in zip(places, keep, strict=True) if k]
