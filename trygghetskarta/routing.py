"""Routing of findings to responsible parties (category × area → party): the rule and its defaults.

The table itself is data an administrator edits (``store.routing_table``); this module only decides what it
proposes. Pure functions, no store.
"""

from __future__ import annotations

import pandas as pd

from trygghetskarta import schema

# The routing `trygghetskarta init` writes into an empty routing table (category → party, any area), so a
# new action proposes a party from the first day. It follows who usually owns the problem in a Swedish kommun
# (README "Routing"); the administrator edits it on the Admin page (e.g. a row per area where a housing
# company or Trafikverket owns the ground). Every category has a row, so nothing is proposed as "okand".
DEFAULT_ROUTING: dict[str, str] = {
    "belysning_trasig": "kommun_gata_park",  # street and path lighting (gatubelysning)
    "belysning_otillracklig": "kommun_gata_park",
    "vegetation": "kommun_gata_park",  # parks and green areas (park/naturvård)
    "skymd_sikt": "kommun_gata_park",
    "klotter": "kommun_gata_park",  # on public ground; a housing company's walls go by area rows
    "nedskrapning": "kommun_gata_park",
    "skadegorelse": "kommun_gata_park",
    "gangtunnel": "kommun_gata_park",
    "orienterbarhet": "kommun_gata_park",
    "gangvag": "kommun_gata_park",
    "trafiksakerhet": "kommun_gata_park",  # the kommun's streets; state roads (Trafikverket) by area rows
    "parkering": "kommun_gata_park",
    "hallplats": "region_sl",  # bus stops and stations: Region Stockholm/SL
    "overgiven_byggnad": "kommun_fastighet",
    "utrustning": "kommun_gata_park",  # playgrounds and outdoor furniture in parks
    "entre_trapphus": "upplands_brohus",  # entrances and stairwells: the housing company
    "odsligt": "kommun_gata_park",
    "trygg_plats": "kommun_gata_park",
    "ovrigt": "kommun_gata_park",
}


def party_from_routing(routing: pd.DataFrame, category: str, area_id: int | None = None) -> str:
    """The party the routing table proposes for ``category`` in ``area_id``.

    Most specific wins: category+area, then category (any area), then area (any category), then the
    default row (both empty), else ``okand``.
    """
    schema.require_key("category", category, "category")
    if routing is None or routing.empty:
        return "okand"
    cat = routing["category"].astype(object)
    area = pd.to_numeric(routing["area_id"], errors="coerce")
    no_cat, no_area = cat.isna(), area.isna()
    same_area = (area == int(area_id)) if area_id is not None and not pd.isna(area_id) else pd.Series(
        False, index=routing.index)
    for mask in ((cat == category) & same_area, (cat == category) & no_area, no_cat & same_area, no_cat & no_area):
        hit = routing.loc[mask.fillna(False).to_numpy(dtype=bool), "party"]
        if not hit.empty:
            return str(hit.iloc[0])
    return "okand"


def reproposed_party(routing: pd.DataFrame, old_category: str, new_category: str, area_id: int | None,
                     current_party: str | None) -> str:
    """The party after a finding's category changes from ``old_category`` to ``new_category``.

    A party that came from the routing (or none) follows the new category's proposal; a party someone
    chose by hand (different from the old proposal) is kept.
    """
    old = party_from_routing(routing, old_category, area_id)
    if current_party in (None, "", old, "okand"):
        return party_from_routing(routing, new_category, area_id)
    return str(current_party)


def routing_proposals_for_findings(routing: pd.DataFrame, findings: pd.DataFrame) -> pd.Series:
    """The proposed party for each finding row (``category`` and ``area_id`` columns)."""
    areas = findings["area_id"] if "area_id" in findings else pd.Series(None, index=findings.index)
    return pd.Series([party_from_routing(routing, c, None if pd.isna(a) else int(a))
                      for c, a in zip(findings["category"], areas, strict=True)], index=findings.index,
                     dtype=object, name="proposed_party")


def default_routes_missing(have_categories: set[str]) -> list[dict[str, object]]:
    """The default rows (one any-area row per category) for the categories that have no any-area row."""
    return [{"category": c, "area_id": None, "party": p} for c, p in DEFAULT_ROUTING.items()
            if c not in have_categories]
