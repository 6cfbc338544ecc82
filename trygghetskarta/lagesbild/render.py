"""Rendering a lägesbild: a self-contained HTML file and a PDF, with charts and the map as PNG images.

No external resources anywhere (no tiles, fonts or scripts): images are base64 in the HTML and embedded
in the PDF; the PDF embeds DejaVu Sans (shipped inside matplotlib) so å, ä and ö render. Every piece of
text that comes from users or the database is escaped with ``html.escape``.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd

from trygghetskarta import schema
from trygghetskarta.lagesbild.report import INDICATORS, Lagesbild

Progress = Callable[[float, str], None]
LEVEL_COLOURS = {"gron": "#2e7d32", "gul": "#f9d71c", "orange": "#ef6c00", "rod": "#c62828"}
_KIND_COLOURS = {"finding": "#1565c0", "incident": "#6a1b9a"}


def _t(report: Lagesbild, sv: str, en: str) -> str:
    return sv if report.lang == "sv" else en


def font_path(bold: bool = False) -> Path:
    """DejaVu Sans from matplotlib's own data folder (always installed with matplotlib)."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(mpl.get_data_path()) / "fonts" / "ttf" / name


# --- images ------------------------------------------------------------------------------------------------


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def chart_png(report: Lagesbild) -> bytes:
    """Grouped bars per source: this period, the previous one and the same period last year.

    Values hidden for the audience (under k) are not drawn; their bar is labelled with the display text.
    """
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    totals = report.kind_totals
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    x = np.arange(len(totals))
    labels = [_t(report, "Perioden", "This period"), _t(report, "Föregående", "Previous"),
              _t(report, "Samma period i fjol", "Same period last year")]
    colours = ["#1565c0", "#90caf9", "#bdbdbd"]
    for i, (col, lab, colour) in enumerate(zip(("count", "previous", "last_year"), labels, colours, strict=True)):
        values = pd.to_numeric(totals[col], errors="coerce").astype(float).to_numpy()
        pos = x + (i - 1) * 0.27
        ax.bar(pos, np.nan_to_num(values), width=0.27, label=lab, color=colour)
        for p, v, shown in zip(pos, values, totals[f"{col}_display"], strict=True):
            ax.text(p, 0 if np.isnan(v) else v, str(shown), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, [str(s) for s in totals["kind_label"]], rotation=12, fontsize=8)
    ax.set_ylabel(_t(report, "Antal", "Count"))
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def map_png(report: Lagesbild) -> bytes:
    """The period's map in SWEREF 99 TM: areas coloured by status, a density of findings and precisely
    placed incidents, and the numbered top places. No base map tiles (offline)."""
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from trygghetskarta.analysis import density_from_xy, grid_from_bounds, metric_xy_from_lonlat

    status = report.area_status.to_crs(schema.CRS_METRIC)
    fig, ax = plt.subplots(figsize=(7.5, 6.0))
    if not status.empty:
        # Larger areas first so neighbourhoods are drawn over their locality.
        order = status.geometry.area.sort_values(ascending=False).index
        drawn = status.loc[order]
        drawn.plot(ax=ax, color=[LEVEL_COLOURS[lv] for lv in drawn["level"]], alpha=0.35, edgecolor="#424242",
                   linewidth=0.6)
        for geom, name in zip(drawn.geometry, drawn["area_name"], strict=True):
            p = geom.representative_point()
            ax.annotate(str(name), (p.x, p.y), fontsize=6, ha="center", color="#212121")
        minx, miny, maxx, maxy = status.total_bounds
    else:
        minx = miny = maxx = maxy = np.nan
    pts = report.map_points[~report.map_points["positive"].astype(bool)]
    if len(pts):
        x, y = metric_xy_from_lonlat(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
        ok = np.isfinite(x) & np.isfinite(y)
        if np.isnan(minx):
            minx, miny, maxx, maxy = x[ok].min(), y[ok].min(), x[ok].max(), y[ok].max()
        pad = 500.0
        grid = grid_from_bounds((minx - pad, miny - pad, maxx + pad, maxy + pad), 50.0)
        dens = density_from_xy(x[ok], y[ok], bandwidth_m=150.0, grid=grid)
        values = np.ma.masked_less_equal(dens.values, dens.values.max() * 0.05 if dens.values.max() > 0 else 0)
        x0, y0, x1, y1 = grid.bounds
        ax.imshow(values, origin="lower", extent=(x0, x1, y0, y1), cmap="inferno_r", alpha=0.55, zorder=2)
        if len(pts) <= 3000:
            for kind, colour in _KIND_COLOURS.items():
                sel = ok & (pts["kind"] == kind).to_numpy()
                ax.scatter(x[sel], y[sel], s=3, color=colour, alpha=0.6, zorder=3, linewidths=0)
    if not np.isnan(minx):
        ax.set_xlim(minx - 300, maxx + 300)
        ax.set_ylim(miny - 300, maxy + 300)
    top = report.top_places
    if len(top):
        tx, ty = metric_xy_from_lonlat(top["lon"].to_numpy(float), top["lat"].to_numpy(float))
        for rank, px, py in zip(top["rank"], tx, ty, strict=True):
            ax.annotate(str(rank), (px, py), fontsize=8, fontweight="bold", ha="center", va="center", zorder=5,
                        bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "black", "lw": 0.6})
    handles = [Patch(color=LEVEL_COLOURS[k], alpha=0.5, label=schema.label("area_level", k, report.lang))
               for k in LEVEL_COLOURS]
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=True)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(_t(report, "Områdesstatus, täthet av fynd och händelser, topplatser (nummer)",
                    "Area status, density of findings and incidents, top places (numbers)"), fontsize=9)
    return _png(fig)


# --- tables as plain rows (shared by HTML and PDF) ---------------------------------------------------------


def _change(value: Any, pct: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    text = f"{int(value):+d}"
    if pct is not None and not pd.isna(pct):
        text += f" ({int(pct):+d} %)"
    return text


def tables(report: Lagesbild) -> list[tuple[str, list[str], list[list[str]], str]]:
    """The report's tables as (title, headers, rows, note), all text; what both renderers print."""
    t = lambda sv, en: _t(report, sv, en)  # noqa: E731 - a local shorthand
    win = [t("Perioden", "Period"), t("Föreg.", "Prev."), t("I fjol", "Last yr"),
           t("Förändring mot föreg.", "Change vs prev."), t("Förändring mot i fjol", "Change vs last yr")]

    def fig_rows(frame: pd.DataFrame, label_cols: Sequence[str]) -> list[list[str]]:
        return [[*(str(r[c]) for c in label_cols), str(r["count_display"]), str(r["previous_display"]),
                 str(r["last_year_display"]), _change(r["change_previous"], r["change_previous_pct"]),
                 _change(r["change_last_year"], r["change_last_year_pct"])] for r in frame.to_dict("records")]

    out = [
        (t("Nyckeltal per källa", "Key figures per source"), [t("Källa", "Source"), *win],
         fig_rows(report.kind_totals, ["kind_label"]), ""),
        (t("Nyckeltal per källa och typ", "Key figures per source and type"),
         [t("Källa", "Source"), t("Typ", "Type"), *win], fig_rows(report.key_figures, ["kind_label", "group_label"]),
         ""),
        (t("Områdesstatus", "Area status"), [t("Område", "Area"), t("Nivå", "Level"), t("Varför", "Why")],
         [[str(r["area_name"]), str(r["level_label"]), str(r["reasons"])] for r in
          report.area_status.to_dict("records")],
         report.status_note + " " + t("Gränser för gul/orange/röd: ", "Limits for yellow/orange/red: ") + "; ".join(
             f"{i.sv if report.lang == 'sv' else i.en} " + "/".join(
                 f"{report.thresholds[i.key][lv]:g}".replace(".", "," if report.lang == "sv" else ".")
                 for lv in ("gul", "orange", "rod")) for i in INDICATORS)),
        (t("Områden där trenden går åt fel håll", "Areas where trends go the wrong way"),
         [t("Område", "Area"), t("Källa", "Source"), *win],
         fig_rows(report.trends[report.trends["area_score"] > 0], ["area_name", "kind_label"]), ""),
        (t("Topplatser (rutor 250 m)", "Top places (250 m cells)"),
         [t("Nr", "No."), t("Område", "Area"), t("Antal", "Count"), t("Vanligast", "Most common")],
         [[str(r["rank"]), str(r["area_name"]), str(r["count_display"]), str(r["main"])]
          for r in report.top_places.to_dict("records")], ""),
        (t("Återkommande platser (senaste året)", "Repeat places (last year)"),
         [t("Kategori", "Category"), t("Rapporter", "Reports"), t("Tillfällen", "Occasions"), t("Senast", "Last")],
         [[str(r["category"]), str(r["n_reports"]), str(r["n_occasions"]), str(r["last_at"])]
          for r in report.repeat_places.to_dict("records")], ""),
        (t("Öppna åtgärder", "Open actions"),
         [t("Åtgärd", "Action"), t("Ansvarig", "Responsible"), t("Status", "Status"), t("Planerad", "Planned"),
          t("Försenad", "Overdue")],
         [[str(r["what"]), str(r["responsible_label"]), str(r["status_label"]),
           "" if r["planned_date"] is None or pd.isna(r["planned_date"]) else str(r["planned_date"]),
           (t(f"ja, {r['days_overdue']} d", f"yes, {r['days_overdue']} d") if r["overdue"] else "")]
          for r in report.open_actions.to_dict("records")],
         t(f"Försenad per {report.today}: planerat datum passerat och inte klar.",
           f"Overdue as of {report.today}: planned date passed and not done.")),
        (t("EST-rapporter från partner (granskade) per område", "Partners' EST reports (reviewed) per area"),
         [t("Område", "Area"), t("Kategori", "Category"), *win],
         fig_rows(report.partner_figures, ["area_name", "category_label"]) if not report.partner_figures.empty
         else [],
         t("Endast godkända rapporter från polis, bostadsbolag, väktare och räddningstjänst.",
           "Approved reports from police, housing companies, security guards and fire and rescue only.")),
        (t("EST-mötets beslut om insats", "The EST meeting's decisions"),
         [t("Vecka", "Week"), t("Prio", "Priority"), t("Område/plats", "Area/place"), t("Beslut", "Decision"),
          t("Ansvarig", "Owner"), t("Datum", "Date"), t("Uppföljning", "Follow-up")],
         [[str(r["week"]), str(r["priority"]), " – ".join(x for x in (str(r["area_name"]), str(r["place"] or ""))
                                                         if x), str(r["decision"]), str(r["owner"]),
           "" if r["due_date"] is None or pd.isna(r["due_date"]) else str(r["due_date"]),
           f"{r['status_label']}{': ' + str(r['followup']) if r['followup'] else ''}"]
          for r in report.decisions.to_dict("records")], ""),
        (t("Genomfört under perioden", "Done in the period"),
         [t("Vad", "What"), t("Status", "Status"), t("Antal", "Count")],
         [[t("Fynd", "Findings") if r["kind"] == "finding" else t("Åtgärder", "Actions"), str(r["status_label"]),
           str(r["count_display"])] for r in report.done_summary.to_dict("records")], ""),
    ]
    out += list(getattr(report, "analysis_tables", []))  # the analysis section (#17, lagesbild.analysis_section)
    return out


def _header_lines(report: Lagesbild) -> list[str]:
    t = lambda sv, en: _t(report, sv, en)  # noqa: E731
    audience = t("Intern (kommunen)", "Internal (municipality)") if report.audience == "intern" else t(
        f"Partner (polis och bostadsbolag) – antal under {report.k} visas som <{report.k}",
        f"Partner (police and housing companies) – counts under {report.k} shown as <{report.k}")
    return [
        f"{t('Period', 'Period')}: {report.period.start} – {report.period.end}",
        f"{t('Jämförs med', 'Compared with')}: {report.previous.start} – {report.previous.end} "
        f"{t('och', 'and')} {report.last_year.start} – {report.last_year.end}",
        f"{t('Målgrupp', 'Audience')}: {audience}",
        f"{t('Skapad', 'Created')}: {report.generated_at:%Y-%m-%d %H:%M}",
    ]


# --- HTML --------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2em auto;max-width:60em;color:#212121;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .45em;text-align:left;vertical-align:top}
th{background:#f1f1f1}td.n{text-align:right;white-space:nowrap}
.meta{color:#555;font-size:.9em}.note{color:#555;font-size:.8em}img{max-width:100%}
.lvl{display:inline-block;width:.9em;height:.9em;border-radius:50%;margin-right:.3em;vertical-align:middle}
"""


def _is_number_like(text: str) -> bool:
    return bool(text) and (text.lstrip("+-<").split(" ")[0].isdigit() or text in ("–", ".."))


def lagesbild_html(report: Lagesbild, progress: Progress | None = None) -> str:
    """The lägesbild as one self-contained HTML page (inline CSS, images as base64, all text escaped)."""
    say = progress or (lambda _f, _m: None)
    esc = html.escape
    say(0.1, "diagram")
    chart = base64.b64encode(chart_png(report)).decode("ascii")
    say(0.4, "karta")
    mapimg = base64.b64encode(map_png(report)).decode("ascii")
    say(0.8, "tabeller")
    parts = ["<!DOCTYPE html>", f'<html lang="{esc(report.lang)}"><head><meta charset="utf-8">',
             f"<title>{esc(report.title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{esc(report.title)}</h1>"]
    parts += [f'<p class="meta">{esc(line)}</p>' for line in _header_lines(report)]
    parts += [f'<p class="note">{esc(n)}</p>' for n in report.notes]
    parts.append(f'<h2>{esc(_t(report, "Översikt", "Overview"))}</h2>'
                 f'<img alt="{esc(_t(report, "Diagram över nyckeltal", "Chart of key figures"))}" '
                 f'src="data:image/png;base64,{chart}">')
    parts.append(f'<h2>{esc(_t(report, "Karta över perioden", "Map of the period"))}</h2>'
                 f'<img alt="{esc(_t(report, "Karta", "Map"))}" src="data:image/png;base64,{mapimg}">')
    level_of = dict(zip(report.area_status["area_name"].astype(str), report.area_status["level"], strict=True))
    for title, headers, rows, note in tables(report):
        parts.append(f"<h2>{esc(title)}</h2>")
        if not rows:
            parts.append(f'<p class="note">{esc(_t(report, "Inget att visa för perioden.", "Nothing in the period."))}'
                         "</p>")
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr></thead><tbody>")
        for row in rows:
            cells = []
            for i, cell in enumerate(row):
                cls = ' class="n"' if i > 0 and _is_number_like(cell) else ""
                dot = ""
                if title.startswith(("Områdesstatus", "Area status")) and i == 0 and cell in level_of:
                    dot = f'<span class="lvl" style="background:{LEVEL_COLOURS[level_of[cell]]}"></span>'
                cells.append(f"<td{cls}>{dot}{esc(cell)}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table>")
        if note:
            parts.append(f'<p class="note">{esc(note)}</p>')
    parts.append("</body></html>")
    say(1.0, "klart")
    return "\n".join(parts)


# --- PDF ---------------------------------------------------------------------------------------------------


def new_pdf(title: str) -> Any:
    """An A4 fpdf2 document with DejaVu Sans (regular and bold) embedded, so å/ä/ö render."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.add_font("DejaVu", "B", str(font_path(bold=True)))
    pdf.set_title(title)
    return pdf


def lagesbild_pdf(report: Lagesbild, path: Path | str, progress: Progress | None = None) -> Path:
    """Write the lägesbild as a PDF (A4, DejaVu Sans embedded, chart and map as images)."""
    from fpdf.enums import XPos, YPos

    say = progress or (lambda _f, _m: None)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    say(0.1, "diagram")
    chart = chart_png(report)
    say(0.4, "karta")
    mapimg = map_png(report)
    say(0.7, "pdf")
    pdf = new_pdf(report.title)
    pdf.set_creator("trygghetskarta")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, report.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 9)
    for line in [*_header_lines(report), *report.notes]:
        pdf.multi_cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.image(io.BytesIO(chart), w=pdf.epw)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 7, _t(report, "Karta över perioden", "Map of the period"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.image(io.BytesIO(mapimg), w=pdf.epw * 0.95)
    for title, headers, rows, note in tables(report):
        _pdf_table(pdf, title, headers, rows, note, _t(report, "Inget att visa för perioden.",
                                                       "Nothing in the period."))
    pdf.output(str(path))
    say(1.0, "klart")
    return path


def _pdf_table(pdf: Any, title: str, headers: list[str], rows: list[list[str]], note: str, empty: str) -> None:
    """A simple table: text columns share the width left by the number columns; long text wraps."""
    from fpdf.enums import XPos, YPos

    if pdf.get_y() > pdf.h - 50:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 8)
    if not rows:
        pdf.multi_cell(0, 5, empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    numeric = [all(_is_number_like(r[i]) or r[i] == "" for r in rows) for i in range(len(headers))]
    widths = [18.0 if num else 0.0 for num in numeric]
    widths = [max(w, pdf.get_string_width(h) + 3) if numeric[i] else 0.0 for i, (w, h) in
              enumerate(zip(widths, headers, strict=True))]
    for i in range(len(headers)):
        if numeric[i]:
            widths[i] = max(widths[i], max(pdf.get_string_width(r[i]) for r in rows) + 3)
    free = pdf.epw - sum(widths)
    text_cols = [i for i, num in enumerate(numeric) if not num]
    # Each text column gets its longest word, and the rest of the free width goes by the longest text (a long
    # reason gets room, a short name little).
    cells = {i: [str(t) for t in [headers[i], *(r[i] for r in rows)]] for i in text_cols}
    least = {i: max(pdf.get_string_width(w) for t in cells[i] for w in (t.split() or [""])) + 4 for i in text_cols}
    need = {i: min(max(pdf.get_string_width(t) for t in cells[i]) + 4, pdf.epw * 0.6) for i in text_cols}
    extra = free - sum(least.values())
    for i in text_cols:
        widths[i] = least[i] + extra * need[i] / sum(need.values()) if extra > 0 else free / len(text_cols)
    with pdf.table(col_widths=widths, width=pdf.epw, text_align=["RIGHT" if n else "LEFT" for n in numeric],
                   line_height=4.2, first_row_as_headings=True) as table:
        table.row(headers)
        for r in rows:
            table.row(r)
    if note:
        pdf.set_font("DejaVu", "", 7)
        pdf.multi_cell(0, 4, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
