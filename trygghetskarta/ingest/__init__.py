"""Import of every partner format: read, detect the CRS, validate per row, write in one transaction.

``read_file`` parses and validates without writing (an ``ImportPlan``); ``import_file`` writes the
accepted rows through ``store.insert`` and returns an ``ImportResult`` whose ``summary_line()`` is the
CLI's last line. Rows without an external id get one from their content, so importing the same file
twice adds nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest.boundary import Municipality, municipality
from trygghetskarta.ingest.crs import CrsDecision, detect_crs
from trygghetskarta.ingest.fields import SUPPORTED_KINDS
from trygghetskarta.ingest.plan import REJECTION_COLUMNS, ImportPlan, read_file
from trygghetskarta.progress import Progress

if TYPE_CHECKING:
    from trygghetskarta.access import Viewer
    from trygghetskarta.store import Store



@dataclass
class ImportResult:
    """What an import did: rows written (``accepted``), rejected rows, rows already stored."""

    accepted: int
    rejected: int
    already_present: int
    report_path: Path | None
    plan: ImportPlan
    ids: list[int] = field(default_factory=list)
    dry_run: bool = False
    masked: int = 0

    @property
    def warnings(self) -> list[str]:
        return self.plan.warnings

    def summary_line(self) -> str:
        """``accepted N, rejected M, already present K`` (the CLI's last line)."""
        return f"accepted {self.accepted}, rejected {self.rejected}, already present {self.already_present}"


def _present_in_store(store: Store, plan: ImportPlan) -> int:
    """How many accepted rows the store already holds (for a dry run, which must not write)."""
    if plan.accepted.empty:
        return 0
    stored = store.read(plan.kind)
    if stored.empty or "external_id" not in stored.columns:
        return 0
    if plan.kind == "incident":
        have = set(zip(stored["source"].astype(str), stored["external_id"].astype(str), strict=True))
        keys = zip(plan.accepted["source"].astype(str), plan.accepted["external_id"].astype(str), strict=True)
    else:
        have = set(stored["external_id"].dropna().astype(str))
        keys = iter(plan.accepted["external_id"].astype(str))
    return sum(1 for k in keys if k in have)


def import_file(
    store: Store,
    path: str | Path,
    kind: str,
    *,
    crs: object = None,
    dry_run: bool = False,
    report: str | Path | None = None,
    municipality: object = None,
    defaults: dict[str, object] | None = None,
    actor: Viewer | None = None,
    progress: Progress | None = None,
    plan: ImportPlan | None = None,
) -> ImportResult:
    """Import ``path`` as ``kind`` into ``store`` in one transaction (nothing on ``dry_run``).

    ``report`` is where to write the rejection CSV (source_row, column, value, reason). ``plan`` is the
    result of ``read_file`` for the same file and arguments when the caller has already read it.
    """
    def step(what: str, share: float) -> None:
        if progress is not None:
            progress(share, what)

    step(f"reading {Path(path).name}", 0.0)
    if plan is None:
        plan = read_file(path, kind, crs=crs, municipality=municipality, defaults=defaults)
    step(f"{len(plan.accepted)} rows valid, {plan.rejected_rows} rejected", 0.6)
    report_path = plan.write_report(report) if report is not None else None
    if dry_run:
        present = _present_in_store(store, plan)
        step("dry run: nothing written", 1.0)
        return ImportResult(len(plan.accepted) - present, plan.rejected_rows, present, report_path, plan,
                            dry_run=True, masked=sum(plan.masked.values()))
    if plan.accepted.empty:
        step("nothing to write", 1.0)
        return ImportResult(0, plan.rejected_rows, 0, report_path, plan, masked=sum(plan.masked.values()))
    step(f"writing {len(plan.accepted)} rows", 0.7)
    written = store.insert(kind, plan.accepted, actor=actor)
    step("done", 1.0)
    return ImportResult(written.inserted, plan.rejected_rows, written.already_present, report_path, plan,
                        ids=list(written.ids), masked=sum(plan.masked.values()))


__all__ = [
    "REJECTION_COLUMNS",
    "SUPPORTED_KINDS",
    "CrsDecision",
    "ImportPlan",
    "ImportResult",
    "Municipality",
    "ValidationError",
    "detect_crs",
    "import_file",
    "municipality",
    "read_file",
]
