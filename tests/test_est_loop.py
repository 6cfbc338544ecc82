"""The loop from walk to verified fix (issue 12), in the core, on both backends: actions with a deadline,
the follow-up at the next walk (every finding, planned ones too, answered by the walk's participants), the
default routing, extra reports on an existing finding, and the protocols that show the answers."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from PIL import Image

from trygghetskarta import access, capture, demo, protocol, workflow
from trygghetskarta import actions as action_service
from trygghetskarta.actions import action_list_from_actions, overdue_mask_from_actions
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, ValidationError
from trygghetskarta.routing import DEFAULT_ROUTING
from trygghetskarta.store import tables as t

PLANNER = access.Viewer("planerare1", "planerare")
ADMIN = access.Viewer("admin1", "admin")
WALKER = access.Viewer("deltagare1", "deltagare")
OTHER_WALKER = access.Viewer("deltagare2", "deltagare")
BROHUS = access.viewer_for_role("bostadsbolag", username="brohus1")


@pytest.fixture
def filled(store):
    demo.fill(store, seed=7)
    return store


def _walk_pair(store) -> tuple[dict, dict]:
    """The last walk and the walk before it in the same area."""
    walks = store.read("walk").sort_values("started_at")
    last = walks.iloc[-1]
    earlier = walks[(walks["area_id"] == last["area_id"]) & (walks["started_at"] < last["started_at"])]
    return earlier.iloc[-1].to_dict(), last.to_dict()


def _open_finding_of(store, walk: dict) -> int:
    found = store.read("finding", walk_id=int(walk["id"]), statuses=["ny", "bedomd"])
    found = found[~found["positive"].astype(bool)]
    return int(found.sort_values("id")["id"].iloc[0])


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buf, format="JPEG")
    return buf.getvalue()


# --- actions: deadline ------------------------------------------------------------------------------------


def test_an_action_has_a_deadline_and_the_list_sorts_by_it(filled):
    store = filled
    ids = store.read("finding", statuses=["ny"])["id"].astype(int).tolist()[:3]
    late = action_service.create_action(store, [ids[0]], "Laga lampan", "kommun_gata_park", PLANNER,
                               planned_date=dt.date(2026, 12, 20), deadline=dt.date(2026, 12, 1))
    soon = action_service.create_action(store, [ids[1]], "Klipp häcken", "kommun_gata_park", PLANNER,
                               deadline=dt.date(2026, 12, 10))
    none = action_service.create_action(store, [ids[2]], "Utred", "kommun_gata_park", PLANNER)
    assert store.get("action", late)["deadline"] == dt.date(2026, 12, 1)
    assert store.get("action", late)["planned_date"] == dt.date(2026, 12, 20)
    actions = pd.DataFrame(store.read("action", ids=[late, soon, none]).drop(columns="geometry"))
    mine = actions.set_index("id")
    # overdue by the deadline, although the planned date is still ahead
    mask = overdue_mask_from_actions(actions, dt.date(2026, 12, 5))
    assert dict(zip(mine.index, mask, strict=True)) == {late: True, soon: False, none: False}
    listed = action_list_from_actions(actions, dt.date(2026, 12, 5))
    assert listed["id"].tolist() == [late, soon, none]  # overdue, then by deadline, none last
    row = listed.iloc[0]
    assert row["days_overdue"] == 4 and row["due_date"] == dt.date(2026, 12, 1)
    with pytest.raises(ValidationError, match="deadline must be a date"):
        action_service.create_action(store, [ids[2]], "x", "kommun_gata_park", PLANNER, deadline="imorgon")  # type: ignore[arg-type]  # a form value that is no date


# --- the follow-up at the next walk -------------------------------------------------------------------------


def test_not_fixed_at_followup_of_a_planned_finding_keeps_it_planned(filled):
    """Regression: "inte åtgärdat" on a planned finding raised "a planned finding needs a date"."""
    store = filled
    earlier, last = _walk_pair(store)
    fid = _open_finding_of(store, earlier)
    action_service.create_action(store, [fid], "Byt armatur", "kommun_gata_park", PLANNER, planned_date=dt.date(2026,
                                 12, 1))
    workflow.change_status(store, fid, "planerad", PLANNER, "beställt", due_date=dt.date(2026, 12, 1))
    new = action_service.record_followup(store, fid, int(last["id"]), fixed=False, feels_safer=False, actor=PLANNER,
                                comment="lampan är fortfarande trasig")
    assert new == "planerad"
    finding = store.get("finding", fid)
    assert finding["status"] == "planerad" and finding["due_date"] == dt.date(2026, 12, 1)
    answer = store.followups([fid], walk_id=int(last["id"])).iloc[-1]
    assert (answer["fixed"], answer["feels_safer"]) == (False, False)
    assert "fortfarande trasig" in store.status_events("finding", fid)["comment"].iloc[-1]


def test_only_the_walks_participants_answer_its_followup(filled):
    store = filled
    earlier, last = _walk_pair(store)
    fid = _open_finding_of(store, earlier)
    walk_id = int(last["id"])
    with pytest.raises(PermissionDeniedError, match="Bara deltagare i vandring"):
        action_service.record_followup(store, fid, walk_id, fixed=True, feels_safer=True, actor=WALKER)
    store.add_participant(walk_id, WALKER.username)
    assert action_service.record_followup(store, fid, walk_id, fixed=True, feels_safer=True,
                                          actor=WALKER) == "verifierad"
    with pytest.raises(PermissionDeniedError, match="Bara deltagare i vandring"):  # not on this walk
        action_service.record_followup(store, fid, walk_id, fixed=True, feels_safer=None, actor=OTHER_WALKER)
    with pytest.raises(PermissionDeniedError, match="Bara deltagare i vandring"):  # a partner must take part too
        action_service.record_followup(store, fid, walk_id, fixed=True, feels_safer=None, actor=BROHUS)
    with pytest.raises(PermissionDeniedError, match="kan inte svara"):
        action_service.record_followup(store, fid, walk_id, fixed=True, feels_safer=None,
                              actor=access.Viewer("nv1", "nattvandrare"))
    answer = store.followups([fid], walk_id=walk_id).iloc[-1]
    assert answer["by"] == WALKER.username and answer["fixed"]


def test_a_participant_cannot_answer_for_a_finding_they_may_not_see(filled):
    store = filled
    earlier, last = _walk_pair(store)
    fid = _open_finding_of(store, earlier)
    with store.write() as conn:
        conn.execute(sa.update(t.findings).where(t.findings.c.id == fid).values(audience="begransad"))
    store.add_participant(int(last["id"]), WALKER.username)
    with pytest.raises(NotFoundError, match=f"Fynd nr {fid} finns inte eller syns inte"):
        action_service.record_followup(store, fid, int(last["id"]), fixed=True, feels_safer=True, actor=WALKER)


def test_followup_checklist_keeps_every_finding_and_the_answers(filled):
    store = filled
    _earlier, last = _walk_pair(store)
    walk_id, area_id = int(last["id"]), int(last["area_id"])
    before = action_service.followup_checklist(store, area_id, walk_id)
    # 40 more open findings in the area, before the walk: none is cut
    area = store.areas().set_index("id").loc[area_id, "geometry"]
    point = area.representative_point()
    rows = [{"category": "klotter", "description": f"Klotter på elskåp {i}", "status": "ny",
             "reported_at": pd.Timestamp(last["started_at"]) - pd.Timedelta(days=3), "source": "app",
             "geometry": shapely.Point(point.x + i * 1e-5, point.y)} for i in range(40)]
    store.insert("finding", gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326"))
    checklist = action_service.followup_checklist(store, area_id, walk_id)
    assert len(checklist) == len(before) + 40 > 30
    fid = int(checklist["id"].iloc[-1])
    action_service.record_followup(store, fid, walk_id, fixed=True, feels_safer=True, actor=PLANNER)
    again = action_service.followup_checklist(store, area_id, walk_id)
    assert len(again) == len(checklist)  # the answered (now verified) finding stays, with its answer
    row = again.set_index("id").loc[fid]
    assert row["status"] == "verifierad" and row["followup_fixed"] is True and row["followup_safer"] is True
    assert {"action_what", "action_planned_date", "action_deadline", "lon", "lat"} <= set(again.columns)


# --- routing -------------------------------------------------------------------------------------------


def test_default_routing_after_init_is_editable_and_written_once(store):
    assert action_service.propose_party(store, "belysning_trasig") == "okand"  # a bare store has no routing yet
    written = action_service.seed_default_routing(store, )
    assert written == len(DEFAULT_ROUTING)
    assert action_service.propose_party(store, "belysning_trasig") == "kommun_gata_park"
    assert action_service.propose_party(store, "vegetation") == "kommun_gata_park"
    assert action_service.propose_party(store, "entre_trapphus") == "upplands_brohus"
    assert action_service.propose_party(store, "hallplats") == "region_sl"
    assert {action_service.propose_party(store,
                                         c) for c in DEFAULT_ROUTING} - {"okand"} == set(DEFAULT_ROUTING.values())
    action_service.set_route(store, "entre_trapphus", None, "privat_fastighetsagare", ADMIN)  # the admin edits it
    action_service.delete_route(store, "klotter", None, ADMIN)
    assert action_service.seed_default_routing(store, ) == 0  # a second init changes nothing the admin did
    assert action_service.propose_party(store, "entre_trapphus") == "privat_fastighetsagare"
    assert action_service.propose_party(store, "klotter") == "okand"
    assert action_service.seed_default_routing(store, ADMIN, restore=True) == 1  # the admin restores what is missing
    assert action_service.propose_party(store, "klotter") == "kommun_gata_park"
    assert action_service.propose_party(store, "entre_trapphus") == "privat_fastighetsagare"
    with pytest.raises(PermissionDeniedError):
        action_service.seed_default_routing(store, PLANNER, restore=True)


def test_cli_init_writes_the_default_routing(tmp_path):
    url = f"sqlite:///{tmp_path / 'init.sqlite'}"
    res = subprocess.run([sys.executable, "-m", "trygghetskarta", "--db", url, "init"], capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert f"routing: {len(DEFAULT_ROUTING)} default rows" in res.stdout
    from trygghetskarta.store import open_store

    s = open_store(url)
    assert action_service.propose_party(s, "entre_trapphus") == "upplands_brohus"
    s.dispose()


# --- duplicates ----------------------------------------------------------------------------------------


def test_adding_to_an_existing_finding_keeps_the_text_and_photo(filled):
    """Regression: "lägg till på befintligt" only counted a supporter; the new text and photo were lost."""
    store = filled
    fid = int(store.read("finding", statuses=["ny"])["id"].iloc[0])
    before = store.get("finding", fid)
    photos_before = len(store.photos([fid]))
    n = capture.add_to_existing(store, WALKER, fid, description="Lampan blinkar och slocknar, ring 070-1234567",
                                photos=[("lampa.jpg", _jpeg())], client_id="dup-client-0001")
    assert n == int(before["supporters"] or 0) + 1
    assert len(store.photos([fid])) == photos_before + 1
    reports = store.finding_reports([fid])
    assert len(reports) == 1
    report = reports.iloc[0]
    assert report["by"] == WALKER.username and report["finding_id"] == fid
    assert report["description"].startswith("Lampan blinkar och slocknar")
    assert "070-1234567" not in report["description"]  # scrubbed like every free text
    assert store.get("finding", fid)["description"] == before["description"]  # the original text stays
    # the same client id again (a double tap) adds nothing
    assert capture.add_to_existing(store, WALKER, fid, description="Lampan blinkar", client_id="dup-client-0001") == n
    assert len(store.finding_reports([fid])) == 1 and len(store.photos([fid])) == photos_before + 1


# --- protocols -----------------------------------------------------------------------------------------


def test_protocols_show_the_followup_on_both_walks(filled, tmp_path):
    store = filled
    earlier, last = _walk_pair(store)
    fid = _open_finding_of(store, earlier)
    action_service.create_action(store, [fid], "Byt armatur vid gångvägen", "kommun_gata_park", PLANNER,
                              planned_date=dt.date(2026, 11, 12), deadline=dt.date(2026, 11, 30))
    action_service.record_followup(store, fid, int(last["id"]), fixed=True, feels_safer=True, actor=PLANNER,
                                   comment="ny lampa")
    old = protocol.walk_protocol(store, int(earlier["id"]), viewer=PLANNER, lang="sv")
    row = old.findings.set_index("id").loc[fid]
    assert (row["followup_fixed"], row["followup_safer"]) == (True, True)
    headers, rows = protocol._rows(old)
    assert "Åtgärd" in headers
    mine = rows[int(row["number"]) - 1]
    assert "ja" in mine[-2:] and any("Byt armatur vid gångvägen" in c for c in mine)
    assert any("2026-11-12" in c for c in mine)  # the action's planned date
    new = protocol.walk_protocol(store, int(last["id"]), viewer=PLANNER, lang="sv")
    checked = new.checked.set_index("id")
    assert fid in checked.index
    assert (checked.loc[fid, "followup_fixed"], checked.loc[fid, "followup_safer"]) == (True, True)
    page = protocol.protocol_html(new)
    assert "Uppföljning av tidigare fynd" in page and "ny lampa" in page
    pdf = protocol.protocol_pdf(new, tmp_path / "p.pdf")
    assert pdf.stat().st_size > 1000



# --- line findings --------------------------------------------------------------------------------------


def test_a_drawn_stretch_is_stored_as_a_line_finding(store):
    path = [(17.6350, 59.5110), (17.6362, 59.5114), (17.6375, 59.5116)]
    res = capture.submit_finding(store, PLANNER, category="belysning_otillracklig", description="Mörk gångväg",
                                 lon=None, lat=None, line=path, client_id="line-client-0001")
    stored = store.read("finding", ids=[res.id]).iloc[0]
    assert stored.geometry.geom_type == "LineString"
    assert [tuple(round(c, 6) for c in xy) for xy in stored.geometry.coords] == path
    assert stored.geometry.distance(shapely.Point(stored["lon"], stored["lat"])) < 1e-6  # a point on the line
    with pytest.raises(ValidationError, match="a stretch needs 2"):
        capture.submit_finding(store, PLANNER, category="vegetation", lon=None, lat=None, line=path[:1],
                               client_id="line-client-0002")
    with pytest.raises(ValidationError, match="outside"):
        capture.submit_finding(store, PLANNER, category="vegetation", lon=None, lat=None,
                               line=[*path, (18.5, 59.3)], client_id="line-client-0003")


# --- the protocol map ----------------------------------------------------------------------------------


def test_protocol_map_draws_a_configured_base_map_with_scale_and_swedish_axes(filled, monkeypatch):
    """The base map comes from the configured tile server (here one on 127.0.0.1); with none, no tile is asked
    for. The map has a metric scale bar and axes labelled in Swedish."""
    import http.server
    import threading

    import numpy as np

    asked: list[str] = []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the http.server API
            asked.append(self.path)
            buf = io.BytesIO()
            Image.new("RGB", (256, 256), (30, 160, 60)).save(buf, format="PNG")
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(buf.getvalue())

        def log_message(self, *args: object) -> None:
            pass

    store = filled
    walk_id = int(store.read("walk").sort_values("started_at")["id"].iloc[0])
    texts: list[str] = []
    import matplotlib.axes

    original = matplotlib.axes.Axes.set_xlabel

    def set_xlabel(self: matplotlib.axes.Axes, label: str, *a: Any, **k: Any) -> Any:
        texts.append(label)
        return original(self, label, *a, **k)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_xlabel", set_xlabel)
    monkeypatch.setattr(protocol, "_fetch_tile", lambda url: pytest.fail(f"tile fetched with basemap none: {url}"))
    plain = protocol.route_map_png(protocol.walk_protocol(store, walk_id, lang="sv"))
    assert texts[-1] == "Östlig koordinat, SWEREF 99 TM (m)"  # after what geopandas sets
    monkeypatch.undo()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "custom")
        monkeypatch.setenv("TRYGGHETSKARTA_TILES_URL", f"http://127.0.0.1:{server.server_port}/{{z}}/{{x}}/{{y}}.png")
        monkeypatch.setenv("TRYGGHETSKARTA_TILES_ATTRIBUTION", "© Testkarta")
        protocol._fetch_tile.cache_clear()
        based = protocol.route_map_png(protocol.walk_protocol(store, walk_id, lang="sv"))
    finally:
        server.shutdown()
        server.server_close()
    assert asked and all(p.endswith(".png") for p in asked)
    green = np.asarray(Image.open(io.BytesIO(based)).convert("RGB"), dtype=int)
    share = ((green[..., 1] > 140) & (green[..., 0] < 80)).mean()
    assert share > 0.2  # the tiles' green fills the map
    assert ((np.asarray(Image.open(io.BytesIO(plain)).convert("RGB"), dtype=int)[..., 1] > 140)
            & (np.asarray(Image.open(io.BytesIO(plain)).convert("RGB"), dtype=int)[..., 0] < 80)).mean() < 0.01
    assert protocol._nice_length(3000) == 500 and protocol._nice_length(800) == 100
