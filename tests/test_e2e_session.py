"""Sessions that survive a reload (issue #14), in headless Debian chromium against ``streamlit run serve.py``:
log in, reload, still logged in, with only an HttpOnly cookie in the browser; a half-filled report on a phone
survives a reload; logout then reload shows the login; a user deactivated in another session is logged out at
the next click; a link to a record opens it after login; on a phone the sidebar closes after a page is chosen.
Screenshots go to test-output/e2e/session_*.png."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    SHOTS,
    App,
    logged_in_page,
    new_context,
    prepare_data,
    running_app,
    tap_report_map,
    wait_idle,
)
from playwright.sync_api import expect

from trygghetskarta import auth
from trygghetskarta.access import Viewer
from trygghetskarta.store import open_store

PASSWORD = "Kvällsvandring-i-Bro-2026"
USERS = {"s_planerare": "planerare", "s_deltagare": "deltagare", "s_admin": "admin", "s_polis": "polis"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, Path]]:
    data = tmp_path_factory.mktemp("e2e_session") / "data"
    prepare_data(data)
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    for name, role in USERS.items():
        auth.create_user(store, name, role, PASSWORD)
    store.dispose()
    with running_app(data) as server:
        yield server, data


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"session_{name}.png"), full_page=True)


def _logged_in(page: Any) -> bool:
    return page.get_by_role("button", name="Logga ut").count() > 0


def _login_form(page: Any) -> Any:
    return page.get_by_label("Användarnamn")


def _reload(page: Any) -> None:
    page.reload()
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    wait_idle(page)


@pytest.mark.browser
def test_login_survives_a_reload_and_logout_ends_it(app: tuple[App, Path], browser: Any) -> None:
    server, _data = app
    context, page = logged_in_page(browser, server.url, "s_planerare", PASSWORD)
    wait_idle(page)
    cookies = {c["name"]: c for c in context.cookies()}
    assert "tk_session" in cookies
    cookie = cookies["tk_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # plain http here
    assert page.evaluate("() => document.cookie").find("tk_session") < 0  # no script can read it
    assert "tk_session" not in page.url and cookie["value"] not in page.url
    _reload(page)
    page.get_by_role("button", name="Logga ut").wait_for(timeout=60_000)
    assert _login_form(page).count() == 0
    _shot(page, "after_reload")
    # a second tab of the same browser is logged in too
    second = context.new_page()
    second.goto(server.url)
    second.get_by_role("button", name="Logga ut").wait_for(timeout=60_000)
    second.close()
    old_cookie = dict(cookie)
    page.get_by_role("button", name="Logga ut").click()
    _login_form(page).wait_for(timeout=60_000)
    _reload(page)
    _login_form(page).wait_for(timeout=60_000)
    assert not _logged_in(page)
    assert "tk_session" not in {c["name"] for c in context.cookies()}
    _shot(page, "after_logout_reload")
    # the logout ended the session on the server: the old cookie, put back, opens nothing
    context.add_cookies([{k: old_cookie[k] for k in ("name", "value", "domain", "path", "httpOnly", "sameSite")}])
    _reload(page)
    _login_form(page).wait_for(timeout=60_000)
    assert not _logged_in(page)
    context.close()


def _fill_login(page: Any, username: str) -> None:
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()


def _save_report(page: Any) -> None:
    """Spara, and answer the duplicate question with "Det är ett nytt" if it comes; wait for "Sparat"."""
    page.get_by_role("button", name="Spara").click()
    saved = page.get_by_text("Sparat (nr")
    new = page.get_by_role("button", name="Det är ett nytt")
    for _ in range(240):
        if saved.count():
            return
        if new.count():
            wait_idle(page)
            new.click()
            saved.first.wait_for(timeout=60_000)
            return
        page.wait_for_timeout(250)
    msg = "Spara got no answer"
    raise TimeoutError(msg)


def _wait_for_draft(data: Path, username: str, parts: tuple[str, ...], timeout_s: float = 30) -> None:
    """Until the server holds the draft with each of ``parts`` (the run after a tap writes it)."""
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            found = store.draft(username, "finding")
            if found is not None and all(p in found[0] for p in parts):
                return
            if time.monotonic() > deadline:
                msg = f"the draft was not kept: {found}"
                raise AssertionError(msg)
            time.sleep(0.25)
    finally:
        store.dispose()


@pytest.mark.browser
def test_a_half_filled_phone_report_survives_a_reload(app: tuple[App, Path], browser: Any) -> None:
    server, data = app
    context, page = logged_in_page(browser, server.url, "s_deltagare", PASSWORD, phone=True)
    page.get_by_role("heading", name="Rapportera").first.wait_for(timeout=60_000)
    wait_idle(page)
    description = "Lampan vid gångtunneln är släckt"
    page.locator('[data-testid="stButtonGroup"] button', has_text="Klotter").first.click()
    wait_idle(page)
    text = page.get_by_label("Kort beskrivning")
    text.fill(description)
    text.press("Tab")
    wait_idle(page)
    tap_report_map(page, (17.7485, 59.4800))
    page.get_by_text("Position från kartan").first.wait_for(timeout=60_000)
    wait_idle(page)
    _wait_for_draft(data, "s_deltagare", ("Klotter".lower(), description, "tap"))
    _shot(page, "draft_before_reload")
    _reload(page)
    page.get_by_text("Utkast återställt").first.wait_for(timeout=60_000)
    expect(page.get_by_label("Kort beskrivning")).to_have_value(description, timeout=60_000)
    page.get_by_text("Position från kartan").first.wait_for(timeout=60_000)
    wait_idle(page)
    _shot(page, "draft_restored")
    chosen = page.locator('[data-testid="stButtonGroup"] button[aria-checked="true"]', has_text="Klotter")
    assert chosen.count() == 1, "the category was not restored"
    _save_report(page)
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    try:
        deadline = time.monotonic() + 15
        while store.draft("s_deltagare", "finding") is not None and time.monotonic() < deadline:
            time.sleep(0.25)  # the draft is written and removed in the background, in order
        assert store.draft("s_deltagare", "finding") is None  # cleared on save
        mine = store.read("finding", None)
        row = mine[mine["description"] == description]
        assert len(row) == 1 and row["category"].iloc[0] == "klotter"
    finally:
        store.dispose()
    _reload(page)
    page.get_by_label("Kort beskrivning").wait_for(timeout=60_000)
    assert page.get_by_text("Utkast återställt").count() == 0
    assert page.get_by_label("Kort beskrivning").input_value() == ""
    context.close()


@pytest.mark.browser
def test_a_user_deactivated_by_an_admin_is_logged_out_at_the_next_click(app: tuple[App, Path], browser: Any) -> None:
    server, data = app
    context, page = logged_in_page(browser, server.url, "s_polis", PASSWORD)
    wait_idle(page)
    # the admin, in another session: what the Admin page's "Aktiv" switch does
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    try:
        store.update_user("s_polis", active=False, actor=Viewer("s_admin", "admin"))
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Karta").click()
        _login_form(page).wait_for(timeout=60_000)
        page.get_by_text("Sessionen har gått ut").first.wait_for(timeout=60_000)
        _shot(page, "deactivated_next_click")
        _reload(page)
        _login_form(page).wait_for(timeout=60_000)
        assert not _logged_in(page)
    finally:
        store.update_user("s_polis", active=True)
        store.dispose()
    context.close()


@pytest.mark.browser
def test_a_link_to_a_record_opens_it_after_login(app: tuple[App, Path], browser: Any) -> None:
    server, data = app
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    try:
        ids = sorted(int(i) for i in store.read("action", None)["id"])
    finally:
        store.dispose()
    assert len(ids) > 3
    wanted = ids[len(ids) // 2]  # not the first, which the list would show anyway
    context = new_context(browser, server.url)
    page = context.new_page()
    page.goto(f"{server.url}/atgarder?id={wanted}")
    _login_form(page).wait_for(timeout=60_000)
    _fill_login(page, "s_planerare")
    page.wait_for_url(f"**/atgarder?id={wanted}", timeout=60_000)
    page.get_by_role("heading", name="Åtgärder").first.wait_for(timeout=60_000)
    wait_idle(page)
    box = page.get_by_test_id("stSelectbox").filter(has_text="nr").last
    box.wait_for(timeout=60_000)
    box.scroll_into_view_if_needed()
    assert f"nr {wanted} –" in box.inner_text() + " ".join(
        box.locator("input").evaluate_all("els => els.map(e => e.value)")), box.inner_text()
    assert "tk_session" in {c["name"] for c in context.cookies()}  # and the login holds on a reload
    _shot(page, "deep_link")
    context.close()


@pytest.mark.browser
def test_the_phone_sidebar_closes_after_a_page_is_chosen(app: tuple[App, Path], browser: Any) -> None:
    server, _data = app
    context, page = logged_in_page(browser, server.url, "s_planerare", PASSWORD, phone=True)
    wait_idle(page)
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name="Karta")

    def on_screen() -> bool:
        box = link.bounding_box()
        return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390

    assert not on_screen()  # folded on a phone
    page.get_by_test_id("stExpandSidebarButton").click()
    page.wait_for_timeout(600)
    assert on_screen(), "the navigation did not open"
    _shot(page, "phone_sidebar_open")
    link.click()
    page.get_by_role("heading", name="Karta").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(800)  # the sidebar slides away
    assert not on_screen(), "the navigation stayed open over the page"
    _shot(page, "phone_sidebar_closed")
    context.close()
