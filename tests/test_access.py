"""The read matrix of issue 6, table-driven: every role × every record kind × every audience, on both backends.

The expected rows come from ``MATRIX`` below, written from the issue's table, not from ``access.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import LineString, Point, Polygon

from trygghetskarta import schema
from trygghetskarta.access import Viewer
from trygghetskarta.errors import PermissionDeniedError
from trygghetskarta.store import Store
from trygghetskarta.store import tables as t

AUDIENCES = ("publik", "partner", "begransad")
ORG = {"polis": "polis", "bostadsbolag": "upplands_brohus", "vaktare": "vaktarbolag",
       "raddningstjanst": "raddningstjanst"}
VIEWERS: dict[str, Viewer | None] = {
    "local-admin": None,
    "deltagare": Viewer("del1", "deltagare"),
    "nattvandrare": Viewer("natt1", "nattvandrare"),
    "faltgrupp": Viewer("falt1", "faltgrupp"),
    "planerare": Viewer("plan1", "planerare"),
    "polis": Viewer("pol1", "polis", "polis"),
    "bostadsbolag": Viewer("bo1", "bostadsbolag", "upplands_brohus"),
    "vaktare": Viewer("vakt1", "vaktare", "vaktarbolag"),
    "raddningstjanst": Viewer("rtj1", "raddningstjanst", "raddningstjanst"),
    "admin": Viewer("adm1", "admin"),
}
WHEN = dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC)
PT = Point(17.63, 59.51)


def _pub(r: dict[str, Any]) -> bool:
    return r["audience"] == "publik"


def _partner(r: dict[str, Any]) -> bool:
    return r["audience"] in ("publik", "partner")


# role -> kind -> rule over a row's tags. Straight from the table (walks and night-walk reports,
# which the table does not list, follow the same audience rule; night walkers see their own reports).
Rule = Callable[[dict[str, Any]], bool]
ALL: Rule = lambda r: True  # noqa: E731
NONE: Rule = lambda r: False  # noqa: E731
MATRIX: dict[str, dict[str, Rule]] = {
    "deltagare": {
        "finding": lambda r: _pub(r) or r["walk"] == "own" or r["reported_by"] == "del1",
        "sighting": NONE, "incident": NONE,
        "action": lambda r: r["walk"] == "own" or r["linked_own"],
        "nightwalk": NONE, "walk": lambda r: _pub(r) or r["walk"] == "own", "area": ALL,
    },
    "nattvandrare": {
        "finding": _pub, "sighting": NONE, "incident": NONE, "action": NONE,
        "nightwalk": lambda r: r["reported_by"] == "natt1", "walk": _pub, "area": ALL,
    },
    "faltgrupp": {
        "finding": ALL, "sighting": ALL, "incident": _partner, "action": NONE, "nightwalk": ALL, "walk": ALL,
        "area": ALL,
    },
    "planerare": dict.fromkeys(schema.RECORD_KIND, ALL),
    "polis": {
        "finding": _partner, "sighting": NONE,
        "incident": lambda r: _partner(r) or r["owner_org"] == "polis",
        "action": lambda r: r["responsible"] == "polis" or r["shared"],
        "nightwalk": _partner, "walk": _partner, "area": ALL,
    },
    "bostadsbolag": {
        "finding": _partner, "sighting": NONE,
        "incident": lambda r: _partner(r) or r["owner_org"] == "upplands_brohus",
        "action": lambda r: r["responsible"] == "upplands_brohus" or r["shared"],
        "nightwalk": _partner, "walk": _partner, "area": ALL,
    },
    "admin": dict.fromkeys(schema.RECORD_KIND, ALL),
    "local-admin": dict.fromkeys(schema.RECORD_KIND, ALL),
}
# Security guards and fire and rescue see exactly what the other partners see (their own organisation's
# incidents and actions in detail, nothing restricted).
def _own_incidents(org: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: _partner(r) or r["owner_org"] == org


def _own_actions(org: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: r["responsible"] == org or bool(r["shared"])


for _role in ("vaktare", "raddningstjanst"):
    MATRIX[_role] = {
        "finding": _partner, "sighting": NONE, "incident": _own_incidents(ORG[_role]),
        "action": _own_actions(ORG[_role]), "nightwalk": _partner, "walk": _partner, "area": ALL,
    }


def _gdf(rows: list[dict[str, Any]], geom: list[Any] | None) -> gpd.GeoDataFrame | pd.DataFrame:
    frame = pd.DataFrame(rows)
    if geom is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=geom, crs="EPSG:4326")


def populate(store: Store) -> dict[str, dict[int, dict[str, Any]]]:
    """A small data set with every audience and every ownership case; returns kind -> id -> tags."""
    tags: dict[str, dict[int, dict[str, Any]]] = {}

    def put(kind: str, rows: list[dict[str, Any]], tag_rows: list[dict[str, Any]], geom: list[Any] | None) -> list[int]:
        ids = store.insert(kind, _gdf(rows, geom)).ids
        assert len(ids) == len(rows)
        tags[kind] = dict(zip(ids, tag_rows, strict=True))
        return ids

    poly = Polygon([(17.60, 59.49), (17.66, 59.49), (17.66, 59.53), (17.60, 59.53)])
    (area_id,) = put("area", [{"name": "Bro centrum", "locality": "bro", "source": "approximate"}],
                     [{"audience": "publik"}], [poly])
    line = LineString([(17.62, 59.50), (17.64, 59.52)])
    walk_tags = [{"audience": "publik", "walk": "pub"}, {"audience": "begransad", "walk": "own"},
                 {"audience": "partner", "walk": "other"}]
    walk_ids = put("walk", [{"title": f"walk {w['walk']}", "started_at": WHEN, "audience": w["audience"],
                             "area_id": area_id} for w in walk_tags], walk_tags, [line] * 3)
    walk_of = {w["walk"]: i for w, i in zip(walk_tags, walk_ids, strict=True)}
    store.add_participant(walk_of["own"], "del1")

    f_tags = [{"audience": a, "walk": w, "reported_by": "x"} for a in AUDIENCES for w in (None, "own", "other")]
    f_tags += [{"audience": "begransad", "walk": None, "reported_by": "del1"},
               {"audience": "partner", "walk": None, "reported_by": "natt1"}]
    f_ids = put("finding", [{"category": "belysning_trasig", "reported_at": WHEN, "audience": r["audience"],
                             "walk_id": walk_of.get(str(r["walk"])), "reported_by": r["reported_by"],
                             "area_id": area_id} for r in f_tags], f_tags, [PT] * len(f_tags))
    own_walk_finding = next(i for i, r in zip(f_ids, f_tags, strict=True) if r["walk"] == "own")

    s_tags = [{"audience": a} for a in AUDIENCES]
    put("sighting", [{"type": "samling_unga", "observed_at": WHEN, "audience": r["audience"], "reported_by": "falt1",
                      "area_id": area_id, "description": "grupp vid torget"} for r in s_tags], s_tags, [PT] * 3)

    n_tags = [{"audience": a, "reported_by": who} for a in AUDIENCES for who in ("natt1", "natt2")]
    put("nightwalk", [{"organisation": "Nattvandrarna Bro", "walk_date": WHEN.date(), "audience": r["audience"],
                       "reported_by": r["reported_by"], "area_id": area_id} for r in n_tags], n_tags, [PT] * 6)

    i_tags = [{"audience": a, "owner_org": o} for a in AUDIENCES for o in ("polis", "upplands_brohus", None)]
    put("incident", [{"source": "kommun", "type": "skadegorelse", "occurred_at": WHEN, "audience": r["audience"],
                      "owner_org": r["owner_org"], "title": f"titel {n}", "description": f"detalj {n}",
                      "external_id": f"inc-{n}", "reported_by": "vakt", "area_id": area_id}
                     for n, r in enumerate(i_tags)], i_tags, [PT] * len(i_tags))

    a_tags = [{"responsible": p, "shared": s, "walk": w, "linked_own": False, "audience": AUDIENCES[n % 3]}
              for n, (p, s, w) in enumerate((p, s, w) for p in ("polis", "upplands_brohus", "kommun_gata_park")
                                            for s in (True, False) for w in (None, "own"))]
    a_tags.append({"responsible": "kommun_gata_park", "shared": False, "walk": None, "linked_own": True,
                   "audience": "begransad"})
    a_ids = put("action", [{"what": "byt lampa", "responsible": r["responsible"], "shared": r["shared"],
                            "walk_id": walk_of.get(str(r["walk"])), "audience": r["audience"], "area_id": area_id}
                           for r in a_tags], a_tags, None)
    with store.write() as conn:
        conn.execute(sa.insert(t.action_findings).values(action_id=a_ids[-1], finding_id=own_walk_finding))
    return tags


@pytest.mark.parametrize("role", list(VIEWERS))
def test_read_matrix(store: Store, role: str) -> None:
    tags = populate(store)
    viewer = VIEWERS[role]
    for kind in schema.RECORD_KIND:
        # the fixture really covers every audience, so a rule that ignores audience would fail
        if kind not in ("area", "action"):
            assert {r["audience"] for r in tags[kind].values()} == set(AUDIENCES), kind
        rule = MATRIX[role][kind]
        want = sorted(i for i, r in tags[kind].items() if rule(r))
        got = sorted(int(i) for i in store.read(kind, viewer)["id"])
        assert got == want, f"{role} reading {kind}: got {got}, the matrix allows {want}"
        got_points = sorted(int(i) for i in store.points(kind, viewer)["id"])
        assert got_points == want, f"{role} points of {kind}"
        # each allowed row can also be fetched one by one; a forbidden one cannot
        for i in tags[kind]:
            assert len(store.read(kind, viewer, ids=[i])) == (1 if i in want else 0)


@pytest.mark.parametrize("role", sorted(schema.PARTNER_ROLES))
def test_partner_incidents_own_in_detail(store: Store, role: str) -> None:
    tags = populate(store)
    viewer = VIEWERS[role]
    gdf = store.read("incident", viewer).set_index("id")
    pts = store.points("incident", viewer, columns=["description", "title", "external_id"]).set_index("id")
    assert len(gdf) > 0
    for i, row in gdf.iterrows():
        own = tags["incident"][int(i)]["owner_org"] == ORG[role]
        for frame in (gdf, pts):
            text = frame.loc[i, "description"]
            if own:
                assert str(text).startswith("detalj"), (i, text)
            else:
                assert pd.isna(text) or text == "", f"{role} sees another organisation's detail: {text!r}"
        assert (row["title"] is not None and not pd.isna(row["title"])) == own
    # grouping by a redacted column would hand the detail back
    with pytest.raises(PermissionDeniedError):
        store.count_by("incident", ["description"], viewer=viewer)
    counts = store.count_by("incident", ["type"], viewer=viewer)
    assert int(counts["count"].sum()) == len(gdf)


@pytest.mark.parametrize("role", sorted(schema.PARTNER_ROLES))
def test_partner_sightings_only_area_totals(store: Store, role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    populate(store)
    viewer = VIEWERS[role]
    assert store.read("sighting", viewer).empty
    assert store.points("sighting", viewer).empty
    # The 3 sightings form one cell (area x ISO week x type): under k = 5 nothing of it is published (issue 11,
    # tests/test_disclosure.py); with k = 3 the cell is published exactly.
    totals = store.count_by("sighting", ["area_id"], viewer=viewer)
    assert int(totals["count"].sum()) == 0
    monkeypatch.setenv("TRYGGHETSKARTA_PRIVACY_K", "3")
    assert int(store.count_by("sighting", ["area_id"], viewer=viewer)["count"].sum()) == 3
    for column in ("reported_by", "description", "observed_at", "lon", "id"):
        with pytest.raises(PermissionDeniedError):
            store.count_by("sighting", ["area_id", column], viewer=viewer)
    with pytest.raises(PermissionDeniedError):
        store.count_by("sighting", ["area_id"], viewer=viewer, ids=[1])


@pytest.mark.parametrize("role", ["deltagare", "nattvandrare"])
def test_no_sighting_counts_for_walkers(store: Store, role: str) -> None:
    populate(store)
    with pytest.raises(PermissionDeniedError, match="may not see sighting records"):
        store.count_by("sighting", ["area_id"], viewer=VIEWERS[role])
    with pytest.raises(PermissionDeniedError, match="may not see sighting positions"):
        store.grid_counts("sighting", 250.0, VIEWERS[role])


@pytest.mark.parametrize("role", sorted(schema.PARTNER_ROLES))
def test_no_sighting_grid_for_partners(store: Store, role: str) -> None:
    """Partners get area totals of sightings, never their grid cells (a cell is a position)."""
    populate(store)
    with pytest.raises(PermissionDeniedError, match="may not see sighting positions"):
        store.grid_counts("sighting", 250.0, VIEWERS[role])
    assert int(store.grid_counts("sighting", 250.0, VIEWERS["planerare"])["count"].sum()) == 3
