"""Issue 15: two app instances (two ``streamlit run`` processes on different ports) over one PostGIS database,
in headless Debian chromium. A finding saved through one is on the other's Karta at its next rerun (no cache
time-to-live to wait for: the data version lives in the database), and a user deactivated through one is
refused by the other at their next click. Screenshots go to test-output/e2e/."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    SHOTS,
    App,
    go_to,
    login,
    map_frame,
    new_context,
    popup_texts,
    report_finding,
    running_app,
    wait_idle,
)

from trygghetskarta import auth
from trygghetskarta.store import open_store

PASSWORD = "Kvällsvandring-i-Bro-2026"
ADMIN, PLANNER, PARTICIPANT = "dv_admin", "dv_planerare", "dv_deltagare"


@pytest.fixture
def two_apps(pg_url: str, tmp_path: Path) -> Iterator[tuple[App, App, str]]:
    store = open_store(pg_url)
    store.init()
    auth.create_user(store, ADMIN, "admin", PASSWORD)
    auth.create_user(store, PLANNER, "planerare", PASSWORD)
    auth.create_user(store, PARTICIPANT, "deltagare", PASSWORD)
    store.dispose()
    # each instance with its own data folder (logs), as on two hosts; the database is the one thing shared
    with running_app(tmp_path / "a", db_url=pg_url) as first, running_app(tmp_path / "b", db_url=pg_url) as second:
        yield first, second, pg_url


def _until(check: Any, page: Any, timeout_s: float = 20) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        page.wait_for_timeout(250)
    return False


@pytest.mark.browser
@pytest.mark.postgis
def test_a_write_in_one_instance_shows_in_the_other_at_its_next_rerun(two_apps: tuple[App, App, str],
                                                                      browser: Any) -> None:
    first, second, _url = two_apps
    assert first.url != second.url
    participant = new_context(browser, first.url, phone=True).new_page()
    admin = new_context(browser, first.url).new_page()
    planner = new_context(browser, second.url).new_page()
    login(planner, second.url, PLANNER, PASSWORD)
    go_to(planner, "Karta")
    description = f"Trasig belysning {uuid.uuid4().hex[:6]}"
    # the planner's instance has read (and cached) the map before the finding exists
    assert not any(description in text for text in popup_texts(map_frame(planner)))

    login(participant, first.url, PARTICIPANT, PASSWORD)  # a participant lands on Rapportera
    participant.get_by_role("heading", name="Rapportera").wait_for(timeout=60_000)
    wait_idle(participant)
    report_finding(participant, category="Belysning", description=description, photo=None)

    go_to(planner, "Karta")  # the planner's next interaction: a rerun of the other instance
    assert _until(lambda: any(description in text for text in popup_texts(map_frame(planner))), planner), \
        "the finding saved through the other instance is not on this instance's map"
    planner.locator("iframe").last.scroll_into_view_if_needed()
    planner.screenshot(path=str(SHOTS / "instances_karta_other_instance.png"))

    login(admin, first.url, ADMIN, PASSWORD)
    go_to(admin, "Admin")  # deactivate the planner through the first instance
    admin.get_by_test_id("stSelectbox").filter(has_text="Användarnamn").first.click()
    admin.get_by_role("option", name=PLANNER, exact=True).click()
    wait_idle(admin)
    active = admin.get_by_test_id("stCheckbox").filter(has_text="Aktiv").first
    asked = admin.get_by_text(f"Ändra {PLANNER}: inaktivera kontot?")
    for _ in range(3):  # a click that lands in the selectbox's rerun is lost: click again, as a person would
        if active.locator("input").is_checked():
            active.click()
        wait_idle(admin)
        if _until(asked.is_visible, admin, 15):
            break
    admin.get_by_role("button", name="Bekräfta ändringen").click(timeout=60_000)
    admin.get_by_text("Sparat.").first.wait_for(timeout=30_000)

    # the planner's next click, on the second instance
    planner.get_by_test_id("stSidebarNav").get_by_role("link", name="Översikt").click()
    planner.get_by_label("Lösenord").wait_for(timeout=30_000)
    planner.get_by_text("Sessionen har gått ut").first.wait_for(timeout=10_000)
    assert planner.get_by_test_id("stSidebarNav").count() == 0
    planner.screenshot(path=str(SHOTS / "instances_refused_after_deactivation.png"), full_page=True)
