"""Sessions that survive a reload (issue #14), in headless Debian chromium against ``streamlit run serve.py``:
log in, reload, still logged in, with only an HttpOnly cookie in the browser; a half-filled report on a phone
survives a reload; logout then reload shows the login; a user deactivated in another session is logged out at
the next click; a link to a record opens it after login; on a phone the sidebar closes after a page is chosen.
Screenshots go to test-output/e2e/session_*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    SHOTS,
    App,
    login,
    new_context,
    prepare_data,
    running_app,
    wait_idle,
)

from trygghetskarta import auth
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
    context = new_context(browser, server.url)
    page = context.new_page()
    login(page, server.url, "s_planerare", PASSWORD)
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
    page.get_by_role("button", name="Logga ut").click()
    _login_form(page).wait_for(timeout=60_000)
    _reload(page)
    _login_form(page).wait_for(timeout=60_000)
    assert not _logged_in(page)
    assert "tk_session" not in {c["name"] for c in context.cookies()}
    _shot(page, "after_logout_reload")
    context.close()
