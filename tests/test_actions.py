"""Actions (åtgärdslista), routing, partner reports and the follow-up at the next walk, on both backends."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from trygghetskarta import access, demo, est_reports, workflow
from trygghetskarta import actions as action_service
from trygghetskarta.actions import (
    action_list_for_viewer,
    action_list_from_actions,
    overdue_mask_from_actions,
)
from trygghetskarta.errors import PermissionDeniedError, ValidationError
from trygghetskarta.routing import party_from_routing, reproposed_party

PLANNER = access.Viewer("planerare1", "planerare")
BROHUS = access.viewer_for_role("bostadsbolag", username="brohus1")  # organisation upplands_brohus
POLICE = access.viewer_for_role("polis", username="polis1")


@pytest.fixture
def filled(store):
    demo.fill(store, seed=7)
    return store


def _new_finding(store) -> dict:
    found = store.read("finding", statuses=["ny"])
    last_walk = store.read("walk")["started_at"].max()
    found = found[~found["positive"].astype(bool) & found["walk_id"].notna() & (found["reported_at"] < last_walk)]
    return found.sort_values("reported_at").iloc[0].to_dict()


def test_finding_goes_through_the_whole_lifecycle_with_events(filled):
    store = filled
    finding = _new_finding(store)
    fid = int(finding["id"])
    action_id = action_service.create_action(store, [fid], "Byt armatur vid gångvägen", "kommun_gata_park", PLANNER,
                                    priority=1, planned_date=dt.date(2026, 12, 1))
    assert store.get("finding", fid)["status"] == "tilldelad"
    assert store.get("finding", fid)["responsible"] == "kommun_gata_park"
    workflow.change_status(store, fid, "planerad", PLANNER, "beställt", due_date=dt.date(2026, 12, 1))
    action_service.change_action_status(store, action_id, "pagar", PLANNER, "entreprenör bokad")
    action_service.change_action_status(store, action_id, "klar", PLANNER, done_date=dt.date(2026, 11, 25))
    assert store.get("finding", fid)["status"] == "atgardad"
    assert store.get("action", action_id)["done_date"] == dt.date(2026, 11, 25)
    later = store.read("walk")
    later = later[later["started_at"] > finding["reported_at"]]
    walk_id = int(later["id"].iloc[-1])
    assert action_service.record_followup(store, fid, walk_id, fixed=True, feels_safer=True,
                                          actor=PLANNER) == "verifierad"

    events = store.status_events("finding", fid)
    steps = list(zip(events["from_status"], events["to_status"], strict=True))
    assert steps[-4:] == [("ny", "tilldelad"), ("tilldelad", "planerad"), ("planerad", "atgardad"),
                          ("atgardad", "verifierad")]
    assert set(events["by"].tail(4)) == {"planerare1"}
    assert events["at"].is_monotonic_increasing
    action_events = store.status_events("action", action_id)
    assert list(action_events["to_status"]) == ["oppen", "pagar", "klar"]
    assert int(store.get("action", action_id)["verified_walk_id"]) == walk_id
    follow = store.followups([fid])
    assert follow[["walk_id", "fixed", "feels_safer"]].iloc[-1].tolist() == [walk_id, True, True]


def test_not_fixed_at_followup_reopens_finding_and_action(filled):
    store = filled
    fid = int(_new_finding(store)["id"])
    aid = action_service.create_action(store, [fid], "Klipp häcken", "kommun_gata_park", PLANNER)
    action_service.change_action_status(store, aid, "klar", PLANNER)
    walk_id = int(store.read("walk")["id"].iloc[-1])
    assert action_service.record_followup(store, fid, walk_id, fixed=False, feels_safer=False, actor=PLANNER,
                                 comment="fortfarande mörkt") == "tilldelad"
    assert store.get("finding", fid)["status"] == "tilldelad"
    action = store.get("action", aid)
    assert action["status"] == "pagar"
    assert pd.isna(action["done_date"])
    assert "fortfarande mörkt" in store.status_events("finding", fid)["comment"].iloc[-1]


def test_an_overdue_action_is_flagged_on_the_right_day(filled):
    store = filled
    fid = int(_new_finding(store)["id"])
    aid = action_service.create_action(store, [fid], "Laga lampan", "upplands_brohus", PLANNER,
                                       planned_date=dt.date(2026, 11, 10))
    actions = pd.DataFrame(store.read("action").drop(columns="geometry"))
    mine = actions["id"] == aid
    assert not overdue_mask_from_actions(actions, dt.date(2026, 11, 10))[mine].item()  # the planned day itself
    assert overdue_mask_from_actions(actions, dt.date(2026, 11, 11))[mine].item()  # the day after
    listed = action_list_from_actions(actions, dt.date(2026, 11, 13))
    row = listed[listed["id"] == aid].iloc[0]
    assert bool(row["overdue"]) and row["days_overdue"] == 3 and row["status_label"] == "Öppen"
    assert listed["overdue"].iloc[0]  # overdue actions come first
    action_service.change_action_status(store, aid, "klar", PLANNER)
    actions = pd.DataFrame(store.read("action").drop(columns="geometry"))
    assert not overdue_mask_from_actions(actions, dt.date(2026, 11, 13))[actions["id"] == aid].item()
    with pytest.raises(ValidationError, match="date"):
        overdue_mask_from_actions(actions, dt.datetime(2026, 11, 13, tzinfo=dt.UTC))


def test_each_party_sees_and_comments_only_its_own_and_shared_actions(filled):
    store = filled
    ids = store.read("finding", statuses=["ny"])["id"].astype(int).tolist()[:3]
    own = action_service.create_action(store, [ids[0]], "Lås entrén", "upplands_brohus", PLANNER)
    shared = action_service.create_action(store, [ids[1]], "Gemensam insats", "kommun_gata_park", PLANNER, shared=True)
    other = action_service.create_action(store, [ids[2]], "Trafikverkets tunnel", "trafikverket", PLANNER)
    seen = action_list_for_viewer(store, BROHUS, dt.date(2026, 11, 1))
    assert {own, shared} <= set(seen["id"]) and other not in set(seen["id"])
    assert set(seen["responsible"]) <= {"upplands_brohus"} | set(store.read("action")
                                                                   .query("shared")["responsible"])
    action_service.add_action_progress(store, own, BROHUS, "Låssmed beställd")
    action_service.add_action_progress(store, shared, BROHUS, "Vi bidrar med belysning")
    with pytest.raises(PermissionDeniedError):
        action_service.add_action_progress(store, other, BROHUS, "försök")
    with pytest.raises(PermissionDeniedError):
        action_service.change_action_status(store, shared, "pagar", BROHUS)
    action_service.change_action_status(store, own, "pagar", BROHUS, "påbörjat")
    with pytest.raises(PermissionDeniedError):
        action_service.add_action_progress(store, own, POLICE, "inte vår")
    with pytest.raises(PermissionDeniedError):
        action_service.create_action(store, [ids[0]], "x", "polis", BROHUS)
    events = store.status_events("action", own)
    assert events["comment"].tolist()[-2:] == ["Låssmed beställd", "påbörjat"]
    assert events["by"].tolist()[-1] == "brohus1"


def test_routing_most_specific_wins_and_category_change_reproposes(filled):
    store = filled
    assert action_service.propose_party(store, "klotter", None) == "okand"
    area = int(store.areas()["id"].iloc[0])
    action_service.set_route(store, None, None, "kommun_gata_park")
    action_service.set_route(store, None, area, "upplands_brohus")
    action_service.set_route(store, "klotter", None, "kommun_fastighet")
    action_service.set_route(store, "klotter", area, "trafikverket")
    assert action_service.propose_party(store, "klotter", area) == "trafikverket"
    assert action_service.propose_party(store, "klotter", area + 1) == "kommun_fastighet"
    assert action_service.propose_party(store, "vegetation", area) == "upplands_brohus"
    assert action_service.propose_party(store, "vegetation", None) == "kommun_gata_park"
    action_service.set_route(store, "klotter", area, "polis")  # replaces, not duplicates
    assert (store.routing_table()["category"] == "klotter").sum() == 2
    assert action_service.delete_route(store, "klotter", area)
    assert action_service.propose_party(store, "klotter", area) == "kommun_fastighet"
    with pytest.raises(PermissionDeniedError):
        action_service.set_route(store, "klotter", None, "polis", PLANNER)
    routes = store.routing_table()
    # A routed party follows the new category; a hand-picked one is kept.
    assert reproposed_party(routes, "klotter", "vegetation", None, "kommun_fastighet") == "kommun_gata_park"
    assert reproposed_party(routes, "klotter", "vegetation", None, "polis") == "polis"
    assert party_from_routing(routes.iloc[0:0], "klotter", None) == "okand"


def test_partner_reports_upsert_and_permission(filled):
    store = filled
    area = int(store.areas()["id"].iloc[3])
    week = {"period_start": dt.date(2026, 10, 5), "period_end": dt.date(2026, 10, 11)}
    rows = pd.DataFrame([{"organisation": "upplands_brohus", "area_id": area, "type": "klotter", "count": 3, **week},
                         {"organisation": "upplands_brohus", "area_id": None, "type": "inbrott", "count": 1, **week}])
    assert est_reports.save_partner_reports(store, rows, BROHUS) == 2
    rows["count"] = [4, 2]
    est_reports.save_partner_reports(store, rows, BROHUS)  # the same week again replaces the counts
    got = store.partner_reports(POLICE, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert sorted(got["count"].tolist()) == [2, 4] and len(got) == 2
    with pytest.raises(PermissionDeniedError):
        est_reports.save_partner_reports(store, rows, POLICE)  # police cannot report for Upplands-Brohus
    bad = rows.assign(type="inget")
    with pytest.raises(ValidationError, match="row 1: unknown type"):
        est_reports.save_partner_reports(store, bad, BROHUS)
    with pytest.raises(PermissionDeniedError):
        store.partner_reports(access.viewer_for_role("deltagare"))


def test_followup_checklist_lists_open_and_fixed_findings_of_the_area(filled):
    store = filled
    walks = store.read("walk").sort_values("started_at")
    walk = walks.iloc[-1]
    checklist = action_service.followup_checklist(store, int(walk["area_id"]), int(walk["id"]))
    assert len(checklist) > 0
    assert set(checklist["status"]) <= {"ny", "bedomd", "tilldelad", "planerad", "atgardad"}
    assert not checklist["positive"].astype(bool).any()
    assert (checklist["reported_at"] < walk["started_at"]).all()
    assert checklist["status"].iloc[0] == "atgardad"  # fixed ones to check first


def test_app_settings_roundtrip_and_admin_only(filled):
    store = filled
    assert store.app_setting("x", {"a": 1}) == {"a": 1}
    action_service.set_app_setting(store, "lagesbild_thresholds", {"incidents": {"gul": 2}})
    assert store.app_setting("lagesbild_thresholds") == {"incidents": {"gul": 2}}
    with pytest.raises(PermissionDeniedError):
        action_service.set_app_setting(store, "x", 1, PLANNER)
