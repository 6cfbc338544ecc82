"""The public pages through Streamlit's AppTest (issue 16): reachable with no account in each of the four
languages, the report page's save path (receipt, honeypot, rate limit told in the resident's language), the
status page and its one-link unsubscribe, the help page from the administrator's data, and the planners'
moderation page and the admin's public section."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from public_support import report_row  # noqa: E402

from trygghetskarta import helpinfo, public, public_texts  # noqa: E402
from trygghetskarta.access import Viewer  # noqa: E402
from trygghetskarta.store import Store, open_store  # noqa: E402

BRO = (17.6405, 59.5252)
PLANNER = Viewer("planerare1", "planerare")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'pages.sqlite'}"
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    store = open_store(url)
    store.init()
    yield store
    store.dispose()


def _page(key: str, query: dict[str, str] | None = None, role: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{key}.py"), default_timeout=120)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    if role is not None:
        at.session_state["tk_user"] = {"username": f"test_{role}", "role": role, "organisation": None}
    return at.run()


def _texts(elements: object) -> list[str]:
    return [str(e.value) for e in elements]  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", public_texts.PUBLIC_LANGUAGES)
@pytest.mark.parametrize("key", ["anmal", "status", "publik_karta", "hjalp"])
def test_public_pages_open_without_an_account_in_every_language(db: Store, key: str, lang: str) -> None:
    at = _page(key, {"lang": lang})
    assert not at.exception
    title = {"anmal": "report_title", "status": "status_title", "publik_karta": "map_title",
             "hjalp": "help_title"}[key]
    assert at.title[0].value == public_texts.text(title, lang)
    assert not at.warning or key == "status"


def test_report_page_saves_with_the_link_place_and_refuses_bots_and_floods(db: Store,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page("anmal", {"lang": "so", "lon": str(BRO[0]), "lat": str(BRO[1]), "plats": "Bro station"})
    assert at.info[0].value == public_texts.text("place_from_link", "so", pos=f"{BRO[1]:.5f}, {BRO[0]:.5f}")
    assert at.text_input(key="pub_address").value == "Bro station"
    at.selectbox(key="pub_category").select("klotter")
    at.text_area(key="pub_text").input("Qoraal")
    at.button[0].click().run()
    assert not at.exception
    code = at.session_state["pub_receipt"]["code"]
    assert _texts(at.success)[0] == public_texts.text("sent", "so", code=code)
    row = report_row(db, receipt_code=code)
    assert (row["lang"], row["address"], row["moderation"]) == ("so", "Bro station", "vantar")

    bot = _page("anmal", {"lon": str(BRO[0]), "lat": str(BRO[1])})
    bot.selectbox(key="pub_category").select("klotter")
    bot.text_input(key="pub_website").input("http://spam.example")
    bot.button[0].click().run()
    assert _texts(bot.error) == [public_texts.text("refused", "sv")]

    monkeypatch.setenv("TRYGGHETSKARTA_PUBLIC_RATE_CLIENT_HOUR", "1")  # AppTest has no client address: "unknown"
    flood = _page("anmal", {"lang": "en", "lon": str(BRO[0]), "lat": str(BRO[1])})
    flood.selectbox(key="pub_category").select("klotter")
    flood.button[0].click().run()
    assert _texts(flood.error) == [public_texts.text("rate_limited", "en")]
    assert db.count("finding") == 1


def test_status_page_and_one_link_unsubscribe(db: Store) -> None:
    receipt = public.submit_public_report(db, category="klotter", lon=BRO[0], lat=BRO[1], email="a@example.se",
                                          lang="ar", client_addr="192.0.2.1")
    at = _page("status", {"t": receipt.status_token, "lang": "ar"})
    assert _texts(at.info) == [public_texts.text("status_now", "ar", status=public_texts.text("status_pending", "ar"))]
    token = report_row(db, finding_id=receipt.finding_id)["unsubscribe_token"]
    out = _page("status", {"avregistrera": token, "lang": "ar"})
    assert _texts(out.success) == [public_texts.text("unsubscribed", "ar")]
    assert report_row(db, finding_id=receipt.finding_id)["email"] is None
    unknown = _page("status", {"avregistrera": "nope"})
    assert _texts(unknown.warning) == [public_texts.text("unsubscribe_unknown", "sv")]


def test_help_page_shows_what_the_administrator_saved(db: Store) -> None:
    content = helpinfo.default()
    content["support"][2]["address"] = "Köpmanvägen 1, Bro"
    helpinfo.save(db, content, None)
    at = _page("hjalp")
    shown = "\n".join(m.value for m in at.markdown)
    assert "Köpmanvägen 1, Bro" in shown.replace("\\", "")
    assert "[\u2066020\\-50 50 50\u2069](tel:020505050)" in shown


def test_moderation_page_approves_and_admin_section_makes_a_key(db: Store) -> None:
    receipt = public.submit_public_report(db, category="klotter", lon=BRO[0], lat=BRO[1], client_addr="192.0.2.1")
    at = _page("moderering", role="planerare")
    assert not at.exception
    at.button(key=f"mod_ok_{receipt.finding_id}").click().run()
    assert not at.exception
    assert report_row(db, finding_id=receipt.finding_id)["moderation"] == "godkand"
    admin = _page("admin", role="admin")
    assert not admin.exception
    admin.text_input(key="adm_key_name").input("felanmalan")
    admin.button(key="adm_key_add").click().run()
    assert not admin.exception
    assert db.api_keys()["name"].tolist() == ["felanmalan"]
    shown = [c.value for c in admin.code if str(c.value).startswith("tk_")]
    assert len(shown) == 1 and db.api_keys()["key_prefix"].iloc[0] == shown[0].split("_")[1]
