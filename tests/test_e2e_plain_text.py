"""In headless Debian chromium (issue 11, Low): a walk whose organisations hold Markdown image syntax and an
``<img>`` tag is shown on Vandringar as that literal text, and the planner's browser fetches nothing from the
URLs in it (every request outside the app is recorded and refused by the test's browser context)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import pytest
from e2e_support import go_to, login, new_context, running_app, wait_idle
from shapely.geometry import Polygon

from trygghetskarta import auth
from trygghetskarta.store import open_store

PASSWORD = "Kvällsvandring-i-Bro-2026"
IMAGE_MD = "![x](http://127.0.0.1:9/x.png)"
IMAGE_HTML = '<img src="http://127.0.0.1:9/y.png">'
ORGANISATIONS = f"Polisen {IMAGE_MD} och {IMAGE_HTML} :smile: :material/home: :red[röd] $x$ **fet**"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("e2e_plain") / "data"
    data.mkdir(parents=True)
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")  # where the app (data folder) looks
    store.init()
    poly = Polygon([(17.60, 59.49), (17.66, 59.49), (17.66, 59.53), (17.60, 59.53)])
    area = store.insert("area", gpd.GeoDataFrame([{"name": "Bro centrum", "locality": "bro",
                                                   "source": "approximate"}], geometry=[poly],
                                                 crs="EPSG:4326")).ids[0]
    store.insert("walk", gpd.GeoDataFrame([{
        "title": "Vandring med bild i texten", "started_at": dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
        "audience": "publik", "area_id": area, "organisations": ORGANISATIONS}], geometry=[None], crs="EPSG:4326"))
    auth.create_user(store, "e2e_planerare", "planerare", PASSWORD)
    store.dispose()
    with running_app(data) as app:
        yield app



@pytest.mark.browser
def test_walk_organisations_render_as_text_and_fetch_nothing(server: Any, browser: Any) -> None:
    desk = new_context(browser, server.url)
    page = desk.new_page()
    login(page, server.url, "e2e_planerare", PASSWORD)
    go_to(page, "Vandringar")
    wait_idle(page)
    caption = page.get_by_text("Polisen", exact=False).first
    caption.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    shown = caption.inner_text()
    assert ORGANISATIONS in shown, shown  # the literal text: no image, HTML, emoji, icon, colour, maths or bold
    images = page.evaluate("() => [...document.querySelectorAll('img')].map(i => i.src)"
                           ".filter(s => s.includes('127.0.0.1:9'))")
    assert images == []
    assert not [url for url in desk.refused if "127.0.0.1:9" in url], desk.refused  # nothing fetched
    desk.close()
