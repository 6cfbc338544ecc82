"""The ``trygghetskarta`` command (DESIGN.md §6).

Exit status 0 on success, 1 on a user error (one line on stderr saying what and where), 2 on a usage
error. ``--as-role`` renders exactly what a user of that role may see; without it the command acts as an
administrator on the local database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from trygghetskarta import actions, gdalsafe, schema, settings
from trygghetskarta.errors import TrygghetskartaError

Handler = Callable[[argparse.Namespace], int]


class DatabaseUnavailable(Exception):  # noqa: N818 - a CLI-internal signal, not part of the error family
    """The database server could not be reached or refused the connection."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"not a date (YYYY-MM-DD): {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _progress_bar(total_label: str) -> tuple[Callable[[float, str], None], Callable[[], None]]:
    """A tqdm bar fed with (fraction, message) callbacks; quiet when stderr is not a terminal."""
    from tqdm import tqdm

    bar = tqdm(total=100, desc=total_label, unit="%", file=sys.stderr, disable=None,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")

    def update(fraction: float, message: str) -> None:
        bar.n = round(fraction * 100)
        bar.set_postfix_str(message)
        bar.refresh()

    return update, bar.close


_OPENED: list = []  # the stores a command opened


def _store(args: argparse.Namespace, *, must_exist: bool = True):
    from trygghetskarta.store import open_store

    store = open_store(args.db)
    _OPENED.append(store)  # disposed when the command ends (main), so no connection outlives it
    if must_exist:
        store.require_initialised()
    return store


def _viewer(args: argparse.Namespace):
    from trygghetskarta.access import viewer_for_role

    role = getattr(args, "as_role", None)
    return viewer_for_role(role) if role else None


def cmd_init(args: argparse.Namespace) -> int:
    store = _store(args, must_exist=False)
    before = store.revision()
    after = store.init()
    where = settings.redact_url(store.url)
    if before == after:
        print(f"{where}: schema {after}, already up to date")
    else:
        print(f"{where}: schema {before or 'none'} -> {after}")
    routed = actions.seed_default_routing(store, )  # once per database; the admin edits it afterwards
    if routed:
        print(f"routing: {routed} default rows (category -> responsible party; edit on the Admin page)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from trygghetskarta import demo

    store = _store(args, must_exist=False)
    store.init()
    if args.if_empty and store.count("finding") > 0:
        print("the database already holds findings; demo data not added (--if-empty)")
        return 0
    update, close = _progress_bar("demo")
    try:
        summary = demo.fill(store, seed=args.seed, size=args.size, progress=update, demo_users=args.demo_users)
    finally:
        close()
    parts = ", ".join(f"{k} {v}" for k, v in summary.inserted.items())
    present = sum(summary.already_present.values())
    print(f"demo (synthetic) written: {parts}; already present {present}")
    if summary.users:
        print("demo users (passwords are shown once, store them now):")
        for name, password in summary.users.items():
            print(f"  {name}\t{password}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from trygghetskarta import export

    store = _store(args)
    viewer = _viewer(args)
    n = export.export_kind(store, args.kind, args.format, Path(args.out), srid=args.crs, start=args.date_from,
                           end=args.date_to, viewer=viewer)
    print(f"exported {n} {args.kind} records to {args.out} ({args.format}, EPSG:{args.crs})")
    for note in export.export_notes(args.kind, viewer, args.date_from, args.date_to):
        print(note)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from trygghetskarta.ingest import import_file
    store = _store(args)
    if args.kind == "est_report":
        return _import_est_report(store, args)
    if args.kind == "trygghetsmatning":
        return _import_trygghetsmatning(store, args)
    if args.organisation is not None:
        raise TrygghetskartaError("--organisation is only for --kind est_report")
    plan = None
    if args.kind == "area":
        from trygghetskarta import area_import
        from trygghetskarta.ingest import municipality, read_file

        plan = read_file(Path(args.file), "area", crs=args.crs)
        impact = area_import.impact(store, plan, municipality().geom_3006)
        for line in impact.lines(settings.get("lang")):
            print(line)
        if impact.needs_confirmation and not args.dry_run and not args.yes:
            msg = (f"{Path(args.file).name}: this area import changes stored areas (see above); check it with "
                   f"--dry-run and run it again with --yes to confirm")
            raise TrygghetskartaError(msg)
    result = import_file(store, Path(args.file), args.kind, crs=args.crs, dry_run=args.dry_run,
                         report=Path(args.report) if args.report else None, plan=plan)
    print(result.summary_line())
    return 0


def _import_est_report(store, args: argparse.Namespace) -> int:
    """A partner's weekly EST report from the template: each refused row is printed with its reason."""
    from trygghetskarta import est_reports

    result = est_reports.import_file(store, Path(args.file), organisation=args.organisation, dry_run=args.dry_run,
                                     report=Path(args.report) if args.report else None)
    for warning in result.warnings:
        print(f"warning: {warning}")
    shown = result.rejections.drop_duplicates("reason")
    for reason in shown["reason"].head(20):
        print(f"rejected: {reason}")
    if len(shown) > 20:
        print(f"rejected: … {len(shown) - 20} more (--report FILE writes them all)")
    if result.report_ids:
        print(f"submitted for review (granskning): report {', '.join(map(str, result.report_ids))}")
    print(result.summary_line())
    return 0


def _import_trygghetsmatning(store, args: argparse.Namespace) -> int:
    """The police's trygghetsmätning (#17): each refused row is printed with its reason."""
    from trygghetskarta import perceived

    if args.organisation is not None:
        raise TrygghetskartaError("--organisation is only for --kind est_report")
    result = perceived.import_file(store, Path(args.file), dry_run=args.dry_run,
                                   report=Path(args.report) if args.report else None)
    for reason in result.rejections.drop_duplicates("reason")["reason"].head(20):
        print(f"rejected: {reason}")
    if result.unmatched_areas:
        print("note: no stored area has the name " + ", ".join(repr(a) for a in result.unmatched_areas)
              + " (kept; shown without events)")
    if result.changed:
        print(f"changed: {result.changed} values replaced by the file's")
    print(result.summary_line())
    return 0


def _kinds(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    allowed = ("incident", "finding", "sighting")
    bad = [k for k in kinds if k not in allowed]
    if not kinds or bad:
        msg = f"--kinds takes a comma-separated list of {', '.join(allowed)}, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return kinds


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        msg = f"--area-share must be a share between 0 and 1 (0.05 is 5 %), got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def cmd_effect(args: argparse.Namespace) -> int:
    from trygghetskarta import effect_export
    from trygghetskarta import effect_service as es

    store = _store(args)
    viewer = _viewer(args)
    area_ids: list[int] = []
    date = args.date
    if args.action is not None:
        target, label, action_date, area_ids = es.actions_target(store, viewer, args.action)
        date = date or action_date
    elif args.area is not None:
        target, names, area_ids = es.area_geometry(store, [args.area])
        label = ", ".join(names)
    else:
        target = es.polygon_from_file(Path(args.polygon))
        label = Path(args.polygon).name
    if date is None:
        raise TrygghetskartaError("--date is needed (the action has no done or planned date)")
    report = es.effect_report(store, viewer, target=target, target_label=label, date=date, weeks=args.weeks,
                              buffer_m=args.buffer_m, controls=args.control or None, kinds=args.kinds,
                              categories=args.category or None, lang=settings.get("lang"), target_area_ids=area_ids)
    out = effect_export.write_report(report, Path(args.out))
    store.audit("export", viewer, "effect", None, {"file": out.name, "target": label, "date": str(date)})
    print(report.verdict)
    print(f"effect written to {out}")
    return 0


def cmd_hotspots(args: argparse.Namespace) -> int:
    import json

    from trygghetskarta import hotspot_service as hs

    store = _store(args)
    viewer = _viewer(args)
    if getattr(args, "hotspots_command", None) == "evaluate":
        result = hs.evaluate(store, viewer, method=args.method, period=args.period, periods=args.periods,
                             window=args.window, shares=args.area_share or hs.he.DEFAULT_SHARES, cell_m=args.cell_m,
                             until=args.until, kinds=args.kinds, lang=settings.get("lang"))
        if args.json:
            print(json.dumps(result, ensure_ascii=False, indent=2))
            return 0
        print(result["sentence"])
        for row in result["summary"]:
            pai = "–" if row["pai"] is None else f"{row['pai']:.2f}"
            rri = "–" if row["rri"] is None else f"{row['rri']:.2f}"
            print(f"{row['share']:.0%} of the area\t{row['model']}\thit rate {row['hit_rate'] or 0:.0%}\t"
                  f"PAI {pai}\tRRI {rri}\t({row['hits']}/{row['events']} events)")
        return 0
    missing = [flag for flag, value in (("--from", args.date_from), ("--to", args.date_to), ("--out", args.out))
               if value is None]
    if missing:
        raise TrygghetskartaError(f"hotspots needs {', '.join(missing)} (or: hotspots evaluate ...)")
    out = Path(args.out)
    if out.suffix.lower() not in (".gpkg", ".geojson"):
        raise TrygghetskartaError(f"--out must end in .gpkg or .geojson, got {out.name!r}")
    cells = hs.hotspot_cells(store, viewer, start=args.date_from, end=args.date_to, method=args.method,
                             cell_m=args.cell_m, kinds=args.kinds)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    cells.to_file(out, driver="GPKG" if out.suffix.lower() == ".gpkg" else "GeoJSON",
                  **({"layer": "hotspots"} if out.suffix.lower() == ".gpkg" else {}))
    store.audit("export", viewer, "hotspots", None, {"file": out.name, "method": args.method})
    hot = int((cells["class"].astype(str).str.startswith(("het", "topp"))).sum())
    print(f"{len(cells)} cells ({hot} hot spots, {args.method}, {args.cell_m:g} m) written to {out}")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from trygghetskarta import est_reports

    out = Path(args.out)
    store = None
    url = settings.database_url(args.db)
    embedded = url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file()
    if out.suffix.lower() == ".xlsx" and not embedded:  # the workbook lists the areas when a database is there
        from trygghetskarta.store import open_store

        candidate = open_store(args.db)
        store = candidate if candidate.revision() else None
    written = est_reports.write_template(out, store)
    print(f"template {args.kind} written to {written}")
    return 0


def _week(text: str) -> str:
    from trygghetskarta.errors import ValidationError
    from trygghetskarta.ingest.est_report import parse_week

    try:
        return parse_week(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_est_reports(args: argparse.Namespace) -> int:
    from trygghetskarta import est_reports

    store = _store(args)
    if args.approve is not None:
        est_reports.approve(store, None, args.approve)
        print(f"report {args.approve}: godkänd (approved); its figures are in the lägesbild")
        return 0
    if args.return_id is not None:
        est_reports.return_report(store, None, args.return_id, args.reason)
        print(f"report {args.return_id}: returnerad (returned) - {args.reason.strip()}")
        return 0
    week = args.week or est_reports.current_week()
    frame = est_reports.list_reports(store, None, week, [args.status] if args.status else None)
    for r in frame.itertuples(index=False):
        reason = f"\treason: {r.reason}" if r.status == "returnerad" and r.reason else ""
        print(f"{r.id}\t{r.week}\t{r.organisation}\t{r.status}\t{r.lines} lines\t{r.total} events\t"
              f"{r.source}\t{r.submitted_by or ''}{reason}")
    if frame.empty:
        print(f"no EST reports for {week}" + (f" with status {args.status}" if args.status else ""),
              file=sys.stderr)
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from trygghetskarta.mapview import write_map_html

    store = _store(args)
    out = write_map_html(store, Path(args.out), viewer=_viewer(args), start=args.date_from,
                              end=args.date_to, categories=args.category or None)
    print(f"map written to {out}")
    return 0


def cmd_lagesbild(args: argparse.Namespace) -> int:
    from trygghetskarta.lagesbild import cli_lagesbild
    store = _store(args)
    return cli_lagesbild(store, args.date_from, args.date_to, area=args.area, audience=args.audience,
                         out=Path(args.out))


def cmd_users(args: argparse.Namespace) -> int:
    from trygghetskarta.auth import cli_users_add
    store = _store(args)
    return cli_users_add(store, args.name, args.role, organisation=args.organisation)


def cmd_gallra(args: argparse.Namespace) -> int:
    from trygghetskarta.privacy import cli_gallra
    store = _store(args)
    status = cli_gallra(store, dry_run=args.dry_run)
    if status == 0:  # issue 16: residents' e-mail addresses and old e-mail
        days = int(settings.get("retention_public_email_days"))
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        addresses, messages = store.purge_public_contacts(cutoff, dry_run=args.dry_run)
        verb = "would forget" if args.dry_run else "forgot"
        print(f"residents' e-mail: {verb} {addresses} addresses of reports closed more than {days} days ago, "
              f"{'would delete' if args.dry_run else 'deleted'} {messages} old outbox messages")
    if status == 0 and not args.dry_run:
        from trygghetskarta.ingest import uploads

        print(f"uploads: deleted {uploads.remove_stale()} unconfirmed import files older than "
              f"{settings.get('upload_max_age_hours'):g} h")
    return status


# --- the public face (issue 16) -----------------------------------------------------------------------


def cmd_serve_api(args: argparse.Namespace) -> int:
    from trygghetskarta import api

    store = _store(args)  # fails with one line when the database is not initialised
    store.dispose()
    print(f"Open311 GeoReport v2 at http://{args.host}:{args.port or settings.get('api_port')}/open311/v2/"
          "discovery.json (stop with Ctrl+C)", flush=True)
    api.serve(args.db, args.host, args.port)
    return 0


def cmd_api_keys(args: argparse.Namespace) -> int:
    from trygghetskarta import open311

    store = _store(args)
    if args.keys_command == "add":
        key = open311.add_key(store, args.name)
        print(f"API key for {args.name} (shown once; store it now, only its hash is kept):")
        print(key)
        return 0
    if args.keys_command == "revoke":
        if not store.revoke_api_key(args.name):
            print(f"trygghetskarta api-keys: no active API key named {args.name!r}", file=sys.stderr)
            return 1
        print(f"API key {args.name} revoked")
        return 0
    keys = store.api_keys()
    if keys.empty:
        print("no API keys")
    for row in keys.itertuples():
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at is not None else "active"
        used = f", last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at is not None else ""
        print(f"{row.name}\ttk_{row.key_prefix}_…\t{state}{used}")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from trygghetskarta import outbox

    store = _store(args)
    if args.outbox_command == "digest":
        day = args.date or dt.date.today()
        print(f"digest {day.isoformat()}: queued {outbox.digest(store, day)} messages")
        return 0
    if args.outbox_command == "list":
        frame = store.outbox_messages(states=args.state or None, limit=args.limit)
        for row in frame.itertuples():
            print(f"{row.id}\t{row.state}\t{row.attempts}\t{row.kind}\t{row.recipient}\t{row.subject}")
        print(", ".join(f"{k} {v}" for k, v in sorted(store.outbox_counts().items())) or "the outbox is empty")
        return 0
    queued = outbox.collect(store)
    if not settings.get("smtp_host"):
        print(f"queued {queued} new messages; no SMTP server configured (TRYGGHETSKARTA_SMTP_HOST), none sent")
        return 0
    report = outbox.send_due(store, limit=args.limit)
    print(f"queued {queued} new, sent {report.sent}, to retry {report.retried}, failed {report.failed}")
    if report.retried and report.error:
        print(f"trygghetskarta outbox: {report.error}; the messages stay queued", file=sys.stderr)
    return 0


def cmd_qr(args: argparse.Namespace) -> int:
    from trygghetskarta import public

    lon, lat, place = args.lon, args.lat, args.place
    if args.walk is not None:
        lon, lat, title = public.walk_place(_store(args), args.walk)
        place = place or title
    if lon is None or lat is None:
        print("trygghetskarta qr: give --walk ID or --lon and --lat", file=sys.stderr)
        return 2
    url = public.report_url(lon, lat, lang=args.lang, place=place)
    out = Path(args.out)
    if out.suffix.lower() == ".svg":
        out.write_text(public.qr_svg(url), encoding="utf-8")
    elif out.suffix.lower() == ".png":
        out.write_bytes(public.qr_png(url))
    else:
        print(f"trygghetskarta qr: {out}: write a .png or .svg file", file=sys.stderr)
        return 1
    print(f"QR code for {url} written to {out}")
    return 0


# --- the commands' arguments, one function per command ---------------------------------------------------

# what ``ArgumentParser.add_subparsers`` returns (argparse names the class only privately)
Subparsers = argparse._SubParsersAction  # type: ignore[type-arg]  # argparse's generic is private

def _add_init(sub: Subparsers) -> None:
    s = sub.add_parser("init", help="create or upgrade the database")
    s.set_defaults(func=cmd_init)


def _add_demo(sub: Subparsers) -> None:
    s = sub.add_parser("demo", help="fill the database with the synthetic demo season")
    s.add_argument("--size", type=int, default=None, help="total number of records (default: a few hundred)")
    s.add_argument("--seed", type=int, default=20261123)
    s.add_argument("--demo-users", action="store_true", help="create one demo user per role (passwords printed once)")
    s.add_argument("--if-empty", action="store_true", help="only fill a database that holds no findings yet")
    s.set_defaults(func=cmd_demo)


def _add_import(sub: Subparsers) -> None:
    s = sub.add_parser("import", help="import a file")
    s.add_argument("file")
    s.add_argument("--kind", required=True, choices=["finding", "sighting", "incident", "area", "walk",
                                                     "est_report", "trygghetsmatning"])
    s.add_argument("--crs", default=None, help="declared CRS of the file, e.g. 3006 or EPSG:3006")
    s.add_argument("--dry-run", action="store_true")
    s.add_argument("--report", default=None, help="write rejected rows to this CSV")
    s.add_argument("--yes", action="store_true",
                   help="confirm an area import that replaces or removes stored areas (see --dry-run first)")
    s.add_argument("--organisation", default=None,
                   help="est_report: the organisation reporting (key or name; else the file's organisation column)")
    s.set_defaults(func=cmd_import)


def _add_template(sub: Subparsers) -> None:
    s = sub.add_parser("template", help="write the template of a file the app imports (the EST weekly report)")
    s.add_argument("kind", choices=["est_report"])
    s.add_argument("--out", required=True, help="FILE.csv or FILE.xlsx")
    s.set_defaults(func=cmd_template)


def _add_est_reports(sub: Subparsers) -> None:
    s = sub.add_parser("est-reports", help="list, approve or return the partners' weekly EST reports")
    s.add_argument("--week", type=_week, default=None, help="ISO week, e.g. 2026-W49 (default: this week)")
    s.add_argument("--status", choices=schema.keys("est_report_status"), default=None)
    act = s.add_mutually_exclusive_group()
    act.add_argument("--approve", type=int, metavar="ID", default=None, help="approve report ID (godkänn)")
    act.add_argument("--return", dest="return_id", type=int, metavar="ID", default=None,
                     help="return report ID to its organisation (needs --reason)")
    s.add_argument("--reason", default=None, help="why the report is returned")
    s.set_defaults(func=cmd_est_reports)


def _add_export(sub: Subparsers) -> None:
    s = sub.add_parser("export", help="export records")
    s.add_argument("--kind", required=True, choices=["finding", "sighting", "incident", "area", "walk", "action",
                                                     "nightwalk"])
    s.add_argument("--format", required=True, choices=["gpkg", "geojson", "csv"])
    s.add_argument("--crs", type=int, default=4326, choices=[4326, 3006])
    s.add_argument("--from", dest="date_from", type=_date, default=None)
    s.add_argument("--to", dest="date_to", type=_date, default=None)
    s.add_argument("--as-role", dest="as_role", choices=schema.keys("role"), default=None)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_export)


def _add_map(sub: Subparsers) -> None:
    s = sub.add_parser("map", help="write the planners' map as one standalone HTML file")
    s.add_argument("--out", required=True)
    s.add_argument("--from", dest="date_from", type=_date, default=None)
    s.add_argument("--to", dest="date_to", type=_date, default=None)
    s.add_argument("--category", nargs="*", choices=schema.keys("category"), default=None)
    s.add_argument("--as-role", dest="as_role", choices=schema.keys("role"), default=None)
    s.set_defaults(func=cmd_map)


def _add_lagesbild(sub: Subparsers) -> None:
    s = sub.add_parser("lagesbild", help="render the lägesbild for a period")
    s.add_argument("--from", dest="date_from", type=_date, required=True)
    s.add_argument("--to", dest="date_to", type=_date, required=True)
    s.add_argument("--area", default=None)
    s.add_argument("--audience", choices=["intern", "partner"], default="intern")
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_lagesbild)


def _add_effect(sub: Subparsers) -> None:
    s = sub.add_parser("effect", help="did it help? an action's effect against a control area (WDQ, WDD)")
    target = s.add_mutually_exclusive_group(required=True)
    target.add_argument("--area", default=None, help="the target area (name or id)")
    target.add_argument("--polygon", default=None, help="the target as a drawn polygon (GeoJSON, GeoPackage, KML)")
    target.add_argument("--action", type=int, nargs="+", default=None, metavar="ID",
                        help="one or more actions: their areas and the earliest done (else planned) date")
    s.add_argument("--date", type=_date, default=None, help="the intervention date (YYYY-MM-DD)")
    s.add_argument("--weeks", type=int, default=26, help="weeks before and after the date (default 26)")
    s.add_argument("--buffer-m", dest="buffer_m", type=float, default=200.0,
                   help="buffer ring around the target for displacement, metres (default 200)")
    s.add_argument("--control", nargs="+", default=None, metavar="NAME",
                   help="control area(s); default: the suggested area with a similar baseline and no action")
    s.add_argument("--kinds", type=_kinds, default=["incident", "finding"],
                   help="comma-separated: incident, finding, sighting (default incident,finding)")
    s.add_argument("--category", nargs="*", default=None, metavar="KEY",
                   help="only these finding categories / incident or sighting types")
    s.add_argument("--as-role", dest="as_role", choices=schema.keys("role"), default=None)
    s.add_argument("--out", required=True, help="FILE.json, FILE.html or FILE.pdf")
    s.set_defaults(func=cmd_effect)


def _add_hotspots(sub: Subparsers) -> None:
    s = sub.add_parser("hotspots", help="hot-spot cells to a GeoPackage, or 'evaluate' how well they predict")
    s.add_argument("--from", dest="date_from", type=_date, default=None)
    s.add_argument("--to", dest="date_to", type=_date, default=None)
    s.add_argument("--method", choices=["count", "kde", "gistar"], default="count")
    s.add_argument("--cell-m", dest="cell_m", type=float, default=250.0, help="cell size in metres (default 250)")
    s.add_argument("--kinds", type=_kinds, default=["incident", "finding"])
    s.add_argument("--as-role", dest="as_role", choices=schema.keys("role"), default=None)
    s.add_argument("--out", default=None, help="CELLS.gpkg (or .geojson)")
    s.set_defaults(func=cmd_hotspots)
    hs_sub = s.add_subparsers(dest="hotspots_command", required=False, metavar="evaluate")
    e = hs_sub.add_parser("evaluate", help="PAI and RRI of the hot spots of each period on the next")
    e.add_argument("--method", choices=["count", "kde", "gistar"], default="count")
    e.add_argument("--period", choices=["month", "week"], default="month")
    e.add_argument("--periods", type=int, default=6, help="periods to test, the last whole ones (default 6)")
    e.add_argument("--window", type=int, default=6, help="earlier periods the method learns from (default 6)")
    e.add_argument("--area-share", dest="area_share", type=_share, action="append", default=None,
                   help="share of the area marked hot (default 0.01, 0.03 and 0.05); may be repeated")
    e.add_argument("--cell-m", dest="cell_m", type=float, default=250.0)
    e.add_argument("--kinds", type=_kinds, default=["incident", "finding"])
    e.add_argument("--until", type=_date, default=None, help="test the periods before this date (default today)")
    e.add_argument("--as-role", dest="as_role", choices=schema.keys("role"), default=None)
    e.add_argument("--json", action="store_true", help="print every figure as JSON")
    e.set_defaults(func=cmd_hotspots)


def _add_users(sub: Subparsers) -> None:
    s = sub.add_parser("users", help="manage users")
    users_sub = s.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    a = users_sub.add_parser("add", help="add a user (the password is read without echo)")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=schema.keys("role"))
    a.add_argument("--organisation", default=None, choices=schema.keys("party"))
    a.set_defaults(func=cmd_users)


def _add_gallra(sub: Subparsers) -> None:
    s = sub.add_parser("gallra", help="apply the retention rules (safe to run daily)")
    s.add_argument("--dry-run", action="store_true")
    s.set_defaults(func=cmd_gallra)


def _add_serve_api(sub: Subparsers) -> None:
    s = sub.add_parser("serve-api", help="serve Open311 GeoReport v2 and the residents' report endpoint")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="port (default: setting api_port, 8502)")
    s.set_defaults(func=cmd_serve_api)


def _add_api_keys(sub: Subparsers) -> None:
    s = sub.add_parser("api-keys", help="Open311 API keys: add (printed once), revoke, list")
    keys_sub = s.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    a = keys_sub.add_parser("add", help="make a key for client NAME and print it once")
    a.add_argument("name")
    a = keys_sub.add_parser("revoke", help="revoke client NAME's key")
    a.add_argument("name")
    keys_sub.add_parser("list", help="list the clients and their keys' state")
    s.set_defaults(func=cmd_api_keys)


def _add_outbox(sub: Subparsers) -> None:
    s = sub.add_parser("outbox", help="e-mail: send due messages, queue the daily digest, list the outbox")
    out_sub = s.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    a = out_sub.add_parser("send", help="queue messages for new status changes and send every due message")
    a.add_argument("--limit", type=int, default=None, help="send at most this many")
    a = out_sub.add_parser("digest", help="queue today's overdue-actions digest per responsible party")
    a.add_argument("--date", type=_date, default=None, help="the day (default: today)")
    a = out_sub.add_parser("list", help="list the outbox, newest first")
    a.add_argument("--state", nargs="*", choices=["queued", "sending", "sent", "failed", "cancelled"])
    a.add_argument("--limit", type=int, default=50)
    s.set_defaults(func=cmd_outbox)


def _add_qr(sub: Subparsers) -> None:
    s = sub.add_parser("qr", help="a QR code that opens the public report page at a walk or place")
    s.add_argument("--walk", type=int, default=None, help="the walk's id (its place and title)")
    s.add_argument("--lon", type=float, default=None)
    s.add_argument("--lat", type=float, default=None)
    s.add_argument("--place", default=None, help="name of the place shown on the report page")
    s.add_argument("--lang", choices=["sv", "en", "ar", "so"], default=None)
    s.add_argument("--out", required=True, help="FILE.png or FILE.svg")
    s.set_defaults(func=cmd_qr)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="trygghetskarta", description=__doc__.splitlines()[0])
    p.add_argument("--db", default=None,
                   help="database URL (default: $TRYGGHETSKARTA_DB, else the embedded SQLite file under data/)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_init(sub)
    _add_demo(sub)
    _add_import(sub)
    _add_template(sub)
    _add_est_reports(sub)
    _add_export(sub)
    _add_map(sub)
    _add_lagesbild(sub)
    _add_effect(sub)
    _add_hotspots(sub)
    _add_users(sub)
    _add_gallra(sub)
    _add_serve_api(sub)
    _add_api_keys(sub)
    _add_outbox(sub)
    _add_qr(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    gdalsafe.harden()  # once for the process: GDAL with only the product's drivers and no network
    if args.db is not None and args.db.strip() == "":
        parser.error("--db must not be empty")
    if args.command == "est-reports" and (args.return_id is not None) != bool((args.reason or "").strip()):
        parser.error("--return ID needs --reason TEXT (and --reason goes with --return)")
    try:
        try:
            return int(args.func(args))
        except OSError:
            raise
        except Exception as exc:
            import sqlalchemy as sa

            if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
                url = settings.redact_url(settings.database_url(args.db))
                first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
                raise DatabaseUnavailable(f"cannot use the database {url}: {first}") from exc
            raise
    except TrygghetskartaError as exc:
        print(f"trygghetskarta {args.command}: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"trygghetskarta {args.command}: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 1
    except DatabaseUnavailable as exc:
        print(f"trygghetskarta {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"trygghetskarta {args.command}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 1
    finally:
        while _OPENED:
            _OPENED.pop().dispose()


if __name__ == "__main__":
    sys.exit(main())
