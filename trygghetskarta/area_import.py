"""What an area import will change, shown before anything is written, and the rule that it must be confirmed.

Importing official areas (source ``regso`` or ``deso``) replaces the project's approximate ones and places
every stored record in its new smallest area; a walk whose area is removed loses its area. A kommun boundary
imported as RegSO by mistake would silently turn twelve areas into one. ``impact`` computes, from an import
plan and the store, the areas added, removed and kept, how many records of each kind change area, which walks
lose their area, and warnings for an import that looks wrong; ``needs_confirmation`` says when a person must
confirm it (the Admin page asks; the CLI wants ``--yes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trygghetskarta import geography
from trygghetskarta.store.core import OFFICIAL_AREA_SOURCES

if TYPE_CHECKING:
    import geopandas as gpd

    from trygghetskarta.ingest import ImportPlan
    from trygghetskarta.store import Store

# One new area covering this share of the kommun is almost certainly the kommun boundary, not a RegSO/DeSO.
WHOLE_KOMMUN_SHARE = 0.5
_KIND_LABELS = {"finding": ("fynd", "findings"), "sighting": ("fältobservationer", "field sightings"),
                "incident": ("händelser", "incidents"), "walk": ("vandringar", "walks"),
                "nightwalk": ("nattvandringar", "night walks")}
_KINDS_WITH_AREA = tuple(_KIND_LABELS)


@dataclass
class AreaImpact:
    """What an area import would do (names, counts) and what looks wrong about it."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    moved: dict[str, int] = field(default_factory=dict)  # record kind -> records whose area changes
    walks_losing_area: list[str] = field(default_factory=list)
    warnings: list[tuple[str, dict[str, object]]] = field(default_factory=list)  # (message key, values)

    @property
    def needs_confirmation(self) -> bool:
        """A person must confirm when areas are removed or the import looks wrong."""
        return bool(self.removed or self.warnings or sum(self.moved.values()))

    def lines(self, lang: str = "sv") -> list[str]:
        """The impact in plain words, one line each (CLI and page)."""
        sv = lang == "sv"
        out = [(f"områden som läggs till: {len(self.added)}" if sv else f"areas added: {len(self.added)}")
               + _names(self.added),
               (f"områden som tas bort: {len(self.removed)}" if sv else f"areas removed: {len(self.removed)}")
               + _names(self.removed)]
        if self.kept:
            out.append(f"områden som redan finns: {len(self.kept)}" if sv else
                       f"areas already stored: {len(self.kept)}")
        moved = ", ".join(f"{_KIND_LABELS[kind][0 if sv else 1]} {n}" for kind, n in self.moved.items() if n)
        out.append((f"poster som byter område: {sum(self.moved.values())}" if sv else
                    f"records that change area: {sum(self.moved.values())}") + (f" ({moved})" if moved else ""))
        out.append((f"vandringar som förlorar sitt område: {len(self.walks_losing_area)}" if sv else
                    f"walks that lose their area: {len(self.walks_losing_area)}") + _names(self.walks_losing_area))
        out.extend(warning_text(key, values, lang) for key, values in self.warnings)
        return out


def _names(names: list[str], most: int = 8) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:most])
    return f" ({shown}{', …' if len(names) > most else ''})"


def warning_text(key: str, values: dict[str, object], lang: str = "sv") -> str:
    texts = {
        "covers_kommun": ("Varning: «{name}» täcker {share:.0%} av kommunen – är det kommungränsen och inte "
                          "RegSO/DeSO-områden?",
                          "Warning: «{name}» covers {share:.0%} of the municipality – is it the municipal boundary "
                          "rather than RegSO/DeSO areas?"),
        "fewer_areas": ("Varning: {removed} områden ersätts av {added}.",
                        "Warning: {removed} areas are replaced by {added}."),
    }
    sv, en = texts[key]
    return (sv if lang == "sv" else en).format(**values)


def impact(store: Store, plan: ImportPlan, municipality_geom_3006: object | None = None) -> AreaImpact:
    """What importing ``plan`` (kind ``area``) into ``store`` would change; nothing is written."""
    current = store.areas()
    new = plan.accepted
    stored_ext = set(current["external_id"].dropna().astype(str)) if "external_id" in current else set()
    is_new = ~new["external_id"].astype(str).isin(stored_ext).to_numpy() if "external_id" in new \
        else np.ones(len(new), dtype=bool)
    added = new[is_new]
    result = AreaImpact(added=added["name"].astype(str).tolist(),
                        kept=new[~is_new]["name"].astype(str).tolist())
    official = "source" in added and added["source"].isin(OFFICIAL_AREA_SOURCES).any()
    removed_ids = set(current.loc[current["source"] == "approximate", "id"].astype(int)) if official else set()
    result.removed = current[current["id"].isin(removed_ids)]["name"].astype(str).tolist()
    if not len(added) and not removed_ids:
        return result
    final = _final_areas(current, removed_ids, added)
    if official:
        result.moved = _moved_records(store, current, final)
    walks = store.points("walk", columns=["title", "area_id"]) if removed_ids else pd.DataFrame()
    if not walks.empty:
        lose = walks[walks["area_id"].isin(removed_ids)]
        result.walks_losing_area = lose["title"].astype(str).tolist()
    result.warnings = _warnings(added, len(result.removed), municipality_geom_3006)
    return result


def _final_areas(current: gpd.GeoDataFrame, removed_ids: set[int], added: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import geopandas as gpd

    kept = current[~current["id"].isin(removed_ids)][["id", "name", "geometry"]]
    fresh = added[["name", "geometry"]].copy()
    fresh["id"] = -np.arange(2, len(fresh) + 2)  # placeholders: new areas have no id before they are written
    return gpd.GeoDataFrame(pd.concat([kept, fresh], ignore_index=True), geometry="geometry", crs=current.crs)


def _moved_records(store: Store, current: gpd.GeoDataFrame, final: gpd.GeoDataFrame) -> dict[str, int]:
    """Per kind, how many stored records would be placed in another area (by name) after the import."""
    old_names = dict(zip(current["id"].astype(int), current["name"].astype(str), strict=True))
    new_names = dict(zip(final["id"].astype(int), final["name"].astype(str), strict=True))
    moved: dict[str, int] = {}
    for kind in _KINDS_WITH_AREA:
        pts = store.points(kind, columns=["area_id"])
        if pts.empty:
            moved[kind] = 0
            continue
        have = pts["lon"].notna().to_numpy()
        ids = geography.area_ids_from_lonlat(pts["lon"].to_numpy(float)[have], pts["lat"].to_numpy(float)[have],
                                             final)
        before = pts["area_id"].to_numpy()[have]
        before_names = np.array([old_names.get(int(a), "") if pd.notna(a) else "" for a in before], dtype=object)
        after_names = np.array([new_names.get(int(a), "") for a in ids], dtype=object)
        moved[kind] = int((before_names != after_names).sum())
    return moved


def _warnings(added: gpd.GeoDataFrame, removed: int, kommun_3006: object | None) -> list[tuple[str, dict[str, object]]]:
    out: list[tuple[str, dict[str, object]]] = []
    if kommun_3006 is not None and len(added):
        kommun_area = float(getattr(kommun_3006, "area", 0.0))
        if kommun_area > 0:
            metric = geography.to_metric(added[["name", "geometry"]])
            shares = metric.geometry.intersection(kommun_3006).area.to_numpy() / kommun_area
            for name, share in zip(metric["name"], shares, strict=True):
                if share >= WHOLE_KOMMUN_SHARE:
                    out.append(("covers_kommun", {"name": str(name), "share": float(share)}))
    if removed and len(added) < removed / 2:
        out.append(("fewer_areas", {"removed": removed, "added": len(added)}))
    return out
