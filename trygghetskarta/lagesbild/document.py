"""A printed report as plain data, and its two renderers: HTML from Jinja2 templates and PDF with fpdf2.

The lägesbild (``lagesbild.render``) and the walk protocol (``protocol``) each turn their records into one
``Document``: a heading, meta lines, notes and ``Section``s, each with a figure (PNG) or a ``Table`` of text.
``document_html`` renders it with the template of its ``kind`` (which extends ``templates/base.html``, with
autoescape on, so every text from users or the database is escaped by Jinja2); ``document_pdf`` writes the
same document as an A4 PDF. Both read the same fields, so the two formats show the same figures.

Styling follows explicit fields, never a (translated) title: a section's ``kind`` is its CSS class
(``section-<kind>``), a numeric column is right-aligned (class ``n``), a row's ``mark`` is a coloured dot
(class ``lvl lvl-<mark>``). Nothing is loaded from outside: images are inline (base64) in the HTML and
embedded in the PDF, which embeds DejaVu Sans (shipped inside matplotlib) so å, ä and ö render.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import matplotlib as mpl
from markupsafe import Markup

# Section kinds of the lägesbild and of the walk protocol (each is a CSS class ``section-<kind>``).
LAGESBILD_SECTIONS = ("overview", "map", "kind_totals", "key_figures", "area_status", "trends", "top_places",
                      "repeat_places", "open_actions", "partner_figures", "decisions", "done",
                      # the analysis section (#17): did the actions help, can the map be trusted, emerging hot spots
                      "analysis_effect", "analysis_accuracy", "analysis_emerging")
PROTOCOL_SECTIONS = ("route_map", "findings", "followup")
EFFECT_SECTIONS = ("verdict", "effect_counts", "effect_measures")
DOCUMENT_KINDS = ("lagesbild", "protocol", "effect")


@dataclass(frozen=True)
class Column:
    """A table column: its heading, whether it holds figures (right-aligned in both formats), its relative width
    in the PDF (0: fitted to the text; a table whose columns all have one is laid out at those widths) and
    whether a label like "Parkering/garage" may wrap after its slash in the PDF."""

    title: str
    numeric: bool = False
    width: float = 0.0
    wrap_at_slash: bool = False


@dataclass(frozen=True)
class Photo:
    """A photo shown in a table row (a stored thumbnail file)."""

    path: Path
    alt: str
    mime: str = "image/jpeg"


@dataclass(frozen=True)
class Table:
    """Rows of text under ``columns``. ``marks`` (one per row, or empty) names a level whose dot stands before
    the row's first cell; ``photos`` (one per row, or None) fills a last column headed ``photo_column``."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    marks: tuple[str | None, ...] = ()
    photos: tuple[Photo | None, ...] | None = None
    photo_column: Column | None = None

    def __post_init__(self) -> None:
        for n, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                msg = f"table row {n} has {len(row)} cells for {len(self.columns)} columns"
                raise ValueError(msg)
        if self.marks and len(self.marks) != len(self.rows):
            msg = f"{len(self.marks)} marks for {len(self.rows)} rows"
            raise ValueError(msg)
        if self.photos is not None and (len(self.photos) != len(self.rows) or self.photo_column is None):
            msg = "photos need one entry per row and a photo_column"
            raise ValueError(msg)

    @property
    def headers(self) -> list[str]:
        return [c.title for c in self.columns]

    @property
    def fixed(self) -> bool:
        """Whether the PDF lays the table out at the columns' own widths."""
        cols = [*self.columns, *([self.photo_column] if self.photo_column is not None else [])]
        return all(c.width > 0 for c in cols)


@dataclass(frozen=True)
class Figure:
    """A PNG image (a chart or a map) and its text alternative; ``pdf_width`` is its share of the PDF's width."""

    png: bytes
    alt: str
    pdf_width: float = 1.0


@dataclass(frozen=True)
class Section:
    """One part of a report: a title over a figure or a table, with a note under it. ``empty`` is shown instead
    of a table without rows; ``new_page`` starts the section on a new PDF page."""

    kind: str
    title: str
    figure: Figure | None = None
    table: Table | None = None
    note: str = ""
    empty: str = ""
    new_page: bool = False


@dataclass(frozen=True)
class Document:
    """A whole report. ``kind`` (``lagesbild`` or ``protocol``) picks its HTML template; ``title`` is the HTML
    and PDF title, ``heading`` the first heading, ``meta`` the lines under it and ``notes`` the remarks after.
    ``mark_colours`` gives each row mark its ``#rrggbb`` colour: a dot in the HTML, a tinted first cell in the
    PDF."""

    kind: str
    lang: str
    title: str
    heading: str
    meta: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    mark_colours: Mapping[str, str] = field(default_factory=dict)

    def section(self, kind: str) -> Section:
        """The section of ``kind`` (KeyError if the document has none)."""
        for s in self.sections:
            if s.kind == kind:
                return s
        raise KeyError(kind)


# --- HTML --------------------------------------------------------------------------------------------------


def _data_uri(data: bytes | Path, mime: str) -> Markup:
    """``data:`` URI of an image (bytes, or a file that is read); base64 text needs no escaping."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    return Markup(f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}")  # noqa: S704 - base64 only


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The templates of ``trygghetskarta/templates`` with autoescape on for every template (all are HTML) and
    undefined names as errors."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("trygghetskarta", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["data_uri"] = _data_uri
    return env


def document_html(doc: Document) -> str:
    """The document as one self-contained HTML page, rendered with ``templates/<kind>.html``."""
    if doc.kind not in DOCUMENT_KINDS:
        msg = f"unknown document kind {doc.kind!r}; known: {', '.join(DOCUMENT_KINDS)}"
        raise ValueError(msg)
    return environment().get_template(f"{doc.kind}.html").render(doc=doc)


# --- PDF ---------------------------------------------------------------------------------------------------


def font_path(bold: bool = False) -> Path:
    """DejaVu Sans from matplotlib's own data folder (always installed with matplotlib)."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(mpl.get_data_path()) / "fonts" / "ttf" / name


def new_pdf(title: str) -> Any:
    """An A4 fpdf2 document with DejaVu Sans (regular and bold) embedded, so å/ä/ö render."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.add_font("DejaVu", "B", str(font_path(bold=True)))
    pdf.set_title(title)
    pdf.set_creator("trygghetskarta")
    return pdf


def _line(pdf: Any, height: float, text: str) -> None:
    from fpdf.enums import XPos, YPos

    pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def document_pdf(doc: Document, path: Path | str) -> Path:
    """Write the document as an A4 PDF: the heading, meta lines and notes, then each section's title and its
    figure or table (a table near the page's foot starts on the next page); a marked row's first cell is tinted
    with its mark's colour."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = new_pdf(doc.title)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    _line(pdf, 8, doc.heading)
    pdf.set_font("DejaVu", "", 9)
    for text in (*doc.meta, *doc.notes):
        _line(pdf, 5, text)
    tints = {mark: _tint(colour) for mark, colour in doc.mark_colours.items()}
    for section in doc.sections:
        _pdf_section(pdf, section, tints)
    pdf.output(str(path))
    return path


def _tint(colour: str, share: float = 0.35) -> tuple[int, int, int]:
    """``colour`` (#rrggbb) mixed with white, ``share`` of it: a background text stays readable on."""
    rgb = [int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    r, g, b = (round(255 - (255 - c) * share) for c in rgb)
    return r, g, b


def _pdf_section(pdf: Any, section: Section, tints: Mapping[str, tuple[int, int, int]]) -> None:
    """A section: its title, then its figure, its table (or the text for an empty one) and its note."""
    if section.new_page or (section.table is not None and pdf.get_y() > pdf.h - 50):
        pdf.add_page()
    else:
        pdf.ln(3)
    pdf.set_font("DejaVu", "B", 11)
    _line(pdf, 7, section.title)
    if section.figure is not None:
        pdf.image(io.BytesIO(section.figure.png), w=pdf.epw * section.figure.pdf_width)
    if section.table is not None and not section.table.rows:
        pdf.set_font("DejaVu", "", 8)
        _line(pdf, 5, section.empty)
        return
    if section.table is not None:
        if section.table.fixed:
            _fixed_table(pdf, section.table)
        else:
            _fitted_table(pdf, section.table, tints)
    if section.note:
        pdf.set_font("DejaVu", "", 7)
        _line(pdf, 4, section.note)


def _fitted_widths(pdf: Any, table: Table) -> list[float]:
    """Column widths: a numeric column as wide as its widest figure or heading (at least 18 mm); the text columns
    share the rest, each its longest word and the remainder by its longest text (a long reason gets room, a
    short name little)."""
    headers, rows = table.headers, table.rows
    widths = [0.0] * len(headers)
    text_cols = []
    for i, col in enumerate(table.columns):
        if col.numeric:
            widths[i] = max(18.0, pdf.get_string_width(headers[i]) + 3,
                            max(pdf.get_string_width(r[i]) for r in rows) + 3)
        else:
            text_cols.append(i)
    free = pdf.epw - sum(widths)
    cells = {i: [headers[i], *(r[i] for r in rows)] for i in text_cols}
    least = {i: max(pdf.get_string_width(w) for t in cells[i] for w in (t.split() or [""])) + 4 for i in text_cols}
    need = {i: min(max(pdf.get_string_width(t) for t in cells[i]) + 4, pdf.epw * 0.6) for i in text_cols}
    extra = free - sum(least.values())
    for i in text_cols:
        widths[i] = least[i] + extra * need[i] / sum(need.values()) if extra > 0 else free / len(text_cols)
    return widths


def _fitted_table(pdf: Any, table: Table, tints: Mapping[str, tuple[int, int, int]]) -> None:
    """A table whose columns are fitted to their text (8 pt); figures right-aligned, long text wraps; a marked
    row's first cell tinted."""
    from fpdf.fonts import FontFace

    pdf.set_font("DejaVu", "", 8)
    widths = _fitted_widths(pdf, table)
    with pdf.table(col_widths=widths, width=pdf.epw, text_align=["RIGHT" if c.numeric else "LEFT"
                                                                 for c in table.columns],
                   line_height=4.2, first_row_as_headings=True) as out:
        out.row(table.headers)
        for n, r in enumerate(table.rows):
            tint = tints.get(table.marks[n] or "") if table.marks else None
            if tint is not None:
                row = out.row()
                row.cell(r[0], style=FontFace(fill_color=tint))
                for cell in r[1:]:
                    row.cell(cell)
            else:
                out.row(list(r))


def _fixed_widths(pdf: Any, columns: list[Column]) -> tuple[float, ...]:
    """The columns' widths scaled to the page, each heading fitting its column on one line (the widest column
    gives up the room)."""
    scale = pdf.epw / sum(c.width for c in columns)
    sized = [c.width * scale for c in columns]
    pdf.set_font("DejaVu", "B", 7)
    for i, col in enumerate(columns):
        need = pdf.get_string_width(col.title) + 3.0
        if sized[i] < need:
            widest = max(range(len(sized)), key=lambda k: sized[k])
            sized[widest] -= need - sized[i]
            sized[i] = need
    return tuple(sized)


def _fixed_table(pdf: Any, table: Table) -> None:
    """A compact table (7.5 pt) at the columns' widths, with a photo column when the table has photos."""
    from fpdf.fonts import FontFace

    columns = [*table.columns, *([table.photo_column] if table.photo_column is not None else [])]
    widths = _fixed_widths(pdf, columns)
    heading = FontFace(family="DejaVu", emphasis="BOLD", size_pt=7, fill_color=(241, 241, 241))
    pdf.set_font("DejaVu", "", 7.5)
    align = ["RIGHT" if c.numeric else "LEFT" for c in columns]
    with pdf.table(col_widths=widths, width=pdf.epw, line_height=3.8, first_row_as_headings=True,
                   headings_style=heading, padding=1, text_align=align) as out:
        out.row([c.title for c in columns])
        for n, row in enumerate(table.rows):
            cells = out.row([c.replace("/", "/ ") if col.wrap_at_slash else c
                             for c, col in zip(row, table.columns, strict=True)])
            if table.photos is not None:
                photo = table.photos[n]
                if photo is not None:
                    cells.cell(img=str(photo.path), img_fill_width=True)
                else:
                    cells.cell("")
