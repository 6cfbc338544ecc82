"""The published walk protocol: public content only, photos, follow-up at the next walk, HTML and PDF."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
from PIL import Image
from report_support import ReportPage

from trygghetskarta import actions, demo, photos, protocol
from trygghetskarta.errors import NotFoundError


@pytest.fixture
def walked(store):
    demo.fill(store, seed=5)
    walks = store.read("walk").sort_values("started_at")
    first = walks.iloc[0]
    nxt = walks[(walks["area_id"] == first["area_id"]) & (walks["started_at"] > first["started_at"])].iloc[0]
    return store, int(first["id"]), int(nxt["id"])


def _jpeg() -> bytes:
    img = Image.fromarray((np.indices((64, 96)).sum(axis=0) % 255).astype("uint8")).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="JPEG")
    return buf.getvalue()


def test_protocol_shows_public_findings_with_photo_and_followup(walked, tmp_path):
    store, walk_id, next_id = walked
    findings = store.read("finding", walk_id=walk_id)
    public = findings[findings["audience"] == "publik"].sort_values("reported_at")
    hidden = findings[findings["audience"] != "publik"]
    target = int(public["id"].iloc[0])
    stored = photos.photo_from_bytes(_jpeg(), "lampa.jpg")
    store.add_photo(target, str(stored.path), str(stored.thumb_path), stored.sha256, stored.width, stored.height)
    actions.record_followup(store, target, next_id, fixed=True, feels_safer=False)

    prot = protocol.walk_protocol(store, walk_id)
    assert set(prot.findings["id"]) == set(public["id"])
    assert not set(prot.findings["id"]) & set(hidden["id"])
    assert prot.next_walk is not None and int(prot.next_walk["id"]) == next_id
    row = prot.findings[prot.findings["id"] == target].iloc[0]
    assert row["followup_fixed"] is True and row["followup_safer"] is False
    assert row["status_label"] == "Verifierad"

    page = protocol.protocol_html(prot)
    assert "data:image/jpeg;base64," in page and page.count("data:image/png;base64,") == 1
    assert "Ljusförhållanden" in page and str(prot.walk["organisations"]).split(",")[0] in page
    assert "<td>Verifierad</td><td>ja</td><td>nej</td>" in page
    parsed = ReportPage(page)  # the page shows the model's rows, the photo in its own last column
    assert [r[:-1] for r in parsed.rows["findings"]] == protocol._rows(prot)[1]
    assert list(parsed.rows) == ["route_map", "findings"]

    pdf = protocol.protocol_pdf(prot, tmp_path / "protokoll.pdf")
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    pixels = np.asarray(Image.open(next(tmp_path.glob("p-*.png"))).convert("L"), dtype=float)
    assert pixels.std() > 10
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Protokoll:" in text and str(row["category_label"]).split("/")[0] in text


def test_protocol_escapes_text_and_refuses_walks_that_are_not_public(walked):
    store, walk_id, _ = walked
    import geopandas as gpd
    import shapely

    first = store.read("finding", walk_id=walk_id).iloc[0]
    script = "<script>alert(1)</script>"
    frame = gpd.GeoDataFrame([{"category": "klotter", "description": text, "reported_at": first["reported_at"],
                               "walk_id": walk_id} for text in ("<img src=x onerror=alert(1)>", script)],
                             geometry=[shapely.Point(first["lon"], first["lat"])] * 2, crs=4326)
    store.insert("finding", frame)
    page = protocol.protocol_html(protocol.walk_protocol(store, walk_id))
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    # the template escapes (autoescape): the description is a cell's text, and the page has no script element
    parsed = ReportPage(page)
    assert "script" not in parsed.tags and "<script" not in page
    assert [row[2] for row in parsed.rows["findings"]].count(script) == 1
    secret = gpd.GeoDataFrame([{"title": "Intern vandring", "started_at": first["reported_at"],
                                "audience": "begransad"}], geometry=[None], crs=4326)
    sid = store.insert("walk", secret).ids[0]
    with pytest.raises(NotFoundError):
        protocol.walk_protocol(store, sid)


def test_protocol_shows_action_texts_only_to_those_who_may_read_the_action(walked):
    """A reader who may not read an action (here the public protocol's reader, on no walk) never sees its text
    in the protocol; a planner does (issue 11: action texts were read as the administrator)."""
    from trygghetskarta import access

    store, walk_id, _ = walked
    public = store.read("finding", walk_id=walk_id)
    target = int(public[public["audience"] == "publik"]["id"].iloc[0])
    actions.create_action(store, [target], "Byt armatur vid gångtunneln", "kommun_gata_park")
    planner = protocol.walk_protocol(store, walk_id, viewer=access.viewer_for_role("planerare"))
    shown = planner.findings.set_index("id")["action_label"]
    assert shown[target].startswith("Byt armatur vid gångtunneln")
    anyone = protocol.walk_protocol(store, walk_id)
    assert target in set(anyone.findings["id"])  # the finding itself is public
    assert anyone.findings.set_index("id")["action_label"][target] == ""
