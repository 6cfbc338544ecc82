"""One EST season in miniature, end to end in headless Debian chromium against ``streamlit run serve.py`` (issue 12,
"Must show"): a planner plans a walk; three participants report on it (a photo with GPS EXIF, a tap on the map, a
dark stretch drawn on the map); the planner assigns three actions to three parties one after another without
reloading; the housing company marks its action done; at the next walk in the area a participant answers the
follow-up on a 390 × 844 phone; both walks' protocols, downloaded as PDF through the page and rendered to PNG,
show the answers; the police (form) and a housing company (CSV template) each submit their weekly EST report; the
planner approves both; the lägesbild of that week shows them. A screenshot of each step goes to
test-output/e2e/season_NN_*.png. Every request outside the app is refused (and fails the test)."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import chromium_path, unavailable
from e2e_support import (
    PYTHON,
    ROOT,
    SHOTS,
    App,
    app_env,
    choose,
    launch_chromium,
    logged_in_page,
    open_page,
    running_app,
    saved_id,
    step,
    tap_report_map,
    upload_photo,
    wait_idle,
)

from trygghetskarta import auth, est_reports, geography
from trygghetskarta.store import open_store

PASSWORD = "Kvällsvandring-i-Bro-2026"
USERS = {"sasong_planerare": ("planerare", None), "sasong_foto": ("deltagare", None),
         "sasong_karta": ("deltagare", None), "sasong_stracka": ("deltagare", None),
         "sasong_ritar": ("deltagare", None),
         "sasong_bostad": ("bostadsbolag", "upplands_brohus"), "sasong_polis": ("polis", "polis")}
# Places inside Bro centrum (a neighbourhood of the locality Bro, Upplands-Bro), (lon, lat)
PHOTO_AT = (17.63655, 59.51152)
TAP_AT = (17.6392, 59.5122)
STRETCH = [(17.6340, 59.5104), (17.6352, 59.5109), (17.6366, 59.5111)]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, Path]]:
    data = tmp_path_factory.mktemp("e2e_season") / "data"
    subprocess.run([PYTHON, "-m", "trygghetskarta", "init"], cwd=ROOT, env=app_env(data), check=True,
                   capture_output=True, timeout=300)
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    store.insert("area", geography.shipped_areas())
    for name, (role, org) in USERS.items():
        auth.create_user(store, name, role, PASSWORD, organisation=org)
    store.dispose()
    with running_app(data) as server:
        yield server, data


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed (Debian: poppler-utils)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("season_*.png"):  # only this run's screenshots
        old.unlink()
    with sync_playwright() as p:
        b = launch_chromium(p, executable)
        yield b
        for i, page in enumerate(pg for ctx in b.contexts for pg in ctx.pages):  # left open by a failure
            page.screenshot(path=str(SHOTS / f"season_zz_failed_{i}.png"), full_page=True)
        b.close()


STEP_SECONDS: dict[str, float] = {}
_CLOCK = [time.monotonic()]


def _number(text: str) -> int:
    """The record number a confirmation names ("... (nr 12)")."""
    found = re.search(r"nr (\d+)", text)
    assert found, f"no number in {text!r}"
    return int(found.group(1))


def _shot(page: Any, name: str, show: Any = None) -> None:
    """A screenshot of the step, with ``show`` (a locator) scrolled into view first (Streamlit scrolls inside
    its own container, so a full-page shot is the visible part)."""
    if show is not None:
        show.first.scroll_into_view_if_needed()
    now = time.monotonic()
    STEP_SECONDS[name] = round(now - _CLOCK[0], 1)
    _CLOCK[0] = now
    page.screenshot(path=str(SHOTS / f"season_{name}.png"), full_page=True)


def _until(check: Any, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(0.25)


def _gps_jpeg(lon: float, lat: float) -> bytes:
    """A phone photo whose EXIF GPS block says where it was taken."""
    from PIL import Image
    from PIL.ExifTags import GPS, IFD

    def dms(value: float) -> tuple[float, float, float]:
        d = int(value)
        m = int((value - d) * 60)
        return (float(d), float(m), round((value - d - m / 60) * 3600, 4))

    exif = Image.Exif()
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef] = "N"
    gps[GPS.GPSLatitude] = dms(lat)
    gps[GPS.GPSLongitudeRef] = "E"
    gps[GPS.GPSLongitude] = dms(lon)
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (70, 90, 140)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _choose_category(page: Any, label: str) -> None:
    page.locator('[data-testid="stButtonGroup"] button', has_text=label).first.click()
    wait_idle(page)


def _describe(page: Any, text: str) -> None:
    box = page.get_by_label("Kort beskrivning")
    _until(lambda: box.count() == 1, what="one description box")
    box.fill(text)
    box.press("Tab")  # commit the text area's value
    wait_idle(page)


def _save_report(page: Any) -> int:
    """Spara on the report page; the "Sparat (nr N)" id. Three different categories: no duplicate question."""
    page.get_by_role("button", name="Spara").click()
    return saved_id(page, 90_000)


def _login(browser: Any, server: App, user: str, *, phone: bool = False) -> tuple[Any, Any]:
    context, page = logged_in_page(browser, server.url, user, PASSWORD, phone=phone)
    wait_idle(page)
    return context, page


def _plan_walk(page: Any, title: str, day: dt.date) -> int:
    page.get_by_text("Planera en vandring").first.click()
    form = page.get_by_test_id("stForm").filter(has_text="Rubrik").first
    form.get_by_label("Rubrik").fill(title)
    for part, value in (("year", f"{day:%Y}"), ("month", f"{day:%m}"), ("day", f"{day:%d}")):
        segment = form.get_by_role("spinbutton", name=f"{part}, Datum")  # Streamlit's date field, by segment
        segment.click()
        page.keyboard.type(value)
    assert form.get_by_role("spinbutton", name="day, Datum").get_attribute("aria-valuenow") == str(day.day)
    choose(form, page, "Område", "Bro")
    form.get_by_label("Organisationer").fill("Upplands-Bro kommun, Upplands-Brohus, Polisen")
    form.get_by_test_id("stFormSubmitButton").get_by_role("button").click()
    done = page.get_by_text(re.compile(r"Vandringen är planerad \(nr \d+"))
    done.wait_for(timeout=60_000)
    return _number(done.inner_text())


def _assign(page: Any, finding_id: int, what: str, party: str) -> int:
    """One action from one finding on Åtgärder, as a planner does after the previous one (no reload)."""
    picker = page.get_by_test_id("stMultiSelect").filter(has_text="Fynd").first
    if not picker.is_visible():  # the expander is folded (first time)
        page.get_by_test_id("stExpander").filter(has_text="Ny åtgärd från fynd").first.locator("summary").click()
    picker.wait_for(timeout=30_000)
    picker.click()
    page.keyboard.type(f"nr {finding_id} ")
    page.get_by_role("option", name=re.compile(f"^nr {finding_id} ")).first.click()
    page.keyboard.press("Escape")
    wait_idle(page)
    form = page.get_by_test_id("stForm").filter(has_text="Vad ska göras").first
    form.get_by_label("Vad ska göras").fill(what)
    choose(form, page, "Ansvarig", party)
    before = page.get_by_text(re.compile(r"Åtgärd nr \d+ skapad")).all_inner_texts()
    form.get_by_test_id("stFormSubmitButton").get_by_role("button").click()
    created = page.get_by_text(re.compile(r"Åtgärd nr \d+ skapad"))
    _until(lambda: created.count() == 1 and created.inner_text() not in before, what=f"action for {finding_id}")
    assert not page.get_by_text("Något gick fel").count()
    wait_idle(page)
    return _number(created.inner_text())


def _pdf_of_walk(page: Any, walk_label: str, name: str) -> tuple[str, str]:
    """Choose the walk on Vandringar, download its protocol PDF through the page, keep its pages as PNG
    screenshots and return its text, laid out as on the page (table rows on one line) and in reading order
    (a wrapped table cell in one piece)."""
    choose(page, page, "Vandring", walk_label)
    button = page.get_by_test_id("stDownloadButton").filter(has_text="Ladda ner PDF").get_by_role("button")
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=120_000) as info:
        button.click()
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    target = SHOTS / f"season_{name}.pdf"
    target.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "90", str(target), str(SHOTS / f"season_{name}")], check=True,
                   timeout=120)
    assert list(SHOTS.glob(f"season_{name}-*.png"))
    texts = [subprocess.run(["pdftotext", *mode, str(target), "-"], capture_output=True, check=True,
                            timeout=60).stdout.decode("utf-8") for mode in (["-layout"], [])]
    target.unlink()
    return texts[0], " ".join(texts[1].split())


def _row(text: str, finding_id: int) -> str:
    """The protocol table's line for a finding (the line that begins with its number)."""
    lines = [line for line in text.splitlines() if re.match(rf"\s*{finding_id}\s", line)]
    assert lines, (finding_id, text)
    return lines[0]


@pytest.mark.browser
def test_one_season_from_walk_to_lagesbild(app: tuple[App, Path], browser: Any) -> None:
    server, data = app
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    contexts: list[Any] = []
    started = time.monotonic()
    today = dt.date.today()

    # 1. The planner plans a walk in Bro today.
    desk, planner = _login(browser, server, "sasong_planerare")
    contexts.append(desk)
    open_page(planner, "Vandringar")
    walk1 = _plan_walk(planner, "Trygghetsvandring Bro höst", today)
    _shot(planner, "01_planerare_planerar_vandring")
    assert store.get("walk", walk1)["area_id"] == int(store.areas().set_index("name").loc["Bro", "id"])

    # 2. Three participants report on it on their phones.
    # 2a. by a photo whose EXIF GPS gives the place
    phone, page = _login(browser, server, "sasong_foto", phone=True)
    contexts.append(phone)
    page.get_by_role("heading", name="Rapportera").wait_for()
    _choose_category(page, "Entré/trapphus")
    _describe(page, "Trasig dörr och mörkt i entrén till trapphus 4")
    photo = _gps_jpeg(*PHOTO_AT)
    upload_photo(page, "entre.jpg", photo, "image/jpeg", page.get_by_text("Position från fotots GPS").first, 90_000)
    wait_idle(page)
    _shot(page, "02a_deltagare_foto_gps_390x844", page.get_by_text("Position från fotots GPS"))
    photo_finding = _save_report(page)
    _shot(page, "02b_deltagare_foto_sparat_390x844")

    # 2b. by tapping the map
    phone, page = _login(browser, server, "sasong_karta", phone=True)
    contexts.append(phone)
    page.get_by_role("heading", name="Rapportera").wait_for()
    _choose_category(page, "Förväxt/skymmande vegetation")
    _describe(page, "Buskarna skymmer gångvägen mot stationen")
    step(lambda: tap_report_map(page, TAP_AT, zoom=16, timeout=90_000), page.get_by_text("Position från kartan").first,
         90_000)
    wait_idle(page)
    _shot(page, "02c_deltagare_trycker_pa_kartan_390x844", page.get_by_text("Position från kartan"))
    tap_finding = _save_report(page)

    # 2c. a dark stretch drawn on the map, point by point
    phone, page = _login(browser, server, "sasong_stracka", phone=True)
    contexts.append(phone)
    page.get_by_role("heading", name="Rapportera").wait_for()
    _choose_category(page, "Otillräcklig/bländande belysning")
    _describe(page, "Mörk gångväg längs banvallen, ingen belysning alls")
    page.locator(".st-key-rap_line_0").get_by_text("Det är en sträcka").click()
    page.get_by_text("Tryck på kartan längs sträckan").wait_for(timeout=60_000)
    wait_idle(page)
    expected = ["Sträckan behöver minst två punkter (1 valda).", "Sträcka med 2 punkter vald.",
                "Sträcka med 3 punkter vald."]
    for point, shown in zip(STRETCH, expected, strict=True):
        step(lambda p=point: tap_report_map(page, p, zoom=17, timeout=90_000), page.get_by_text(shown, exact=True),
             90_000)
        wait_idle(page)
    _shot(page, "02d_deltagare_ritar_stracka_390x844", page.locator('iframe[title="streamlit_folium.st_folium"]'))
    line_finding = _save_report(page)
    _shot(page, "02e_deltagare_stracka_sparad_390x844")

    found = {fid: store.get("finding", fid) for fid in (photo_finding, tap_finding, line_finding)}
    assert {fid: row["walk_id"] for fid, row in found.items()} == dict.fromkeys(found, walk1)
    assert found[photo_finding]["category"] == "entre_trapphus" and len(store.photos([photo_finding])) == 1
    points = store.points("finding", None, columns=("category",)).set_index("id")
    assert points.loc[photo_finding, "lon"] == pytest.approx(PHOTO_AT[0], abs=1e-4)
    assert points.loc[photo_finding, "lat"] == pytest.approx(PHOTO_AT[1], abs=1e-4)
    assert points.loc[tap_finding, "lon"] == pytest.approx(TAP_AT[0], abs=2e-4)
    assert points.loc[tap_finding, "lat"] == pytest.approx(TAP_AT[1], abs=2e-4)
    line = store.read("finding", None, ids=[line_finding]).geometry.iloc[0]
    assert line.geom_type == "LineString" and len(line.coords) == 3
    for (lon, lat), (x, y) in zip(STRETCH, line.coords, strict=True):
        assert (x, y) == (pytest.approx(lon, abs=1e-4), pytest.approx(lat, abs=1e-4))
    for context in contexts[1:]:
        assert context.refused == [], context.refused
        context.close()
    del contexts[1:]

    # 3. The planner assigns three actions to three parties, one after another, without reloading.
    open_page(planner, "Åtgärder")
    actions = {
        photo_finding: _assign(planner, photo_finding, "Laga dörren och byt belysning i entrén", "Upplands-Brohus"),
        tap_finding: _assign(planner, tap_finding, "Klipp ner buskarna längs gångvägen", "Kommunen (gata/park)"),
        line_finding: _assign(planner, line_finding, "Sätt upp belysning längs banvallen", "Elnätsbolag"),
    }
    _shot(planner, "03_planerare_tre_atgarder", planner.get_by_role("heading", name="Ändra status"))
    assert len(set(actions.values())) == 3
    assert {store.get("action", a)["responsible"] for a in actions.values()} == {
        "upplands_brohus", "kommun_gata_park", "elnatsbolag"}
    assert {store.get("finding", f)["status"] for f in actions} == {"tilldelad"}

    # 4. The housing company marks its action done.
    desk2, page = _login(browser, server, "sasong_bostad")
    open_page(page, "Åtgärder")
    page.get_by_role("heading", name="Upplands-Brohus (1)").wait_for(timeout=60_000)
    assert page.get_by_role("heading", name=re.compile(r"\(\d+\)$")).all_inner_texts() == ["Upplands-Brohus (1)"]
    chooser = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("nr", exact=True))
    chooser.click()  # its own actions only
    assert page.get_by_role("option").all_inner_texts() == [
        f"nr {actions[photo_finding]} – Laga dörren och byt belysning i entrén"]
    page.keyboard.press("Escape")
    form = page.get_by_test_id("stForm").filter(has_text="Ny status").first
    choose(form, page, "Ny status", "Klar")
    form.get_by_label("Kommentar").fill("Ny dörr och ny armatur i entrén")
    form.get_by_role("button", name="Spara").click()
    page.get_by_text("Status ändrad.").wait_for(timeout=60_000)
    wait_idle(page)
    _shot(page, "04_bostadsbolag_klar")
    assert store.get("action", actions[photo_finding])["status"] == "klar"
    assert store.get("finding", photo_finding)["status"] == "atgardad"
    assert desk2.refused == [], desk2.refused
    desk2.close()

    # 5. The next walk in the area; a participant answers the follow-up on a 390 px phone.
    open_page(planner, "Vandringar")
    walk2 = _plan_walk(planner, "Uppföljning Bro höst", today + dt.timedelta(days=1))
    wait_idle(planner)
    phone, page = _login(browser, server, "sasong_foto", phone=True)
    open_page(page, "Vandringar")
    page.get_by_role("button", name="Jag deltar i vandringen").click()
    page.get_by_text("Du deltar i vandringen.").wait_for(timeout=60_000)
    page.get_by_text("3 tidigare fynd i området att kontrollera, 0 besvarade.").wait_for(timeout=60_000)
    wait_idle(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    _shot(page, "05a_deltagare_uppfoljning_390x844")
    answers = {photo_finding: ("Ja", "Ja", "Dörren är ny och entrén är ljus"),
               line_finding: ("Nej", "Nej", "Fortfarande helt mörkt längs banvallen")}
    for n, (fid, (fixed, safer, comment)) in enumerate(answers.items(), start=1):
        key = f"{walk2}_{fid}"
        for question, choice in (("fixed", fixed), ("safer", safer)):
            option = page.locator(f".st-key-fu_{question}_{key}").get_by_role("radio", name=choice, exact=True)
            option.click()
            wait_idle(page)
            _until(lambda o=option: o.count() == 1 and o.get_attribute("aria-checked") == "true",
                   what=f"{question} = {choice}")  # (a rerun may show a stale twin for a moment)
        box = page.locator(f".st-key-fu_comment_{key}").get_by_role("textbox")
        box.fill(comment)
        box.press("Enter")
        wait_idle(page)
        page.locator(f".st-key-fu_save_{key}").get_by_role("button").click()
        page.get_by_text(f"3 tidigare fynd i området att kontrollera, {n} besvarade.").wait_for(timeout=60_000)
        wait_idle(page)
        answer = f"Svar vid denna vandring: åtgärdat {fixed}, tryggare {safer}."
        page.get_by_text(answer).first.wait_for(timeout=60_000)
        page.get_by_text(answer).first.scroll_into_view_if_needed()
        _shot(page, f"05{'bc'[n - 1]}_deltagare_svar_{n}_390x844")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    followups = store.followups(list(answers), walk_id=walk2)
    assert set(followups["by"]) == {"sasong_foto"}
    assert store.get("finding", photo_finding)["status"] == "verifierad"
    assert store.get("finding", line_finding)["status"] == "tilldelad"
    assert phone.refused == [], phone.refused
    phone.close()

    # 6. Both walks' protocols, downloaded through the page, show the answers.
    open_page(planner, "Karta")  # and back: the page runs afresh (a reload would end the session)
    open_page(planner, "Vandringar")
    label2 = f"Uppföljning Bro höst – {today + dt.timedelta(days=1):%Y-%m-%d} 19:00"
    label1 = f"Trygghetsvandring Bro höst – {today:%Y-%m-%d} 19:00"
    answered = {fid: rf"\s{fixed.lower()}\s+{safer.lower()}(\s|$)" for fid, (fixed, safer, _c) in answers.items()}
    second, second_flat = _pdf_of_walk(planner, label2, "06a_protokoll_vandring2")
    assert "Uppföljning av tidigare fynd" in second_flat and "Tidigare fynd som följdes upp: 2" in second_flat
    for fid, pattern in answered.items():  # Åtgärdat? and Tryggare? on the finding's line
        assert re.search(pattern, _row(second, fid)), (pattern, _row(second, fid))
    for _fixed, _safer, comment in answers.values():
        assert comment in second_flat, (comment, second_flat)
    first, first_flat = _pdf_of_walk(planner, label1, "06b_protokoll_vandring1")
    assert "Åtgärdat?" in first_flat and "Tryggare?" in first_flat
    for fid, pattern in answered.items():
        assert re.search(pattern, _row(first, fid)), (pattern, _row(first, fid))
    assert not re.search(r"\s(ja|nej)\s+(ja|nej)(\s|$)", _row(first, tap_finding))  # not checked: no answer
    _shot(planner, "06c_planerare_protokoll")

    # 7. The police (form, on a phone) and the housing company (CSV template) submit their weekly EST report.
    week = est_reports.current_week()
    phone, page = _login(browser, server, "sasong_polis", phone=True)
    open_page(page, "EST-rapport")
    page.get_by_text("Du rapporterar för Polisen.").wait_for(timeout=30_000)
    choose(page, page, "Område", "Bro centrum")
    count = page.get_by_label("Antal")
    count.fill("4")
    count.press("Tab")
    page.get_by_label("Plats (valfritt").fill("Gångvägen längs banvallen")
    page.get_by_role("button", name="Lägg till rad").click()
    page.get_by_text("Raden är tillagd.").wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_role("button", name="Skicka in rapporten").click()
    sent = page.get_by_text(re.compile(r"Rapporten är inskickad \(nr \d+\)"))
    sent.wait_for(timeout=60_000)
    police_id = _number(sent.inner_text())
    _shot(page, "07a_polis_veckorapport_formular_390x844")
    assert phone.refused == [], phone.refused
    phone.close()

    desk2, page = _login(browser, server, "sasong_bostad")
    open_page(page, "EST-rapport")
    page.get_by_role("tab", name="Ladda upp fil").click()
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Ladda ner mall (CSV)").click()
    template = Path(info.value.path()).read_text(encoding="utf-8-sig")
    filled = template + (f"{week};Bro centrum;Skadegörelse;2;;Trapphus 4;;;klotter i entrén\n"
                         f"{week};Råby;Otrygghetsskapande samling av personer;1;;;;;\n")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "brohus_sasong.csv", "mimeType": "text/csv", "buffer": filled.encode("utf-8")}])
    page.get_by_text("brohus_sasong.csv").first.wait_for(timeout=30_000)
    wait_idle(page)
    page.get_by_role("button", name="Förhandsgranska").click()
    page.get_by_role("button", name="Skicka in filen").wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_role("button", name="Skicka in filen").click()
    page.get_by_text(re.compile(r"Importerade rader: 2, avvisade: 0, fanns redan: 0")).wait_for(timeout=60_000)
    _shot(page, "07b_bostadsbolag_veckorapport_csv")
    reports = store.est_reports(None, weeks=[week]).set_index("organisation")
    assert reports.loc["polis", "id"] == police_id
    assert (reports.loc["upplands_brohus", "source"], reports.loc["upplands_brohus", "total"]) == ("import", 3)
    assert desk2.refused == [], desk2.refused
    desk2.close()

    # 8. The planner approves both on Granskning.
    open_page(planner, "Granskning")
    planner.get_by_text(f"Rapporter vecka {week}").wait_for(timeout=60_000)
    planner.get_by_text("brohus_sasong.csv").first.wait_for(timeout=60_000)
    wait_idle(planner)
    approve = planner.get_by_role("button", name="Godkänn", exact=True)
    for n in range(2):
        approve.first.click()
        planner.get_by_text(re.compile(r"Rapport nr \d+ är godkänd")).wait_for(timeout=60_000)
        wait_idle(planner)
        _until(lambda left=1 - n: approve.count() == left, what="the approved report's buttons to go")
    _shot(planner, "08_planerare_godkanner")
    assert store.est_reports(None, weeks=[week])["status"].tolist() == ["godkand", "godkand"]

    # 9. The lägesbild of that week shows them.
    open_page(planner, "Lägesbild")
    planner.get_by_text("EST-rapporter från partner (granskade) per område och kategori").wait_for(timeout=120_000)
    table = planner.get_by_test_id("stTable").filter(has_text="Föreg.")
    table.wait_for(timeout=120_000)
    rows = [" ".join(r.split()) for r in table.locator("tbody tr").all_inner_texts()]
    # the police's 4 and the housing company's 2 in Bro centrum, the housing company's 1 in Råby
    assert any(r.startswith("Bro centrum Skadegörelse (inkl. klotter och brand) 6 ") for r in rows), rows
    assert any(r.startswith("Råby Otrygghetsskapande samling av personer 1 ") for r in rows), rows
    assert len(rows) == 2, rows
    table.scroll_into_view_if_needed()
    _shot(planner, "09_planerare_lagesbild")
    assert desk.refused == [], desk.refused
    desk.close()
    store.dispose()
    print(f"season in {time.monotonic() - started:.0f} s; seconds per step: {STEP_SECONDS}")  # for the report


@pytest.mark.browser
def test_a_stretch_point_can_be_undone_and_tapped_again(app: tuple[App, Path], browser: Any) -> None:
    """A participant taps a point, undoes it and taps the same spot again; clears the stretch, turns the stretch
    off and on, and taps the first spot again. Each tap counts (before the fix, streamlit-folium's repeated
    last tap made the app take a tap on the spot of the previous one for that old tap, and ignore it)."""
    server, _data = app
    phone, page = _login(browser, server, "sasong_ritar", phone=True)
    try:
        page.get_by_role("heading", name="Rapportera").wait_for()
        toggle = page.locator(".st-key-rap_line_0").get_by_text("Det är en sträcka")
        toggle.click()
        page.get_by_text("Tryck på kartan längs sträckan").wait_for(timeout=60_000)
        wait_idle(page)

        def tap(point: tuple[float, float], shown: str) -> None:
            step(lambda: tap_report_map(page, point, zoom=17, timeout=90_000), page.get_by_text(shown, exact=True),
                 60_000)
            wait_idle(page)

        def press(name: str, shown: str) -> None:
            step(lambda: page.get_by_role("button", name=name).click(), page.get_by_text(shown, exact=True), 60_000)
            wait_idle(page)

        one, two, none = ("Sträckan behöver minst två punkter (1 valda).", "Sträcka med 2 punkter vald.",
                          "Sträckan behöver minst två punkter (0 valda).")
        tap(STRETCH[0], one)
        tap(STRETCH[1], two)
        press("Ångra sista punkten", one)
        tap(STRETCH[1], two)  # the same spot as the undone point
        press("Rensa", none)
        toggle.click()  # off: the point map
        page.get_by_text("Tryck på kartan längs sträckan").wait_for(state="detached", timeout=60_000)
        wait_idle(page)
        toggle.click()  # on again
        page.get_by_text(none, exact=True).wait_for(timeout=60_000)
        wait_idle(page)
        tap(STRETCH[0], one)  # the spot of the stretch's first tap before it was cleared
        _shot(page, "zy_stracka_ angrad_och_ritad_igen_390x844".replace(" ", ""))
    finally:
        phone.close()
