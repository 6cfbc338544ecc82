"""The report document model and its renderers (issue 13): templates with autoescape, styling by explicit kinds
and marks (not by a translated title), and one model behind the HTML and the PDF. No store: fast."""

from __future__ import annotations

import io
import re
import subprocess
import zlib
from pathlib import Path

import pytest
from PIL import Image
from report_support import ReportPage

from trygghetskarta.lagesbild import document
from trygghetskarta.lagesbild.document import Column, Document, Figure, Photo, Section, Table

HOSTILE = '<script>alert(1)</script> & "quoted" <img src=x onerror=alert(2)>'


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), "#1565c0").save(buf, format="PNG")
    return buf.getvalue()


def _doc(kind: str = "lagesbild", text: str = "Bro", mark: str = "rod", title: str = "Områdesstatus",
         colours: dict[str, str] | None = None) -> Document:
    table = Table((Column(text), Column("Antal", numeric=True)), ((text, "12"), ("Kungsängen", "<5")),
                  marks=(mark, None))
    return Document(kind, "sv", text, text, meta=(text,), notes=(text,), sections=(
        Section("overview", text, figure=Figure(_png(), text)),
        Section("area_status", title, table=table, note=text),
        Section("done", "Genomfört", table=Table((Column("Vad"),), ()), empty="Inget att visa."),
    ), mark_colours=colours or {})


def test_the_templates_escape_every_text_field_and_load_nothing() -> None:
    assert document.environment().autoescape is True
    page = document.document_html(_doc(text=HOSTILE, mark='x" onmouseover="alert(3)'))
    parsed = ReportPage(page)
    # the hostile text is shown as text everywhere it was put, and no tag or attribute of it exists
    assert "script" not in parsed.tags and parsed.tags.count("img") == 1  # the figure only
    # the title, heading, meta line, note, figure section title, column heading, cell and section note
    assert "".join(parsed.text).count(HOSTILE) == 8
    assert "<script" not in page and "<img src=x" not in page
    assert 'class="lvl lvl-x&#34; onmouseover=&#34;alert(3)"' in page  # the quote is escaped in the attribute
    assert "//" not in page.replace("://", "")  # no URL anywhere (the data: URI has none)


def test_styling_follows_the_section_kind_and_marks_not_the_title() -> None:
    for title in ("Områdesstatus", "Area status", "Något annat"):
        page = document.document_html(_doc(title=title, colours={"rod": "#c62828"}))
        parsed = ReportPage(page)
        assert parsed.marks["area_status"] == ["rod", None]
        assert '<section class="section-area_status">' in page and ".lvl-rod{background:#c62828}" in page
        assert '<td>Bro</td>' not in page and '<td class="n">12</td>' in page  # numeric column, dot in the first
    assert ReportPage(document.document_html(_doc())).rows["done"] == []
    assert '<p class="note">Inget att visa.</p>' in document.document_html(_doc())


def test_a_table_refuses_rows_that_do_not_fit_its_columns() -> None:
    with pytest.raises(ValueError, match="row 0 has 1 cells for 2 columns"):
        Table((Column("a"), Column("b")), (("x",),))
    with pytest.raises(ValueError, match="photos need one entry per row"):
        Table((Column("a"),), (("x",),), photos=(None, None), photo_column=Column("Foto"))
    with pytest.raises(ValueError, match="unknown document kind"):
        document.document_html(Document("brev", "sv", "t", "t"))


def test_pdf_and_html_of_one_document_carry_the_same_text(tmp_path: Path) -> None:
    photo = tmp_path / "thumb.jpg"
    Image.new("RGB", (30, 30), "#c62828").save(photo, format="JPEG")
    table = Table((Column("Nr", width=6), Column("Kategori", width=27, wrap_at_slash=True), Column("Status", width=17)),
                  (("1", "Parkering/garage", "Verifierad"), ("2", "Klotter", "Ny")),
                  photos=(Photo(photo, "Parkering/garage"), None), photo_column=Column("Foto", width=16))
    doc = Document("protocol", "sv", "Vandring", "Protokoll: Vandring", meta=("Datum: 2026-09-01 18:30",),
                   sections=(Section("route_map", "Rutt och fynd", figure=Figure(_png(), "Karta", 0.5)),
                             Section("findings", "Fynd", table=table)))
    parsed = ReportPage(document.document_html(doc))
    assert [r[:-1] for r in parsed.rows["findings"]] == [list(r) for r in table.rows]  # the last cell: the photo
    assert parsed.tags.count("img") == 2  # the map and the one photo
    pdf = document.document_pdf(doc, tmp_path / "doc.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    for line in ("Protokoll: Vandring", "Datum: 2026-09-01 18:30", "Rutt och fynd", "Fynd"):
        assert line in text
    assert [ln.split() for ln in text.splitlines() if ln.strip().startswith(("1 ", "2 "))] == [
        ["1", "Parkering/", "garage", "Verifierad"], ["2", "Klotter", "Ny"]]


def _fill_colours(pdf: Path) -> set[bytes]:
    """The fill colours (``r g b rg``) the PDF's content streams set."""
    raw = pdf.read_bytes()
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", raw, flags=re.DOTALL)
    ops = b"".join(zlib.decompress(s) for s in streams if s[:1] == b"x")  # the zlib-compressed page contents
    return set(re.findall(rb"[\d.]+ [\d.]+ [\d.]+ rg", ops))


def test_a_marked_row_is_tinted_in_the_pdf_with_its_mark_colour(tmp_path: Path) -> None:
    tinted = _fill_colours(document.document_pdf(_doc(colours={"rod": "#c62828"}), tmp_path / "a.pdf"))
    plain = _fill_colours(document.document_pdf(_doc(), tmp_path / "b.pdf"))
    # #c62828 mixed with white (35 % of it): 235, 180, 180
    assert b"0.9216 0.7059 0.7059 rg" in tinted and b"0.9216 0.7059 0.7059 rg" not in plain
