"""The effect of an action as a report file (#17): JSON with every count and measure, or HTML and PDF from the
one document model the lägesbild and the walk protocol use (``lagesbild.document``, Jinja2 with autoescape)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trygghetskarta.analysis import effect as fx
from trygghetskarta.effect_service import _LABELS, _MEASURES, OUTPUT_FORMATS, ZONES, EffectReport
from trygghetskarta.errors import ValidationError
from trygghetskarta.lagesbild.document import Column, Document, Section, Table, document_html, document_pdf


def _fmt(value: Any, lang: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
        return text.replace(".", ",") if lang == "sv" else text
    return str(value)


def report_rows(report: EffectReport) -> tuple[list[list[str]], list[list[str]]]:
    """The counts table (zone, before, after) and the measures table (name, value) as text."""
    i = 0 if report.lang == "sv" else 1
    counts = [[_LABELS[z][i], report.counts_display[f"{z}_before"], report.counts_display[f"{z}_after"]]
              for z in ZONES]
    measures = [[label, _fmt(report.measures.get(key), report.lang)] for key, label in _MEASURES]
    for window in ("before", "after"):
        s = report.safer[window]
        label = ("Andel 'tryggare' i uppföljningar, " + ("före" if window == "before" else "efter")) if i == 0 else \
            f"Share 'feels safer' in follow-ups, {window}"
        share = "–" if s["share"] is None else f"{round(100 * s['share'])} % ({s['yes']}/{s['answered']})"
        measures.append([label, share])
    return counts, measures


def effect_document(report: EffectReport) -> Document:
    """The report as a ``Document``: the verdict first, the windows and zones under the heading, then the counts
    and the measures."""
    sv = report.lang == "sv"
    title = ("Effekt: " if sv else "Effect: ") + report.target
    w = report.windows
    meta = (
        f"{'Kontrollområde' if sv else 'Control area'}: {', '.join(report.controls)}",
        f"{'Datum' if sv else 'Date'}: {report.date} · {'före' if sv else 'before'} {w['before'][0]} – "
        f"{w['before'][1]} · {'efter' if sv else 'after'} {w['after'][0]} – {w['after'][1]}",
        f"{'Buffert' if sv else 'Buffer'}: {report.buffer_m:g} m · {'Slag' if sv else 'Kinds'}: "
        f"{', '.join(report.kinds)}",
        fx.FORMULA_VERSION,
    )
    counts, measures = report_rows(report)
    zone = Column("Område" if sv else "Area")
    sections = (
        Section("verdict", "Slutsats" if sv else "Verdict", note=report.verdict),
        Section("effect_counts", "Antal före och efter" if sv else "Counts before and after",
                table=Table((zone, Column("Före" if sv else "Before", numeric=True),
                             Column("Efter" if sv else "After", numeric=True)), tuple(tuple(r) for r in counts))),
        Section("effect_measures", "Mått" if sv else "Measures",
                table=Table((Column("Mått" if sv else "Measure"), Column("Värde" if sv else "Value", numeric=True)),
                            tuple(tuple(r) for r in measures))),
    )
    return Document("effect", report.lang, title, title, meta, tuple(report.notes), sections)


def effect_html(report: EffectReport) -> str:
    """One self-contained HTML page (all text escaped by the template)."""
    return document_html(effect_document(report))


def write_report(report: EffectReport, out: Path) -> Path:
    """Write ``report`` as JSON, HTML or PDF by the file's suffix."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        msg = f"--out must end in {', '.join(OUTPUT_FORMATS)}, got {out.name!r}"
        raise ValidationError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        out.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    elif suffix == ".html":
        out.write_text(effect_html(report), encoding="utf-8")
    else:
        document_pdf(effect_document(report), out)
    return out
