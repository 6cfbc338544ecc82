"""Perceived safety beside reported events (#17): the police's trygghetsmätning, imported per year, shown next to
the events reported in each area, so the gap between felt insecurity and reports is visible.

``import_file`` reads a file in the import sandbox (``ingest/trygghetsmatning.py``), matches each sub-area to a
stored area by name, and writes in one transaction (or nothing, with ``dry_run``). ``beside_events`` gives one
row per survey area and year: the mean problem index over the questions, the highest question, and the events
reported in the matching area that year (findings and partner incidents), with counts under the privacy
threshold shown as ``<k`` to partner audiences.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trygghetskarta import access, schema, settings
from trygghetskarta import areas as areas_rule
from trygghetskarta.access import Viewer
from trygghetskarta.errors import PermissionDeniedError, ValidationError
from trygghetskarta.ingest import sandbox
from trygghetskarta.ingest import trygghetsmatning as tm_file
from trygghetskarta.ingest.vocab import fold
from trygghetskarta.store import Store

IMPORTERS = schema.PLANNER_ROLES


@dataclass
class TmImportResult:
    """What an import did: rows added, changed and already present; each refused row with its reason."""

    added: int = 0
    changed: int = 0
    same: int = 0
    rejected: int = 0
    rejections: pd.DataFrame = field(default_factory=pd.DataFrame)
    unmatched_areas: list[str] = field(default_factory=list)
    dry_run: bool = False
    report: Path | None = None

    def summary_line(self) -> str:
        """The import contract's closing line (DESIGN.md §6)."""
        line = f"accepted {self.added + self.changed}, rejected {self.rejected}, already present {self.same}"
        return line + (" (dry run: nothing written)" if self.dry_run else "")


def import_file(store: Store, path: str | Path, *, actor: Viewer | None = None, dry_run: bool = False,
                report: str | Path | None = None, name: str | None = None) -> TmImportResult:
    """Import a trygghetsmätning file (planners and administrators): valid rows written in one transaction, each
    bad row refused with file, row and reason; a second import of the same file adds nothing."""
    if actor is not None and actor.role not in IMPORTERS:
        msg = f"role {actor.role} may not import the trygghetsmätning (planerare or admin)"
        raise PermissionDeniedError(msg)
    path = Path(path)
    name = name or path.name
    plan = sandbox.run(tm_file.read_tm_file, path, name=name, file=name)
    areas = store.areas()
    by_name = {fold(str(n)): int(i) for i, n in zip(areas["id"], areas["name"], strict=True)}
    rows = plan.rows.copy()
    rows["area_id"] = [by_name.get(fold(a)) for a in rows["area_name"]]
    result = TmImportResult(rejected=plan.rejected_rows, rejections=plan.rejected, dry_run=dry_run,
                            unmatched_areas=sorted({a for a, i in zip(rows["area_name"], rows["area_id"], strict=True)
                                                    if i is None or pd.isna(i)}))
    if report is not None:
        result.report = plan.write_report(report)
    if rows.empty:
        return result
    if dry_run:
        existing = store.trygghetsmatning()
        keys = set(zip(existing["year"], existing["area_name"], existing["question"], strict=True))
        present = [(int(y), a, q) in keys for y, a, q in zip(rows["year"], rows["area_name"], rows["question"],
                                                             strict=True)]
        result.same = sum(present)
        result.added = len(rows) - result.same
        return result
    with store.write() as conn:
        result.added, result.changed, result.same = store.save_trygghetsmatning(
            conn, rows, file_name=name[:300], imported_by=actor.username if actor else "admin (lokal)")
        store.audit("import", actor, "trygghetsmatning", None,
                    {"file": name, "added": result.added, "changed": result.changed, "same": result.same,
                     "rejected": result.rejected}, conn=conn)
    return result


def _events_in_year(store: Store, viewer: Viewer | None, year: int, area_ids: list[int]) -> pd.Series:
    """Reported findings and partner incidents per area (rolled up over nested areas) in ``year``."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    nesting = areas_rule.nesting(store.areas())
    total = pd.Series(0, index=pd.Index(area_ids, dtype="int64"), dtype="int64")
    for kind, extra in (("finding", {}), ("incident", {"precisions": sorted(schema.HOTSPOT_PRECISIONS)})):
        if access.policy(viewer, kind).mode in ("none", "aggregate"):
            continue
        counts = store.count_by(kind, ["area_id"], viewer, start=start, end=end, **extra).dropna(subset=["area_id"])
        smallest = pd.Series(counts["count"].to_numpy(), index=counts["area_id"].astype("int64").to_numpy())
        rolled = nesting.roll_up(smallest.groupby(level=0).sum())
        total = total.add(rolled.reindex(total.index, fill_value=0), fill_value=0).astype("int64")
    return total


def beside_events(store: Store, viewer: Viewer | None = None, *, years: list[int] | None = None,
                  lang: str | None = None) -> pd.DataFrame:
    """One row per survey area and year: ``year``, ``area_name``, ``area_id``, ``questions``, ``mean_index``,
    ``top_question``, ``top_index``, ``events`` and ``events_display`` (``<k`` for partners under k), and
    ``events_per_index`` is deliberately not computed: the two measure different things, shown side by side."""
    lang = lang or settings.get("lang")
    survey = store.trygghetsmatning(years)
    columns = ["year", "area_name", "area_id", "questions", "mean_index", "top_question", "top_index", "events",
               "events_display"]
    if survey.empty:
        return pd.DataFrame(columns=columns)
    k = int(settings.get("privacy_k"))
    partner = viewer is not None and viewer.role in schema.PARTNER_ROLES
    out = []
    for (year, area_name), group in survey.groupby(["year", "area_name"], sort=True):
        top = group.loc[group["problem_index"].idxmax()]
        area_id = group["area_id"].dropna()
        out.append({"year": int(year), "area_name": str(area_name),
                    "area_id": int(area_id.iloc[0]) if len(area_id) else None, "questions": len(group),
                    "mean_index": round(float(group["problem_index"].mean()), 2), "top_question": str(top["question"]),
                    "top_index": float(top["problem_index"])})
    frame = pd.DataFrame(out)
    events: list[int | None] = []
    for year, group in frame.groupby("year", sort=False):
        ids = [int(a) for a in group["area_id"].dropna()]
        per_area = _events_in_year(store, viewer, int(year), ids) if ids else pd.Series(dtype="int64")
        events += [None if pd.isna(a) else int(per_area.get(int(a), 0)) for a in group["area_id"]]
    frame["events"] = pd.array(events, dtype="Int64")
    no_area = "inget område med det namnet" if lang == "sv" else "no area with that name"
    frame["events_display"] = [no_area if pd.isna(n) else (f"<{k}" if partner and n < k else str(int(n)))
                               for n in frame["events"]]
    if partner:  # the exact count under k is not handed to partner code either
        frame["events"] = frame["events"].where(frame["events"] >= k)
    return frame[columns]


def check_year(value: object) -> int:
    """A survey year from user input."""
    try:
        year = int(str(value))
    except ValueError:
        msg = f"not a year: {value!r}"
        raise ValidationError(msg) from None
    return year
