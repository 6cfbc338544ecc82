"""Rendering a lägesbild: its chart and map as PNG images, and its ``Document`` (``lagesbild_document``), from
which both the self-contained HTML page (template ``templates/lagesbild.html``, autoescaped) and the PDF are made.

No external resources anywhere (no tiles, fonts or scripts): images are base64 in the HTML and embedded
in the PDF (``lagesbild.document``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd

from trygghetskarta import schema
from trygghetskarta.lagesbild.document import (
    Column,
    Document,
    Figure,
    Section,
    Table,
    document_html,
    document_pdf,
    font_path,
    new_pdf,
)
from trygghetskarta.lagesbild.report import INDICATORS, Lagesbild
from trygghetskarta.progress import Progress

__all__ = ["LEVEL_COLOURS", "chart_png", "font_path", "lagesbild_document", "lagesbild_html", "lagesbild_pdf",
           "map_png", "new_pdf", "tables"]
LEVEL_COLOURS = {"gron": "#2e7d32", "gul": "#f9d71c", "orange": "#ef6c00", "rod": "#c62828"}
_KIND_COLOURS = {"finding": "#1565c0", "incident": "#6a1b9a"}


def _t(report: Lagesbild, sv: str, en: str) -> str:
    return sv if report.lang == "sv" else en


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


# --- the document: every section as plain text rows (what both renderers print) ------------------------------


def _change(value: Any, pct: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    text = f"{int(value):+d}"
    if pct is not None and not pd.isna(pct):
        text += f" ({int(pct):+d} %)"
    return text


def _text(value: Any) -> str:
    """A cell's text: empty for a missing value."""
    return "" if value is None or (not isinstance(value, str | list) and pd.isna(value)) else str(value)


def _window_columns(report: Lagesbild) -> tuple[Column, ...]:
    """The figure columns of every comparison table: this period, the previous, last year and both changes."""
    t = lambda sv, en: _t(report, sv, en)  # noqa: E731 - a local shorthand
    return tuple(Column(title, numeric=True) for title in (
        t("Perioden", "Period"), t("Föreg.", "Prev."), t("I fjol", "Last yr"),
        t("Förändring mot föreg.", "Change vs prev."), t("Förändring mot i fjol", "Change vs last yr")))


def _figure_table(report: Lagesbild, frame: pd.DataFrame, labels: Sequence[tuple[str, str, str]]) -> Table:
    """Rows of ``frame`` as label cells (column, sv title, en title) then the windows and their changes."""
    columns = (*(Column(_t(report, sv, en)) for _col, sv, en in labels), *_window_columns(report))
    rows = tuple((*(str(r[col]) for col, _sv, _en in labels), str(r["count_display"]), str(r["previous_display"]),
                  str(r["last_year_display"]), _change(r["change_previous"], r["change_previous_pct"]),
                  _change(r["change_last_year"], r["change_last_year_pct"])) for r in frame.to_dict("records"))
    return Table(columns, rows)


def _section(report: Lagesbild, kind: str, sv: str, en: str, table: Table, note: str = "") -> Section:
    return Section(kind, _t(report, sv, en), table=table, note=note,
                   empty=_t(report, "Inget att visa för perioden.", "Nothing in the period."))


def _kind_totals(report: Lagesbild) -> Section:
    return _section(report, "kind_totals", "Nyckeltal per källa", "Key figures per source",
                    _figure_table(report, report.kind_totals, [("kind_label", "Källa", "Source")]))


def _key_figures(report: Lagesbild) -> Section:
    return _section(report, "key_figures", "Nyckeltal per källa och typ", "Key figures per source and type",
                    _figure_table(report, report.key_figures, [("kind_label", "Källa", "Source"),
                                                               ("group_label", "Typ", "Type")]))


def _limits_note(report: Lagesbild) -> str:
    """How the status is computed and the gul/orange/röd limits of every indicator, in the report's language."""
    decimal = "," if report.lang == "sv" else "."
    limits = "; ".join(f"{i.sv if report.lang == 'sv' else i.en} " + "/".join(
        f"{report.thresholds[i.key][lv]:g}".replace(".", decimal) for lv in ("gul", "orange", "rod"))
        for i in INDICATORS)
    return f"{report.status_note} {_t(report, 'Gränser för gul/orange/röd: ', 'Limits for yellow/orange/red: ')}" \
        + limits


def _area_status(report: Lagesbild) -> Section:
    records = report.area_status.to_dict("records")
    table = Table((Column(_t(report, "Område", "Area")), Column(_t(report, "Nivå", "Level")),
                   Column(_t(report, "Varför", "Why"))),
                  tuple((str(r["area_name"]), str(r["level_label"]), str(r["reasons"])) for r in records),
                  marks=tuple(str(r["level"]) for r in records))
    return _section(report, "area_status", "Områdesstatus", "Area status", table, _limits_note(report))


def _trends(report: Lagesbild) -> Section:
    worse = report.trends[report.trends["area_score"] > 0]
    return _section(report, "trends", "Områden där trenden går åt fel håll", "Areas where trends go the wrong way",
                    _figure_table(report, worse, [("area_name", "Område", "Area"), ("kind_label", "Källa", "Source")]))


def _top_places(report: Lagesbild) -> Section:
    t = lambda sv, en: _t(report, sv, en)  # noqa: E731
    table = Table((Column(t("Nr", "No."), numeric=True), Column(t("Område", "Area")),
                   Column(t("Antal", "Count"), numeric=True), Column(t("Vanligast", "Most common"))),
                  tuple((str(r["rank"]), str(r["area_name"]), str(r["count_display"]), str(r["main"]))
                        for r in report.top_places.to_dict("records")))
    return _section(report, "top_places", "Topplatser (rutor 250 m)", "Top places (250 m cells)", table)


def _repeat_places(report: Lagesbild) -> Section:
    t = lambda sv, en: _t(report, sv, en)  # noqa: E731
    table = Table((Column(t("Kategori", "Category")), Column(t("Rapporter", "Reports"), numeric=True),
                   Column(t("Tillfällen", "Occasions"), numeric=True), Column(t("Senast", "Last"))),
                  tuple((str(r["category"]), str(r["n_reports"]), str(r["n_occasions"]), str(r["last_at"]))
                        for r in report.repeat_places.to_dict("records")))
    return _section(report, "repeat_places", "Återkommande platser (senaste året)", "Repeat places (last year)",
                    table)


def _open_actions(report: Lagesbild) -> Section:
    t = lambda sv, en: _t(report, sv, en)  # noqa: E731
    table = Table((Column(t("Åtgärd", "Action")), Column(t("Ansvarig", "Responsible")), Column(t("Status", "Status")),
                   Column(t("Planerad", "Planned")), Column(t("Försenad", "Overdue"))),
                  tuple((str(r["what"]), str(r["responsible_label"]), str(r["status_label"]), _text(r["planned_date"]),
                         t(f"ja, {r['days_overdue']} d", f"yes, {r['days_overdue']} d") if r["overdue"] else "")
                        for r in report.open_actions.to_dict("records")))
    return _section(report, "open_actions", "Öppna åtgärder", "Open actions", table,
                    t(f"Försenad per {report.today}: planerat datum passerat och inte klar.",
                      f"Overdue as of {report.today}: planned date passed and not done."))


def _partner_figures(report: Lagesbild) -> Section:
    table = _figure_table(report, report.partner_figures, [("area_name", "Område", "Area"),
                                                           ("category_label", "Kategori", "Category")])
    return _section(report, "partner_figures", "EST-rapporter från partner (granskade) per område",
                    "Partners' EST reports (reviewed) per area", table,
                    _t(report, "Endast godkända rapporter från polis, bostadsbolag, väktare och räddningstjänst.",
                       "Approved reports from police, housing companies, security guards and fire and rescue only."))


def _decision_row(r: dict[str, Any]) -> tuple[str, ...]:
    place = " – ".join(x for x in (str(r["area_name"]), str(r["place"] or "")) if x)
    follow = f"{r['status_label']}{': ' + str(r['followup']) if r['followup'] else ''}"
    return (str(r["week"]), str(r["priority"]), place, str(r["decision"]), str(r["owner"]), _text(r["due_date"]),
            follow)


def _decisions(report: Lagesbild) -> Section:
    t = lambda sv, en: _t(report, sv, en)  # noqa: E731
    table = Table((Column(t("Vecka", "Week")), Column(t("Prio", "Priority"), numeric=True),
                   Column(t("Område/plats", "Area/place")), Column(t("Beslut", "Decision")),
                   Column(t("Ansvarig", "Owner")), Column(t("Datum", "Date")), Column(t("Uppföljning", "Follow-up"))),
                  tuple(_decision_row(r) for r in report.decisions.to_dict("records")))
    return _section(report, "decisions", "EST-mötets beslut om insats", "The EST meeting's decisions", table)


def _done(report: Lagesbild) -> Section:
    t = lambda sv, en: _t(report, sv, en)  # noqa: E731
    table = Table((Column(t("Vad", "What")), Column(t("Status", "Status")), Column(t("Antal", "Count"), numeric=True)),
                  tuple((t("Fynd", "Findings") if r["kind"] == "finding" else t("Åtgärder", "Actions"),
                         str(r["status_label"]), str(r["count_display"]))
                        for r in report.done_summary.to_dict("records")))
    return _section(report, "done", "Genomfört under perioden", "Done in the period", table)


_ANALYSIS_KINDS = ("analysis_effect", "analysis_accuracy", "analysis_emerging")


def _analysis(report: Lagesbild) -> list[Section]:
    """The analysis section (#17, ``lagesbild.analysis_section``): whether the actions helped, how far the
    hot-spot map can be trusted and the emerging hot spots, each table a section of its own kind."""
    if report.analysis_tables and len(report.analysis_tables) != len(_ANALYSIS_KINDS):
        msg = f"the analysis section has {len(report.analysis_tables)} tables, the report knows {len(_ANALYSIS_KINDS)}"
        raise ValueError(msg)
    return [Section(kind, title, table=Table(tuple(Column(h) for h in headers),
                                             tuple(tuple(str(c) for c in row) for row in rows)), note=note,
                    empty=_t(report, "Inget att visa.", "Nothing to show."))
            for kind, (title, headers, rows, note) in zip(_ANALYSIS_KINDS, report.analysis_tables, strict=False)]


# The table sections in the order the report prints them.
TABLE_SECTIONS: tuple[Callable[[Lagesbild], Section], ...] = (
    _kind_totals, _key_figures, _area_status, _trends, _top_places, _repeat_places, _open_actions,
    _partner_figures, _decisions, _done)


def _all_sections(report: Lagesbild) -> list[Section]:
    return [*(build(report) for build in TABLE_SECTIONS), *_analysis(report)]


def tables(report: Lagesbild) -> list[tuple[str, list[str], list[list[str]], str]]:
    """The report's tables as (title, headers, rows, note), all text; what both renderers print."""
    out = []
    for section in _all_sections(report):
        assert section.table is not None
        out.append((section.title, section.table.headers, [list(r) for r in section.table.rows], section.note))
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


def lagesbild_document(report: Lagesbild, chart: bytes, mapimg: bytes) -> Document:
    """The lägesbild as a ``Document``: the header lines and notes, the chart, the map (on its own PDF page)
    and the tables; what ``lagesbild_html`` and ``lagesbild_pdf`` render."""
    t = lambda sv, en: _t(report, sv, en)  # noqa: E731
    figures = (
        Section("overview", t("Översikt", "Overview"), figure=Figure(chart, t("Diagram över nyckeltal",
                                                                             "Chart of key figures"))),
        Section("map", t("Karta över perioden", "Map of the period"), figure=Figure(mapimg, t("Karta", "Map"), 0.95),
                new_page=True),
    )
    return Document("lagesbild", report.lang, report.title, report.title, tuple(_header_lines(report)),
                    tuple(report.notes), (*figures, *_all_sections(report)),
                    mark_colours=LEVEL_COLOURS)


def _images(report: Lagesbild, say: Progress) -> tuple[bytes, bytes]:
    say(0.1, "diagram")
    chart = chart_png(report)
    say(0.4, "karta")
    return chart, map_png(report)


def lagesbild_html(report: Lagesbild, progress: Progress | None = None) -> str:
    """The lägesbild as one self-contained HTML page (inline CSS, images as base64, all text escaped)."""
    say = progress or (lambda _f, _m: None)
    doc = lagesbild_document(report, *_images(report, say))
    say(0.8, "tabeller")
    page = document_html(doc)
    say(1.0, "klart")
    return page


def lagesbild_pdf(report: Lagesbild, path: Path | str, progress: Progress | None = None) -> Path:
    """Write the lägesbild as a PDF (A4, DejaVu Sans embedded, chart and map as images)."""
    say = progress or (lambda _f, _m: None)
    doc = lagesbild_document(report, *_images(report, say))
    say(0.7, "pdf")
    out = document_pdf(doc, path)
    say(1.0, "klart")
    return out
