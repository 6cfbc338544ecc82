"""The public face's service (issue 16): residents report without an account, follow their report by a
receipt code or a status link, and see a public map of what was done.

Every report from the public is hostile input until shown otherwise: a hidden honeypot field, size caps,
rate limits per client address and per address range (IPv4 /24, IPv6 /48) counted in the database (so they
hold across app processes), text scrubbed of personnummer, phone numbers and e-mail, photos re-encoded
without metadata. A report is stored as a finding with status ``ny`` and audience ``begransad`` and is shown
to the public only once a planner approves it (``Store.moderate``). The Streamlit pages, the HTTP endpoint of
``serve-api`` and the Open311 POST all go through ``submit_public_report``.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import geopandas as gpd
import pandas as pd
import shapely

from trygghetskarta import access, capture, privacy, public_texts, schema, settings, workflow
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, StoreError, ValidationError
from trygghetskarta.public_texts import lang_or_default
from trygghetskarta.scrub import scrub_text
from trygghetskarta.store.actions import actor_name
from trygghetskarta.timeutil import now_utc

if TYPE_CHECKING:
    from trygghetskarta.access import Viewer
    from trygghetskarta.store import Store

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from a phone
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")
_CODE = re.compile(r"^TK-[A-Z0-9]{4}-[A-Z0-9]{4}$")
EXTERNAL_PREFIX = "publik:"
RATE_WINDOW_S = 3600
CHANNELS = ("webb", "open311")


class PublicRefusedError(ValidationError):
    """A resident's report that is not taken, with the public text key that says why (``public_texts``), so
    each channel tells the sender in their language; ``status`` is the HTTP status the API answers with."""

    def __init__(self, key: str, status: int = 400, **values: object) -> None:
        super().__init__(public_texts.text(key, "en", **values))
        self.key, self.status, self.values = key, status, values

    def message(self, lang: str) -> str:
        return public_texts.text(self.key, lang, **self.values)


@dataclass(frozen=True)
class Receipt:
    """What a resident gets back: the receipt code, the status link and whether this call stored the report
    (False for a retry with the same client id)."""

    finding_id: int
    receipt_code: str
    status_token: str
    status_url: str
    created: bool


# --- who is sending ---------------------------------------------------------------------------------


def _proxies() -> set[str]:
    return {p.strip() for p in str(settings.get("trusted_proxies")).split(",") if p.strip()}


def client_address(peer: str | None, forwarded_for: str | None = None) -> str:
    """The client's address: the connecting ``peer``, unless it is a trusted proxy (setting
    ``trusted_proxies``), then the right-most address in ``X-Forwarded-For`` that is not a trusted proxy.
    Anything that is not an IP address becomes ``unknown`` (all such clients share one bucket)."""
    candidate = (peer or "").strip()
    trusted = _proxies()
    if forwarded_for and candidate in trusted:
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            if hop not in trusted:
                candidate = hop
                break
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return "unknown"


def address_range(address: str) -> str:
    """The range a client address belongs to for the range limit: IPv4 /24, IPv6 /48."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def check_rate(store: Store, address: str, *, api_key_name: str | None = None) -> None:
    """Count one report from ``address`` (and the key) and refuse it when over a limit (HTTP 429)."""
    buckets: list[tuple[str, int]] = []
    if api_key_name is not None:
        buckets.append((f"key:{api_key_name}", int(settings.get("api_rate_key_hour"))))
    else:
        buckets += [(f"client:{address}", int(settings.get("public_rate_client_hour"))),
                    (f"range:{address_range(address)}", int(settings.get("public_rate_range_hour")))]
    over = store.hit_rate(buckets, RATE_WINDOW_S)
    if over is not None:
        raise PublicRefusedError("rate_limited", status=429)


# --- links and codes --------------------------------------------------------------------------------


def base_url() -> str:
    return str(settings.get("public_base_url")).rstrip("/")


def status_url(status_token: str, lang: str = "sv") -> str:
    return f"{base_url()}/status?{urlencode({'t': status_token, 'lang': lang_or_default(lang)})}"


def unsubscribe_url(token: str, lang: str = "sv") -> str:
    return f"{base_url()}/status?{urlencode({'avregistrera': token, 'lang': lang_or_default(lang)})}"


def report_url(lon: float | None = None, lat: float | None = None, *, lang: str | None = None,
               place: str | None = None) -> str:
    """The report page, opened at a place (a QR code on a lamppost, a walk's poster)."""
    query: dict[str, str] = {}
    if lon is not None and lat is not None:
        query.update(lon=f"{float(lon):.6f}", lat=f"{float(lat):.6f}")
    if place:
        query["plats"] = str(place)[:100]
    if lang:
        query["lang"] = lang_or_default(lang)
    return f"{base_url()}/anmal" + (f"?{urlencode(query)}" if query else "")


def walk_place(store: Store, walk_id: int) -> tuple[float, float, str]:
    """Where a walk's QR code opens the report page: the middle of its route, else its area's representative
    point; with the walk's title as the place name. ``NotFoundError`` when neither is known."""
    walks = store.points("walk", None, ids=[int(walk_id)], columns=("title", "area_id"))
    if walks.empty:
        msg = f"no walk with id {walk_id}"
        raise NotFoundError(msg)
    row = walks.iloc[0]
    lon, lat = row.get("lon"), row.get("lat")
    if pd.isna(lon) or pd.isna(lat):
        areas = store.areas()
        hit = areas[areas["id"] == row.get("area_id")] if not pd.isna(row.get("area_id")) else areas.iloc[0:0]
        if hit.empty:
            msg = f"walk {walk_id} has neither a route nor an area to place its QR code; give --lon and --lat"
            raise NotFoundError(msg)
        lon, lat = float(hit["lon"].iloc[0]), float(hit["lat"].iloc[0])
    return float(lon), float(lat), str(row["title"])


def qr_svg(url: str, scale: int = 6) -> str:
    """An SVG QR code (error correction M) for ``url``, drawn locally (``segno``)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=scale, border=2, xmldecl=False)
    return out.getvalue().decode("utf-8")


def qr_png(url: str, scale: int = 8) -> bytes:
    import io

    import segno

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"TK-{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str | None:
    """A receipt code as typed (any case, spaces, with or without ``TK-``), or None if it cannot be one."""
    cleaned = re.sub(r"[\s-]", "", str(code or "")).upper()
    cleaned = cleaned.removeprefix("TK")
    if len(cleaned) != 8:
        return None
    formatted = f"TK-{cleaned[:4]}-{cleaned[4:]}"
    return formatted if _CODE.match(formatted) else None


# --- submitting ---------------------------------------------------------------------------------------


def _check_email(email: str | None) -> str | None:
    value = (email or "").strip()
    if not value:
        return None
    if len(value) > 254 or not _EMAIL.match(value):
        raise PublicRefusedError("bad_email")
    return value


def _existing(store: Store, external_id: str) -> Receipt | None:
    hit = store.points("finding", None, columns=("external_id",), external_ids=[external_id])["id"]
    if not len(hit):
        return None
    row = store.public_report(finding_id=int(hit.iloc[0]))
    if row is None:  # pragma: no cover - a public external id always has its row
        return None
    return Receipt(int(row["finding_id"]), str(row["receipt_code"]), str(row["status_token"]),
                   status_url(str(row["status_token"]), str(row["lang"])), created=False)


def _checked_submission(category: str, text: str, address: str, email: str | None, photo: bytes | None,
                        lon: Any, lat: Any) -> tuple[str | None, tuple[float, float]]:
    """The report's fields checked against the caps (``PublicRefusedError`` with the reason): the e-mail as
    stored and the position in the kommun."""
    if category not in schema.CATEGORY:
        raise PublicRefusedError("bad_category")
    limit = int(settings.get("public_text_max_chars"))
    if not isinstance(text, str) or len(text) > limit or len(address or "") > 300:
        raise PublicRefusedError("too_long", n=limit)
    email = _check_email(email)
    if photo is not None and len(photo) > float(settings.get("public_photo_max_mb")) * 1024 * 1024:
        raise PublicRefusedError("bad_photo", status=413, reason=f"> {settings.get('public_photo_max_mb'):g} MB")
    try:
        return email, capture._check_position(lon, lat)
    except ValidationError:
        raise PublicRefusedError("bad_place") from None


def _stored_photo(photo: bytes | None) -> Any:
    """The photo verified, re-encoded without metadata and stored (``photos``), or None."""
    if photo is None:
        return None
    from trygghetskarta import photos

    try:
        return photos.photo_from_bytes(bytes(photo), "foto")
    except ValidationError as exc:
        raise PublicRefusedError("bad_photo", reason=str(exc)) from None


def _write_report(store: Store, batch: Any, stored: Any, *, channel: str, lang: str, email: str | None,
                  address: str, api_client: str | None) -> Receipt | None:
    """One transaction: the finding, its resident's report with a new receipt code and tokens, the photo and
    the audit. None when the same client id was stored a moment ago."""
    code, token = _new_code(), secrets.token_urlsafe(24)
    unsubscribe = secrets.token_urlsafe(24) if email else None
    with store.write() as conn:
        res = store.insert("finding", batch, actor=None, conn=conn)
        if not res.ids:
            return None
        finding_id = int(res.ids[0])
        store.add_public_report(conn, finding_id, receipt_code=code, status_token=token, channel=channel,
                                lang=lang, email=email, unsubscribe_token=unsubscribe,
                                address=address or "", api_client=api_client)
        if stored is not None:
            store.add_photo(finding_id, str(stored.path), str(stored.thumb_path), stored.sha256, stored.width,
                            stored.height, stored.taken_at, conn=conn)
        store.audit("public_report", None, "finding", finding_id,
                    {"channel": channel, "api_client": api_client, "photo": stored is not None,
                     "email": email is not None}, conn=conn, unauthenticated=True)
    return Receipt(finding_id, code, token, status_url(token, lang), created=True)


def submit_public_report(store: Store, *, category: str, lon: Any, lat: Any, text: str = "", address: str = "",
                         email: str | None = None, lang: str = "sv", photo: bytes | None = None,
                         client_addr: str = "unknown", honeypot: str = "", client_id: str | None = None,
                         channel: str = "webb", api_client: str | None = None) -> Receipt:
    """Store one resident's report (status ``ny``, audience ``begransad``, moderation ``vantar``) and return
    its receipt. Raises ``PublicRefusedError`` (with the reason in every public language) for a filled honeypot,
    text or photo over the caps, a bad e-mail, a place outside the municipality or too many reports from the
    client or its range. With ``client_id`` a retry returns the first receipt and stores nothing."""
    lang = lang_or_default(lang)
    if channel not in CHANNELS:
        msg = f"unknown channel {channel!r}"
        raise ValidationError(msg)
    if honeypot:
        raise PublicRefusedError("refused")
    external_id = None
    if client_id is not None:
        external_id = EXTERNAL_PREFIX + capture.external_id_from_client_id(client_id).removeprefix(
            capture.EXTERNAL_PREFIX)
        again = _existing(store, external_id)
        if again is not None:
            return again
    email, (x, y) = _checked_submission(category, text, address, email, photo, lon, lat)
    check_rate(store, client_addr, api_key_name=api_client if channel == "open311" else None)
    stored = _stored_photo(photo)
    row = {"category": category, "severity": 2, "description": text.strip(), "status": "ny",
           "reported_at": capture._now(), "reported_by": None, "audience": "begransad",
           "source": "publik" if channel == "webb" else "open311", "external_id": external_id,
           "geometry": shapely.Point(x, y)}
    batch = store.prepare("finding", gpd.GeoDataFrame([row], geometry="geometry", crs=schema.CRS_STORE))
    for _ in range(5):  # a receipt code that is taken already (one in 10^12) is drawn again
        try:
            receipt = _write_report(store, batch, stored, channel=channel, lang=lang, email=email,
                                    address=address, api_client=api_client)
        except StoreError:
            if external_id is not None and (again := _existing(store, external_id)) is not None:
                return again
            continue
        if receipt is None:
            break  # the same client id was stored a moment ago by a parallel retry
        return receipt
    if external_id is not None and (again := _existing(store, external_id)) is not None:
        return again
    msg = "the report could not be stored; try again"
    raise StoreError(msg)


# --- status and the public map ---------------------------------------------------------------------------


def status_view(store: Store, *, code: str | None = None, token: str | None = None) -> dict[str, Any]:
    """What the resident's status page shows (raises ``NotFoundError`` for an unknown code or token): the
    moderation state, the finding's status, its history (status and, for 'will not be fixed', the reason),
    the category and the resident's own (scrubbed) text."""
    row = None
    if token:
        row = store.public_report(status_token=token)
    elif code and (normalised := normalise_code(code)):
        row = store.public_report(receipt_code=normalised)
    if row is None:
        msg = "no report with that code"
        raise NotFoundError(msg)
    history = store.public_report_history(int(row["finding_id"]))
    return {"finding_id": int(row["finding_id"]), "receipt_code": row["receipt_code"], "category": row["category"],
            "text": row["description"] or "", "address": row["address"] or "", "status": row["status"],
            "moderation": row["moderation"], "reason": row["moderation_reason"] or "",
            "reported_at": row["created_at"], "history": history, "lang": row["lang"]}


def public_map_frame(store: Store, lang: str = "sv", limit: int = 5000) -> pd.DataFrame:
    """The public map's points: approved residents' reports and ``publik`` findings, positions coarsened
    (``privacy.public_positions``), with category and status labels in ``lang``. Nothing else of a record."""
    frame = store.public_points(limit=limit)
    out = pd.DataFrame({"id": frame["id"], "category": frame["category"], "status": frame["status"],
                        "reported_at": frame["reported_at"]})
    if frame.empty:
        return out.assign(lon=pd.Series(dtype=float), lat=pd.Series(dtype=float), category_label="",
                          status_label="")
    lon, lat = privacy.public_positions(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    out["lon"], out["lat"] = lon, lat
    out["category_label"] = [public_texts.category_label(c, lang) for c in out["category"]]
    out["status_label"] = [public_texts.status_with_swedish(s, lang) for s in out["status"]]
    return out


def pending_count(store: Store) -> int:
    return len(store.public_reports(None, moderation=["vantar"]))


# --- moderation ------------------------------------------------------------------------------------------

def moderate(store: Store, finding_id: int, approve: bool, actor: Viewer | None = None, reason: str = "") -> None:
    """Approve a resident's report (it becomes ``publik`` and ``bedomd``, so it shows on the public map) or
    reject it (``ej_atgardas`` with the reason; it stays off every public view). Planners and
    administrators only; one transaction with the status event and the audit entry."""
    if not access.is_planner(actor):
        msg = f"role {actor.role if actor else 'admin'} may not moderate residents' reports"
        raise PermissionDeniedError(msg)
    if not approve and not str(reason or "").strip():
        msg = "say why the report is rejected (the reporter is told)"
        raise ValidationError(msg)
    with store.write() as conn:
        state, status = store.moderation_state(conn, finding_id)
        if state != "vantar":
            msg = f"report {finding_id} is already moderated ({state})"
            raise ValidationError(msg)
        if approve:
            store.update_findings(conn, [int(finding_id)], {"audience": "publik"})
            if status == "ny":
                workflow.transition_in(store, conn, int(finding_id), "bedomd", actor, "godkänd för allmänheten")
        elif status not in ("ej_atgardas", "dubblett"):
            workflow.transition_in(store, conn, int(finding_id), "ej_atgardas", actor, reason, force=True)
        store.set_moderation(conn, finding_id, {
            "moderation": "godkand" if approve else "avvisad", "moderated_by": actor_name(actor),
            "moderated_at": now_utc(), "moderation_reason": None if approve else scrub_text(reason).text})
        store.audit("moderate", actor, "finding", int(finding_id), {"approve": bool(approve)}, conn=conn)
