"""Open311 GeoReport v2 (issue 16) with a real HTTP client against a running ``trygghetskarta serve-api``
process: every endpoint in JSON and XML, the specification's errors with the right HTTP status (no key, wrong
key, unknown service, bad position), a POSTed request in the planner's list, positions as coarse as on the
public map, nothing from restricted records, keys made and revoked on the command line, every write audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET
import geopandas as gpd
import numpy as np
import pytest
import requests
import shapely
from public_support import Api, cli, running_api

from trygghetskarta import privacy, public, workflow
from trygghetskarta.access import Viewer
from trygghetskarta.store import Store, open_store

PLANNER = Viewer("planerare1", "planerare")
BRO = (17.64051, 59.52523)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Store, str, Path]]:
    data = tmp_path_factory.mktemp("open311")
    url = f"sqlite:///{data / 'tk.sqlite'}"
    cli(data, "init", db_url=url)
    out = cli(data, "api-keys", "add", "felanmalan", db_url=url).stdout
    key = out.strip().splitlines()[-1]
    assert "shown once" in out and key.startswith("tk_")
    assert key not in cli(data, "api-keys", "list", db_url=url).stdout  # only a prefix is ever shown again
    store = open_store(url)
    rows = [{"category": "belysning_trasig", "reported_at": "2026-11-20T20:00:00+01:00", "audience": audience,
             "description": f"walk finding {audience}", "geometry": shapely.Point(17.6300 + 0.002 * i, 59.5200)}
            for i, audience in enumerate(["publik", "partner", "begransad"])]
    store.insert("finding", gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326"))
    with running_api(data, url) as api:
        yield api, store, key, data
    store.dispose()


def _get(api: Api, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{api.url}/open311/v2/{path}", params=params, timeout=30)


def _post(api: Api, fmt: str, **form: Any) -> requests.Response:
    return requests.post(f"{api.url}/open311/v2/requests.{fmt}", data=form, timeout=30)


def _error(resp: requests.Response, fmt: str) -> tuple[int, int, str]:
    if fmt == "json":
        (err,) = resp.json()
        return resp.status_code, int(err["code"]), str(err["description"])
    root = DET.fromstring(resp.content)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    return resp.status_code, int(str(root.findtext("error/code"))), str(root.findtext("error/description"))


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_and_services(served: tuple, fmt: str) -> None:
    api = served[0]
    disc = _get(api, f"discovery.{fmt}")
    assert disc.status_code == 200
    services = _get(api, f"services.{fmt}")
    definition = _get(api, f"services/klotter.{fmt}")
    if fmt == "json":
        assert disc.headers["content-type"].startswith("application/json")
        assert disc.json()["endpoints"][0]["url"] == f"{api.url}/open311/v2"
        codes = [s["service_code"] for s in services.json()]
        assert definition.json() == {"service_code": "klotter", "attributes": []}
    else:
        assert disc.headers["content-type"].startswith("text/xml")
        root = DET.fromstring(disc.content)
        assert root.tag == "discovery" and root.findtext("endpoints/endpoint/specification") == (
            "http://wiki.open311.org/GeoReport_v2")
        assert [f.text for f in _one(root, "endpoints/endpoint/formats")] == ["application/json", "text/xml"]
        sroot = DET.fromstring(services.content)
        codes = [s.findtext("service_code") for s in sroot.findall("service")]
        assert _one(sroot, "service/metadata").text == "false"
        droot = DET.fromstring(definition.content)
        assert droot.tag == "service_definition" and droot.findtext("service_code") == "klotter"
    assert len(codes) == 19 and codes[0] == "belysning_trasig" and "trygg_plats" in codes
    assert _error(_get(api, f"services/nope.{fmt}"), fmt) == (404, 404, "service_code 'nope' not found")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors_follow_the_specification(served: tuple, fmt: str) -> None:
    api, store, key, _ = served
    before = store.count("finding")
    good = {"service_code": "klotter", "lat": BRO[1], "long": BRO[0]}
    assert _error(_post(api, fmt, **good), fmt) == (403, 403, "api_key is required to POST a service request")
    assert _error(_post(api, fmt, api_key=key[:-2] + "xx", **good), fmt) == (403, 403, "api_key is not valid")
    assert _error(_post(api, fmt, api_key="nonsense", **good), fmt)[:2] == (403, 403)
    assert _error(_post(api, fmt, api_key=key, **{**good, "service_code": "ufo"}), fmt) == (
        400, 400, "service_code 'ufo' not found")
    assert _error(_post(api, fmt, api_key=key, **{**good, "lat": "north"}), fmt) == (
        400, 400, "lat must be a number in WGS 84 decimal degrees")
    assert _error(_post(api, fmt, api_key=key, **{**good, "lat": 123}), fmt) == (
        400, 400, "lat 123 is not a WGS 84 coordinate")
    assert _error(_post(api, fmt, api_key=key, service_code="klotter", address_string="Bro centrum"), fmt)[:2] == (
        400, 400)
    assert _error(_post(api, fmt, api_key=key, **{**good, "lat": 59.33, "long": 18.07}), fmt) == (
        400, 400, "The place is outside the municipality.")
    assert store.count("finding") == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posted_request_is_moderated_then_public_with_a_coarse_position(served: tuple, fmt: str) -> None:
    api, store, key, _ = served
    resp = _post(api, fmt, api_key=key, service_code="belysning_trasig", lat=BRO[1], long=BRO[0],
                 description=f"Lampan är släckt ({fmt}), ring 070-111 22 33", email="boende@example.se")
    assert resp.status_code == 200
    if fmt == "json":
        (answer,) = resp.json()
    else:
        root = DET.fromstring(resp.content)
        assert root.tag == "service_requests"
        answer = {c.tag: c.text for c in _one(root, "request")}
    token = answer["token"]
    # in the planner's list at once, not public yet
    listed = store.public_reports(PLANNER, moderation=["vantar"])
    row = listed[listed["channel"] == "open311"].iloc[0]
    assert row["api_client"] == "felanmalan" and "070-111" not in row["description"]
    fid = int(row["finding_id"])
    assert fid in store.read("finding", PLANNER)["id"].tolist()
    assert _token_id(api, token, fmt) == ""
    assert _error(_get(api, f"requests/{fid}.{fmt}"), fmt) == (404, 404, f"service request '{fid}' not found")
    public.moderate(store, fid, True, PLANNER)
    assert _token_id(api, token, fmt) == str(fid)
    got = _requests(api, f"requests/{fid}.{fmt}", fmt)
    assert [r["service_request_id"] for r in got] == [str(fid)]
    (req,) = got
    assert (req["status"], req["service_code"], req["status_notes"]) == ("open", "belysning_trasig", "Bedömd")
    lon, lat = privacy.public_positions(np.array([BRO[0]]), np.array([BRO[1]]))
    assert (float(req["long"]), float(req["lat"])) == (float(lon[0]), float(lat[0]))
    assert (float(req["long"]), float(req["lat"])) != BRO
    workflow.change_status(store, fid, "ej_atgardas", PLANNER, "Privat mark")
    (closed,) = _requests(api, f"requests/{fid}.{fmt}", fmt)
    assert (closed["status"], closed["status_notes"]) == ("closed", "Ej åtgärdas: Privat mark")


def _token_id(api: Api, token: str, fmt: str) -> str:
    resp = _get(api, f"tokens/{token}.{fmt}")
    assert resp.status_code == 200
    if fmt == "json":
        (item,) = resp.json()
        return str(item["service_request_id"])
    root = DET.fromstring(resp.content)
    return root.findtext("request/service_request_id") or ""


def _requests(api: Api, path: str, fmt: str, **params: Any) -> list[dict[str, Any]]:
    resp = _get(api, path, **params)
    assert resp.status_code == 200, resp.text
    if fmt == "json":
        return list(resp.json())
    root = DET.fromstring(resp.content)
    assert root.tag == "service_requests"
    return [{c.tag: c.text or "" for c in r} for r in root.findall("request")]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_requests_list_filters_and_shows_nothing_restricted(served: tuple, fmt: str) -> None:
    api, _store, _key, _ = served
    start = "2026-11-01T00:00:00Z"
    everything = _requests(api, f"requests.{fmt}", fmt, start_date=start)
    texts = [r["description"] for r in everything]
    assert "walk finding publik" in texts
    assert "walk finding partner" not in texts and "walk finding begransad" not in texts
    lights = _requests(api, f"requests.{fmt}", fmt, start_date=start, service_code="belysning_trasig")
    assert {r["service_code"] for r in lights} == {"belysning_trasig"}
    opened = _requests(api, f"requests.{fmt}", fmt, start_date=start, status="open")
    assert {r["status"] for r in opened} == {"open"}
    assert _requests(api, f"requests.{fmt}", fmt, start_date=start, end_date="2026-11-02T00:00:00Z") == []
    walk = next(r for r in everything if r["description"] == "walk finding publik")
    by_id = _requests(api, f"requests.{fmt}", fmt, service_request_id=walk["service_request_id"])
    assert [r["service_request_id"] for r in by_id] == [walk["service_request_id"]]
    assert _error(_get(api, f"requests.{fmt}", status="pending"), fmt)[:2] == (400, 400)
    assert _error(_get(api, f"requests.{fmt}", start_date="yesterday"), fmt)[:2] == (400, 400)
    assert _error(_get(api, f"tokens/unknown.{fmt}"), fmt) == (404, 404, "token 'unknown' not found")
    assert _get(api, "services.html").status_code == 404


def test_revoked_key_is_refused_and_every_write_is_audited(served: tuple) -> None:
    api, store, _key, data = served
    url = store.url
    new_key = cli(data, "api-keys", "add", "fixmystreet", db_url=url).stdout.strip().splitlines()[-1]
    ok = _post(api, "json", api_key=new_key, service_code="klotter", lat=BRO[1], long=BRO[0])
    assert ok.status_code == 200
    assert "API key fixmystreet revoked" in cli(data, "api-keys", "revoke", "fixmystreet", db_url=url).stdout
    refused = _post(api, "json", api_key=new_key, service_code="klotter", lat=BRO[1], long=BRO[0])
    assert _error(refused, "json") == (403, 403, "api_key is not valid")
    assert cli(data, "api-keys", "revoke", "fixmystreet", db_url=url, check=False).returncode == 1
    import sqlalchemy as sa

    with store.read_conn() as conn:
        rows = conn.execute(sa.text("SELECT action, detail FROM audit_events WHERE action IN "
                                    "('api_key_add', 'api_key_revoke', 'public_report') ORDER BY id")).all()
    actions = [r.action for r in rows]
    assert actions.count("api_key_add") == 2 and actions.count("api_key_revoke") == 1
    assert sum('"api_client": "fixmystreet"' in r.detail for r in rows) == 1


def test_a_flood_from_one_client_stores_at_most_the_limit_and_says_why(served: tuple) -> None:
    """The residents' endpoint over HTTP: one client sends 60 reports; the per-client limit (10 an hour by
    default) are stored, every other one is answered 429 with the reason in the sender's language."""
    api, store, _key, _ = served
    before = store.count("finding")
    answers = []
    with requests.Session() as session:
        for i in range(60):
            resp = session.post(f"{api.url}/public/v1/reports", timeout=30, json={
                "category": "klotter", "lat": BRO[1], "lon": BRO[0], "text": f"nr {i}", "lang": "ar",
                "client_id": f"flood-{i:04d}-0000"})
            answers.append((resp.status_code, resp.json()))
    created = [a for a in answers if a[0] == 201]
    refused = [a for a in answers if a[0] == 429]
    assert len(created) == 10 and len(refused) == 50
    assert {body["error"] for _, body in refused} == {
        "لقد استلمنا بلاغات كثيرة من اتصالك خلال الساعة الأخيرة، لذلك لم يُحفظ هذا البلاغ. حاول مرة أخرى لاحقًا."}
    assert store.count("finding") == before + 10
    bot = requests.post(f"{api.url}/public/v1/reports", timeout=30, json={
        "category": "klotter", "lat": BRO[1], "lon": BRO[0], "website": "http://spam.example"})
    assert bot.status_code == 400 and bot.json()["reason"] == "refused"
    huge = requests.post(f"{api.url}/public/v1/reports", timeout=30, data=b"{" + b" " * 70_000 + b"}",
                         headers={"Content-Type": "application/json"})
    assert huge.status_code == 413
    assert store.count("finding") == before + 10


def _one(root: Any, path: str) -> Any:
    """The element at ``path``; fails the test when the answer has none."""
    found = root.find(path)
    assert found is not None, f"no {path} in the answer"
    return found
