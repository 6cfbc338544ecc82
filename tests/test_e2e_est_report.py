"""The partners' weekly EST report end to end in headless Debian chromium (issue 12): the police file theirs by the
form on a 390 px phone, a housing company fills in the CSV template the page hands out and uploads it, the
planner approves both on Granskning, and the lägesbild of that week shows them. Screenshots go to
test-output/e2e/. Every request outside the app is refused (and would fail the test)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    PYTHON,
    ROOT,
    SHOTS,
    App,
    app_env,
    choose,
    login,
    new_context,
    open_page,
    running_app,
    wait_idle,
)

from trygghetskarta import auth, est_reports, geography
from trygghetskarta.store import open_store

PASSWORD = "Kvällsvandring-i-Bro-2026"
USERS = {"e2e_polis": ("polis", "polis"), "e2e_bostad": ("bostadsbolag", "upplands_brohus"),
         "e2e_planerare": ("planerare", None)}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, Path]]:
    data = tmp_path_factory.mktemp("e2e_est") / "data"
    subprocess.run([PYTHON, "-m", "trygghetskarta", "init"], cwd=ROOT, env=app_env(data), check=True,
                   capture_output=True, timeout=300)
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    store.insert("area", geography.shipped_areas())
    for name, (role, org) in USERS.items():
        auth.create_user(store, name, role, PASSWORD, organisation=org)
    store.dispose()
    with running_app(data) as server:
        yield server, data



def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)




@pytest.mark.browser
def test_police_form_housing_company_template_planner_approves_lagesbild_shows(app: tuple[App, Path],
                                                                               browser: Any) -> None:
    server, data = app
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    week = est_reports.current_week()

    # 1. The police, on a phone, file the weekly report by the form.
    phone = new_context(browser, server.url, phone=True)
    page = phone.new_page()
    login(page, server.url, "e2e_polis", PASSWORD)
    open_page(page, "EST-rapport")
    page.get_by_text("Du rapporterar för Polisen.").wait_for(timeout=30_000)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    _shot(page, "est_01_polis_formular_390x844")
    choose(page, page, "Område", "Bro centrum")
    count = page.get_by_label("Antal")
    count.fill("4")
    count.press("Tab")
    page.get_by_label("Plats (valfritt").fill("Gångtunneln vid stationen")
    page.get_by_role("button", name="Lägg till rad").click()
    page.get_by_text("Raden är tillagd.").wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_text("Rader i rapporten").scroll_into_view_if_needed()
    _shot(page, "est_02_polis_rad_tillagd")
    page.get_by_role("button", name="Skicka in rapporten").click()
    sent = page.get_by_text(re.compile(r"Rapporten är inskickad \(nr \d+\)"))
    sent.wait_for(timeout=60_000)
    found = re.search(r"nr (\d+)", sent.inner_text())
    assert found, f"no report number in {sent.inner_text()!r}"
    police_id = int(found.group(1))
    _shot(page, "est_03_polis_inskickad")
    assert phone.refused == [], phone.refused
    phone.close()

    # 2. The housing company downloads the CSV template, fills it in and uploads it.
    desk = new_context(browser, server.url)
    page = desk.new_page()
    login(page, server.url, "e2e_bostad", PASSWORD)
    open_page(page, "EST-rapport")
    page.get_by_role("tab", name="Ladda upp fil").click()
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Ladda ner mall (CSV)").click()
    template = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert template.strip() == "vecka;område;kategori;antal;tidpunkt;plats;latitud;longitud;kommentar"
    filled = template + (f"{week};Råby;Skadegörelse;3;;Trapphus 4;;;klotter i trapphuset\n"
                         f"{week};Kungsängen centrum;Otrygghetsskapande samling av personer;1;;;;;\n")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "brohus_vecka.csv", "mimeType": "text/csv", "buffer": filled.encode("utf-8")}])
    page.get_by_text("brohus_vecka.csv").first.wait_for(timeout=30_000)
    wait_idle(page)
    page.get_by_role("button", name="Förhandsgranska").click()
    page.get_by_role("button", name="Skicka in filen").wait_for(timeout=60_000)
    wait_idle(page)
    _shot(page, "est_04_bostadsbolag_forhandsgranskning")
    page.get_by_role("button", name="Skicka in filen").click()
    page.get_by_text(re.compile(r"Importerade rader: 2, avvisade: 0, fanns redan: 0")).wait_for(timeout=60_000)
    _shot(page, "est_05_bostadsbolag_inskickad")
    reports = store.est_reports(None, weeks=[week]).set_index("organisation")
    assert reports.loc["polis", "id"] == police_id
    assert (reports.loc["upplands_brohus", "source"], reports.loc["upplands_brohus", "total"]) == ("import", 4)
    assert reports.loc["upplands_brohus", "file_name"] == "brohus_vecka.csv"  # the name the user knows
    assert set(reports["status"]) == {"inskickad"}
    assert desk.refused == [], desk.refused
    desk.close()

    # 3. The planner approves both on Granskning; then the lägesbild of the week shows them.
    desk = new_context(browser, server.url)
    page = desk.new_page()
    login(page, server.url, "e2e_planerare", PASSWORD)
    open_page(page, "Granskning")
    page.get_by_text(f"Rapporter vecka {week}").wait_for(timeout=60_000)
    page.get_by_text("brohus_vecka.csv").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(1500)  # the line tables draw after the run
    _shot(page, "est_06_planerare_granskning")
    approve = page.get_by_role("button", name="Godkänn", exact=True)
    for n in range(2):
        approve.first.click()
        page.get_by_text(re.compile(r"Rapport nr \d+ är godkänd")).wait_for(timeout=60_000)
        wait_idle(page)
        for _ in range(240):  # the approved report's buttons go once the page has been redrawn
            if approve.count() == 1 - n:
                break
            page.wait_for_timeout(250)
        assert approve.count() == 1 - n
    _shot(page, "est_07_planerare_godkant")
    statuses = store.est_reports(None, weeks=[week])["status"].tolist()
    assert statuses == ["godkand", "godkand"]
    open_page(page, "Lägesbild")
    # the approved partner figures (the area status above it is a table too)
    table = page.get_by_test_id("stTable").filter(has_text="Otrygghetsskapande samling av personer")
    table.first.wait_for(timeout=120_000)
    text = table.first.inner_text()
    for expected in ("Bro centrum", "Råby", "Kungsängen centrum", "Skadegörelse (inkl. klotter och brand)",
                     "Otrygghetsskapande samling av personer"):
        assert expected in text, (expected, text)
    table.first.scroll_into_view_if_needed()
    _shot(page, "est_08_planerare_lagesbild")
    assert desk.refused == [], desk.refused
    desk.close()
    store.dispose()
