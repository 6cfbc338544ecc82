"""The import's notes, warnings and rejection reasons in the user's language (issue 14).

The readers write them in English (the CLI, the logs and the rejection report CSV keep that text); the preview
shows each through a message id: the English sentence is matched by the pattern of the template that made it
(kept here, beside the readers in this package) and its values are filled into the catalogue's text. A sentence
no pattern knows is shown as it is.
"""

from __future__ import annotations

import re

from trygghetskarta import i18n
from trygghetskarta.i18n import N_

# (pattern of the English sentence, message id); the named groups are the message's values.
_NOTES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.S), m) for p, m in (
    (r"^declared (?P<crs>\S+) honoured; no CRS puts", N_("crs_note_declared_far")),
    (r"^declared (?P<crs>\S+) honoured", N_("crs_note_declared")),
    (r"^declared (?P<declared>\S+) does not fit the coordinates .*; read as (?P<crs>.+?) instead",
     N_("crs_note_mislabelled")),
    (r"^no CRS declared; detected (?P<crs>.+?) \(tried", N_("crs_note_detected")),
    (r"^no CRS declared and no CRS puts the points near .*read as (?P<crs>.+?) \(tried", N_("crs_note_latlon")),
    (r"^no CRS declared; only (?P<crs>.+?) holds the coordinates", N_("crs_note_only_range")),
    (r"^the file declares (?P<declared>\S+); using (?P<crs>\S+) as asked", N_("crs_note_user")),
))
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.S), m) for p, m in (
    (r"^cannot read the date", N_("reason_date_unreadable")),
    (r"^the date (?P<value>.+) is before (?P<bound>\S+); check the year", N_("reason_date_before")),
    (r"^the date (?P<value>.+) is after (?P<bound>\S+); check the year", N_("reason_date_after")),
    (r"^the date (?P<value>.+) is in the future", N_("reason_date_future")),
    (r"^(?P<field>\w+) is required$", N_("reason_required")),
    (r"^unknown (?P<field>\w+) (?P<value>.+); allowed: (?P<allowed>.+)$", N_("reason_unknown_key")),
    (r"^(?P<field>\w+) is longer than (?P<n>[\d\s]+) characters", N_("reason_too_long")),
    (r"^(?P<field>\w+) must be a whole number", N_("reason_whole_number")),
    (r"^(?P<field>\w+) must be a number", N_("reason_number")),
    (r"^(?P<field>\w+) is out of range", N_("reason_out_of_range")),
    (r"^severity must be 1, 2 or 3", N_("reason_severity")),
    (r"^accuracy must not be negative", N_("reason_accuracy")),
    (r"^(?P<field>\w+) must be yes/no", N_("reason_yes_no")),
    (r"^geometry missing", N_("reason_geometry_missing")),
    (r"^geometry empty", N_("reason_geometry_empty")),
    (r"^invalid geometry: (?P<detail>.+)$", N_("reason_geometry_invalid")),
    (r"^coordinates are not finite numbers", N_("reason_coordinates")),
    (r"^coordinates outside -180", N_("reason_coordinates_world")),
    (r"^geometry type (?P<type>\S+) not allowed for kind (?P<kind>\S+); allowed: (?P<allowed>.+)$",
     N_("reason_geometry_type")),
    (r"^outside (?P<place>.+?): (?P<distance>[\d\s]+) m from the boundary \(allowed (?P<allowed>[\d\s]+) m\)",
     N_("reason_outside")),
))
_WARNINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.S), m) for p, m in (
    (r"^(?P<file>.+?): no source column; the incidents get source", N_("warning_no_source")),
    (r"^(?P<file>.+?): columns not imported: (?P<columns>.+)$", N_("warning_unused_columns")),
    (r"^(?P<label>.+?): the text of (?P<n>\d+) row\(s\) seems to name a person", N_("warning_names")),
    (r"^police events API format", N_("warning_polisen_api")),
    (r"^Brottsplatskartan format", N_("warning_brottsplatskartan")),
))

# A record field's heading in a preview (``field_<name>``).
_FIELD_IDS: tuple[str, ...] = (N_("field_accuracy_m"), N_("field_age_band"), N_("field_area_id"),
    N_("field_audience"), N_("field_category"), N_("field_contacts_young"), N_("field_created_by"),
    N_("field_description"), N_("field_done_date"), N_("field_due_date"), N_("field_duplicate_of"),
    N_("field_external_id"), N_("field_group_size"), N_("field_kind"), N_("field_light"), N_("field_locality"),
    N_("field_name"), N_("field_notes"), N_("field_observations"), N_("field_observed_at"), N_("field_occurred_at"),
    N_("field_organisation"), N_("field_organisations"), N_("field_original_category"), N_("field_original_type"),
    N_("field_owner_org"), N_("field_planned_date"), N_("field_population"), N_("field_positive"),
    N_("field_precision"), N_("field_priority"), N_("field_reported_at"), N_("field_reported_by"),
    N_("field_responsible"), N_("field_severity"), N_("field_shared"), N_("field_source"), N_("field_started_at"),
    N_("field_status"), N_("field_title"), N_("field_type"), N_("field_walk_date"), N_("field_walk_id"),
    N_("field_walkers"), N_("field_what"))


def field_label(name: str, lang: str = "sv") -> str:
    """The heading of a record field (``category`` → ``Kategori``); the name itself when it has none."""
    msgid = f"field_{name}"
    return i18n.gettext(msgid, lang) if i18n.has(msgid, lang) else name


def _shown(text: str, table: tuple[tuple[re.Pattern[str], str], ...], lang: str) -> str:
    for pattern, msgid in table:
        found = pattern.search(text)
        if found:
            return i18n.gettext(msgid, lang, **{k: v.strip() for k, v in found.groupdict().items()})
    return text


def crs_note(note: str, lang: str = "sv") -> str:
    """How the coordinate system was chosen, in ``lang``."""
    return _shown(note, _NOTES, lang)


def reason(text: object, lang: str = "sv") -> str:
    """Why a row was refused, in ``lang``."""
    return _shown(str(text), _REASONS, lang)


def warning(text: str, lang: str = "sv") -> str:
    """A reader's warning, in ``lang`` (a CRS note after ``file:`` included)."""
    file, sep, rest = text.partition(": ")
    if sep and (note := crs_note(rest, lang)) != rest:
        return f"{file}: {note}"
    return _shown(text, _WARNINGS, lang)


def summary(accepted: int, rejected: int, already_present: int, lang: str = "sv") -> str:
    """What an import did: ``Importerade rader: 3, avvisade: 5, fanns redan: 1``."""
    return i18n.gettext("import_summary", lang, accepted=i18n.format_number(accepted, lang),
                        rejected=i18n.format_number(rejected, lang),
                        present=i18n.format_number(already_present, lang))
