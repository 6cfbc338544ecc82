"""Who may see what, as data (issue 6 matrix). The store turns a ``Policy`` into SQL; nothing here speaks SQL.

|                    | deltagare        | nattvandrare | faltgrupp | planerare | partners (1)                | admin |
|--------------------|------------------|--------------|-----------|-----------|-----------------------------|-------|
| findings           | own walks+publik | publik       | all       | all       | partner + publik            | all   |
| field sightings    | –                | –            | points    | points    | area totals >= k            | points|
| partner incidents  | –                | –            | partner   | all       | partner (own in detail)     | all   |
| actions            | own walk's       | –            | –         | all       | own + shared                | all   |
| night-walk reports | –                | own reports  | all       | all       | partner + publik            | all   |
| walks              | own + publik     | publik       | all       | all       | partner + publik            | all   |
| areas              | all              | all          | all       | all       | all                         | all   |
| EST reports (2)    | –                | –            | –         | all       | own organisation's          | all   |

(1) Partners: ``schema.PARTNER_ROLES`` = polis, bostadsbolag, vaktare (security company), raddningstjanst;
each reports for its organisation (``schema.PARTNER_ORGANISATIONS``).
(2) The weekly EST reports with their places and comments (``est_report_policy``); the lägesbild shows partners
only approved figures per area and category, suppressed under k.

Reading the cells:

- An audience level includes the levels below it: "partner" means audience publik or partner, never begransad.
- "own walks" (deltagare): the records of a walk the user takes part in (``walk_participants``) as far as the
  walk's audience allows: a record is visible through a walk whose audience is the record's or narrower (a
  ``publik`` walk shows its ``publik`` records, a ``partner`` walk also its ``partner`` records, a
  ``begransad`` walk all of them); a deltagare also sees the findings they reported themselves. A deltagare
  joins a walk themselves only while it is open (today or later, in the kommun's time zone) and only a walk
  they may see; any other participation is an invitation by a planner (``check_may_join``).
- "own in detail" (partners, incidents): incidents whose ``owner_org`` is the viewer's organisation are visible
  whatever their audience and unredacted; other visible incidents have ``title``, ``description``,
  ``external_id`` and ``reported_by`` blanked. Those columns may not be used for grouping either.
- "area totals >= k" (partners, sightings): no rows at all; only counts grouped by ``area_id`` (and ``type``),
  and those only as sums of published cells (area x ISO week x type, each at least k) over whole ISO weeks:
  the store's ``count_by`` applies ``privacy.published_counts`` for this mode (SECURITY.md "Disclosure control").
- "own + shared" (partners, actions): actions whose ``responsible`` party is the viewer's organisation, or that
  are marked ``shared``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from trygghetskarta import schema
from trygghetskarta.errors import PermissionDeniedError, ValidationError
from trygghetskarta.i18n import N_


@dataclass(frozen=True)
class Viewer:
    """The requesting user: a username, a role key and, for partners, their organisation (a party key)."""

    username: str
    role: str
    organisation: str | None = None

    def __post_init__(self) -> None:
        schema.require_key("role", self.role, "role")
        if self.organisation is not None:
            schema.require_key("party", self.organisation, "organisation")


ADMIN = Viewer("admin", "admin")


def viewer_for_role(role: str, username: str | None = None, organisation: str | None = None) -> Viewer:
    """A viewer of ``role`` (used by ``--as-role``); partners get a default organisation."""
    if role not in schema.ROLE:
        msg = f"unknown role {role!r}; allowed: {', '.join(schema.ROLE)}"
        raise ValidationError(msg)
    if organisation is None:
        organisation = schema.DEFAULT_ORGANISATION.get(role)
    return Viewer(username or f"as-role:{role}", role, organisation)


@dataclass(frozen=True)
class Policy:
    """What a viewer may read of one kind.

    mode: "all" (every row), "filtered" (rows matching the rules below), "aggregate" (area totals only,
    suppressed under k), "none".
    audiences: audience levels visible (None = any).
    own_walks: also rows that belong to walks the viewer took part in (deltagare).
    own_org_column: rows whose column equals the viewer's organisation are visible (and in detail).
    shared_column: rows with this boolean column true are visible.
    redact_unless_own: columns blanked on rows that are not the viewer's own organisation's.
    own_reporter: rows the viewer reported are always visible.
    aggregate_by: in "aggregate" mode, the only columns counts may be grouped by.
    aggregate_filters: in "aggregate" mode, the only filters allowed (besides the period).
    """

    mode: str
    audiences: frozenset[str] | None = None
    own_walks: bool = False
    own_org_column: str | None = None
    shared_column: str | None = None
    redact_unless_own: tuple[str, ...] = field(default_factory=tuple)
    own_reporter: bool = False
    audience_rows: bool = True  # whether the audience rule grants rows on its own
    aggregate_by: frozenset[str] = frozenset()
    aggregate_filters: frozenset[str] = frozenset()

    def hidden_columns(self) -> frozenset[str]:
        """Columns this viewer may not group or filter by (they would leak redacted values)."""
        return frozenset(self.redact_unless_own)


_PUBLIC = frozenset({"publik"})
_PARTNER = frozenset({"publik", "partner"})
# Partners may count sightings per area (and type), never per person, place, time of day or text.
_SIGHTING_AGGREGATE_BY = frozenset({"area_id", "type"})
_SIGHTING_AGGREGATE_FILTERS = frozenset({"area_ids", "types"})


_NONE = Policy("none")
_ALL = Policy("all")
_PARTNERS = tuple(sorted(schema.PARTNER_ROLES))
_STAFF = tuple(sorted(schema.KOMMUN_STAFF_ROLES))
_PLANNERS = tuple(sorted(schema.PLANNER_ROLES))


def _rows(*pairs: tuple[tuple[str, ...], Policy]) -> dict[str, Policy]:
    """One kind's policies: each role of a group gets the group's policy (roles not named get none)."""
    return {role: pol for roles, pol in pairs for role in roles}


# The matrix at the top of this module, as data: kind -> role -> policy. The store turns a policy into SQL.
POLICIES: dict[str, dict[str, Policy]] = {
    "area": dict.fromkeys(schema.ROLE, _ALL),
    "finding": _rows(
        (_STAFF, _ALL),
        (("deltagare",), Policy("filtered", audiences=_PUBLIC, own_walks=True, own_reporter=True)),
        (("nattvandrare",), Policy("filtered", audiences=_PUBLIC)),
        (_PARTNERS, Policy("filtered", audiences=_PARTNER)),
    ),
    "walk": _rows(
        (_STAFF, _ALL),
        (("deltagare",), Policy("filtered", audiences=_PUBLIC, own_walks=True)),
        (("nattvandrare",), Policy("filtered", audiences=_PUBLIC)),
        (_PARTNERS, Policy("filtered", audiences=_PARTNER)),
    ),
    "sighting": _rows(
        (_STAFF, _ALL),
        (_PARTNERS, Policy("aggregate", aggregate_by=_SIGHTING_AGGREGATE_BY,
                           aggregate_filters=_SIGHTING_AGGREGATE_FILTERS)),
    ),
    "incident": _rows(
        (_PLANNERS, _ALL),
        (("faltgrupp",), Policy("filtered", audiences=_PARTNER)),
        (_PARTNERS, Policy("filtered", audiences=_PARTNER, own_org_column="owner_org",
                           redact_unless_own=("description", "title", "external_id", "reported_by"))),
    ),
    "action": _rows(
        (_PLANNERS, _ALL),
        (("deltagare",), Policy("filtered", own_walks=True, audience_rows=False)),
        (_PARTNERS, Policy("filtered", own_org_column="responsible", shared_column="shared", audience_rows=False)),
    ),
    "nightwalk": _rows(
        (_STAFF, _ALL),
        (("nattvandrare",), Policy("filtered", own_reporter=True, audience_rows=False)),
        (_PARTNERS, Policy("filtered", audiences=_PARTNER)),
    ),
}


def policy(viewer: Viewer | None, kind: str) -> Policy:
    """The read policy of ``viewer`` (None: local administrator) for record ``kind``."""
    if kind not in schema.RECORD_KIND:
        msg = f"unknown record kind {kind!r}; allowed: {', '.join(schema.RECORD_KIND)}"
        raise ValidationError(msg)
    if kind not in POLICIES:
        msg = f"no read policy for {kind!r}"
        raise ValidationError(msg)
    return POLICIES[kind].get("admin" if viewer is None else viewer.role, _NONE)


# Audience levels from the widest to the narrowest (schema order).
AUDIENCE_ORDER: tuple[str, ...] = tuple(schema.AUDIENCE)
# Who may add other users to a walk (an invitation), whatever the walk's date and audience.
INVITING_ROLES = schema.PLANNER_ROLES


def walk_audiences_showing(record_audience: str) -> tuple[str, ...]:
    """The walk audiences under which a participant of the walk sees a record of ``record_audience``: the
    record's own level and every narrower one (what the walk's audience allows)."""
    schema.require_key("audience", record_audience, "audience")
    return AUDIENCE_ORDER[AUDIENCE_ORDER.index(record_audience):]


def check_may_join(actor: Viewer | None, username: str, *, walk_audience: str, walk_day: dt.date,
                   today: dt.date, already: bool) -> None:
    """Raise ``PermissionDeniedError`` unless ``actor`` may make ``username`` a participant of a walk.

    A planner or administrator (or the local administrator, ``None``) invites anyone to any walk. A deltagare
    joins only themselves, only a walk whose audience their role may read, and only while it is open: on the
    walk's day or before it (``walk_day`` and ``today`` in the kommun's time zone). Being a participant
    already is never refused (a later report on the same walk)."""
    if actor is None or actor.role in INVITING_ROLES:
        return
    if actor.role != "deltagare":
        msg = f"Rollen {actor.role} kan inte gå med i vandringar; en planerare bjuder in deltagare."
        raise PermissionDeniedError(msg, msgid=N_("join_refused_role"), role=actor.role)
    if username != actor.username:
        msg = "Du kan bara anmäla dig själv till en vandring; en planerare bjuder in andra."
        raise PermissionDeniedError(msg, msgid=N_("join_refused_other"))
    if already:
        return
    readable = policy(actor, "walk").audiences or frozenset()
    if walk_audience not in readable:
        msg = "Vandringen är inte öppen för anmälan; be en planerare att bjuda in dig."
        raise PermissionDeniedError(msg, msgid=N_("join_refused_closed"))
    if walk_day < today:
        msg = (f"Vandringen den {walk_day:%Y-%m-%d} är redan genomförd; du kan gå med i dagens och kommande "
               "vandringar. Var du med, be en planerare att bjuda in dig.")
        raise PermissionDeniedError(msg, msgid=N_("join_refused_past"), day=f"{walk_day:%Y-%m-%d}")


@dataclass(frozen=True)
class EstReportPolicy:
    """What a viewer may do with the weekly EST reports.

    read: "all", "own_org" (reports of the viewer's organisation) or "none"; submit: may file a report (for
    ``organisations`` only, None = any); review: may approve, correct and return reports.
    """

    read: str
    submit: bool
    review: bool
    organisations: frozenset[str] | None = None


def est_report_policy(viewer: Viewer | None) -> EstReportPolicy:
    """The EST weekly report rights of ``viewer`` (None: local administrator)."""
    role = "admin" if viewer is None else viewer.role
    if role in schema.PLANNER_ROLES:
        return EstReportPolicy("all", submit=True, review=True)
    if role in schema.PARTNER_ROLES and viewer is not None:
        own = frozenset({viewer.organisation}) if viewer.organisation else frozenset()
        return EstReportPolicy("own_org", submit=bool(own), review=False, organisations=own)
    return EstReportPolicy("none", submit=False, review=False, organisations=frozenset())


def may_administer(viewer: Viewer | None) -> bool:
    """Users, routing, thresholds and retention are for administrators only."""
    return viewer is None or viewer.role == "admin"


# --- who may write (the services check these inside their write transaction) ----------------------------

def _deny(msg: str) -> None:
    raise PermissionDeniedError(msg)


def is_planner(viewer: Viewer | None) -> bool:
    """Planners and administrators (and the local administrator, ``None``) act on every record."""
    return viewer is None or viewer.role in schema.PLANNER_ROLES


def check_may_create_action(actor: Viewer | None) -> None:
    if not is_planner(actor):
        _deny(f"role {actor.role if actor else 'admin'} may not create actions; a planner or administrator does")


def check_may_act_on_action(actor: Viewer | None, action_id: int, responsible: str, shared: bool, *,
                            comment_only: bool) -> None:
    """Planners and admins act on every action; a partner on its own (and comments on shared ones)."""
    if actor is None or is_planner(actor):
        return
    if actor.role in schema.PARTNER_ROLES and actor.organisation:
        if responsible == actor.organisation:
            return
        if comment_only and shared:
            return
    what = "comment on" if comment_only else "change the status of"
    _deny(f"role {actor.role} ({actor.organisation or 'no organisation'}) may not {what} action {action_id}")


def check_may_move_deadline(actor: Viewer | None, old: dt.date | None, new: dt.date | None) -> None:
    """The responsible party plans its own action but does not move the deadline (senast) it was given."""
    if not is_planner(actor) and new != old:
        _deny("Bara en planerare ändrar åtgärdens senast-datum.")


def check_may_change_finding(actor: Viewer | None, party: str | None) -> None:
    """Planners move every finding through its lifecycle; a partner only the findings routed to it."""
    if actor is None or is_planner(actor):
        return
    if actor.role in schema.PARTNER_ROLES and party and party == actor.organisation:
        return
    _deny(f"role {actor.role} may not change the status of this finding")


def check_may_file_est_lines(actor: Viewer | None, organisation: str, where: str) -> None:
    """Planners file EST lines for anyone; a partner only for its own organisation."""
    if actor is None or is_planner(actor):
        return
    if actor.role not in schema.PARTNER_ROLES:
        _deny(f"role {actor.role} may not file EST reports")
    if organisation != actor.organisation:
        _deny(f"{where}: {actor.username} reports for {actor.organisation}, not {organisation}")


def est_lines_status(actor: Viewer | None) -> str:
    """A report a planner writes is approved at once; a partner's waits for review."""
    return "godkand" if is_planner(actor) else "inskickad"


def check_may_read_partner_reports(viewer: Viewer | None) -> None:
    if viewer is not None and viewer.role not in schema.EST_READER_ROLES:
        _deny(f"role {viewer.role} may not read partner EST reports")


def hides_other_organisations(viewer: Viewer | None) -> bool:
    """A partner reads other organisations' EST lines without their comment and reporter."""
    return viewer is not None and viewer.role in schema.PARTNER_ROLES


def check_may_answer_followup(actor: Viewer | None) -> None:
    if actor is not None and actor.role not in schema.FOLLOWUP_ROLES:
        _deny(f"Rollen {schema.label('role', actor.role)} kan inte svara på uppföljningen vid en vandring.")


def check_may_administer(actor: Viewer | None, what: str) -> None:
    """Users, routing, thresholds and retention are for administrators only."""
    if not may_administer(actor):
        _deny(f"only an administrator {what}")
