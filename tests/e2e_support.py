"""Helpers for the browser tests and the load test: a real ``streamlit run serve.py`` (``app.py`` with the
session routes) on a free localhost port with its own data folder, and a headless Debian chromium (never a
downloaded browser) that may reach only the app: the app serves the map libraries itself, and every outside
request is refused and recorded."""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError  # its TimeoutError too

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "test-output" / "e2e"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(data_dir: Path, db_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGGHETSKARTA_")}
    env.update({"TRYGGHETSKARTA_DATA_DIR": str(data_dir), "TRYGGHETSKARTA_BASEMAP": "none",
                "PYTHONPATH": str(ROOT)})
    if db_url:
        env["TRYGGHETSKARTA_DB"] = db_url
    return env


def prepare_data(data_dir: Path, db_url: str | None = None) -> None:
    """What ``make run`` does before starting the app: init, then demo data when the database is empty."""
    env = app_env(data_dir, db_url)
    for args in (["init"], ["demo", "--if-empty"]):
        subprocess.run([PYTHON, "-m", "trygghetskarta", *args], cwd=ROOT, env=env, check=True, capture_output=True,
                       timeout=300)


@dataclass
class App:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def http_get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, resp.read().decode("utf-8", "replace")


@contextlib.contextmanager
def running_app(data_dir: Path, db_url: str | None = None, timeout: float = 90.0, port: int | None = None,
                extra_args: Sequence[str] = (), extra_env: dict[str, str] | None = None) -> Iterator[App]:
    """``streamlit run serve.py`` on a free 127.0.0.1 port (headless, no base map); stopped afterwards.
    ``extra_args`` are more Streamlit options (e.g. ``--secrets.files PATH``), ``extra_env`` more variables."""
    port = port or free_port()
    log = data_dir / f"streamlit_{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [PYTHON, "-m", "streamlit", "run", "serve.py", "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", *extra_args],
            cwd=ROOT, env={**app_env(data_dir, db_url), **(extra_env or {})}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if http_get(f"{url}/_stcore/health", 2.0)[1].strip() == "ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                msg = f"streamlit did not start (exit {proc.poll()}):\n{log.read_text(errors='replace')[-3000:]}"
                raise RuntimeError(msg)
            time.sleep(0.3)
        yield App(url, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# --- browser ----------------------------------------------------------------------------------------


def launch_chromium(playwright: Any, executable: str) -> Any:
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


def new_context(browser: Any, app_url: str, *, phone: bool = False, scale: float = 2,
                also_allowed: Sequence[str] = ()) -> Any:
    """A browser context that may reach only the app (and the 127.0.0.1 URLs in ``also_allowed``, e.g. a test's
    identity provider): every other request is refused, so a page that needed a CDN (or any outside resource)
    would show it. The app serves the map libraries itself."""
    options: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": scale,
                               "is_mobile": True, "has_touch": True} if phone else {
        "viewport": {"width": 1366, "height": 900}}
    context = browser.new_context(accept_downloads=True, locale="sv-SE", **options)
    refused: list[str] = []
    context.refused = refused  # type: ignore[attr-defined]  # what the page tried to fetch from outside

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith((app_url, *also_allowed)) or url.startswith(("data:", "blob:")):
            r.continue_()
            return
        refused.append(url)
        r.abort()  # no network: fonts, tiles, CDNs and anything else from outside

    context.route("**/*", route)
    return context


def login(page: Any, app_url: str, username: str, password: str) -> None:
    page.goto(app_url)
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_test_id("stSidebarNav").wait_for(state="attached", timeout=60_000)


def logged_in_page(browser: Any, app_url: str, username: str, password: str, *, phone: bool = False) -> tuple[Any, Any]:
    """A new browser context (a phone's, or a desktop's) with one page, logged in as ``username``."""
    context = new_context(browser, app_url, phone=phone)
    page = context.new_page()
    login(page, app_url, username, password)
    return context, page


def go_to(page: Any, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)


def open_page(page: Any, title: str) -> None:
    """Go to a page through the navigation; on a phone the sidebar is folded away and is opened first."""
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=title)
    link.wait_for(state="attached", timeout=30_000)
    wait_idle(page)  # the page's run has ended (on a phone it folds the navigation once it is drawn)

    def on_screen() -> bool:
        box = link.bounding_box()
        return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]

    folded = not on_screen()
    if folded:
        page.get_by_test_id("stExpandSidebarButton").click()
        page.wait_for_timeout(500)  # the sidebar slides in
        assert on_screen(), "the navigation did not open"
    link.click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
    wait_idle(page)
    if folded and on_screen():  # fold it away again, as a person would, to reach the page
        page.get_by_test_id("stSidebarCollapseButton").locator("button").click(force=True)
        page.wait_for_timeout(500)


def choose(scope: Any, page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label`` (inside ``scope``)."""
    scope.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def wait_idle(page: Any, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the current run (no 'running' status widget)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


_FIND_MAP = "(window.map_div || Object.values(window).find(v => v && v._container && v.eachLayer))"


def _leaflet_frame(page: Any, match: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        for frame in reversed(page.frames):  # the newest map (after a save the form gets a fresh one)
            if frame is not page.main_frame and match(frame) and not frame.is_detached():
                try:
                    drawn = frame.evaluate(f"() => !!document.querySelector('.leaflet-container') && !!{_FIND_MAP}")
                except PlaywrightError:  # this frame was replaced while asked: a poll, the deadline below fails
                    drawn = False
                if drawn:
                    return frame
        page.wait_for_timeout(250)
    msg = "the map never rendered"
    raise TimeoutError(msg)


def folium_frame(page: Any, timeout: float = 60_000) -> Any:
    """The frame of the (first) streamlit-folium map (the report page's tap map), once Leaflet has drawn it."""
    page.locator('iframe[title="streamlit_folium.st_folium"]').first.wait_for(timeout=timeout)
    return _leaflet_frame(page, lambda f: "streamlit_folium" in f.url, timeout)


def map_frame(page: Any, timeout: float = 60_000) -> Any:
    """The frame of the planners' map (a self-contained document in ``components.html``), once drawn."""
    return _leaflet_frame(page, lambda f: "streamlit_folium" not in f.url, timeout)


def popup_texts(frame: Any) -> list[str]:
    """The text of every marker popup on the map (Leaflet's own layer list, not the DOM)."""
    return frame.evaluate(f"""() => {{ const out = []; const m = {_FIND_MAP};
        m.eachLayer(l => {{ const p = l.getPopup && l.getPopup(); if (!p) return;
            const c = p.getContent(); out.push(typeof c === 'string' ? c : (c.textContent || '')); }});
        return out; }}""")


def jpeg_bytes(color: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 600), color).save(out, format="JPEG")
    return out.getvalue()


_SAVED = re.compile(r"Sparat \(nr (\d+)\)")


def _shown_ids(page: Any) -> set[int]:
    return {int(m.group(1)) for text in page.get_by_test_id("stAlert").all_inner_texts()
            for m in [_SAVED.search(text)] if m}


def saved_id(page: Any, timeout: float = 60_000, before: set[int] | frozenset[int] = frozenset()) -> int:
    """The id in the page's "Sparat (nr N)" message, once one appears that was not there ``before``."""
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        new = _shown_ids(page) - set(before)
        if new:
            return max(new)
        page.wait_for_timeout(250)
    msg = "no 'Sparat (nr N)' message appeared"
    raise TimeoutError(msg)


def _single(locator: Any, timeout: float) -> Any:
    """The one element of ``locator`` once a rerun has removed its stale twin (Streamlit keeps the old
    element on screen until the new run has drawn the new one)."""
    deadline = time.monotonic() + timeout / 1000
    while locator.count() != 1 and time.monotonic() < deadline:
        time.sleep(0.25)
    return locator


def step(act: Any, proof: Any, timeout: float) -> None:
    """Do ``act`` once, as a person would, then wait up to ``timeout`` (ms) for ``proof`` (a locator: what the
    page shows once the step has happened). A lost step (an upload, a tap or a click the app never saw) fails
    the test with Playwright's timeout: it is never repeated until it happens to work."""
    act()
    proof.wait_for(timeout=timeout)


def tap_report_map(page: Any, at: tuple[float, float], *, zoom: int = 15, timeout: float = 60_000) -> None:
    """One tap on the report map at ``at`` = (lon, lat), found through Leaflet's own projection, once the page has
    finished its run, the one map on the page is the new one, Leaflet has drawn it and its opening zoom has
    come to rest (a tap during that animation is taken by the animation, and the view jumps back to where the
    animation was going)."""
    wait_idle(page, timeout)
    # The map on screen: once the run has replaced a map (e.g. the point map by the stretch map), the old
    # iframe can stay attached, drawn, for a moment after the run; a tap there would be lost.
    maps = _single(page.locator('iframe[title="streamlit_folium.st_folium"]'), timeout)
    assert maps.count() == 1, f"{maps.count()} tap maps on the page, expected one"
    frame = maps.first.element_handle().content_frame()
    assert frame is not None, "the tap map's iframe has no document"
    # Leaflet starts a zoom animation (the opening fitBounds) on the next animation frame, so "not animating
    # now" is not enough: wait frames until it is at rest, set the view, and take the point only once the view
    # has held for two more frames (else set it again: the tap itself is made once).
    place = """async ([lat, lon, z]) => {
        const m = window.map_div;
        const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        const rest = () => m._loaded && !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress);
        for (let i = 0; i < 200 && !rest(); i++) await frames();
        await frames();
        if (!rest()) return null;
        m.setView([lat, lon], z, {animate: false});
        await frames();
        if (!rest() || m.getZoom() !== z) return null;
        const p = m.latLngToContainerPoint([lat, lon]);
        return {x: p.x, y: p.y};
    }"""
    frame.wait_for_function("() => window.map_div && window.map_div._loaded", timeout=timeout)
    deadline = time.monotonic() + timeout / 1000
    point = frame.evaluate(place, [at[1], at[0], zoom])
    while point is None and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        point = frame.evaluate(place, [at[1], at[0], zoom])
    assert point is not None, "the tap map's view never came to rest"
    frame.locator(".leaflet-container").click(position=point, timeout=timeout)


def upload_photo(page: Any, name: str, data: bytes, mime: str, proof: Any, timeout: float = 60_000) -> None:
    """Give the report page's uploader one file, once the page is idle, and wait for ``proof`` (what the page
    shows once it has the file)."""
    wait_idle(page, timeout)
    uploader = _single(page.locator('[data-testid="stFileUploaderDropzoneInput"]'), timeout)
    step(lambda: uploader.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}]), proof, timeout)


def report_finding(page: Any, *, category: str, description: str, photo: bytes | None,
                   tap: tuple[float, float] = (17.7485, 59.4800), timeout: float = 120_000,
                   timings: dict[str, float] | None = None) -> int:
    """Fill the report page as a participant would (category, description, photo, a tap on the map at the
    place ``tap`` = (lon, lat), found through Leaflet's own projection) and save. Each step is done once and
    its result awaited: a lost upload, tap or save fails. ``timings`` (if given) receives ``save_s``: seconds
    from the tap on Spara to the page's "Sparat" (the duplicate question included)."""
    page.locator('[data-testid="stButtonGroup"] button', has_text=category).first.click()
    wait_idle(page)
    text = _single(page.get_by_label("Kort beskrivning"), timeout)
    text.fill(description)
    text.press("Tab")  # commit the text area's value
    wait_idle(page, timeout)
    if photo is not None:
        upload_photo(page, "fynd.jpg", photo, "image/jpeg", page.get_by_text("fynd.jpg").first, timeout)
    wait_idle(page, timeout)
    step(lambda: tap_report_map(page, tap, timeout=timeout), page.get_by_text("Position från kartan").first, timeout)
    wait_idle(page, timeout)
    before = _shown_ids(page)
    page.get_by_role("button", name="Spara").click()
    saving = time.perf_counter()
    # The save's answer: "Sparat (nr N)", or first the duplicate question (a report of the same category near
    # an open one), answered once with "Det är ett nytt".
    new = page.get_by_role("button", name="Det är ett nytt")
    deadline = time.monotonic() + timeout / 1000
    while not (_shown_ids(page) - before) and not new.count():
        alerts = page.get_by_test_id("stAlert").all_inner_texts()
        if any("outside" in a or "utanför" in a for a in alerts):
            msg = f"the report was refused: {alerts}"
            raise RuntimeError(msg)
        if time.monotonic() > deadline:
            msg = f"Spara got no answer (no 'Sparat (nr N)', no duplicate question); shown: {alerts}"
            raise TimeoutError(msg)
        page.wait_for_timeout(250)
    if not (_shown_ids(page) - before):
        wait_idle(page, timeout)
        _single(new, timeout).click(timeout=timeout)
    found = saved_id(page, timeout, before)
    if timings is not None:
        timings["save_s"] = time.perf_counter() - saving
    wait_idle(page, timeout)
    return found
