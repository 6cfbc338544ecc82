"""One meaning of "in this area" (issue 12).

Areas nest: a locality (Kungsängen) holds its neighbourhoods (Tibble, Ekhammar, …). Every stored record
carries its *smallest* area (``area_id``, set by the store from the record's position). Everything else follows
from the nesting, computed here once:

- an area's **members** are itself and every area inside it (an area B is inside A when B's representative
  point lies in A and B is smaller than A), so a record is *in* A exactly when its ``area_id`` is one of A's
  members — the map filter, the choropleth, the lägesbild, Översikt, the follow-up checklist and the exports
  all use this rule;
- a record's **chain** is its smallest area and every area containing it, smallest first;
- a **total** over several areas counts the records whose ``area_id`` is in the union of their members, so a
  record is never counted twice, however the areas nest.

Pure functions over a GeoDataFrame of areas (``id``, ``geometry`` in EPSG:4326); nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from trygghetskarta import schema


@dataclass(frozen=True)
class Nesting:
    """Which areas lie inside which: ``members[a]`` is a and the areas inside it; ``chain[a]`` is a and the
    areas containing it, smallest first."""

    members: Mapping[int, tuple[int, ...]]
    chain: Mapping[int, tuple[int, ...]]

    def expand(self, area_ids: Iterable[int]) -> list[int]:
        """Every area id that counts as "in" any of ``area_ids`` (the union of their members), sorted."""
        out: set[int] = set()
        for aid in area_ids:
            out.update(self.members.get(int(aid), (int(aid),)))
        return sorted(out)

    def roll_up(self, counts: pd.Series) -> pd.Series:
        """Counts per smallest area (index ``area_id``) to counts per area of everything inside it."""
        by_area = counts.groupby(level=0).sum() if len(counts) else counts
        return pd.Series({aid: int(by_area.reindex(list(ids), fill_value=0).sum())
                          for aid, ids in self.members.items()}, dtype="int64")

    def total(self, counts: pd.Series, area_ids: Iterable[int] | None = None) -> int:
        """The total over ``area_ids`` (all areas when ``None``), each record counted once."""
        by_area = counts.groupby(level=0).sum() if len(counts) else counts
        if area_ids is None:
            return int(by_area.sum())
        return int(by_area.reindex(self.expand(area_ids), fill_value=0).sum())


def nesting(areas: gpd.GeoDataFrame) -> Nesting:
    """The nesting of ``areas`` (computed in SWEREF 99 TM, where sizes are true)."""
    if areas is None or areas.empty:
        return Nesting({}, {})
    frame = areas[["id", "geometry"]].copy()
    if frame.crs is None:
        frame = frame.set_crs(schema.CRS_STORE)
    metric = frame.to_crs(schema.CRS_METRIC)
    ids = metric["id"].astype(int).to_numpy()
    polys = metric.geometry.to_numpy()
    sizes = shapely.area(polys)
    reps = shapely.point_on_surface(polys)
    inside = np.zeros((len(ids), len(ids)), dtype=bool)  # inside[b, a]: area b lies in area a
    tree = shapely.STRtree(polys)
    rep_idx, poly_idx = tree.query(reps, predicate="within")
    for b, a in zip(rep_idx, poly_idx, strict=True):
        # strictly smaller, or the same size and a later id: two equal polygons never hold each other
        if b != a and (sizes[b] < sizes[a] or (sizes[b] == sizes[a] and ids[b] > ids[a])):
            inside[b, a] = True
    members = {int(ids[a]): tuple(sorted({int(ids[a]), *ids[inside[:, a]].tolist()})) for a in range(len(ids))}
    chain = {}
    for b in range(len(ids)):
        holders = np.flatnonzero(inside[b])
        order = holders[np.argsort(sizes[holders], kind="stable")]
        chain[int(ids[b])] = (int(ids[b]), *(int(ids[a]) for a in order))
    return Nesting(members, chain)
