"""Who may see what, as data (issue 6 matrix). The store turns a ``Policy`` into SQL; nothing here speaks SQL.

|                    | deltagare        | nattvandrare | faltgrupp | planerare | polis / bostadsbolag        | admin |
|--------------------|------------------|--------------|-----------|-----------|-----------------------------|-------|
| findings           | own walks+publik | publik       | all       | all       | partner + publik            | all   |
| field sightings    | –                | –            | points    | points    | area totals >= k            | points|
| partner incidents  | –                | –            | partner   | all       | partner (own in detail)     | all   |
| actions            | own walk's       | –            | –         | all       | own + shared                | all   |
| night-walk reports | –                | own reports  | all       | all       | partner + publik            | all   |
| walks              | own + publik     | publik       | all       | all       | partner + publik            | all   |
| areas              | all              | all          | all       | all       | all                         | all   |

Reading the cells:

- An audience level includes the levels below it: "partner" means audience publik or partner, never begransad.
- "own walks" (deltagare): every record of a walk the user took part in (``walk_participants``), whatever its
  audience; a deltagare also sees the findings they reported themselves.
- "own in detail" (partners, incidents): incidents whose ``owner_org`` is the viewer's organisation are visible
  whatever their audience and unredacted; other visible incidents have ``title``, ``description``,
  ``external_id`` and ``reported_by`` blanked. Those columns may not be used for grouping either.
- "area totals >= k" (partners, sightings): no rows at all; only counts grouped by ``area_id`` (and ``type``),
  which ``privacy`` suppresses under k before they are shown.
- "own + shared" (partners, actions): actions whose ``responsible`` party is the viewer's organisation, or that
  are marked ``shared``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trygghetskarta import schema
from trygghetskarta.errors import ValidationError


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
        organisation = {"polis": "polis", "bostadsbolag": "upplands_brohus"}.get(role)
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
_INTERNAL = ("faltgrupp", "planerare", "admin")
# Partners may count sightings per area (and type), never per person, place, time of day or text.
_SIGHTING_AGGREGATE_BY = frozenset({"area_id", "type"})
_SIGHTING_AGGREGATE_FILTERS = frozenset({"area_ids", "types"})


def policy(viewer: Viewer | None, kind: str) -> Policy:
    """The read policy of ``viewer`` (None: local administrator) for record ``kind``."""
    if kind not in schema.RECORD_KIND:
        msg = f"unknown record kind {kind!r}; allowed: {', '.join(schema.RECORD_KIND)}"
        raise ValidationError(msg)
    role = "admin" if viewer is None else viewer.role
    partner = role in schema.PARTNER_ROLES
    if kind == "area":
        return Policy("all")
    if kind == "finding":
        if role in ("faltgrupp", "planerare", "admin"):
            return Policy("all")
        if role == "deltagare":
            return Policy("filtered", audiences=_PUBLIC, own_walks=True, own_reporter=True)
        if role == "nattvandrare":
            return Policy("filtered", audiences=_PUBLIC)
        if partner:
            return Policy("filtered", audiences=_PARTNER)
        return Policy("none")
    if kind == "walk":
        if role in _INTERNAL:
            return Policy("all")
        if role == "deltagare":
            return Policy("filtered", audiences=_PUBLIC, own_walks=True)
        return Policy("filtered", audiences=_PARTNER if partner else _PUBLIC)
    if kind == "sighting":
        if role in _INTERNAL:
            return Policy("all")
        if partner:
            return Policy("aggregate", aggregate_by=_SIGHTING_AGGREGATE_BY,
                          aggregate_filters=_SIGHTING_AGGREGATE_FILTERS)
        return Policy("none")
    if kind == "incident":
        if role in ("planerare", "admin"):
            return Policy("all")
        if role == "faltgrupp":
            return Policy("filtered", audiences=_PARTNER)
        if partner:
            return Policy("filtered", audiences=_PARTNER, own_org_column="owner_org",
                          redact_unless_own=("description", "title", "external_id", "reported_by"))
        return Policy("none")
    if kind == "action":
        if role in ("planerare", "admin"):
            return Policy("all")
        if role == "deltagare":
            return Policy("filtered", own_walks=True, audience_rows=False)
        if partner:
            return Policy("filtered", own_org_column="responsible", shared_column="shared", audience_rows=False)
        return Policy("none")
    if kind == "nightwalk":
        if role in _INTERNAL:
            return Policy("all")
        if role == "nattvandrare":
            return Policy("filtered", own_reporter=True, audience_rows=False)
        if partner:
            return Policy("filtered", audiences=_PARTNER)
        return Policy("none")
    msg = f"no read policy for {kind!r}"
    raise ValidationError(msg)


def may_administer(viewer: Viewer | None) -> bool:
    """Users, routing, thresholds and retention are for administrators only."""
    return viewer is None or viewer.role == "admin"
