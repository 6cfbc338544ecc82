"""End to end in headless Debian chromium against ``streamlit run serve.py`` on a free localhost port (issue 7):
a participant reports a finding with a photo by tapping the map; a planner sees it on the map and assigns an
action; a housing-company user downloads the lägesbild PDF; user text never runs as script. Screenshots go to
test-output/e2e/. Also: what ``make run`` starts serves the app (plain HTTP, no browser)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    SHOTS,
    App,
    go_to,
    http_get,
    jpeg_bytes,
    login,
    map_frame,
    new_context,
    popup_texts,
    prepare_data,
    report_finding,
    running_app,
    wait_idle,
)

from trygghetskarta import auth, capture
from trygghetskarta.access import Viewer
from trygghetskarta.store import open_store

PASSWORD = "Kvällsvandring-i-Bro-2026"
USERS = {"e2e_deltagare": ("deltagare", None), "e2e_planerare": ("planerare", None),
         "e2e_bostad": ("bostadsbolag", "upplands_brohus")}
XSS = ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>", "\"><svg onload=alert(3)>",
       "</script><script>alert(4)</script>", "${alert(5)}`;alert(6);`"]
XSS_CLIENT_IDS = [f"e2e-xss-{i}-0000" for i in range(len(XSS))]
KUNGSANGEN = (17.7502, 59.4785)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, Path]]:
    data = tmp_path_factory.mktemp("e2e") / "data"
    prepare_data(data)
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    for name, (role, org) in USERS.items():
        auth.create_user(store, name, role, PASSWORD, organisation=org)
    planner = Viewer("e2e_planerare", "planerare")
    for i, text in enumerate(XSS):
        capture.submit_finding(store, planner, category="klotter", description=text, lon=KUNGSANGEN[0] + i * 0.001,
                               lat=KUNGSANGEN[1], client_id=XSS_CLIENT_IDS[i], find_duplicates=False)
    store.dispose()
    with running_app(data) as server:
        yield server, data



class Watch:
    """Dialogs and console errors in a page: a script that runs from user text would show up here."""

    def __init__(self, page: Any) -> None:
        self.dialogs: list[str] = []
        self.console: list[str] = []
        page.on("dialog", self._dismiss)
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)

    def _dismiss(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_participant_reports_planner_assigns_housing_company_downloads(app: tuple[App, Path], browser: Any) -> None:
    server, data = app
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    description = f"Trasig lampa i gångtunneln {uuid.uuid4().hex[:6]}"

    # 1. A participant on a phone logs in, lands on Rapportera, reports with a photo by tapping the map.
    phone = new_context(browser, server.url, phone=True)
    page = phone.new_page()
    watch = Watch(page)
    login(page, server.url, "e2e_deltagare", PASSWORD)
    page.get_by_role("heading", name="Rapportera").wait_for()
    wait_idle(page)
    _shot(page, "01_deltagare_rapportera_390x844")
    finding_id = report_finding(page, category="Trasig/släckt belysning", description=description,
                                photo=jpeg_bytes())
    _shot(page, "02_deltagare_sparat")
    row = store.get("finding", finding_id)
    assert row["description"] == description and row["reported_by"] == "e2e_deltagare"
    assert row["category"] == "belysning_trasig" and row["external_id"].startswith("app:")
    assert len(store.photos([finding_id])) == 1
    assert not watch.dialogs
    assert phone.refused == [], phone.refused  # the tap map's libraries come from the app, not a CDN
    phone.close()

    # 2. A planner sees it on the map and assigns an action to it.
    desk = new_context(browser, server.url)
    page = desk.new_page()
    watch = Watch(page)
    login(page, server.url, "e2e_planerare", PASSWORD)
    go_to(page, "Översikt")
    wait_idle(page)
    for title in ("Veckodag × timme (senaste året)", "Status över tid (vecka för vecka)"):
        page.get_by_role("heading", name=title).wait_for(timeout=60_000)
    charts = page.locator(".vega-embed")  # trend, weekday × hour, status over time
    charts.nth(2).wait_for(timeout=60_000)
    charts.nth(2).scroll_into_view_if_needed()
    _shot(page, "03a_planerare_oversikt")
    go_to(page, "Karta")
    frame = map_frame(page)
    assert any(description in text for text in popup_texts(frame))
    page.locator("iframe").first.scroll_into_view_if_needed()
    _shot(page, "03b_planerare_karta")
    go_to(page, "Åtgärder")
    page.get_by_text("Ny åtgärd från fynd").first.click()
    picker = page.get_by_test_id("stMultiSelect").first
    picker.click()
    page.keyboard.type(f"nr {finding_id} ")
    page.get_by_role("option", name=re.compile(f"nr {finding_id} ")).first.click()
    page.keyboard.press("Escape")
    wait_idle(page)
    page.get_by_label("Vad ska göras").fill("Byt armatur i gångtunneln")
    page.get_by_role("button", name="Ny åtgärd från fynd").click()
    page.get_by_text(re.compile(r"Åtgärd nr \d+ skapad")).wait_for(timeout=60_000)
    _shot(page, "04_planerare_atgard")
    links = store.action_finding_ids()
    assert finding_id in set(links["finding_id"])
    assert store.get("finding", finding_id)["status"] == "tilldelad"
    assert not watch.dialogs
    assert desk.refused == [], desk.refused  # the planners' map comes inlined, nothing from outside
    desk.close()

    # 3. A housing-company user downloads the lägesbild PDF.
    desk = new_context(browser, server.url)
    page = desk.new_page()
    login(page, server.url, "e2e_bostad", PASSWORD)
    go_to(page, "Lägesbild")
    wait_idle(page)
    page.get_by_role("button", name="Ladda ner PDF").first.click()
    ready = page.get_by_test_id("stDownloadButton").filter(has_text="PDF")
    ready.wait_for(timeout=120_000)
    with page.expect_download(timeout=60_000) as info:
        ready.get_by_role("button").click()
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    assert "partner" in info.value.suggested_filename
    _shot(page, "05_bostadsbolag_lagesbild")
    desk.close()
    store.dispose()


@pytest.mark.browser
def test_user_text_is_shown_as_text_and_never_runs(app: tuple[App, Path], browser: Any) -> None:
    server, data = app
    desk = new_context(browser, server.url)
    page = desk.new_page()
    watch = Watch(page)
    login(page, server.url, "e2e_planerare", PASSWORD)
    go_to(page, "Karta")
    frame = map_frame(page)
    texts = popup_texts(frame)
    for payload in XSS:
        assert any(payload in t for t in texts), payload  # shown literally, as text
    opened = frame.evaluate("""() => { let n = 0;
        const map = Object.values(window).find(v => v && v._container && v.eachLayer);
        map.eachLayer(l => { const p = l.getPopup && l.getPopup();
            if (p && /alert/.test(p.getContent().textContent || '')) { l.openPopup(); n++; } });
        return n; }""")
    assert opened >= len(XSS)
    page.wait_for_timeout(1500)
    assert frame.evaluate("() => document.querySelectorAll('.leaflet-popup img[src=\"x\"], .leaflet-popup svg, "
                          ".leaflet-popup script').length") == 0
    _shot(page, "06_xss_karta")
    # the lägesbild and walk-protocol HTML the same users download
    from trygghetskarta import lagesbild

    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    report = lagesbild.build_lagesbild(store, lagesbild.period_from_date("month", _today()), audience="intern")
    html = lagesbild.lagesbild_html(report)
    store.dispose()
    doc = desk.new_page()
    doc_watch = Watch(doc)
    doc.set_content(html)
    doc.wait_for_timeout(500)
    assert doc.evaluate("() => document.querySelectorAll('img[src=\"x\"], svg[onload], script').length") == 0
    assert not doc_watch.dialogs
    assert not watch.dialogs, watch.dialogs
    assert not [c for c in watch.console if "alert" in c]
    desk.close()


def _today() -> Any:
    import datetime as dt

    return dt.date.today()


def test_make_run_command_serves_the_app(tmp_path: Path) -> None:
    """The same init + demo the Makefile runs, then ``streamlit run serve.py``: the page, health and the session
    route (issue #14; an unknown ticket sets no cookie and goes back to the app) answer."""
    data = tmp_path / "fresh"
    prepare_data(data)
    with running_app(data) as server:
        status, body = http_get(server.url + "/")
        assert status == 200 and "<div id=\"root\">" in body.replace("'", '"')
        assert http_get(server.url + "/_stcore/health") == (200, "ok")
        import urllib.request

        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(_NoRedirect)
        try:
            opener.open(server.url + "/auth/session?ticket=unknown&next=//evil.example/", timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 303 and exc.headers["Location"] == "/"
            assert "tk_session" not in (exc.headers.get("Set-Cookie") or "")
        else:
            raise AssertionError("the session route did not redirect")
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    assert store.count("finding") > 0 and store.count("area") > 0
    store.dispose()
