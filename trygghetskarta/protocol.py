"""The walk protocol the kommun publishes after a trygghetsvandring: HTML and PDF.

Date, light condition, organisations, a route map, each finding with its photo, category, responsible
party and status, and the follow-up of each point at the next walk in the same area. Only what the
public may see goes in: everything is read with ``PUBLIC_VIEWER``. Both formats are rendered from one
``Document`` (``protocol_document``): the HTML from ``templates/protocol.html`` (autoescaped), the PDF
with fpdf2 (``lagesbild.document``).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import re
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import matplotlib as mpl
import pandas as pd

from trygghetskarta import schema, settings
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError
from trygghetskarta.lagesbild.document import (
    Column,
    Document,
    Figure,
    Photo,
    Section,
    Table,
    document_html,
    document_pdf,
)
from trygghetskarta.progress import Progress
from trygghetskarta.timeutil import local_zone

if TYPE_CHECKING:
    from trygghetskarta.store import Store

# A walk participant who took part in no walk and reported nothing sees exactly the ``publik`` rows.
PUBLIC_VIEWER = Viewer("publik (protokoll)", "deltagare")
_log = logging.getLogger("trygghetskarta.protocol")


@dataclass
class WalkProtocol:
    """What a walk protocol shows; ``findings`` has labels, ``thumb`` (a file path or None) and the follow-up."""

    walk: dict[str, Any]
    area_name: str
    findings: gpd.GeoDataFrame
    next_walk: dict[str, Any] | None
    lang: str
    area_geometry: Any = None
    # the earlier findings checked at this walk (its follow-up), with the answers
    checked: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def title(self) -> str:
        return str(self.walk["title"])


def _resolve(path: Any) -> Path | None:
    if path is None or pd.isna(path) or not str(path):
        return None
    p = Path(str(path))
    if not p.is_absolute():
        p = settings.media_dir() / p
    return p if p.is_file() else None


def _date(value: Any) -> str:
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return ""
    return f"{pd.Timestamp(value):%Y-%m-%d}"


def _action_texts(store: Store, finding_ids: list[int], lang: str, viewer: Viewer) -> dict[int, str]:
    """The latest action of each finding as "what (senast/planerad/klar DATE)", for the actions ``viewer`` may
    read (an action of a narrower audience than the protocol's reader is left out, never shown)."""
    links = store.action_finding_ids()
    links = links[links["finding_id"].isin(finding_ids)]
    if links.empty:
        return {}
    latest = links.groupby("finding_id")["action_id"].max()
    actions = store.read("action", viewer, ids=sorted({int(a) for a in latest})).set_index("id")
    sv = lang == "sv"
    out = {}
    for fid, aid in latest.items():
        if int(aid) not in actions.index:
            continue
        a = actions.loc[int(aid)]
        if a["status"] == "klar" and _date(a.get("done_date")):
            when = f"{'klar' if sv else 'done'} {_date(a['done_date'])}"
        else:
            parts = [f"{word} {_date(a.get(col))}" for col, word in
                     (("planned_date", "planerad" if sv else "planned"), ("deadline", "senast" if sv else "by"))
                     if _date(a.get(col))]
            when = ", ".join(parts)
        out[int(fid)] = f"{a['what']} ({when})" if when else str(a["what"])
    return out


def _with_further_reports(store: Store, findings: pd.DataFrame) -> pd.Series:
    """Each finding's text followed by the further reports added to it ("lägg till på befintligt")."""
    text = findings["description"].fillna("").astype(str)
    if findings.empty:
        return text
    extra = store.finding_reports(findings["id"].astype(int).tolist())
    extra = extra[extra["description"].astype(str).str.strip() != ""]
    if extra.empty:
        return text
    more = extra.groupby("finding_id")["description"].agg(" | ".join)
    added = findings["id"].map(more)
    return text.where(added.isna(), text + " | + " + added.fillna(""))


def _place(row: dict[str, Any], area_names: dict[int, str]) -> str:
    area = row.get("area_id")
    name = area_names.get(int(area), "") if area is not None and not pd.isna(area) else ""
    where = f"{float(row['lat']):.5f}, {float(row['lon']):.5f}"
    return f"{name} ({where})" if name else where


def walk_protocol(store: Store, walk_id: int, viewer: Viewer = PUBLIC_VIEWER, lang: str | None = None) -> WalkProtocol:
    """Collect a walk's protocol as ``viewer`` sees it, from the current state of the store (raises
    NotFoundError for a walk the viewer may not see). Each finding carries its latest action and the
    latest follow-up answer given at a later walk; ``checked`` lists the earlier findings checked at this
    walk with their answers."""
    lang = lang or settings.get("lang")
    walks = store.read("walk", viewer, ids=[int(walk_id)])
    if walks.empty:
        msg = f"no public walk with id {walk_id}"
        raise NotFoundError(msg)
    walk = walks.iloc[0].to_dict()
    areas = store.areas()
    names = {int(i): str(n) for i, n in zip(areas["id"], areas["name"], strict=True)}
    area = areas[areas["id"] == walk.get("area_id")]
    area_name = str(area["name"].iloc[0]) if not area.empty else ""
    findings = _labelled(store, store.read("finding", viewer, walk_id=int(walk_id)), lang, viewer)
    findings["number"] = range(1, len(findings) + 1)
    ids = findings["id"].astype(int).tolist()
    photos = store.photos(ids, viewer) if ids else pd.DataFrame()
    thumbs = {} if photos.empty else {int(f): _resolve(p) for f, p in
                                      zip(photos["finding_id"], photos["thumb_path"], strict=True)}
    findings["thumb"] = pd.Series([thumbs.get(int(i)) for i in findings["id"]], index=findings.index, dtype=object)
    next_walk = None
    if walk.get("area_id") is not None and not pd.isna(walk.get("area_id")):
        later = store.read("walk", viewer, area_ids=[int(walk["area_id"])])
        later = later[later["started_at"] > walk["started_at"]].sort_values("started_at")
        if not later.empty:
            next_walk = later.iloc[0].to_dict()
    # The latest answer given at any later walk (the next walk in the area, or one in a larger area).
    follow = store.followups(ids) if ids else pd.DataFrame(columns=["finding_id", "walk_id"])
    follow = follow[follow["walk_id"].astype("Float64") != int(walk_id)].drop_duplicates("finding_id", keep="last")
    by_id = follow.set_index("finding_id")
    for col, src in (("followup_fixed", "fixed"), ("followup_safer", "feels_safer")):
        findings[col] = (findings["id"].map(by_id[src]).astype(object) if not follow.empty
                         else pd.Series(None, index=findings.index, dtype=object))
    # What was checked at this walk: earlier findings and the answers given here.
    answers = store.followups(walk_id=int(walk_id)).drop_duplicates("finding_id", keep="last")
    checked = store.read("finding", viewer, ids=answers["finding_id"].astype(int).tolist()) if len(answers) else \
        store.read("finding", viewer, ids=[-1])
    checked = _labelled(store, checked, lang, viewer)
    a_by_id = answers.set_index("finding_id")
    for col, src in (("followup_fixed", "fixed"), ("followup_safer", "feels_safer"),
                     ("followup_comment", "comment")):
        checked[col] = checked["id"].map(a_by_id[src]).astype(object) if len(answers) else None
    checked["place"] = [_place(r, names) for r in checked.to_dict("records")]
    return WalkProtocol(walk, area_name, findings, next_walk, lang,
                        area.geometry.iloc[0] if not area.empty else None, checked=checked)


def _labelled(store: Store, findings: gpd.GeoDataFrame, lang: str, viewer: Viewer) -> gpd.GeoDataFrame:
    """Findings oldest first with their labels, action text and further reports."""
    findings = findings.sort_values(["reported_at", "id"]).reset_index(drop=True)
    findings["category_label"] = findings["category"].map(lambda c: schema.label("category", c, lang))
    findings["status_label"] = findings["status"].map(lambda c: schema.label("status", c, lang))
    findings["responsible_label"] = findings["responsible"].map(
        lambda c: schema.label("party", c, lang) if c is not None and not pd.isna(c) else "")
    actions = _action_texts(store, findings["id"].astype(int).tolist(), lang, viewer) if len(findings) else {}
    findings["action_label"] = findings["id"].map(lambda i: actions.get(int(i), "")).astype(object)
    findings["text"] = _with_further_reports(store, findings)
    return findings


def _yes_no(value: Any, lang: str) -> str:
    if value is None or (not isinstance(value, bool) and pd.isna(value)):
        return "–"
    return ("ja" if value else "nej") if lang == "sv" else ("yes" if value else "no")


def _rows(protocol: WalkProtocol) -> tuple[list[str], list[list[str]]]:
    sv = protocol.lang == "sv"
    headers = (["Nr", "Kategori", "Beskrivning", "Ansvarig", "Åtgärd", "Status", "Åtgärdat?", "Tryggare?"] if sv
               else ["No.", "Category", "Description", "Responsible", "Action", "Status", "Fixed?", "Safer?"])
    rows = [[str(r["number"]), str(r["category_label"]), str(r["text"] or ""), str(r["responsible_label"]),
             str(r["action_label"] or ""), str(r["status_label"]), _yes_no(r["followup_fixed"], protocol.lang),
             _yes_no(r["followup_safer"], protocol.lang)] for r in protocol.findings.to_dict("records")]
    return headers, rows


def _checked_rows(protocol: WalkProtocol) -> tuple[list[str], list[list[str]]]:
    """The follow-up done at this walk: each earlier finding checked, its place and the answers."""
    sv = protocol.lang == "sv"
    headers = (["Fynd nr", "Kategori", "Beskrivning", "Plats", "Åtgärd", "Åtgärdat?", "Tryggare?", "Kommentar"]
               if sv else ["Finding", "Category", "Description", "Place", "Action", "Fixed?", "Safer?", "Comment"])
    rows = [[str(r["id"]), str(r["category_label"]), str(r["text"] or ""), str(r["place"]),
             str(r["action_label"] or ""), _yes_no(r["followup_fixed"], protocol.lang),
             _yes_no(r["followup_safer"], protocol.lang), str(r["followup_comment"] or "")]
            for r in protocol.checked.to_dict("records")]
    return headers, rows


def _meta(protocol: WalkProtocol) -> list[str]:
    sv = protocol.lang == "sv"
    when = pd.Timestamp(protocol.walk["started_at"]).tz_convert(local_zone())
    light = schema.label("light", protocol.walk.get("light"), protocol.lang) or "–"
    nxt = protocol.next_walk
    follow = (f"{'Uppföljning vid nästa vandring' if sv else 'Follow-up at the next walk'}: "
              f"{pd.Timestamp(nxt['started_at']).tz_convert(when.tz):%Y-%m-%d}" if nxt is not None else
              ("Uppföljning: ingen senare vandring i området ännu" if sv else
               "Follow-up: no later walk in the area yet"))
    lines = [f"{'Datum' if sv else 'Date'}: {when:%Y-%m-%d %H:%M}",
             f"{'Område' if sv else 'Area'}: {protocol.area_name or '–'}",
             f"{'Ljusförhållanden' if sv else 'Light'}: {light}",
             f"{'Organisationer' if sv else 'Organisations'}: {protocol.walk.get('organisations') or '–'}",
             f"{'Antal fynd' if sv else 'Findings'}: {len(protocol.findings)}", follow]
    if len(protocol.checked):
        lines.append(f"{'Tidigare fynd som följdes upp' if sv else 'Earlier findings checked'}: "
                     f"{len(protocol.checked)}")
    return lines


# --- the map -----------------------------------------------------------------------------------------------

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_TILE = 256
_WEB_MERCATOR_HALF = 20037508.342789244


def _tile_source() -> tuple[str, str] | None:
    """(URL template, attribution) of the configured base map, or None (``TRYGGHETSKARTA_BASEMAP=none``)."""
    choice = settings.get("basemap")
    if choice == "osm":
        return OSM_TILES, "© OpenStreetMap-bidragsgivare"
    if choice == "custom":
        url = str(settings.get("tiles_url") or "")
        if all(part in url for part in ("{z}", "{x}", "{y}")):
            attribution = html.unescape(re.sub(r"<[^>]+>", "", str(settings.get("tiles_attribution") or "")))
            return url, attribution
    return None


TILE_FORMATS = ("PNG", "JPEG", "WEBP")


@lru_cache(maxsize=512)
def _fetch_tile(url: str) -> bytes:
    if not url.lower().startswith(("https://", "http://")):  # never file: or other schemes
        msg = f"the tile URL must be http(s), got {url[:40]!r}"
        raise ValueError(msg)
    request = urllib.request.Request(url, headers={"User-Agent": "trygghetskarta (walk protocol)"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http(s) checked above
        return response.read()


def basemap_image(bounds: tuple[float, float, float, float], width_px: int = 900) -> tuple[Any, str] | None:
    """The configured base map over ``bounds`` (EPSG:3006: minx, miny, maxx, maxy), warped into EPSG:3006
    as an RGB array whose extent is ``bounds``, and its attribution; None without a base map or when the
    tiles cannot be fetched (the protocol is then drawn without one)."""
    import numpy as np
    import pyproj
    from PIL import Image

    source = _tile_source()
    if source is None:
        return None
    template, attribution = source
    minx, miny, maxx, maxy = bounds
    height_px = max(1, round(width_px * (maxy - miny) / max(maxx - minx, 1.0)))
    to_merc = pyproj.Transformer.from_crs(schema.CRS_METRIC, 3857, always_xy=True)
    cx, cy = to_merc.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
    mminx, mmaxx, mminy, mmaxy = min(cx), max(cx), min(cy), max(cy)
    # the zoom whose pixels are about as small as the output's
    span = 2 * _WEB_MERCATOR_HALF
    zoom = int(np.clip(np.floor(np.log2(span * width_px / (_TILE * max(mmaxx - mminx, 1.0)))), 1, 18))
    while True:
        n = 2 ** zoom
        tx0, tx1 = (int((x + _WEB_MERCATOR_HALF) / span * n) for x in (mminx, mmaxx))
        ty0, ty1 = (int((_WEB_MERCATOR_HALF - y) / span * n) for y in (mmaxy, mminy))
        if (tx1 - tx0 + 1) * (ty1 - ty0 + 1) <= 36 or zoom <= 1:
            break
        zoom -= 1
    mosaic = Image.new("RGB", ((tx1 - tx0 + 1) * _TILE, (ty1 - ty0 + 1) * _TILE), "white")
    try:
        for tx in range(tx0, tx1 + 1):
            for ty in range(ty0, ty1 + 1):
                url = template.replace("{z}", str(zoom)).replace("{x}", str(tx)).replace("{y}", str(ty))
                # a tile is a PNG, JPEG or WebP: Pillow tries no other format's parser on what a server sent
                tile = Image.open(io.BytesIO(_fetch_tile(url)), formats=list(TILE_FORMATS)).convert("RGB")
                mosaic.paste(tile.resize((_TILE, _TILE)), ((tx - tx0) * _TILE, (ty - ty0) * _TILE))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # no network, a bad URL or not a tile
        _log.warning("base map for the protocol not drawn: %s", exc)
        return None
    pixels = np.asarray(mosaic)
    # each output pixel (EPSG:3006) samples the mosaic (EPSG:3857) at its own position: a true warp, so the
    # metric scale and the coordinates stay right
    xs = minx + (np.arange(width_px) + 0.5) * (maxx - minx) / width_px
    ys = maxy - (np.arange(height_px) + 0.5) * (maxy - miny) / height_px
    gx, gy = np.meshgrid(xs, ys)
    mx, my = to_merc.transform(gx.ravel(), gy.ravel())
    res = span / (n * _TILE)
    col = np.clip(((np.asarray(mx) + _WEB_MERCATOR_HALF) / res - tx0 * _TILE).astype(int), 0, pixels.shape[1] - 1)
    row = np.clip(((_WEB_MERCATOR_HALF - np.asarray(my)) / res - ty0 * _TILE).astype(int), 0, pixels.shape[0] - 1)
    return pixels[row, col].reshape(height_px, width_px, 3), attribution


def _nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^n metres) near a fifth of ``span_m``."""
    import math

    target = max(span_m / 5, 1.0)
    power = 10 ** math.floor(math.log10(target))
    return max(m * power for m in (1, 2, 5) if m * power <= target)


def _scale_bar(ax: Any, lang: str) -> None:
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    left, bottom = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    bar_h = (y1 - y0) * 0.012
    ax.add_patch(Rectangle((left - (x1 - x0) * 0.015, bottom - (y1 - y0) * 0.02), length + (x1 - x0) * 0.03,
                           (y1 - y0) * 0.09, fc="white", ec="none", alpha=0.8, zorder=5))
    ax.add_patch(Rectangle((left, bottom), length / 2, bar_h, fc="#212121", ec="#212121", zorder=6))
    ax.add_patch(Rectangle((left + length / 2, bottom), length / 2, bar_h, fc="white", ec="#212121", zorder=6))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(left + length / 2, bottom + bar_h * 1.8, label, ha="center", va="bottom", fontsize=7, zorder=7)
    ax.annotate("N", xy=(x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.06),
                xytext=(x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.17), ha="center", va="center", fontsize=8,
                fontweight="bold", zorder=7, arrowprops={"arrowstyle": "-|>", "color": "#212121", "lw": 1.2})


def _metres(value: float, _pos: Any = None) -> str:
    return f"{value:,.0f}".replace(",", " ")


def route_map_png(protocol: WalkProtocol) -> bytes:
    """The route, the area and the numbered findings in SWEREF 99 TM (EPSG:3006), on the configured base map
    (``TRYGGHETSKARTA_BASEMAP``; none: no tiles are fetched), with a metric scale bar, a north arrow and
    coordinate axes labelled in the protocol's language."""
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    sv = protocol.lang == "sv"
    fig, ax = plt.subplots(figsize=(7, 5))
    if protocol.area_geometry is not None:
        gpd.GeoSeries([protocol.area_geometry], crs=schema.CRS_STORE).to_crs(schema.CRS_METRIC).plot(
            ax=ax, color="#1565c0", alpha=0.08, edgecolor="none")
        gpd.GeoSeries([protocol.area_geometry], crs=schema.CRS_STORE).to_crs(schema.CRS_METRIC).boundary.plot(
            ax=ax, color="#1565c0", linewidth=1.0)
    route = protocol.walk.get("geometry")
    if route is not None and not route.is_empty:
        gpd.GeoSeries([route], crs=schema.CRS_STORE).to_crs(schema.CRS_METRIC).plot(ax=ax, color="#424242",
                                                                                  linewidth=1.5, linestyle="--")
    f = protocol.findings
    if len(f):
        pts = f.set_geometry(f.geometry.representative_point()).to_crs(schema.CRS_METRIC)
        lines = f[f.geometry.geom_type.isin(["LineString", "MultiLineString"])]
        if len(lines):
            lines.to_crs(schema.CRS_METRIC).plot(ax=ax, color="#c62828", linewidth=2.5, zorder=3)
        for geom, num, cat in zip(pts.geometry, f["number"], f["category"], strict=True):
            colour = "#2e7d32" if schema.CATEGORY[cat].positive else "#c62828"  # type: ignore[attr-defined]
            ax.annotate(str(num), (geom.x, geom.y), fontsize=7, ha="center", va="center", color="white",
                        bbox={"boxstyle": "circle,pad=0.25", "fc": colour, "ec": "white", "lw": 0.5}, zorder=4)
        minx, miny, maxx, maxy = pts.total_bounds
        if protocol.area_geometry is None and (route is None or route.is_empty):
            ax.set_xlim(minx - 100, maxx + 100)
            ax.set_ylim(miny - 100, maxy + 100)
        else:
            ax.set_xlim(min(ax.get_xlim()[0], minx - 100), max(ax.get_xlim()[1], maxx + 100))
            ax.set_ylim(min(ax.get_ylim()[0], miny - 100), max(ax.get_ylim()[1], maxy + 100))
    ax.set_aspect("equal")
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    base = basemap_image((x0, y0, x1, y1)) if x1 > x0 and y1 > y0 else None
    if base is not None:
        image, attribution = base
        ax.imshow(image, extent=(x0, x1, y0, y1), origin="upper", zorder=0, interpolation="bilinear")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        if attribution:
            ax.text(0.995, 0.005, attribution, transform=ax.transAxes, ha="right", va="bottom", fontsize=5.5,
                    color="#424242", bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 1}, zorder=7)
    _scale_bar(ax, protocol.lang)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=4))
        axis.set_major_formatter(FuncFormatter(_metres))
    ax.tick_params(labelsize=6.5)
    ax.set_xlabel("Östlig koordinat, SWEREF 99 TM (m)" if sv else "Easting, SWEREF 99 TM (m)", fontsize=7)
    ax.set_ylabel("Nordlig koordinat, SWEREF 99 TM (m)" if sv else "Northing, SWEREF 99 TM (m)", fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


# --- the document: HTML and PDF ----------------------------------------------------------------------------

# Relative PDF widths (mm on A4, scaled to the page) of the findings' columns: Nr, Kategori, Beskrivning,
# Ansvarig, Åtgärd, Status, Åtgärdat?, Tryggare? (and Foto); and of the follow-up's: Fynd nr, Kategori,
# Beskrivning, Plats, Åtgärd, Åtgärdat?, Tryggare?, Kommentar.
FINDING_WIDTHS = (6, 27, 38, 22, 34, 17, 16, 16)
PHOTO_WIDTH = 16
CHECKED_WIDTHS = (8, 27, 36, 30, 30, 16, 16, 27)


def _columns(headers: list[str], widths: tuple[float, ...]) -> tuple[Column, ...]:
    # the category (second column) is a label like "Parkering/garage": it may wrap after its slash
    return tuple(Column(h, width=w, wrap_at_slash=i == 1) for i, (h, w) in enumerate(zip(headers, widths,
                                                                                         strict=True)))


def _findings_table(protocol: WalkProtocol) -> Table:
    headers, rows = _rows(protocol)
    photos = tuple(Photo(thumb, row[1]) if isinstance(thumb, Path) else None
                   for thumb, row in zip(protocol.findings["thumb"], rows, strict=True))
    return Table(_columns(headers, FINDING_WIDTHS), tuple(tuple(r) for r in rows), photos=photos,
                 photo_column=Column("Foto" if protocol.lang == "sv" else "Photo", width=PHOTO_WIDTH))


def protocol_document(protocol: WalkProtocol, mapimg: bytes) -> Document:
    """The protocol as a ``Document``: its facts, the route map, the findings (with photos) and the follow-up
    of earlier findings done at this walk; what ``protocol_html`` and ``protocol_pdf`` render."""
    sv = protocol.lang == "sv"
    sections = [
        Section("route_map", "Rutt och fynd" if sv else "Route and findings",
                figure=Figure(mapimg, "Karta" if sv else "Map", pdf_width=0.8)),
        Section("findings", "Fynd" if sv else "Findings", table=_findings_table(protocol),
                empty="Inga fynd att visa." if sv else "No findings to show."),
    ]
    if len(protocol.checked):
        headers, rows = _checked_rows(protocol)
        sections.append(Section("followup", "Uppföljning av tidigare fynd" if sv else "Follow-up of earlier findings",
                                table=Table(_columns(headers, CHECKED_WIDTHS), tuple(tuple(r) for r in rows))))
    heading = ("Protokoll: " if sv else "Protocol: ") + protocol.title
    return Document("protocol", protocol.lang, protocol.title, heading, tuple(_meta(protocol)),
                    sections=tuple(sections))


def protocol_html(protocol: WalkProtocol, progress: Progress | None = None) -> str:
    """The protocol as one self-contained HTML page (images inline, all text escaped)."""
    say = progress or (lambda _f, _m: None)
    say(0.2, "karta")
    page = document_html(protocol_document(protocol, route_map_png(protocol)))
    say(1.0, "klart")
    return page


def protocol_pdf(protocol: WalkProtocol, path: Path | str, progress: Progress | None = None) -> Path:
    """Write the protocol as a PDF (DejaVu Sans embedded; map and thumbnails as images)."""
    say = progress or (lambda _f, _m: None)
    say(0.2, "karta")
    doc = protocol_document(protocol, route_map_png(protocol))
    say(0.6, "fynd")
    out = document_pdf(doc, path)
    say(1.0, "klart")
    return out


def protocol_pdf_bytes(store: Store, walk_id: int, viewer: Viewer = PUBLIC_VIEWER, lang: str | None = None) -> bytes:
    """The walk's protocol as PDF bytes, rendered now from the current state (for a download made on click)."""
    import tempfile

    proto = walk_protocol(store, walk_id, viewer=viewer, lang=lang)
    with tempfile.TemporaryDirectory() as tmp:
        return protocol_pdf(proto, Path(tmp) / "protokoll.pdf").read_bytes()


def protocol_html_text(store: Store, walk_id: int, viewer: Viewer = PUBLIC_VIEWER, lang: str | None = None) -> str:
    """The walk's protocol as HTML, rendered now from the current state (for a download made on click)."""
    return protocol_html(walk_protocol(store, walk_id, viewer=viewer, lang=lang))
