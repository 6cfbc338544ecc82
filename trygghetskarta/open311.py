"""Open311 GeoReport v2 (issue 16): the mapping between the product and the specification
(http://wiki.open311.org/GeoReport_v2), without any HTTP; ``trygghetskarta.api`` serves it.

- services: the finding categories (``service_code`` = the category key), all ``realtime``, no extra
  attributes (``metadata`` false).
- requests: what the public may see (``Store.public_points``: audience ``publik``, residents' reports only
  once approved), positions coarsened as on the public map (``privacy.public_positions``); status ``open``
  for the open lifecycle statuses, ``closed`` for the rest; ``status_notes`` the Swedish status (and the reason
  for 'will not be fixed').
- POST: a resident's report through ``public.submit_public_report`` (moderated like the web form), answered
  with a ``token``; ``tokens/{token}`` gives the ``service_request_id`` once a planner has approved it.
- API keys: ``tk_<prefix>_<secret>``, kept only as argon2 hashes; shown once when made.
- Errors: the specification's list ``[{"code": …, "description": …}]`` with the HTTP status as the code.
"""

from __future__ import annotations

import datetime as dt
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from trygghetskarta import privacy, public, schema
from trygghetskarta.errors import ValidationError

if TYPE_CHECKING:
    from trygghetskarta.access import Viewer
    from trygghetskarta.store import Store

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-04T00:00:00Z"
MAX_RESULTS = 1000
DEFAULT_DAYS = 90
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


class Open311Error(Exception):
    """An error the API answers with: HTTP ``status`` and the specification's error list."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description

    def errors(self) -> list[dict[str, Any]]:
        return [{"code": self.status, "description": self.description}]


# --- API keys -------------------------------------------------------------------------------------------


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


def add_key(store: Store, name: str, actor: Viewer | None = None) -> str:
    """Make an API key for client ``name``; returns the key (shown this once; only its hash is kept)."""
    name = str(name or "").strip()
    if not name or len(name) > 100 or any(c in name for c in "\r\n\t"):
        msg = f"name the API client (1-100 characters on one line), got {name!r}"
        raise ValidationError(msg)
    prefix = secrets.token_hex(4)
    key = f"tk_{prefix}_{secrets.token_urlsafe(32)}"
    store.add_api_key(name, prefix, _hasher().hash(key), actor)
    return key


def verify_key(store: Store, key: str | None) -> str:
    """The client name of a valid, unrevoked key; ``Open311Error`` 403 otherwise (no key, wrong key)."""
    if not key:
        raise Open311Error(403, "api_key is required to POST a service request")
    parts = str(key).split("_", 2)
    row = store.api_key_by_prefix(parts[1]) if len(parts) == 3 and parts[0] == "tk" else None
    if row is None:
        raise Open311Error(403, "api_key is not valid")
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(row["key_hash"], str(key))
    except (VerificationError, InvalidHashError):
        raise Open311Error(403, "api_key is not valid") from None
    store.touch_api_key(int(row["id"]))
    return str(row["name"])


# --- documents ------------------------------------------------------------------------------------------


def discovery(base_url: str) -> dict[str, Any]:
    return {"changeset": CHANGESET, "contact": f"Trygghetskarta, {_kommun()}", "key_service":
            "API keys from the municipality's administrator (trygghetskarta api-keys add NAME)",
            "endpoints": [{"specification": SPECIFICATION, "url": f"{base_url.rstrip('/')}/open311/v2",
                           "changeset": CHANGESET, "type": "production", "formats": ["application/json", "text/xml"]}]}


def _kommun() -> str:
    from trygghetskarta import geography

    return geography.municipality_name()


def services() -> list[dict[str, Any]]:
    return [{"service_code": c.key, "service_name": c.sv, "description": c.en, "metadata": False,
             "type": "realtime", "keywords": c.key.replace("_", ","),
             "group": "Trygg plats" if c.positive else "Otrygg plats"} for c in schema.CATEGORIES]


def service_definition(code: str) -> dict[str, Any]:
    if code not in schema.CATEGORY:
        raise Open311Error(404, f"service_code {code!r} not found")
    return {"service_code": code, "attributes": []}


def _w3(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00Z"
    return str(value)


def _parse_w3(value: str | None, what: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{what} must be a w3 date and time (e.g. 2026-12-01T00:00:00Z)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def status_of(status: str) -> str:
    return "open" if status in schema.OPEN_STATUSES else "closed"


def _requests_from_frame(store: Store, frame: pd.DataFrame) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    lon, lat = privacy.public_positions(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    reasons = store.public_reasons([int(i) for i in frame.loc[frame["status"] == "ej_atgardas", "id"]])
    described = store.points("finding", None, ids=[int(i) for i in frame["id"]], columns=("description",))
    text = dict(zip(described["id"].astype(int), described["description"].fillna(""), strict=True))
    out = []
    for i, row in enumerate(frame.itertuples()):
        notes = schema.label("status", row.status)
        if int(row.id) in reasons and reasons[int(row.id)]:
            notes += f": {reasons[int(row.id)]}"
        responsible = None if row.responsible is None or pd.isna(row.responsible) else str(row.responsible)
        out.append({
            "service_request_id": str(int(row.id)), "status": status_of(str(row.status)), "status_notes": notes,
            "service_name": schema.label("category", row.category), "service_code": row.category,
            "description": text.get(int(row.id), ""),
            "agency_responsible": schema.label("party", responsible) if responsible else "",
            "service_notice": "", "requested_datetime": _w3(row.reported_at), "updated_datetime": _w3(row.updated_at),
            "expected_datetime": _w3(row.due_date), "address": "", "address_id": "", "zipcode": "",
            "lat": float(lat[i]), "long": float(lon[i]), "media_url": ""})
    return out


def list_requests(store: Store, params: Mapping[str, str]) -> list[dict[str, Any]]:
    """GET requests with the standard filters: ``service_request_id`` (comma-separated; the others are then
    ignored), ``service_code``, ``start_date``, ``end_date`` (default: the last 90 days) and ``status``
    (open, closed); at most 1000, newest first."""
    ids_param = params.get("service_request_id")
    if ids_param:
        try:
            ids = [int(i) for i in ids_param.split(",") if i.strip()]
        except ValueError:
            raise Open311Error(400, "service_request_id must be comma-separated numbers") from None
        return _requests_from_frame(store, store.public_points(ids=ids[:MAX_RESULTS]))
    codes = [c for c in (params.get("service_code") or "").split(",") if c]
    unknown = [c for c in codes if c not in schema.CATEGORY]
    if unknown:
        raise Open311Error(400, f"service_code {unknown[0]!r} not found")
    statuses: list[str] | None = None
    wanted = [s.strip() for s in (params.get("status") or "").split(",") if s.strip()]
    if wanted:
        if any(s not in ("open", "closed") for s in wanted):
            raise Open311Error(400, "status must be open, closed or both (comma-separated)")
        statuses = [s for s in schema.STATUS if status_of(s) in wanted]
    end = _parse_w3(params.get("end_date"), "end_date")
    start = _parse_w3(params.get("start_date"), "start_date")
    if start is None:
        start = (end or dt.datetime.now(dt.UTC)) - dt.timedelta(days=DEFAULT_DAYS)
    if end is not None and end < start:
        raise Open311Error(400, "end_date is before start_date")
    frame = store.public_points(statuses=statuses, categories=codes or None, start=start, end=end,
                                limit=MAX_RESULTS)
    return _requests_from_frame(store, frame)


def get_request(store: Store, request_id: str) -> list[dict[str, Any]]:
    try:
        ident = int(request_id)
    except ValueError:
        raise Open311Error(404, f"service request {request_id!r} not found") from None
    found = _requests_from_frame(store, store.public_points(ids=[ident]))
    if not found:
        raise Open311Error(404, f"service request {request_id!r} not found")
    return found


def _coordinate(value: str | None, what: str, low: float, high: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise Open311Error(400, f"{what} must be a number in WGS 84 decimal degrees") from None
    if not (low <= number <= high):
        raise Open311Error(400, f"{what} {value} is not a WGS 84 coordinate")
    return number


def create_request(store: Store, params: Mapping[str, str], client_addr: str) -> list[dict[str, Any]]:
    """POST requests: check the key, the service and the position, then submit as a resident's report."""
    client = verify_key(store, params.get("api_key"))
    code = params.get("service_code")
    if not code:
        raise Open311Error(400, "service_code is required")
    if code not in schema.CATEGORY:
        raise Open311Error(400, f"service_code {code!r} not found")
    lat = _coordinate(params.get("lat"), "lat", -90, 90)
    lon = _coordinate(params.get("long"), "long", -180, 180)
    if lat is None or lon is None:
        raise Open311Error(400, "lat and long are required (this endpoint does not look up address_string)")
    lang = params.get("lang") or params.get("locale", "sv")[:2]
    try:
        receipt = public.submit_public_report(
            store, category=code, lon=lon, lat=lat, text=params.get("description") or "",
            address=params.get("address_string") or "", email=params.get("email") or None, lang=lang,
            client_addr=client_addr, channel="open311", api_client=client)
    except public.PublicRefusedError as exc:
        raise Open311Error(exc.status, exc.message("en")) from None
    return [{"token": receipt.status_token, "service_notice": public.public_texts.text("status_pending", "en"),
             "account_id": ""}]


def token(store: Store, value: str) -> list[dict[str, Any]]:
    row = store.public_report(status_token=value)
    if row is None or row["moderation"] == "avvisad":
        raise Open311Error(404, f"token {value!r} not found")
    if row["moderation"] != "godkand":
        return [{"token": value, "service_request_id": ""}]
    return [{"service_request_id": str(int(row["finding_id"])), "token": value}]


# --- XML ------------------------------------------------------------------------------------------------


def _fill(parent: ET.Element, item: Mapping[str, Any]) -> None:
    for key, value in item.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list | tuple):
            singular = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute"}.get(key, "item")
            for entry in value:
                sub = ET.SubElement(child, singular)
                if isinstance(entry, Mapping):
                    _fill(sub, entry)
                else:
                    sub.text = str(entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)


def to_xml(root: str, item: str | None, data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """The specification's XML: a ``root`` element holding one ``item`` element per entry (or the fields of
    one document when ``item`` is None)."""
    top = ET.Element(root)
    if isinstance(data, Mapping):
        _fill(top, data)
    else:
        for entry in data:
            _fill(ET.SubElement(top, item or "item"), entry)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode").encode("utf-8")


def errors_xml(error: Open311Error) -> bytes:
    return to_xml("errors", "error", error.errors())
