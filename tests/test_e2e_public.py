"""The public face in headless Debian chromium (issue 16, Must show):

- a resident reports without an account in Arabic (the page is right to left), opened at a place by a QR
  link, and gets a receipt code; the report is not on the public map until a planner approves it on the
  moderation page, then it is; after the planner closes it the resident's status link shows "Åtgärdad", and
  the e-mails arrive, in Arabic, at a real SMTP server the test runs (aiosmtpd on 127.0.0.1);
- the help page's quick exit replaces the page and its history entry: Back does not return to it.

The browser may reach only the app; every other request is refused and recorded (nothing loads from outside).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import (
    SHOTS,
    choose,
    free_port,
    login,
    map_frame,
    new_context,
    open_page,
    popup_texts,
    running_app,
    wait_idle,
)
from public_support import cli
from smtp_support import SmtpServer

from trygghetskarta import auth
from trygghetskarta.store import open_store

PASSWORD = "Kvällsvandring-i-Bro-2026"
BRO = (17.6405, 59.5252)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, SmtpServer, dict[str, str], Any]]:
    data = tmp_path_factory.mktemp("e2e_public") / "data"
    data.mkdir(parents=True)
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")  # where the app (data folder) looks
    store.init()
    auth.create_user(store, "e2e_planerare", "planerare", PASSWORD)
    store.dispose()
    smtp = SmtpServer(free_port()).start()
    port = free_port()
    env = {"TRYGGHETSKARTA_SMTP_HOST": "127.0.0.1", "TRYGGHETSKARTA_SMTP_PORT": str(smtp.port),
           "TRYGGHETSKARTA_SMTP_STARTTLS": "0", "TRYGGHETSKARTA_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    try:
        with running_app(data, port=port, extra_env=env) as app:
            yield app, smtp, env, data
    finally:
        smtp.stop()


def _alerts(page: Any) -> str:
    return "\n".join(page.get_by_test_id("stAlert").all_inner_texts())


@pytest.mark.browser
def test_resident_reports_in_arabic_and_follows_it_to_fixed_with_email(server: tuple, browser: Any) -> None:
    app, smtp, env, data = server
    phone = new_context(browser, app.url, phone=True)
    page = phone.new_page()
    page.goto(f"{app.url}/anmal?lang=ar&lon={BRO[0]}&lat={BRO[1]}&plats=Lyktstolpe%2012")
    page.get_by_role("heading", name="الإبلاغ عن مكان").wait_for(timeout=60_000)
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    assert main.get_attribute("dir") == "rtl"
    assert main.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert page.get_by_label("العنوان أو وصف المكان (اختياري)").input_value() == "Lyktstolpe 12"
    choose(page, page, "ما الموضوع؟", "كتابة على الجدران")
    text = page.get_by_role("textbox", name="صف ما تراه")
    text.fill("كتابة على جدار النفق، اتصل بي 070-123 45 67")
    text.press("Tab")
    email = page.get_by_label("البريد الإلكتروني لإبلاغك بما يحدث (اختياري)")
    email.fill("boende@example.se")
    email.press("Tab")
    wait_idle(page)
    page.get_by_role("button", name="إرسال البلاغ").click()
    sent = page.get_by_text("رمز الإيصال:")
    sent.wait_for(timeout=60_000)
    found = re.search(r"TK-[A-Z0-9]{4}-[A-Z0-9]{4}", sent.inner_text())
    assert found is not None, sent.inner_text()
    code = found.group(0)
    status_url = page.locator("code").filter(has_text="/status?t=").first.inner_text().strip()
    assert status_url.startswith(f"{app.url}/status?t=") and status_url.endswith("&lang=ar")
    page.screenshot(path=str(SHOTS / "public_report_ar.png"), full_page=True)

    # not public yet: the public map has nothing, the status link says it waits for review
    anonymous = new_context(browser, app.url)
    viewer = anonymous.new_page()
    viewer.goto(f"{app.url}/publik_karta")
    viewer.get_by_text("Inga publicerade platser ännu.").wait_for(timeout=60_000)
    assert popup_texts(map_frame(viewer)) == []
    page.goto(status_url)
    page.get_by_text("في انتظار المراجعة").wait_for(timeout=60_000)
    assert code in page.get_by_role("heading", name=code).inner_text()

    # the planner approves it on the moderation page
    desk = new_context(browser, app.url)
    planner = desk.new_page()
    login(planner, app.url, "e2e_planerare", PASSWORD)
    open_page(planner, "Invånarnas anmälningar")
    planner.get_by_role("button", name="Godkänn").click()
    planner.get_by_text("är godkänd och syns på den allmänna kartan").wait_for(timeout=60_000)

    viewer.goto(f"{app.url}/publik_karta")
    viewer.get_by_text("Antal platser: 1").wait_for(timeout=60_000)
    assert popup_texts(map_frame(viewer)) == ["Klotter · Bedömd"]
    viewer.screenshot(path=str(SHOTS / "public_map_approved.png"), full_page=True)

    # ... assigns it and closes it
    for to in ("Tilldelad", "Åtgärdad"):
        if to == "Tilldelad":
            planner.get_by_test_id("stButtonGroup").get_by_text("Alla invånarnas anmälningar").click()
            wait_idle(planner)
        choose(planner, planner, "Ny status", to)
        if to == "Tilldelad":
            choose(planner, planner, "Ansvarig", "Kommunen (gata/park)")
        planner.get_by_role("button", name="Spara status").click()
        planner.get_by_text(f"är nu {to}").wait_for(timeout=60_000)
    planner.screenshot(path=str(SHOTS / "public_moderation.png"), full_page=True)

    page.goto(status_url)
    page.get_by_text("تم الإصلاح (Åtgärdad)").first.wait_for(timeout=60_000)
    assert "Åtgärdad" in _alerts(page)
    assert "070-123" not in page.inner_text("body")  # the resident's own text, scrubbed
    page.screenshot(path=str(SHOTS / "public_status_fixed_ar.png"), full_page=True)

    # the outbox sender (cron runs `trygghetskarta outbox send`) delivers to the real SMTP server
    out = cli(data, "outbox", "send", extra_env=env).stdout
    assert "sent 3" in out, out
    subjects = [str(m["Subject"]) for m in smtp.inbox.messages]
    shown = f"\u2066{code}\u2069"  # the code keeps its order in the Arabic subject
    assert subjects == [f"بلاغك {shown}: تمت المراجعة", f"بلاغك {shown}: أُحيل إلى الجهة المسؤولة",
                        f"بلاغك {shown}: تم الإصلاح"]
    assert {str(m["To"]) for m in smtp.inbox.messages} == {"boende@example.se"}
    assert status_url in smtp.inbox.messages[-1].get_content()
    assert "sent 0" in cli(data, "outbox", "send", extra_env=env).stdout
    assert len(smtp.inbox.messages) == 3
    for context in (phone, anonymous, desk):
        assert context.refused == [], context.refused
        context.close()


@pytest.mark.browser
def test_quick_exit_leaves_the_help_page_and_back_does_not_return(server: tuple, browser: Any) -> None:
    app = server[0]
    phone = new_context(browser, app.url, phone=True)
    page = phone.new_page()
    page.goto(f"{app.url}/anmal")
    page.get_by_role("heading", name="Anmäl en plats").wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_role("link", name="Hjälp och stöd").click()
    page.get_by_role("heading", name="Hjälp och stöd").wait_for(timeout=60_000)
    wait_idle(page)
    assert page.url.endswith("/hjalp")
    body = page.inner_text("body")
    for number in ("112", "114 14", "020-50 50 50"):
        assert number in body
    page.screenshot(path=str(SHOTS / "public_help.png"), full_page=True)
    page.get_by_role("button", name="Lämna sidan snabbt").click()
    page.wait_for_url("about:blank", timeout=30_000)
    page.go_back()
    page.wait_for_timeout(1500)
    assert "/hjalp" not in page.url, page.url
    assert page.url.endswith("/anmal"), page.url

    # opened straight from a link: Back has nowhere to go but never to the help page
    direct = phone.new_page()
    direct.goto(f"{app.url}/hjalp")
    direct.get_by_role("heading", name="Hjälp och stöd").wait_for(timeout=60_000)
    wait_idle(direct)
    direct.keyboard.press("Escape")
    direct.wait_for_url("about:blank", timeout=30_000)
    direct.go_back()
    direct.wait_for_timeout(1000)
    assert "/hjalp" not in direct.url, direct.url
    assert phone.refused == [], phone.refused
    phone.close()


@pytest.mark.browser
def test_resident_picks_the_place_with_a_tap_on_the_map(server: tuple, browser: Any) -> None:
    """Without a place in the link, a tap on the map (a phone, in English) chooses it."""
    from e2e_support import tap_report_map

    app = server[0]
    phone = new_context(browser, app.url, phone=True)
    page = phone.new_page()
    page.goto(f"{app.url}/anmal?lang=en")
    page.get_by_role("heading", name="Report a place").wait_for(timeout=60_000)
    wait_idle(page)
    choose(page, page, "What is it about?", "Broken/unlit lighting")
    tap_report_map(page, BRO, zoom=15)  # once the opening zoom has come to rest
    chosen = page.get_by_text("Chosen place:")
    chosen.wait_for(timeout=60_000)
    lat, lon = (float(v) for v in chosen.inner_text().split(":")[1].split(","))
    assert abs(lat - BRO[1]) < 0.001 and abs(lon - BRO[0]) < 0.002
    wait_idle(page)
    page.get_by_role("button", name="Send report").click()
    page.get_by_text("Receipt code: TK-").wait_for(timeout=60_000)
    page.screenshot(path=str(SHOTS / "public_report_tap_en.png"), full_page=True)
    assert phone.refused == [], phone.refused
    phone.close()
