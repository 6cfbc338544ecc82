"""The partners' weekly EST report, end to end: submit (form or template import) → granskning (the planner
approves, corrects or returns each report) → sammanställning (only approved figures enter the lägesbild).
Also who has not reported this week (the reminder list) and the EST meeting's decisions (beslut om insats).

This service owns the rules and opens the write transactions; the store (``store/est.py``) only queries.
Every user-facing message names what is wrong and where; nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import shapely

from trygghetskarta import access, schema
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, ValidationError
from trygghetskarta.ingest import est_report as est_file
from trygghetskarta.ingest import sandbox
from trygghetskarta.ingest.est_report import parse_week, week_bounds, week_of
from trygghetskarta.progress import Progress
from trygghetskarta.scrub import scrub_text
from trygghetskarta.store.actions import actor_name
from trygghetskarta.timeutil import local_today, now_utc

if TYPE_CHECKING:
    from trygghetskarta.access import Viewer
    from trygghetskarta.store import Store

MAX_LINES = 500  # lines in one form submission
EXPECTED_SETTING = "est_reporters"  # admin setting: organisations expected to report every week

__all__ = [
    "EstImportResult", "add_decision", "approve", "correct", "current_week", "decisions", "follow_up_decision",
    "import_file", "list_reports", "missing_reporters", "parse_week", "report_lines", "resubmit",
    "return_report", "submit", "validate_lines", "week_bounds", "week_of", "write_template",
]


def current_week(today: dt.date | None = None) -> str:
    """The ISO week of ``today`` (default: today in the kommun's time zone)."""
    return week_of(today if today is not None else local_today())


def _organisation_for(actor: Viewer | None, organisation: str | None) -> str:
    """The organisation a report is filed for: a partner's own; a planner/admin must name one."""
    policy = access.est_report_policy(actor)
    if not policy.submit:
        if actor is not None and actor.role in schema.PARTNER_ROLES:
            msg = f"{actor.username} has no organisation; an administrator must set one before reporting"
        else:
            msg = f"role {actor.role if actor else 'admin'} may not file EST reports"
        raise PermissionDeniedError(msg)
    if organisation is not None:
        organisation = est_file.resolve_organisation(organisation)
    if policy.organisations is not None:
        own = sorted(policy.organisations)
        if organisation is None:
            organisation = own[0]
        if organisation not in policy.organisations:
            msg = f"{actor_name(actor)} reports for {', '.join(own)}, not {organisation}"
            raise PermissionDeniedError(msg)
        return organisation
    if organisation is None:
        msg = "say which organisation the report is for (--organisation PARTY)"
        raise ValidationError(msg)
    return organisation


def _require_review(actor: Viewer | None) -> None:
    if not access.est_report_policy(actor).review:
        msg = f"role {actor.role if actor else 'admin'} may not review EST reports; planners and admins do"
        raise PermissionDeniedError(msg)


# --- lines -------------------------------------------------------------------------------------------------


def _normalise_line(store: Store, raw: dict[str, Any], where: str, week: str,
                    area_table: dict[str, int], names: list[str]) -> dict[str, Any]:
    """One line from the form or a correction, validated: category (key/label/type), area (id/name),
    count >= 1, optional time inside the week, place, position in the kommun, comment."""
    def fail(exc: ValidationError) -> ValidationError:
        return ValidationError(f"{where}: {exc}")

    try:
        category, typ = est_file.resolve_category(raw.get("category") or raw.get("type") or "")
        if raw.get("type") and raw.get("category"):
            detail = str(raw["type"])
            if detail in schema.INCIDENT_TYPE and schema.EST_CATEGORY_OF_TYPE[detail] == category:
                typ = detail
        area = raw.get("area_id", raw.get("area"))
        area_id = est_file.resolve_area(area, area_table, names)
        count = raw.get("count", 1)
        if count is None or (not isinstance(count, str) and pd.isna(count)) or str(count).strip() == "":
            count = 1
        try:
            number = float(str(count).replace(",", ".").strip())
        except ValueError:
            number = float("nan")
        if not (number >= 1 and number.is_integer() and number <= 100_000):
            msg = f"count must be a whole number from 1 to 100000, got {count!r}"
            raise ValidationError(msg)
        occurred = raw.get("occurred_at")
        if occurred is not None and not (not isinstance(occurred, dt.datetime) and pd.isna(occurred)):
            occurred = pd.Timestamp(occurred)
            if occurred.tzinfo is None:
                occurred = occurred.tz_localize(est_file._tz())
            occurred = occurred.tz_convert("UTC").to_pydatetime()
            if week_of(occurred.astimezone(est_file._tz()).date()) != week:
                msg = f"the time {occurred.astimezone(est_file._tz()):%Y-%m-%d %H:%M} does not lie in week {week}"
                raise ValidationError(msg)
        else:
            occurred = None
        lon, lat = raw.get("lon"), raw.get("lat")
        lon = None if lon is None or pd.isna(lon) else float(lon)
        lat = None if lat is None or pd.isna(lat) else float(lat)
        est_file.check_position(lon, lat)
    except ValidationError as exc:
        raise fail(exc) from None
    place = str(raw.get("place") or "").strip()[:300]
    return {"area_id": area_id, "category": category, "type": typ, "count": int(number), "occurred_at": occurred,
            "place": scrub_text(place).text or None, "lon": lon, "lat": lat,
            "comment": scrub_text(str(raw.get("comment") or "").strip()[:2000]).text}


def _row(line: dict[str, Any], report_id: int, organisation: str, week: str, by: str,
         external_id: str | None) -> dict[str, Any]:
    start, end = week_bounds(week)
    point = None if line["lon"] is None else shapely.Point(line["lon"], line["lat"])
    return {"report_id": report_id, "organisation": organisation, "area_id": line["area_id"],
            "period_start": start, "period_end": end, "type": line["type"], "category": line["category"],
            "count": line["count"], "comment": line["comment"], "reported_by": by, "created_at": now_utc(),
            "occurred_at": line["occurred_at"], "place": line["place"], "lon": line["lon"], "lat": line["lat"],
            "geom": point, "external_id": external_id}


def _lines(store: Store, raw_lines: Sequence[dict[str, Any]], week: str) -> list[dict[str, Any]]:
    if len(raw_lines) > MAX_LINES:
        msg = f"a report holds at most {MAX_LINES} lines, got {len(raw_lines)}"
        raise ValidationError(msg)
    areas = store.areas()
    table, names = est_file.area_lookup(areas), [str(n) for n in areas["name"]]
    return [_normalise_line(store, raw, f"line {n}", week, table, names) for n, raw in enumerate(raw_lines, 1)]


def validate_lines(store: Store, lines: Sequence[dict[str, Any]], week: str) -> list[dict[str, Any]]:
    """The lines as they would be stored (labels resolved, text scrubbed); ValidationError names the line."""
    return _lines(store, lines, parse_week(week))


# --- submit ------------------------------------------------------------------------------------------------


def submit(store: Store, actor: Viewer | None, week: str, lines: Sequence[dict[str, Any]], *,
           organisation: str | None = None, comment: str = "", client_id: str | None = None) -> int:
    """File one weekly report from the form (status inskickad); returns its id.

    ``lines`` are dicts with ``category`` (key, label or detailed type), ``area_id`` or ``area`` (name),
    ``count``, optional ``occurred_at``, ``place``, ``lon``/``lat``, ``comment``. No lines means "nothing to
    report this week", which counts as having reported. ``client_id`` makes a double submit store one report.
    """
    org = _organisation_for(actor, organisation)
    week = parse_week(week)
    normalised = _lines(store, lines, week)
    start, end = week_bounds(week)
    ids: list[str | None] = [None] * len(normalised)
    if client_id:
        ids = [f"form:{client_id}:{n}" for n in range(len(normalised))]
        already = store.est_report_of_line(f"form:{client_id}:0") if ids else None
        if already is not None:  # the same submit again (a double tap): the report stored the first time
            return already
    when = now_utc()
    by = actor_name(actor)
    with store.write() as conn:
        report_id = store.est_insert_report(conn, {
            "organisation": org, "week": week, "week_start": start, "week_end": end, "status": "inskickad",
            "source": "formular", "file_name": None, "comment": scrub_text(comment.strip()[:2000]).text,
            "submitted_by": by, "submitted_at": when, "created_at": when, "updated_at": when})
        rows = [_row(line, report_id, org, week, by, ids[n]) for n, line in enumerate(normalised)]
        store.est_insert_lines(conn, rows)
        store.est_status_event(conn, report_id, by, None, "inskickad", "", when)
        store.audit("est_report_submit", actor, "est_report", report_id,
                    {"organisation": org, "week": week, "lines": len(rows), "source": "formular"}, conn=conn)
    return report_id


@dataclass
class EstImportResult:
    """What an import of a filled-in template did."""

    accepted: int
    rejected: int
    already_present: int
    report_ids: list[int] = field(default_factory=list)
    rejections: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[str] = field(default_factory=list)
    report_path: Path | None = None
    dry_run: bool = False

    def summary_line(self) -> str:
        return f"accepted {self.accepted}, rejected {self.rejected}, already present {self.already_present}"


def _importable_lines(lines: list[dict[str, Any]], allowed: frozenset[str] | None, rejections: pd.DataFrame,
                      name: str, actor: Viewer | None) -> list[dict[str, Any]]:
    """The read lines the importer may write (a row for another organisation is refused into ``rejections``),
    scrubbed, each with a stable ``external_id`` (the n-th equal line of a week gets its own)."""
    out = []
    for line in lines:
        if allowed is not None and line["organisation"] not in allowed:
            rejections.loc[len(rejections)] = [line["source_row"], "organisation", line["organisation"],
                                               f"{name} row {line['source_row']}: {actor_name(actor)} may not report "
                                               f"for {line['organisation']}"]
            continue
        line["comment"] = scrub_text(line["comment"][:2000]).text
        line["place"] = scrub_text(line["place"]).text if line["place"] else None
        out.append(line)
    seen: dict[tuple[str, str, str], int] = {}
    for line in out:
        base = est_file.line_id(line["organisation"], line["week"], line, 0)
        nth = seen.get((line["organisation"], line["week"], base), 0)
        seen[(line["organisation"], line["week"], base)] = nth + 1
        line["external_id"] = base if nth == 0 else est_file.line_id(line["organisation"], line["week"], line, nth)
    return out


def _write_imported(store: Store, actor: Viewer | None, new: list[dict[str, Any]], name: str,
                    rejected_rows: int) -> tuple[int, list[int]]:
    """Write the new lines as one submitted report per organisation and week, in one transaction; returns the
    lines written and the reports' ids."""
    by = actor_name(actor)
    when = now_utc()
    report_ids: list[int] = []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for line in new:
        groups.setdefault((line["organisation"], line["week"]), []).append(line)
    with store.write() as conn:
        # re-checked inside the transaction: a concurrent import of the same file adds nothing either
        again = store.est_present_external_ids((line["external_id"] for line in new), conn=conn)
        for (org, week), candidates in sorted(groups.items()):
            group = [line for line in candidates if line["external_id"] not in again]
            if not group:
                continue
            start, end = week_bounds(week)
            report_id = store.est_insert_report(conn, {
                "organisation": org, "week": week, "week_start": start, "week_end": end, "status": "inskickad",
                "source": "import", "file_name": name, "comment": "", "submitted_by": by,
                "submitted_at": when, "created_at": when, "updated_at": when})
            store.est_insert_lines(conn, [_row(line, report_id, org, week, by, line["external_id"])
                                          for line in group])
            store.est_status_event(conn, report_id, by, None, "inskickad", f"import {name}", when)
            report_ids.append(report_id)
        written = sum(1 for line in new if line["external_id"] not in again)
        store.audit("est_report_import", actor, "est_report", None,
                    {"file": name, "accepted": written, "rejected": rejected_rows, "reports": report_ids},
                    conn=conn)
    return written, report_ids


def import_file(store: Store, path: str | Path, *, actor: Viewer | None = None, organisation: str | None = None,
                dry_run: bool = False, report: str | Path | None = None, municipality: Any = None,
                progress: Progress | None = None, name: str | None = None) -> EstImportResult:
    """Import a filled-in template: valid rows accepted, each bad row refused with file, row and reason, all
    written in one transaction; lines already stored (same content) are counted and skipped. The new lines
    of each organisation and week become one submitted report."""
    def step(what: str, share: float) -> None:
        if progress is not None:
            progress(share, what)

    path = Path(path)
    name = (name or path.name)[:300]  # the file's name as the user knows it (an upload is stored under another)
    policy = access.est_report_policy(actor)
    if not policy.submit:
        _organisation_for(actor, None)  # says why not
    # a partner imports for its own organisation; a planner/admin names one or the file has a column
    fixed_org = (_organisation_for(actor, organisation)
                 if organisation is not None or policy.organisations is not None else None)
    step(f"reading {name}", 0.0)
    # read like every import: in the sandbox's child, within the time and memory budget (SECURITY.md)
    plan = sandbox.run(est_file.read_est_file, path, organisation=fixed_org, areas=store.areas(),
                       municipality=municipality, name=name, file=name)
    step(f"{len(plan.lines)} rows valid, {plan.rejected_rows} rejected", 0.6)
    report_path = plan.write_report(report) if report is not None else None
    rejections = plan.rejected.copy()
    # a row for another organisation than the importer's own is refused, not written
    lines = _importable_lines(plan.lines, policy.organisations, rejections, name, actor)
    rejected_rows = int(rejections["source_row"].nunique()) if len(rejections) else 0
    present = store.est_present_external_ids(line["external_id"] for line in lines)
    new = [line for line in lines if line["external_id"] not in present]
    if dry_run or not new:
        step("dry run: nothing written" if dry_run else "nothing new to write", 1.0)
        return EstImportResult(len(new) if dry_run else 0, rejected_rows, len(lines) - len(new), [], rejections,
                               plan.warnings, report_path, dry_run)
    step(f"writing {len(new)} rows", 0.7)
    written, report_ids = _write_imported(store, actor, new, name, rejected_rows)
    step("done", 1.0)
    return EstImportResult(written, rejected_rows, len(lines) - written, report_ids, rejections, plan.warnings,
                           report_path)


def write_template(path: str | Path, store: Store | None = None, week: str | None = None) -> Path:
    """The template the app hands out (CSV or XLSX); with a store, the XLSX lists its areas."""
    return est_file.write_template(path, store.areas() if store is not None else None, week)


# --- review ------------------------------------------------------------------------------------------------


def _locked_report(store: Store, conn: Any, report_id: int) -> dict[str, Any]:
    """The report's row, locked for this transaction (PostGIS), or NotFoundError."""
    row = store.est_report_for_update(conn, report_id)
    if row is None:
        msg = f"no EST report with id {report_id}"
        raise NotFoundError(msg)
    return row


def _transition(store: Store, actor: Viewer | None, report_id: int, to: str, comment: str,
                reason: str | None = None) -> None:
    if to == "returnerad" and not (reason or "").strip():
        msg = "returning a report needs a reason (--reason TEXT)"
        raise ValidationError(msg)
    by = actor_name(actor)
    when = now_utc()
    with store.write() as conn:
        row = _locked_report(store, conn, report_id)
        if to not in schema.EST_REPORT_TRANSITIONS[row["status"]]:
            msg = (f"report {report_id} is {schema.label('est_report_status', row['status'])}; it cannot become "
                   f"{schema.label('est_report_status', to)}")
            raise ValidationError(msg)
        values: dict[str, Any] = {"status": to, "updated_at": when}
        if to in ("godkand", "returnerad"):
            values.update(reviewed_by=by, reviewed_at=when)
        if to == "returnerad":
            values["reason"] = scrub_text(str(reason).strip()[:2000]).text
        store.est_update_report(conn, report_id, values)
        store.est_status_event(conn, report_id, by, row["status"], to, values.get("reason") or comment, when)
        store.audit(f"est_report_{to}", actor, "est_report", report_id,
                    {"from": row["status"], "to": to, "reason": values.get("reason")}, conn=conn)


def approve(store: Store, actor: Viewer | None, report_id: int, comment: str = "") -> None:
    """The planner approves a submitted report: its figures enter the shared lägesbild."""
    _require_review(actor)
    _transition(store, actor, int(report_id), "godkand", comment)


def return_report(store: Store, actor: Viewer | None, report_id: int, reason: str) -> None:
    """The planner returns a report to its organisation with a reason (it leaves the lägesbild)."""
    _require_review(actor)
    _transition(store, actor, int(report_id), "returnerad", "", reason=reason)


def correct(store: Store, actor: Viewer | None, report_id: int, lines: Sequence[dict[str, Any]],
            comment: str = "") -> None:
    """The planner corrects a submitted report's lines before approving it (the old lines are audited)."""
    _require_review(actor)
    _replace_lines(store, actor, int(report_id), lines, comment, allowed_from={"inskickad"}, to="inskickad",
                   what="correct")


def resubmit(store: Store, actor: Viewer | None, report_id: int, lines: Sequence[dict[str, Any]],
             comment: str = "") -> None:
    """The reporting organisation corrects a returned report and sends it in again."""
    policy = access.est_report_policy(actor)
    if not policy.submit:
        msg = f"role {actor.role if actor else 'admin'} may not file EST reports"
        raise PermissionDeniedError(msg)
    _replace_lines(store, actor, int(report_id), lines, comment, allowed_from={"returnerad"}, to="inskickad",
                   what="resubmit")


def _replace_lines(store: Store, actor: Viewer | None, report_id: int, lines: Sequence[dict[str, Any]],
                   comment: str, *, allowed_from: set[str], to: str, what: str) -> None:
    current = store.est_reports(actor, ids=[report_id])
    if current.empty:
        msg = f"no EST report with id {report_id}"
        raise NotFoundError(msg)
    week = str(current["week"].iloc[0])
    normalised = _lines(store, lines, week)
    by = actor_name(actor)
    when = now_utc()
    with store.write() as conn:
        row = _locked_report(store, conn, report_id)
        if row["status"] not in allowed_from:
            msg = (f"report {report_id} is {schema.label('est_report_status', row['status'])}; only a "
                   f"{' or '.join(schema.label('est_report_status', s) for s in sorted(allowed_from))} report "
                   f"can be changed here")
            raise ValidationError(msg)
        before = store.est_report_lines(None, [report_id], conn=conn)
        store.est_delete_lines(conn, report_id)
        store.est_insert_lines(conn, [_row(line, report_id, row["organisation"], row["week"], by, None)
                                      for line in normalised])
        values: dict[str, Any] = {"status": to, "updated_at": when}
        if comment.strip():
            values["comment"] = scrub_text(comment.strip()[:2000]).text
        store.est_update_report(conn, report_id, values)
        store.est_status_event(conn, report_id, by, row["status"], to, what, when)
        store.audit(f"est_report_{what}", actor, "est_report", report_id, {
            "before": json.loads(before[["area_id", "category", "type", "count", "place"]].to_json(orient="records")),
            "lines": len(normalised)}, conn=conn)


# --- reading -----------------------------------------------------------------------------------------------


def list_reports(store: Store, viewer: Viewer | None, week: str | None = None,
                 statuses: Sequence[str] | None = None) -> pd.DataFrame:
    """The reports of ``week`` the viewer may see (all weeks when None), with labels for display."""
    for s in statuses or ():
        schema.require_key("est_report_status", s, "status")
    frame = store.est_reports(viewer, weeks=[parse_week(week)] if week else None,
                              statuses=list(statuses) if statuses else None)
    frame["organisation_label"] = frame["organisation"].map(lambda o: schema.label("party", o))
    frame["status_label"] = frame["status"].map(lambda s: schema.label("est_report_status", s))
    return frame


def report_lines(store: Store, viewer: Viewer | None, report_ids: Sequence[int]) -> pd.DataFrame:
    """The lines of the given reports with area names and category labels."""
    lines = store.est_report_lines(viewer, report_ids)
    names = dict(zip(store.areas()["id"].astype(int), store.areas()["name"], strict=True))
    lines["area_name"] = lines["area_id"].map(lambda a: "Hela kommunen" if pd.isna(a) else names.get(int(a), str(a)))
    lines["category_label"] = lines["category"].map(lambda c: schema.label("est_category", c))
    lines["type_label"] = lines["type"].map(lambda c: schema.label("incident_type", c))
    return lines


def expected_reporters(store: Store) -> list[str]:
    """Organisations expected to report every week: the administrator's list (setting ``est_reporters``),
    else every organisation that has an active partner user."""
    configured = store.app_setting(EXPECTED_SETTING)
    order = list(schema.PARTY).index
    if configured:
        return sorted({o for o in configured if o in schema.PARTY}, key=order)
    users = store.est_reporting_users()
    users = users[users["role"].isin(sorted(schema.PARTNER_ROLES))]
    return sorted(set(users["organisation"]) & set(schema.PARTY), key=order)


def missing_reporters(store: Store, viewer: Viewer | None, week: str) -> pd.DataFrame:
    """The reminder list: each expected organisation that has no submitted or approved report for ``week``
    (a returned report still counts as missing), with its users to remind."""
    _require_review(viewer)
    week = parse_week(week)
    reports = store.est_reports(viewer, weeks=[week])
    done = set(reports.loc[reports["status"].isin(["inskickad", "godkand"]), "organisation"])
    returned = set(reports.loc[reports["status"] == "returnerad", "organisation"])
    users = store.est_reporting_users()
    users = users[users["role"].isin(sorted(schema.PARTNER_ROLES))]
    rows = []
    for org in expected_reporters(store):
        if org in done:
            continue
        who = sorted(users.loc[users["organisation"] == org, "username"])
        rows.append({"organisation": org, "organisation_label": schema.label("party", org),
                     "state": "returnerad" if org in returned else "saknas", "users": ", ".join(who)})
    return pd.DataFrame(rows, columns=["organisation", "organisation_label", "state", "users"])


# --- the EST meeting's decisions --------------------------------------------------------------------------


def add_decision(store: Store, actor: Viewer | None, week: str, decision: str, owner: str, *,
                 priority: int | None = None, due_date: dt.date | None = None, area_id: int | None = None,
                 place: str | None = None) -> int:
    """Record a decision of the EST meeting (beslut om insats) for ``week``: what, owner, date, priority
    (1 = first; default: after the week's others). Planners and admins."""
    _require_review(actor)
    week = parse_week(week)
    text = scrub_text((decision or "").strip()[:2000]).text
    who = (owner or "").strip()[:200]
    if not text or not who:
        msg = "a decision needs what is to be done and who owns it"
        raise ValidationError(msg)
    if due_date is not None and not isinstance(due_date, dt.date):
        msg = f"the date must be a date (YYYY-MM-DD), got {due_date!r}"
        raise ValidationError(msg)
    if area_id is not None and int(area_id) not in set(store.areas()["id"].astype(int)):
        msg = f"no area with id {area_id}"
        raise NotFoundError(msg)
    existing = store.est_decisions(actor, weeks=[week])
    if priority is None:
        priority = int(existing["priority"].max()) + 1 if not existing.empty else 1
    if int(priority) < 1:
        msg = f"priority must be 1 or more, got {priority}"
        raise ValidationError(msg)
    when = now_utc()
    with store.write() as conn:
        if not existing.empty and int(priority) <= int(existing["priority"].max()):
            store.est_shift_priorities(conn, week, int(priority))  # a new first priority moves the others down
        did = store.est_insert_decision(conn, {
            "week": week, "priority": int(priority), "area_id": None if area_id is None else int(area_id),
            "place": scrub_text(place.strip()[:300]).text if place else None, "decision": text, "owner": who,
            "due_date": due_date, "status": "beslutad", "followup": "", "created_by": actor_name(actor),
            "created_at": when, "updated_at": when})
        store.audit("est_decision", actor, "est_decision", did, {"week": week, "priority": int(priority)}, conn=conn)
    return did


def follow_up_decision(store: Store, actor: Viewer | None, decision_id: int, status: str, followup: str = "") -> None:
    """At the next meeting: was the decision carried out? (status + a short note)."""
    _require_review(actor)
    schema.require_key("est_decision_status", status, "decision status")
    when = now_utc()
    with store.write() as conn:
        row = store.est_decision_for_update(conn, decision_id)
        if row is None:
            msg = f"no EST decision with id {decision_id}"
            raise NotFoundError(msg)
        store.est_update_decision(conn, decision_id, {
            "status": status, "followup": scrub_text((followup or "").strip()[:2000]).text,
            "followed_up_at": when, "followed_up_by": actor_name(actor), "updated_at": when})
        store.audit("est_decision_followup", actor, "est_decision", int(decision_id),
                    {"from": row["status"], "to": status}, conn=conn)


def decisions(store: Store, viewer: Viewer | None, weeks: Sequence[str]) -> pd.DataFrame:
    """The decisions of the given weeks, in priority order, with labels."""
    frame = store.est_decisions(viewer, weeks=[parse_week(w) for w in weeks])
    names = dict(zip(store.areas()["id"].astype(int), store.areas()["name"], strict=True))
    frame["area_name"] = frame["area_id"].map(lambda a: "" if pd.isna(a) else names.get(int(a), str(a)))
    frame["status_label"] = frame["status"].map(lambda s: schema.label("est_decision_status", s))
    return frame


# --- the lägesbild's EST lines written directly (planners' sammanställning, scripts) ----------------------

_LINE_COLUMNS = ("organisation", "period_start", "period_end", "type", "count")


def _partner_line(rec: dict[str, Any], n: int, actor: Viewer | None) -> dict[str, Any]:
    """One checked line of ``save_partner_reports`` (row ``n``)."""
    where = f"partner report row {n}"
    org = str(rec["organisation"])
    if org not in schema.PARTY:
        msg = f"{where}: unknown organisation {org!r}; allowed: {', '.join(schema.PARTY)}"
        raise ValidationError(msg)
    access.check_may_file_est_lines(actor, org, where)
    typ = str(rec["type"])
    if typ not in schema.INCIDENT_TYPE:
        msg = f"{where}: unknown type {typ!r}; allowed: {', '.join(schema.INCIDENT_TYPE)}"
        raise ValidationError(msg)
    try:
        start = pd.Timestamp(rec["period_start"]).date()
        end = pd.Timestamp(rec["period_end"]).date()
    except (ValueError, TypeError):
        msg = f"{where}: period_start/period_end are not dates"
        raise ValidationError(msg) from None
    if end < start:
        msg = f"{where}: period_end {end} is before period_start {start}"
        raise ValidationError(msg)
    count = pd.to_numeric(pd.Series([rec["count"]]), errors="coerce").iloc[0]
    if pd.isna(count) or count < 0 or count % 1:
        msg = f"{where}: count must be a whole number >= 0, got {rec['count']!r}"
        raise ValidationError(msg)
    area = rec.get("area_id")
    return {"organisation": org, "area_id": None if area is None or pd.isna(area) else int(area),
            "period_start": start, "period_end": end, "type": typ, "category": schema.EST_CATEGORY_OF_TYPE[typ],
            "count": int(count), "comment": scrub_text(rec.get("comment") or "").text,
            "reported_by": actor_name(actor), "created_at": now_utc()}


def save_partner_reports(store: Store, frame: pd.DataFrame, actor: Viewer | None = None) -> int:
    """Insert or replace weekly EST checklist rows (organisation, area_id, period_start, period_end, type,
    count, optional comment). A partner reports for its own organisation only. Returns rows written.

    Each organisation's rows for one period become one weekly report: approved at once when a planner or
    administrator writes them, submitted for review (``inskickad``) when a partner does."""
    if not isinstance(frame, pd.DataFrame):
        msg = f"expected a DataFrame of partner reports, got {type(frame).__name__}"
        raise ValidationError(msg)
    missing = [c for c in _LINE_COLUMNS if c not in frame]
    if missing:
        msg = f"partner reports lack column(s) {', '.join(missing)}"
        raise ValidationError(msg)
    if actor is not None and not access.is_planner(actor) and actor.role not in schema.PARTNER_ROLES:
        msg = f"role {actor.role} may not file EST reports"
        raise PermissionDeniedError(msg)
    rows = [_partner_line(rec, n, actor) for n, rec in enumerate(frame.to_dict("records"), start=1)]
    status = access.est_lines_status(actor)
    with store.write() as conn:
        headers: dict[tuple[str, dt.date, dt.date], int] = {}
        for r in rows:
            key = (r["organisation"], r["period_start"], r["period_end"])
            if key not in headers:
                year, week, _ = r["period_start"].isocalendar()
                when = now_utc()
                approved = status == "godkand"
                headers[key] = store.est_insert_report(conn, {
                    "organisation": key[0], "week": f"{year}-W{week:02d}", "week_start": key[1], "week_end": key[2],
                    "status": status, "source": "import", "comment": "", "submitted_by": actor_name(actor),
                    "submitted_at": when, "reviewed_by": actor_name(actor) if approved else None,
                    "reviewed_at": when if approved else None, "created_at": when, "updated_at": when})
            r["report_id"] = headers[key]
        store.replace_partner_lines(conn, rows)
        store.audit("partner_report", actor, None, None, {"rows": len(rows)}, conn=conn)
    return len(rows)
