"""Walk participation (issue 11, Medium): a deltagare joins only open walks (today or later in the kommun's
time zone) that they may see, a planner invites to any walk, and what a participant sees of a walk is what the
walk's audience allows. On both backends; the attack from the probe (join past walks 1–10 and read their
partner findings and actions) gains nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import Point

from trygghetskarta import capture, settings
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError, PermissionDeniedError
from trygghetskarta.store import Store
from trygghetskarta.store import tables as t

BRO = (17.6366, 59.5115)
PARTICIPANT = Viewer("del1", "deltagare")
OTHER_PARTICIPANT = Viewer("del2", "deltagare")
PLANNER = Viewer("plan1", "planerare")


def _zone() -> ZoneInfo:
    return ZoneInfo(str(settings.get("timezone")))


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=_zone())


def _today() -> dt.date:
    return dt.datetime.now(_zone()).date()


def _walk(store: Store, started_at: dt.datetime, audience: str = "publik", title: str = "Trygghetsvandring") -> int:
    return int(store.insert("walk", gpd.GeoDataFrame([{
        "title": title, "started_at": started_at, "audience": audience, "geometry": None}],
        geometry="geometry", crs="EPSG:4326")).ids[0])


def _findings(store: Store, walk_id: int, audiences: tuple[str, ...]) -> list[int]:
    rows = [{"category": "belysning_trasig", "reported_at": dt.datetime(2026, 3, 10, 20, tzinfo=dt.UTC),
             "audience": a, "walk_id": walk_id, "reported_by": "someone"} for a in audiences]
    return [int(i) for i in store.insert("finding", gpd.GeoDataFrame(
        rows, geometry=[Point(*BRO)] * len(rows), crs="EPSG:4326")).ids]


def _actions(store: Store, walk_id: int, audiences: tuple[str, ...]) -> list[int]:
    rows = [{"what": "byt lampa", "responsible": "kommun_gata_park", "walk_id": walk_id, "audience": a}
            for a in audiences]
    return [int(i) for i in store.insert("action", pd.DataFrame(rows)).ids]


def _visible(store: Store, kind: str, viewer: Viewer) -> set[int]:
    return {int(i) for i in store.read(kind, viewer)["id"]}


def _participants(store: Store, walk_id: int) -> set[str]:
    with store.read_conn() as conn:
        return set(conn.execute(sa.select(t.walk_participants.c.username).where(
            t.walk_participants.c.walk_id == walk_id)).scalars())


def test_joining_past_walks_is_refused_and_reveals_nothing(store: Store) -> None:
    """The probe: a participant joins ten past public walks to read their partner findings and actions."""
    past = [_walk(store, _local(_today() - dt.timedelta(days=7 * n), 19), title=f"vandring {n}")
            for n in range(1, 11)]
    partner_findings = [f for w in past for f in _findings(store, w, ("partner", "publik"))[:1]]
    partner_actions = [a for w in past for a in _actions(store, w, ("partner",))]
    findings_before = _visible(store, "finding", PARTICIPANT)
    actions_before = _visible(store, "action", PARTICIPANT)
    assert not set(partner_findings) & findings_before and not set(partner_actions) & actions_before

    for walk_id in past:
        with pytest.raises(PermissionDeniedError, match="redan genomförd"):
            store.add_participant(walk_id, PARTICIPANT.username, actor=PARTICIPANT)
        # reporting a finding on the walk is joining it too: refused, and nothing of the report is stored
        count = store.count("finding")
        with pytest.raises(PermissionDeniedError, match="redan genomförd"):
            capture.submit_finding(store, PARTICIPANT, category="klotter", lon=BRO[0], lat=BRO[1], walk_id=walk_id,
                                   client_id=str(uuid.uuid4()))
        assert store.count("finding") == count
        assert _participants(store, walk_id) == set()

    assert _visible(store, "finding", PARTICIPANT) == findings_before
    assert _visible(store, "action", PARTICIPANT) == actions_before


def test_joining_todays_and_planned_walks_works(store: Store) -> None:
    today = _walk(store, _local(_today(), 0, 30))  # early in the local day: the UTC date may be yesterday
    planned = _walk(store, _local(_today() + dt.timedelta(days=14), 19))
    yesterday_late = _walk(store, _local(_today() - dt.timedelta(days=1), 23, 30))
    store.add_participant(today, PARTICIPANT.username, actor=PARTICIPANT)
    store.add_participant(planned, PARTICIPANT.username, actor=PARTICIPANT)
    store.add_participant(today, PARTICIPANT.username, actor=PARTICIPANT)  # again: nothing changes
    assert _participants(store, today) == {"del1"} and _participants(store, planned) == {"del1"}
    with pytest.raises(PermissionDeniedError, match="redan genomförd"):
        store.add_participant(yesterday_late, PARTICIPANT.username, actor=PARTICIPANT)
    # a report on today's walk joins it (and is stored)
    res = capture.submit_finding(store, OTHER_PARTICIPANT, category="odsligt", lon=BRO[0], lat=BRO[1],
                                 walk_id=today, client_id=str(uuid.uuid4()))
    assert res.created and _participants(store, today) == {"del1", "del2"}
    log = store.audit_log()
    assert {"walk_join"} <= set(log["action"])


def test_a_participant_sees_of_a_walk_what_its_audience_allows(store: Store) -> None:
    walk = _walk(store, _local(_today(), 19))  # a public walk tonight
    pub, partner, restricted = _findings(store, walk, ("publik", "partner", "begransad"))
    actions = _actions(store, walk, ("publik", "partner", "begransad"))
    store.add_participant(walk, PARTICIPANT.username, actor=PARTICIPANT)
    seen = _visible(store, "finding", PARTICIPANT)
    assert partner not in seen and restricted not in seen  # a public walk shows only its public records
    assert seen == {pub}
    assert _visible(store, "action", PARTICIPANT) == {actions[0]}
    assert walk in _visible(store, "walk", PARTICIPANT)


def test_other_walks_need_an_invitation(store: Store) -> None:
    restricted_tonight = _walk(store, _local(_today(), 19), audience="begransad")
    with pytest.raises(NotFoundError):  # a walk the participant may not see is not offered to report on
        capture.submit_finding(store, PARTICIPANT, category="odsligt", lon=BRO[0], lat=BRO[1],
                               walk_id=restricted_tonight, client_id=str(uuid.uuid4()))
    with pytest.raises(PermissionDeniedError, match="inte öppen"):
        store.add_participant(restricted_tonight, PARTICIPANT.username, actor=PARTICIPANT)
    # a deltagare cannot sign up someone else, another role cannot join, nobody joins a walk that is not there
    tonight = _walk(store, _local(_today(), 19))
    with pytest.raises(PermissionDeniedError, match="bara anmäla dig själv"):
        store.add_participant(tonight, OTHER_PARTICIPANT.username, actor=PARTICIPANT)
    with pytest.raises(PermissionDeniedError, match="kan inte gå med"):
        store.add_participant(tonight, "natt1", actor=Viewer("natt1", "nattvandrare"))
    with pytest.raises(NotFoundError):
        store.add_participant(987_654, PARTICIPANT.username, actor=PLANNER)
    assert _participants(store, tonight) == set() and _participants(store, restricted_tonight) == set()


def test_planner_invitation_works_for_a_past_walk(store: Store) -> None:
    past = _walk(store, _local(_today() - dt.timedelta(days=30), 19), audience="partner")
    pub, partner, restricted = _findings(store, past, ("publik", "partner", "begransad"))
    actions = _actions(store, past, ("publik", "partner", "begransad"))
    assert past not in _visible(store, "walk", PARTICIPANT)
    store.add_participant(past, PARTICIPANT.username, actor=PLANNER)
    assert _participants(store, past) == {"del1"}
    assert past in _visible(store, "walk", PARTICIPANT)
    # a partner walk shows its participants the publik and partner records, never the restricted ones
    seen = _visible(store, "finding", PARTICIPANT)
    assert restricted not in seen and seen == {pub, partner}
    assert _visible(store, "action", PARTICIPANT) == set(actions[:2])
    invites = store.audit_log()
    invite = invites[invites["action"] == "walk_invite"].iloc[0]
    assert invite["username"] == "plan1" and "del1" in invite["detail"]
    # once invited, the participant may report on the (past) walk
    res = capture.submit_finding(store, PARTICIPANT, category="odsligt", lon=BRO[0], lat=BRO[1], walk_id=past,
                                 client_id=str(uuid.uuid4()))
    assert res.created and store.get("finding", res.id)["walk_id"] == past


def test_vandringar_page_offers_joining_only_open_walks_and_planners_invite(tmp_path, monkeypatch) -> None:
    import sys
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from trygghetskarta import auth
    from trygghetskarta.store import open_store

    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from app_pages import _ui

    url = f"sqlite:///{tmp_path / 'walks.sqlite'}"
    store = open_store(url)
    store.init()
    past = _walk(store, _local(_today() - dt.timedelta(days=21), 19), title="Förra månaden")
    tonight = _walk(store, _local(_today(), 19), title="I kväll")
    auth.create_user(store, "test_deltagare", "deltagare", "Kvällsvandring-i-Bro-2026")
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")

    def page(role: str) -> AppTest:
        at = AppTest.from_file(str(root / "app_pages" / "vandringar.py"), default_timeout=120)
        at.session_state["tk_user"] = {"username": f"test_{role}", "role": role, "organisation": None}
        at.session_state["tk_lang"] = "sv"
        return at.run()

    def report_walks() -> list[Any]:
        at = AppTest.from_file(str(root / "app_pages" / "rapportera.py"), default_timeout=120)
        at.session_state["tk_user"] = {"username": "test_deltagare", "role": "deltagare", "organisation": None}
        at.session_state["tk_lang"] = "sv"
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return list(next(s for s in at.selectbox if s.key == "rap_walk").options)

    # the report page offers a participant the open walks only (a past one would be refused when saving)
    assert not [o for o in report_walks() if "Förra månaden" in o] and [o for o in report_walks() if "I kväll" in o]

    join = _ui.text("join_walk")
    at = page("deltagare")
    walk_box = next(s for s in at.selectbox if s.label == _ui.text("walk"))
    walk_box.select(past).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _ui.text("walk_closed") in [str(c.value) for c in at.caption]
    assert not [b for b in at.button if b.label == join]
    next(s for s in at.selectbox if s.label == _ui.text("walk")).select(tonight).run()
    next(b for b in at.button if b.label == join).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _ui.text("walk_joined") in [str(s.value) for s in at.success]
    assert _participants(store, tonight) == {"test_deltagare"} and _participants(store, past) == set()

    at = page("planerare")
    next(s for s in at.selectbox if s.label == _ui.text("walk")).select(past).run()
    invite = next(m for m in at.multiselect if m.label == _ui.text("invite_participants"))
    assert invite.options == ["test_deltagare"]
    invite.set_value(["test_deltagare"])
    next(b for b in at.button if b.label == _ui.text("invite_participants")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _participants(store, past) == {"test_deltagare"} and _participants(store, tonight) == {"test_deltagare"}
    assert store.participant_walk_ids("test_deltagare") == {past, tonight}
    assert [o for o in report_walks() if "Förra månaden" in o]  # invited: now offered
    store.dispose()
