"""Residents' reports without an account (issue 16): receipt and status link, moderation before anything is
public, scrubbing and photo re-encoding, abuse limits counted in the database (per client, per /24 and /48
range, across processes), positions coarsened for the public, nothing from restricted records."""

from __future__ import annotations

import io
import multiprocessing
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image
from public_support import report_row

from trygghetskarta import geography, helpinfo, privacy, public, public_texts, workflow
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, ValidationError
from trygghetskarta.store import Store, open_store

PLANNER = Viewer("planerare1", "planerare")
BRO = (17.6405, 59.5252)


def _send(store: Store, addr: str = "192.0.2.10", **kw: object) -> public.Receipt:
    values: dict = {"category": "klotter", "lon": BRO[0], "lat": BRO[1], "text": "Klotter på tunneln",
                    "client_addr": addr}
    values.update(kw)
    return public.submit_public_report(store, **values)


def test_report_gives_receipt_and_status_and_stays_off_every_public_view_until_approved(store: Store) -> None:
    receipt = _send(store, text="Ring mig på 070-123 45 67 eller anna@example.se, pnr 19121212-1212",
                    email="anna@example.se", lang="ar", address="Gångtunneln vid Bro station")
    assert receipt.created and public.normalise_code(receipt.receipt_code) == receipt.receipt_code
    assert receipt.status_url.endswith(f"/status?t={receipt.status_token}&lang=ar")
    view = public.status_view(store, code=receipt.receipt_code.lower().replace("-", " "))
    assert (view["status"], view["moderation"], view["lang"]) == ("ny", "vantar", "ar")
    assert "070" not in view["text"] and "anna@example.se" not in view["text"] and "19121212" not in view["text"]
    assert public.status_view(store, token=receipt.status_token)["finding_id"] == receipt.finding_id
    with pytest.raises(NotFoundError):
        public.status_view(store, code="TK-AAAA-AAAA")
    # invisible to the public, to residents logged in as deltagare, and to partners until approved
    assert store.public_points().empty
    assert store.read("finding", Viewer("boende", "deltagare")).empty
    assert store.read("finding", Viewer("p", "polis", "polis")).empty
    assert receipt.finding_id in store.public_reports(PLANNER, moderation=["vantar"])["finding_id"].tolist()
    with pytest.raises(PermissionDeniedError):
        public.moderate(store, receipt.finding_id, True, Viewer("p", "polis", "polis"))
    with pytest.raises(PermissionDeniedError):
        store.public_reports(Viewer("boende", "deltagare"))
    public.moderate(store, receipt.finding_id, True, PLANNER)
    shown = store.public_points()
    assert shown["id"].tolist() == [receipt.finding_id] and shown["status"].tolist() == ["bedomd"]
    with pytest.raises(ValidationError, match="already moderated"):
        public.moderate(store, receipt.finding_id, False, PLANNER, "spam")


def test_rejected_reports_stay_private_and_say_why(store: Store) -> None:
    receipt = _send(store)
    with pytest.raises(ValidationError, match="say why"):
        public.moderate(store, receipt.finding_id, False, PLANNER, " ")
    public.moderate(store, receipt.finding_id, False, PLANNER, "Gäller privat mark")
    view = public.status_view(store, token=receipt.status_token)
    assert (view["moderation"], view["status"], view["reason"]) == ("avvisad", "ej_atgardas", "Gäller privat mark")
    assert store.public_points().empty


def test_public_map_shows_only_publik_records_with_coarse_positions(store: Store) -> None:
    rows = [{"category": "klotter", "reported_at": "2026-11-20T20:00:00+01:00", "audience": audience,
             "geometry": shapely.Point(BRO[0] + 0.0003 * i, BRO[1])}
            for i, audience in enumerate(["publik", "partner", "begransad"])]
    ids = store.insert("finding", gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")).ids
    workflow.change_status(store, ids[0], "dubblett", PLANNER, duplicate_of=ids[1])
    kept = store.insert("finding", gpd.GeoDataFrame([{**rows[0], "geometry": shapely.Point(*BRO)}],
                                                    geometry="geometry", crs="EPSG:4326")).ids[0]
    frame = public.public_map_frame(store, "so")
    assert frame["id"].tolist() == [kept]  # not partner, not begransad, not a duplicate
    assert frame["category_label"].tolist() == ["Qoraal darbiyada lagu qoray"]
    assert frame["status_label"].tolist() == ["Cusub (Ny)"]
    x, y = geography.metric_from_lonlat(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    size = 100.0
    assert np.allclose(np.mod(x, size), size / 2, atol=0.05) and np.allclose(np.mod(y, size), size / 2, atol=0.05)


def test_coarsening_moves_every_point_of_a_square_to_its_centre() -> None:
    x0, y0 = geography.metric_from_lonlat(np.array([BRO[0]]), np.array([BRO[1]]))
    base_x, base_y = np.floor(x0 / 100) * 100, np.floor(y0 / 100) * 100
    xs = base_x + np.array([1.0, 50.0, 99.0, 101.0])
    ys = base_y + np.array([2.0, 60.0, 98.0, 10.0])
    lon, lat = geography.lonlat_from_metric(xs, ys)
    out_lon, out_lat = privacy.public_positions(lon, lat, 100)
    assert len({(a, b) for a, b in zip(out_lon[:3], out_lat[:3], strict=True)}) == 1
    assert (out_lon[3], out_lat[3]) != (out_lon[0], out_lat[0])
    cx, cy = geography.metric_from_lonlat(out_lon[:1], out_lat[:1])
    assert abs(cx[0] - (base_x[0] + 50)) < 0.1 and abs(cy[0] - (base_y[0] + 50)) < 0.1
    with pytest.raises(ValidationError, match="at least 10 m"):
        privacy.public_positions(lon, lat, 1)


def test_honeypot_caps_email_and_place_are_refused_with_a_reason_in_each_language(
        sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(public.PublicRefusedError) as caught:
        _send(sqlite_store, honeypot="http://spam.example")
    assert caught.value.key == "refused"
    with pytest.raises(public.PublicRefusedError) as caught:
        _send(sqlite_store, text="x" * 2001)
    assert caught.value.message("sv") == "Texten är för lång (högst 2000 tecken)."
    with pytest.raises(public.PublicRefusedError) as caught:
        _send(sqlite_store, email="inte en adress")
    assert caught.value.message("en") == "The e-mail address does not look right."
    with pytest.raises(public.PublicRefusedError) as caught:
        _send(sqlite_store, lon=18.07, lat=59.33)  # Stockholm city: outside Upplands-Bro
    assert caught.value.message("ar") == "المكان خارج البلدية."
    with pytest.raises(public.PublicRefusedError) as caught:
        _send(sqlite_store, category="nope")
    assert caught.value.key == "bad_category"
    monkeypatch.setenv("TRYGGHETSKARTA_PUBLIC_PHOTO_MAX_MB", "0.01")
    with pytest.raises(public.PublicRefusedError) as caught:
        _send(sqlite_store, photo=b"\xff" * 20_000)
    assert (caught.value.key, caught.value.status) == ("bad_photo", 413)
    assert sqlite_store.count("finding") == 0


def test_photo_is_re_encoded_without_metadata(sqlite_store: Store) -> None:
    image = Image.new("RGB", (640, 480), (90, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "Owner's phone"  # Software
    raw = io.BytesIO()
    image.save(raw, format="JPEG", exif=exif.tobytes())
    assert b"SecretCam" in raw.getvalue()
    receipt = _send(sqlite_store, photo=raw.getvalue())
    (path,) = sqlite_store.photos([receipt.finding_id])["path"].tolist()
    stored = Path(path).read_bytes()
    assert b"SecretCam" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as again:
        assert not again.getexif()


def test_retry_with_the_same_client_id_stores_once(sqlite_store: Store) -> None:
    first = _send(sqlite_store, client_id="c0ffee00-0000-4000-8000-000000000001")
    again = _send(sqlite_store, client_id="c0ffee00-0000-4000-8000-000000000001")
    assert (again.finding_id, again.receipt_code, again.created) == (first.finding_id, first.receipt_code, False)
    assert sqlite_store.count("finding") == 1


def test_rate_limits_per_client_and_per_range(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_PUBLIC_RATE_CLIENT_HOUR", "3")
    monkeypatch.setenv("TRYGGHETSKARTA_PUBLIC_RATE_RANGE_HOUR", "5")
    outcomes = []
    for _ in range(6):
        try:
            _send(store, "198.51.100.7")
            outcomes.append("ok")
        except public.PublicRefusedError as exc:
            outcomes.append(f"{exc.status} {exc.key}")
    assert outcomes == ["ok"] * 3 + ["429 rate_limited"] * 3
    # a neighbour in the same /24 still gets the range's rest, then the range is full for everyone in it
    neighbour = []
    for addr in ("198.51.100.8", "198.51.100.8", "198.51.100.9"):
        try:
            _send(store, addr)
            neighbour.append("ok")
        except public.PublicRefusedError as exc:
            neighbour.append(exc.key)
    assert neighbour == ["ok", "ok", "rate_limited"]
    _send(store, "198.51.101.7")  # another /24 is not affected
    assert store.count("finding") == 6
    assert public.address_range("2001:db8:aa:bb::1") == "2001:db8:aa::/48"
    assert public.address_range("::ffff:198.51.100.7") == "198.51.100.0/24"


def test_client_address_trusts_forwarded_for_only_from_a_trusted_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    assert public.client_address("203.0.113.5", "10.9.9.9") == "203.0.113.5"  # a client cannot pick its address
    monkeypatch.setenv("TRYGGHETSKARTA_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.2")
    assert public.client_address("127.0.0.1", "198.51.100.1, 10.0.0.2") == "198.51.100.1"
    assert public.client_address("127.0.0.1", "spoofed, 198.51.100.1") == "198.51.100.1"
    assert public.client_address("not an ip", None) == "unknown"


def _hits(url: str, n: int, queue: multiprocessing.Queue) -> None:
    s = open_store(url)
    allowed = sum(s.hit_rate([("client:203.0.113.9", 25)], 3600) is None for _ in range(n))
    s.dispose()
    queue.put(allowed)


def test_rate_limit_holds_across_processes(store: Store) -> None:
    ctx = multiprocessing.get_context("fork")  # separate processes, each with its own engine
    queue: multiprocessing.Queue = ctx.Queue()
    workers = [ctx.Process(target=_hits, args=(store.url, 20, queue)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert sum(queue.get(timeout=10) for _ in workers) == 25  # 80 tries, exactly the limit let through


def test_texts_exist_in_every_public_language() -> None:
    from babel.messages.pofile import read_po

    from trygghetskarta import i18n

    with (i18n.LOCALE_DIR / "sv" / "LC_MESSAGES" / "public.po").open("rb") as fh:
        ids = [m.id for m in read_po(fh) if m.id]
    assert len(ids) > 50
    for key in ids:
        assert all(i18n.has(str(key), lang, domain="public") for lang in public_texts.PUBLIC_LANGUAGES), key
    assert public_texts.text("report_title", "so") == "Ka warbixi meel"
    for code in ("ar", "so"):
        assert public_texts.category_label("belysning_trasig", code) != public_texts.category_label(
            "belysning_trasig", "sv")
    assert public_texts.status_with_swedish("atgardad", "ar") == "تم الإصلاح (Åtgärdad)"
    assert public_texts.status_with_swedish("atgardad", "sv") == "Åtgärdad"


def test_help_content_ships_the_national_numbers_and_is_edited_per_kommun(sqlite_store: Store) -> None:
    shipped = helpinfo.load(sqlite_store)
    phones = [e.get("phone") for e in shipped["call_now"]]
    assert phones == ["112", "114 14", "020-50 50 50", "116 006"]
    names = [helpinfo.localised(e["name"], "sv") for e in shipped["support"]]
    assert any("Kvinnojouren Anna" in n for n in names) and any("Trygghetscenter" in n for n in names)
    edited = helpinfo.default()
    edited["support"][2]["address"] = "Bro centrum"
    edited["support"][2]["hours"] = "mån–fre 9–16"
    helpinfo.save(sqlite_store, edited, None)
    assert helpinfo.load(sqlite_store)["support"][2]["hours"] == "mån–fre 9–16"
    with pytest.raises(ValidationError, match="support entry 1: unknown field 'fax'"):
        helpinfo.save(sqlite_store, {"call_now": [], "support": [{"name": "x", "fax": "1"}]}, None)
    with pytest.raises(ValidationError, match="not valid JSON: line 1"):
        helpinfo.save(sqlite_store, "{", None)
    with pytest.raises(PermissionDeniedError):
        helpinfo.save(sqlite_store, edited, PLANNER)


def test_qr_code_opens_the_report_page_at_the_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_PUBLIC_BASE_URL", "https://trygghet.upplands-bro.test/")
    url = public.report_url(17.6405, 59.5252, lang="so", place="Lyktstolpe 12")
    assert url == ("https://trygghet.upplands-bro.test/anmal?lon=17.640500&lat=59.525200&plats=Lyktstolpe+12"
                   "&lang=so")
    png = public.qr_png(url)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size[0] > 100
    assert public.qr_svg(url).startswith("<svg")


def test_cli_writes_qr_codes_and_lists_the_outbox(sqlite_store: Store, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from trygghetskarta.cli import main

    route = shapely.LineString([(BRO[0] - 0.001, BRO[1]), (BRO[0] + 0.001, BRO[1])])
    walk = sqlite_store.insert("walk", gpd.GeoDataFrame([{"title": "Kvällsvandring Bro", "audience": "publik",
                                                          "started_at": "2026-11-20T19:00:00+01:00"}],
                                                        geometry=[route], crs="EPSG:4326")).ids[0]
    out = tmp_path / "qr.svg"
    assert main(["--db", sqlite_store.url, "qr", "--walk", str(walk), "--lang", "ar", "--out", str(out)]) == 0
    assert "anmal?lon=17.640500&lat=59.525200&plats=Kv%C3%A4llsvandring+Bro&lang=ar" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("<svg")
    assert main(["--db", sqlite_store.url, "qr", "--walk", "999", "--out", str(out)]) == 1
    assert main(["--db", sqlite_store.url, "qr", "--lon", "17.64", "--lat", "59.52", "--out",
                 str(tmp_path / "qr.pdf")]) == 1
    receipt = _send(sqlite_store, email="x@example.se")
    public.moderate(sqlite_store, receipt.finding_id, True, PLANNER)
    capsys.readouterr()
    assert main(["--db", sqlite_store.url, "outbox", "send"]) == 0
    assert capsys.readouterr().out.strip() == ("queued 1 new messages; no SMTP server configured "
                                               "(TRYGGHETSKARTA_SMTP_HOST), none sent")
    assert main(["--db", sqlite_store.url, "outbox", "list"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "queued 1"


def test_gallra_forgets_residents_email_after_their_report_is_closed(store: Store) -> None:
    import datetime as dt

    from trygghetskarta import outbox

    closed = _send(store, email="a@example.se").finding_id
    open_ = _send(store, email="b@example.se", addr="192.0.2.77").finding_id
    public.moderate(store, closed, False, PLANNER, "Dubblett av en annan anmälan")
    outbox.collect(store)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert store.purge_public_contacts(later, dry_run=True) == (1, 0)  # the queued message is kept
    store.message_failed(int(store.outbox_messages().iloc[0]["id"]), "550 no such mailbox", retry_at=None)
    assert store.purge_public_contacts(later) == (1, 1)
    assert report_row(store, finding_id=closed)["email"] is None
    assert report_row(store, finding_id=open_)["email"] == "b@example.se"
    assert store.outbox_counts() == {}


def test_migration_0004_upgrades_in_place_and_back(store: Store) -> None:
    import sqlalchemy as sa
    from alembic import command

    receipt = _send(store)
    cfg = store._alembic_config()
    with store.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
        conn.commit()
        assert "public_reports" not in sa.inspect(conn).get_table_names()
    assert store.revision() == "0003" and store.count("finding") == 1  # the finding itself stays
    assert store.init("0004") == "0004"
    with store.read_conn() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"public_reports", "outbox", "api_keys", "rate_counters"} <= tables
    assert store.public_report(finding_id=receipt.finding_id) is None  # the public metadata went with 0003
