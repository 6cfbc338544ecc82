"""The walk protocol the kommun publishes after a trygghetsvandring: HTML and PDF.

Date, light condition, organisations, a route map, each finding with its photo, category, responsible
party and status, and the follow-up of each point at the next walk in the same area. Only what the
public may see goes in: everything is read with ``PUBLIC_VIEWER``.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import matplotlib as mpl
import pandas as pd

from trygghetskarta import schema, settings
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError

if TYPE_CHECKING:
    from trygghetskarta.store import Store

Progress = Callable[[float, str], None]
# A walk participant who took part in no walk and reported nothing sees exactly the ``publik`` rows.
PUBLIC_VIEWER = Viewer("publik (protokoll)", "deltagare")


@dataclass
class WalkProtocol:
    """What a walk protocol shows; ``findings`` has labels, ``thumb`` (a file path or None) and the follow-up."""

    walk: dict[str, Any]
    area_name: str
    findings: gpd.GeoDataFrame
    next_walk: dict[str, Any] | None
    lang: str
    area_geometry: Any = None

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


def walk_protocol(store: Store, walk_id: int, viewer: Viewer = PUBLIC_VIEWER, lang: str | None = None) -> WalkProtocol:
    """Collect a walk's protocol as the public sees it (raises NotFoundError for a walk not public)."""
    lang = lang or settings.get("lang")
    walks = store.read("walk", viewer, ids=[int(walk_id)])
    if walks.empty:
        msg = f"no public walk with id {walk_id}"
        raise NotFoundError(msg)
    walk = walks.iloc[0].to_dict()
    areas = store.areas()
    area = areas[areas["id"] == walk.get("area_id")]
    area_name = str(area["name"].iloc[0]) if not area.empty else ""
    findings = store.read("finding", viewer, walk_id=int(walk_id))
    findings = findings.sort_values("reported_at").reset_index(drop=True)
    findings["number"] = range(1, len(findings) + 1)
    findings["category_label"] = findings["category"].map(lambda c: schema.label("category", c, lang))
    findings["status_label"] = findings["status"].map(lambda c: schema.label("status", c, lang))
    findings["responsible_label"] = findings["responsible"].map(
        lambda c: schema.label("party", c, lang) if c is not None and not pd.isna(c) else "")
    photos = store.photos(findings["id"].astype(int).tolist(), viewer) if len(findings) else pd.DataFrame()
    thumbs = {} if photos.empty else {int(f): _resolve(p) for f, p in
                                      zip(photos["finding_id"], photos["thumb_path"], strict=True)}
    findings["thumb"] = pd.Series([thumbs.get(int(i)) for i in findings["id"]], index=findings.index, dtype=object)
    next_walk = None
    if walk.get("area_id") is not None and not pd.isna(walk.get("area_id")):
        later = store.read("walk", viewer, area_ids=[int(walk["area_id"])])
        later = later[later["started_at"] > walk["started_at"]].sort_values("started_at")
        if not later.empty:
            next_walk = later.iloc[0].to_dict()
    follow = store.followups(findings["id"].astype(int).tolist()) if len(findings) else pd.DataFrame()
    if next_walk is not None and not follow.empty:
        follow = follow[follow["walk_id"] == int(next_walk["id"])].drop_duplicates("finding_id", keep="last")
        by_id = follow.set_index("finding_id")
        findings["followup_fixed"] = findings["id"].map(by_id["fixed"]).astype(object)
        findings["followup_safer"] = findings["id"].map(by_id["feels_safer"]).astype(object)
    else:
        findings["followup_fixed"] = None
        findings["followup_safer"] = None
    return WalkProtocol(walk, area_name, findings, next_walk, lang,
                        area.geometry.iloc[0] if not area.empty else None)


def _yes_no(value: Any, lang: str) -> str:
    if value is None or (not isinstance(value, bool) and pd.isna(value)):
        return "–"
    return ("ja" if value else "nej") if lang == "sv" else ("yes" if value else "no")


def _rows(protocol: WalkProtocol) -> tuple[list[str], list[list[str]]]:
    sv = protocol.lang == "sv"
    headers = (["Nr", "Kategori", "Beskrivning", "Ansvarig", "Status", "Åtgärdat?", "Tryggare?"] if sv else
               ["No.", "Category", "Description", "Responsible", "Status", "Fixed?", "Safer?"])
    rows = [[str(r["number"]), str(r["category_label"]), str(r["description"] or ""), str(r["responsible_label"]),
             str(r["status_label"]), _yes_no(r["followup_fixed"], protocol.lang),
             _yes_no(r["followup_safer"], protocol.lang)] for r in protocol.findings.to_dict("records")]
    return headers, rows


def _meta(protocol: WalkProtocol) -> list[str]:
    sv = protocol.lang == "sv"
    when = pd.Timestamp(protocol.walk["started_at"]).tz_convert(ZoneInfo(settings.get("timezone")))
    light = schema.label("light", protocol.walk.get("light"), protocol.lang) or "–"
    nxt = protocol.next_walk
    follow = (f"{'Uppföljning vid nästa vandring' if sv else 'Follow-up at the next walk'}: "
              f"{pd.Timestamp(nxt['started_at']).tz_convert(when.tz):%Y-%m-%d}" if nxt is not None else
              ("Uppföljning: ingen senare vandring i området ännu" if sv else
               "Follow-up: no later walk in the area yet"))
    return [f"{'Datum' if sv else 'Date'}: {when:%Y-%m-%d %H:%M}",
            f"{'Område' if sv else 'Area'}: {protocol.area_name or '–'}",
            f"{'Ljusförhållanden' if sv else 'Light'}: {light}",
            f"{'Organisationer' if sv else 'Organisations'}: {protocol.walk.get('organisations') or '–'}",
            f"{'Antal fynd' if sv else 'Findings'}: {len(protocol.findings)}", follow]


def route_map_png(protocol: WalkProtocol) -> bytes:
    """The route, the area and the numbered findings (EPSG:3006, no base map)."""
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    if protocol.area_geometry is not None:
        gpd.GeoSeries([protocol.area_geometry], crs=schema.CRS_STORE).to_crs(schema.CRS_METRIC).plot(
            ax=ax, color="#e3f2fd", edgecolor="#1565c0", linewidth=0.8)
    route = protocol.walk.get("geometry")
    if route is not None and not route.is_empty:
        gpd.GeoSeries([route], crs=schema.CRS_STORE).to_crs(schema.CRS_METRIC).plot(ax=ax, color="#424242",
                                                                                  linewidth=1.5, linestyle="--")
    f = protocol.findings
    if len(f):
        pts = f.set_geometry(f.geometry.representative_point()).to_crs(schema.CRS_METRIC)
        for geom, num, cat in zip(pts.geometry, f["number"], f["category"], strict=True):
            colour = "#2e7d32" if schema.CATEGORY[cat].positive else "#c62828"  # type: ignore[attr-defined]
            ax.annotate(str(num), (geom.x, geom.y), fontsize=7, ha="center", va="center", color="white",
                        bbox={"boxstyle": "circle,pad=0.25", "fc": colour, "ec": "none"})
        minx, miny, maxx, maxy = pts.total_bounds
        ax.set_xlim(min(ax.get_xlim()[0], minx - 100), max(ax.get_xlim()[1], maxx + 100))
        ax.set_ylim(min(ax.get_ylim()[0], miny - 100), max(ax.get_ylim()[1], maxy + 100))
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def protocol_html(protocol: WalkProtocol, progress: Progress | None = None) -> str:
    """The protocol as one self-contained HTML page (images inline, all text escaped)."""
    say = progress or (lambda _f, _m: None)
    esc = html.escape
    sv = protocol.lang == "sv"
    say(0.2, "karta")
    mapimg = base64.b64encode(route_map_png(protocol)).decode("ascii")
    headers, rows = _rows(protocol)
    parts = ["<!DOCTYPE html>", f'<html lang="{esc(protocol.lang)}"><head><meta charset="utf-8">',
             f"<title>{esc(protocol.title)}</title><style>"
             "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:60em;margin:2em auto;color:#212121}"
             "table{border-collapse:collapse;width:100%;font-size:.85em}th,td{border:1px solid #ddd;padding:.3em;"
             "vertical-align:top;text-align:left}th{background:#f1f1f1}img{max-width:100%}"
             "img.thumb{max-width:8em}</style></head><body>",
             f"<h1>{esc(('Protokoll: ' if sv else 'Protocol: ') + protocol.title)}</h1>"]
    parts += [f"<p>{esc(line)}</p>" for line in _meta(protocol)]
    parts.append(f'<h2>{esc("Rutt och fynd" if sv else "Route and findings")}</h2>'
                 f'<img alt="{esc("Karta" if sv else "Map")}" src="data:image/png;base64,{mapimg}">')
    parts.append(f"<h2>{esc('Fynd' if sv else 'Findings')}</h2><table><tr>"
                 + "".join(f"<th>{esc(h)}</th>" for h in [*headers, "Foto" if sv else "Photo"]) + "</tr>")
    for row, thumb in zip(rows, protocol.findings["thumb"], strict=True):
        img = ""
        if isinstance(thumb, Path):
            data = base64.b64encode(Path(thumb).read_bytes()).decode("ascii")
            img = f'<img class="thumb" alt="{esc(row[1])}" src="data:image/jpeg;base64,{data}">'
        parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + f"<td>{img}</td></tr>")
    parts.append("</table></body></html>")
    say(1.0, "klart")
    return "\n".join(parts)


def protocol_pdf(protocol: WalkProtocol, path: Path | str, progress: Progress | None = None) -> Path:
    """Write the protocol as a PDF (DejaVu Sans embedded; map and thumbnails as images)."""
    from fpdf.enums import XPos, YPos

    from trygghetskarta.lagesbild.render import new_pdf

    say = progress or (lambda _f, _m: None)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sv = protocol.lang == "sv"
    say(0.2, "karta")
    mapimg = route_map_png(protocol)
    pdf = new_pdf(protocol.title)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 7, ("Protokoll: " if sv else "Protocol: ") + protocol.title, new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 9)
    for line in _meta(protocol):
        pdf.multi_cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.image(io.BytesIO(mapimg), w=pdf.epw * 0.85)
    say(0.6, "fynd")
    headers, rows = _rows(protocol)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 8, "Fynd" if sv else "Findings", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 8)
    widths = (8, 30, 52, 30, 20, 15, 15, 20)
    with pdf.table(col_widths=widths, width=sum(widths), line_height=4.2, first_row_as_headings=True) as table:
        table.row([*headers, "Foto" if sv else "Photo"])
        for row, thumb in zip(rows, protocol.findings["thumb"], strict=True):
            cells = table.row(row)
            if isinstance(thumb, Path):
                cells.cell(img=str(thumb), img_fill_width=True)
            else:
                cells.cell("")
    pdf.output(str(path))
    say(1.0, "klart")
    return path
