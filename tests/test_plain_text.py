"""User text is shown as plain text on every page (issue 11, Low): a walk's organisations or a finding's
description with Markdown image syntax or HTML must not make a browser fetch anything. ``_ui.plain`` escapes it
for Streamlit's Markdown; a CommonMark renderer proves what the browser would get."""

from __future__ import annotations

import datetime as dt
import html
import re
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from shapely.geometry import Point, Polygon
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Element

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the pages import app_pages as the running app does
    sys.path.insert(0, str(ROOT))

from app_pages import _ui  # noqa: E402
from trygghetskarta.store import open_store  # noqa: E402

BRO = (17.6366, 59.5115)
IMAGE_MD = "![x](http://127.0.0.1:9/x.png)"
IMAGE_HTML = '<img src="http://127.0.0.1:9/y.png" onerror="alert(1)">'
PAYLOAD = f"Polisen {IMAGE_MD} och {IMAGE_HTML} [länk](http://127.0.0.1:9/) **fet** :red[röd] $x$"
# GFM as Streamlit renders it (tables, strikethrough) with raw HTML on, so an unescaped tag would show up
MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
ALLOWED_TAGS = re.compile(r"</?p>|<br />")


def _rendered(markdown: str) -> str:
    return MARKDOWN.render(markdown)


def _text_of(rendered: str) -> str:
    """The visible text of rendered plain paragraphs (fails if any other element was produced)."""
    others = [tag for tag in re.findall(r"<[^>]*>", rendered) if not ALLOWED_TAGS.fullmatch(tag)]
    assert not others, f"Markdown produced elements {others} from {rendered!r}"
    return html.unescape(re.sub(r"<br />\n?", "\n", ALLOWED_TAGS.sub("", rendered))).strip()


def test_markdown_payloads_render_as_their_own_text() -> None:
    for text in (IMAGE_MD, IMAGE_HTML, PAYLOAD, "# rubrik", "- punkt", "1. punkt", "> citat", "`kod`",
                 "a | b\n--|--\n1 | 2", "&amp; &lt;img&gt;", "www.example.com", "***", "~~bort~~", "\\![x](y)",
                 "    indraget", "rad 1\nrad 2"):
        rendered = _rendered(_ui.plain(text))
        assert _text_of(rendered) == "\n".join(line.strip() for line in text.split("\n")), (text, rendered)
    # the unescaped text really is Markdown (so the check above can fail)
    assert "<img" in _rendered(IMAGE_MD) and "<img" in _rendered(IMAGE_HTML)
    assert _ui.plain(None) == "" and _ui.plain(float("nan")) == ""


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcåäö XY019<>[]()!*_`#-+.:|~$&;=/\\'\"\n{}^%@,?")), max_size=60))
def test_any_text_renders_literally(text: str) -> None:
    expected = "\n".join(line.strip() for line in text.split("\n"))
    expected = re.sub(r"\n{2,}", "\n", expected).strip()  # blank lines part paragraphs; the text is the same
    got = re.sub(r"\n{2,}", "\n", _text_of(_rendered(_ui.plain(text))))
    assert got == expected


@pytest.fixture
def payload_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'plain.sqlite'}"
    store = open_store(url)
    store.init()
    poly = Polygon([(17.60, 59.49), (17.66, 59.49), (17.66, 59.53), (17.60, 59.53)])
    area = store.insert("area", gpd.GeoDataFrame([{"name": "Bro centrum", "locality": "bro",
                                                   "source": "approximate"}], geometry=[poly],
                                                 crs="EPSG:4326")).ids[0]
    walk = store.insert("walk", gpd.GeoDataFrame([{
        "title": "Kvällsvandring", "started_at": dt.datetime.now(dt.UTC), "audience": "publik", "area_id": area,
        "organisations": PAYLOAD, "notes": PAYLOAD}], geometry=[None], crs="EPSG:4326")).ids[0]
    store.insert("finding", gpd.GeoDataFrame([{
        "category": "gangtunnel", "reported_at": dt.datetime.now(dt.UTC), "audience": "publik", "status": "ny",
        "description": PAYLOAD, "walk_id": walk, "area_id": area}], geometry=[Point(*BRO)], crs="EPSG:4326"))
    store.dispose()
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    return url


def _page(key: str, role: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{key}.py"), default_timeout=120)
    at.session_state["tk_user"] = {"username": f"test_{role}", "role": role, "organisation": None}
    at.session_state["tk_lang"] = "sv"
    return at.run()


def _markdown_bodies(at: AppTest) -> list[str]:
    """Every Markdown body the page sent (markdown, caption, alerts, headers)."""
    kinds = ("markdown", "caption", "info", "success", "warning", "error", "subheader", "header", "title")
    bodies = []
    for kind in kinds:
        for e in at.get(kind):
            assert isinstance(e, Element), f"a {kind} that is not an element: {e!r}"
            bodies.append(str(e.value))
    return bodies


def _assert_shown_literally(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.get("imgs")  # no image element
    bodies = _markdown_bodies(at)
    shown = []
    for body in bodies:
        rendered = _rendered(body)
        assert "<img" not in rendered and "<a " not in rendered, (body, rendered)  # text only, no fetch
        if "127.0.0.1" in html.unescape(re.sub(r"<[^>]*>", "", rendered)):
            shown.append(rendered)
    assert shown, bodies  # the payload is on the page, as its own literal text in plain paragraphs
    assert any(PAYLOAD in _text_of(rendered) for rendered in shown), shown


def test_walk_organisations_are_plain_text_on_vandringar(payload_db: str) -> None:
    _assert_shown_literally(_page("vandringar", "planerare"))


def test_duplicate_caption_on_the_report_page_is_plain_text(payload_db: str) -> None:
    at = _page("rapportera", "planerare")
    at.session_state["rap_cat_0"] = "gangtunnel"
    at.session_state["rap_finding_tap"] = BRO
    at.run()
    next(b for b in at.button if b.label == _ui.text("save")).click().run()
    assert any(b.label == _ui.text("dup_new") for b in at.button)  # the duplicate check is showing
    _assert_shown_literally(at)
