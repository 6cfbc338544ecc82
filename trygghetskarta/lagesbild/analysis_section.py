"""The lägesbild's analysis section (#17, Lag (2023:196) §4): did what we did make a difference, and are the
places we point at really where the problems will be?

``analysis_tables`` gives (title, headers, rows, note) tables in the form ``render.tables`` prints, so the
renderer only appends them: the effect of the actions done in the year before the period's end (against a
suggested control area), how well the hot-spot map predicted the last six months, and the emerging hot spots.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from trygghetskarta import access
from trygghetskarta.access import Viewer
from trygghetskarta.errors import TrygghetskartaError
from trygghetskarta.store import Store

Table = tuple[str, list[str], list[list[str]], str]
MAX_ACTIONS = 5
MIN_WEEKS_AFTER = 8  # an action needs this many weeks after it before its effect is estimated


def _effect_rows(store: Store, viewer: Viewer | None, period_end: dt.date, lang: str) -> list[list[str]]:
    from trygghetskarta import effect_service as es

    if access.policy(viewer, "action").mode == "none":
        return []
    actions = store.read("action", viewer)
    if actions.empty:
        return []
    # compared as timestamps: a column with no done date at all is NaT throughout, and NaT never compares to a date
    done = pd.to_datetime(actions["done_date"].astype(object), errors="coerce")
    latest = pd.Timestamp(period_end - dt.timedelta(weeks=MIN_WEEKS_AFTER))
    first = pd.Timestamp(period_end - dt.timedelta(days=365))
    chosen = actions[(done.notna() & (done >= first) & (done <= latest)).to_numpy()]
    chosen = chosen.assign(done_day=[d.date() for d in done[chosen.index]]).sort_values(
        "done_day", ascending=False).head(MAX_ACTIONS)
    rows = []
    for row in chosen.itertuples():
        weeks = max(min(26, (period_end - row.done_day).days // 7), 1)
        try:
            target, label, _, area_ids = es.action_target(store, viewer, int(row.id))
            report = es.effect_report(store, viewer, target=target, target_label=label, date=row.done_day,
                                      weeks=weeks, kinds=["incident"],
                                      lang=lang, target_area_ids=area_ids, today=period_end + dt.timedelta(days=1))
        except TrygghetskartaError as exc:
            rows.append([f"nr {row.id}: {row.what}", str(row.done_day), "–", str(exc)])
            continue
        rows.append([report.target, str(report.date), ", ".join(report.controls), report.verdict])
    return rows


def analysis_tables(store: Store, viewer: Viewer | None, period_start: dt.date, period_end: dt.date, *,
                    audience: str, lang: str) -> list[Table]:
    """The section's tables for a period (ending ``period_end``) as the viewer may see it."""
    from trygghetskarta import hotspot_service as hs
    from trygghetskarta.analysis.effect import FORMULA_VERSION

    sv = lang == "sv"
    t = (lambda a, b: a) if sv else (lambda a, b: b)
    until = period_end + dt.timedelta(days=1)
    out: list[Table] = []
    rows = _effect_rows(store, viewer, period_end, lang)
    out.append((t("Analys: hjälpte åtgärderna?", "Analysis: did the actions help?"),
                [t("Åtgärd", "Action"), t("Datum", "Date"), t("Kontrollområde", "Control area"),
                 t("Bedömning", "Verdict")], rows,
                t(f"Åtgärder klara det senaste året (minst {MIN_WEEKS_AFTER} veckor före periodens slut), "
                  f"högst {MAX_ACTIONS}, räknat på partnerhändelser (fynd följer när vandringarna går) mot ett "
                  "föreslaget kontrollområde. ", f"Actions done in the last year (at least {MIN_WEEKS_AFTER} weeks "
                  f"before the period's end), at most {MAX_ACTIONS}, counted on partner incidents (findings follow "
                  "when walks take place) against a suggested control area. ") + FORMULA_VERSION))
    trust = hs.evaluate(store, viewer, method="kde", period="month", periods=6, window=6, until=until, lang=lang)
    summary = pd.DataFrame(trust["summary"])
    trows = [[f"{round(100 * r.share)} %", t("kärnskattning", "kernel density") if r.model == "method" else
              t("enkel räkning förra månaden", "simple count of last month"),
              f"{round(100 * r.hit_rate) if pd.notna(r.hit_rate) else 0} %",
              "–" if pd.isna(r.pai) else f"{r.pai:.1f}".replace(".", "," if sv else "."),
              "–" if pd.isna(r.rri) else f"{r.rri:.2f}".replace(".", "," if sv else ".")]
             for r in summary.itertuples()] if not summary.empty else []
    out.append((t("Analys: hur träffsäker är hot spot-kartan?", "Analysis: how far can the hot-spot map be trusted?"),
                [t("Andel av ytan", "Share of area"), t("Metod", "Method"), t("Träffar", "Hits"), "PAI", "RRI"],
                trows, trust["sentence"]))
    cells = hs.emerging(store, viewer, period="month", periods=12, until=until, lang=lang)
    summary_e = hs.emerging_summary(cells, lang)
    out.append((t("Analys: framväxande hot spots (12 månader)", "Analysis: emerging hot spots (12 months)"),
                [t("Klass", "Class"), t("Rutor (250 m)", "Cells (250 m)")],
                [[str(c), str(n)] for c, n in zip(summary_e["class"], summary_e["cells"], strict=True) if n],
                t("Gi* per månad med Mann–Kendall-trend; klasserna som i ArcGIS Pro:s Emerging Hot Spot Analysis.",
                  "Gi* per month with a Mann–Kendall trend; the classes of ArcGIS Pro's Emerging Hot Spot "
                  "Analysis.")))
    del audience, period_start  # partners' suppression happens in the services (viewer)
    return out
