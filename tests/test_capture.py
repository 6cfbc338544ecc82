"""capture: the report page's submit path (also driven by the load test). Idempotent on client_id,
duplicates within the radius (EPSG:3006), free text scrubbed, photos verified and EXIF-free."""

from __future__ import annotations

import io
import threading
import uuid

import numpy as np
import pytest
from PIL import Image

from trygghetskarta import capture, geography, workflow
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, ValidationError

BRO = (17.6366, 59.5115)  # Bro station area, inside Upplands-Bro
PLANNER = Viewer("planner1", "planerare")
PARTICIPANT = Viewer("deltagare1", "deltagare")


def _cid() -> str:
    return str(uuid.uuid4())


def _offset(lon: float, lat: float, dx_m: float) -> tuple[float, float]:
    x, y = geography.metric_from_lonlat(np.array([lon]), np.array([lat]))
    out = geography.lonlat_from_metric(x + dx_m, y)
    return float(out[0][0]), float(out[1][0])


def _jpeg(gps: tuple[float, float] | None = None, size: tuple[int, int] = (640, 480)) -> bytes:
    img = Image.new("RGB", size, (40, 90, 160))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make: must not survive re-encoding
    if gps:
        lon, lat = gps

        def dms(v: float) -> tuple[float, float, float]:
            d = int(v)
            m = int((v - d) * 60)
            s = round(((v - d) * 60 - m) * 60, 4)
            return (float(d), float(m), float(s))

        exif.get_ifd(0x8825).update({1: "N", 2: dms(lat), 3: "E", 4: dms(lon)})
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_same_client_id_twice_stores_one_finding(store):
    cid = _cid()
    first = capture.submit_finding(store, PLANNER, category="klotter", severity=2, description="klotter på muren",
                                   lon=BRO[0], lat=BRO[1], client_id=cid)
    again = capture.submit_finding(store, PLANNER, category="klotter", severity=2, description="klotter på muren",
                                   lon=BRO[0], lat=BRO[1], client_id=cid)
    assert first.created and not again.created
    assert again.id == first.id
    assert store.count("finding") == 1
    row = store.get("finding", first.id)
    assert row["external_id"] == f"app:{cid}"
    assert row["reported_by"] == "planner1" and row["status"] == "ny" and row["source"] == "app"


def test_concurrent_double_tap_stores_one_finding(store):
    cid = _cid()
    results, errors = [], []

    def tap() -> None:
        try:
            results.append(capture.submit_finding(store, PLANNER, category="vegetation", lon=BRO[0], lat=BRO[1],
                                                  client_id=cid, find_duplicates=False))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert len({r.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert store.count("finding") == 1


def test_stored_id_finds_a_report_by_its_client_id(store):
    cid = _cid()
    assert capture.stored_id(store, "finding", cid) is None
    res = capture.submit_finding(store, PARTICIPANT, category="klotter", lon=BRO[0], lat=BRO[1], client_id=cid)
    assert capture.stored_id(store, "finding", cid) == res.id
    assert capture.stored_id(store, "sighting", cid) is None
    with pytest.raises(ValidationError, match="client_id"):
        capture.stored_id(store, "finding", "x'; --")
    with pytest.raises(ValidationError, match="reports are"):
        capture.stored_id(store, "action", cid)


def test_duplicate_candidates_at_the_radius_edge_in_every_direction(store):
    """The store reads only a lon/lat box around the point; the box must hold the whole circle."""
    base = capture.submit_finding(store, PLANNER, category="vegetation", lon=BRO[0], lat=BRO[1], client_id=_cid())
    x, y = geography.metric_from_lonlat(np.array([BRO[0]]), np.array([BRO[1]]))
    for angle in np.radians([0, 45, 90, 135, 180, 225, 270, 315]):
        for distance, expected in ((49.5, [base.id]), (50.5, [])):
            lon, lat = geography.lonlat_from_metric(x + distance * np.cos(angle), y + distance * np.sin(angle))
            found = capture.duplicate_candidates(store, "vegetation", float(lon[0]), float(lat[0]), radius_m=50)
            assert [c.id for c in found] == expected, (np.degrees(angle), distance)


def test_duplicate_candidates_within_radius_same_category_open_only(store):
    base = capture.submit_finding(store, PLANNER, category="belysning_trasig", lon=BRO[0], lat=BRO[1],
                                  client_id=_cid())
    other_cat = capture.submit_finding(store, PLANNER, category="klotter", lon=BRO[0], lat=BRO[1], client_id=_cid())
    near = _offset(*BRO, 12.0)
    far = _offset(*BRO, 40.0)
    found = capture.duplicate_candidates(store, "belysning_trasig", *near)
    assert [c.id for c in found] == [base.id]
    assert found[0].distance_m == pytest.approx(12.0, abs=0.5)
    assert capture.duplicate_candidates(store, "belysning_trasig", *far) == []
    assert capture.duplicate_candidates(store, "belysning_trasig", *far, radius_m=50)[0].id == base.id
    # The submit itself reports its neighbours (never itself)
    second = capture.submit_finding(store, PLANNER, category="belysning_trasig", lon=near[0], lat=near[1],
                                    client_id=_cid())
    assert [c.id for c in second.duplicate_candidates] == [base.id]
    assert other_cat.id not in [c.id for c in second.duplicate_candidates]
    # A closed finding is no longer offered
    workflow.change_status(store, base.id, "ej_atgardas", comment="ligger på privat mark")
    assert [c.id for c in capture.duplicate_candidates(store, "belysning_trasig", *BRO)] == [second.id]


def test_add_to_existing_counts_a_supporter(store):
    res = capture.submit_finding(store, PLANNER, category="nedskrapning", lon=BRO[0], lat=BRO[1], client_id=_cid())
    assert capture.add_to_existing(store, PLANNER, res.id) == 1
    assert capture.add_to_existing(store, PLANNER, res.id) == 2
    with pytest.raises(NotFoundError):
        capture.add_to_existing(store, PLANNER, 999_999)


def test_description_is_scrubbed_of_personal_data(store):
    res = capture.submit_finding(store, PLANNER, category="klotter",
                                 description="Ring 070-123 45 67 eller skriv till anna@example.se, pnr 19121212-1212",
                                 lon=BRO[0], lat=BRO[1], client_id=_cid())
    stored = store.get("finding", res.id)["description"]
    assert res.masked >= 3
    assert "070-123" not in stored and "anna@example.se" not in stored and "1212-1212" not in stored
    assert "[telefon]" in stored and "[e-post]" in stored and "[personnummer]" in stored


def test_photo_position_used_and_exif_removed(store, tmp_path):
    lon, lat = _offset(*BRO, 30.0)
    data = _jpeg(gps=(lon, lat))
    assert capture.position_from_photo(data) == pytest.approx((lon, lat), abs=1e-5)
    res = capture.submit_finding(store, PLANNER, category="skadegorelse", lon=None, lat=None,
                                 photos=[("trasig.jpg", data)], client_id=_cid())
    assert res.position_source == "exif"
    assert (res.lon, res.lat) == pytest.approx((lon, lat), abs=1e-5)
    photos = store.photos([res.id])
    assert len(photos) == 1 == len(res.photo_ids)
    with Image.open(photos["path"].iloc[0]) as stored:
        assert dict(stored.getexif()) == {}


def test_bad_photo_or_position_stores_nothing(store):
    with pytest.raises(ValidationError, match="not a readable image"):
        capture.submit_finding(store, PLANNER, category="klotter", lon=BRO[0], lat=BRO[1],
                               photos=[("x.jpg", b"not an image")], client_id=_cid())
    with pytest.raises(ValidationError, match="outside"):
        capture.submit_finding(store, PLANNER, category="klotter", lon=18.07, lat=59.33, client_id=_cid())  # Stockholm
    with pytest.raises(ValidationError, match="no position"):
        capture.submit_finding(store, PLANNER, category="klotter", lon=None, lat=None, photos=[_jpeg()],
                               client_id=_cid())
    with pytest.raises(ValidationError, match="client_id"):
        capture.submit_finding(store, PLANNER, category="klotter", lon=BRO[0], lat=BRO[1], client_id="x")
    with pytest.raises(ValidationError, match="unknown category"):
        capture.submit_finding(store, PLANNER, category="nope", lon=BRO[0], lat=BRO[1], client_id=_cid())
    with pytest.raises(ValidationError, match="severity"):
        capture.submit_finding(store, PLANNER, category="klotter", severity=5, lon=BRO[0], lat=BRO[1],
                               client_id=_cid())
    assert store.count("finding") == 0


def test_participant_on_a_walk_sees_the_walks_findings(store):
    import datetime as dt

    import geopandas as gpd

    walk = store.insert("walk", gpd.GeoDataFrame([{"title": "Kvällsvandring Bro", "audience": "begransad",
                                                   "started_at": dt.datetime.now(dt.UTC), "geometry": None}],
                                                 geometry="geometry", crs="EPSG:4326")).ids[0]
    other = capture.submit_finding(store, PLANNER, category="gangtunnel", lon=BRO[0], lat=BRO[1], walk_id=walk,
                                   client_id=_cid())
    assert walk not in store.points("walk", PARTICIPANT)["id"].tolist()  # a restricted walk, not theirs yet
    with pytest.raises(NotFoundError):  # not open to them: a restricted walk needs a planner's invitation
        capture.submit_finding(store, PARTICIPANT, category="odsligt", lon=BRO[0], lat=BRO[1], walk_id=walk,
                               client_id=_cid())
    store.add_participant(walk, PARTICIPANT.username, actor=PLANNER)
    mine = capture.submit_finding(store, PARTICIPANT, category="odsligt", lon=BRO[0], lat=BRO[1], walk_id=walk,
                                  client_id=_cid())
    assert walk in store.points("walk", PARTICIPANT)["id"].tolist()
    seen = set(store.points("finding", PARTICIPANT, walk_id=walk)["id"])
    assert {other.id, mine.id} <= seen
    # a public walk tonight is open: reporting on it makes the reporter a participant
    tonight = store.insert("walk", gpd.GeoDataFrame([{"title": "Öppen vandring", "audience": "publik",
                                                      "started_at": dt.datetime.now(dt.UTC), "geometry": None}],
                                                    geometry="geometry", crs="EPSG:4326")).ids[0]
    assert store.read("walk", PARTICIPANT, ids=[tonight]).shape[0] == 1
    capture.submit_finding(store, PARTICIPANT, category="odsligt", lon=BRO[0], lat=BRO[1], walk_id=tonight,
                           client_id=_cid())
    assert store.audit_log()["action"].tolist().count("walk_join") == 1
    with pytest.raises(NotFoundError):
        capture.submit_finding(store, PARTICIPANT, category="odsligt", lon=BRO[0], lat=BRO[1], walk_id=987_654,
                               client_id=_cid())


def test_sighting_only_for_field_roles_and_restricted(store):
    with pytest.raises(PermissionDeniedError):
        capture.submit_sighting(store, PARTICIPANT, type="samling_unga", lon=BRO[0], lat=BRO[1], client_id=_cid())
    field = Viewer("falt1", "faltgrupp")
    cid = _cid()
    res = capture.submit_sighting(store, field, type="samling_unga", group_size="5-9", age_band="13-15",
                                  description="grupp vid stationen", lon=BRO[0], lat=BRO[1], client_id=cid)
    again = capture.submit_sighting(store, field, type="samling_unga", lon=BRO[0], lat=BRO[1], client_id=cid)
    assert res.created and not again.created and again.id == res.id
    row = store.get("sighting", res.id)
    assert row["audience"] == "begransad" and row["group_size"] == "5-9"
    assert store.count("sighting") == 1


def test_nightwalk_report_idempotent_and_role_checked(store):
    import datetime as dt

    walker = Viewer("natt1", "nattvandrare")
    with pytest.raises(PermissionDeniedError):
        capture.submit_nightwalk(store, Viewer("p", "polis", "polis"), organisation="X",
                                 walk_date=dt.date(2026, 11, 20), walkers=3, client_id=_cid())
    cid = _cid()
    res = capture.submit_nightwalk(store, walker, organisation="Nattvandrarna i Bro", walk_date=dt.date(2026, 11, 20),
                                   walkers=6, contacts_young=14, observations="Lugnt vid centrum",
                                   route=[BRO, _offset(*BRO, 300.0)], client_id=cid)
    again = capture.submit_nightwalk(store, walker, organisation="Nattvandrarna i Bro",
                                     walk_date=dt.date(2026, 11, 20), walkers=6, client_id=cid)
    assert res.created and again.id == res.id and store.count("nightwalk") == 1
    with pytest.raises(ValidationError, match="walkers"):
        capture.submit_nightwalk(store, walker, organisation="X", walk_date=dt.date(2026, 11, 20), walkers=-1,
                                 client_id=_cid())
