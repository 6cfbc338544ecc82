"""Map a table's columns onto the fields of a record kind and convert the values, column by column.

Headers are matched after folding (case, å/ä/ö, punctuation; a Kobo/ODK group prefix such as
``grupp/kategori`` is dropped) against the field name and the synonyms below. Every problem becomes
a rejection naming the row, the column, the value and the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from trygghetskarta import records, schema
from trygghetskarta.ingest.dates import EARLIEST, LATEST, parse_dates_checked, parse_datetimes_checked
from trygghetskarta.ingest.table import RawTable, is_missing_text
from trygghetskarta.ingest.tabular import numbers
from trygghetskarta.ingest.vocab import OTHER_ALLOWED, allowed_text, fold, map_values
from trygghetskarta.scrub import scrub_text
from trygghetskarta.timeutil import local_today

_TIME = ("datum", "date", "tid", "time", "tidpunkt", "datetime", "date time", "timestamp", "when")
_DESCRIPTION = ("description", "beskrivning", "kommentar", "kommentarer", "comment", "comments", "text",
                "anteckning", "anteckningar", "notes", "note", "desc", "cmt", "summary", "sammanfattning",
                "content")
_EXTERNAL_ID = ("external id", "uuid", "instanceid", "meta instanceid", "instance id", "key", "id",
                "crime id", "objectid", "fid", "globalid", "global id", "event id")

HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "finding": {
        "category": ("category", "kategori", "typ", "type", "fyndtyp", "problem", "problemtyp", "name", "namn"),
        "description": _DESCRIPTION,
        "severity": ("severity", "allvarlighet", "allvarlighetsgrad", "grad"),
        "positive": ("positive", "positiv"),
        "status": ("status",),
        "responsible": ("responsible", "ansvarig", "ansvarig part"),
        "due_date": ("due date", "deadline", "klart senast", "atgardas senast"),
        "reported_at": ("reported at", "rapporterad", *_TIME, "observed at", "start", "today",
                        "submission time", "submissiondate", "created", "created at", "skapad"),
        "reported_by": ("reported by", "rapporterad av", "rapportor", "reporter", "organisation"),
        "light": ("light", "ljus", "ljusforhallande", "ljusforhallanden"),
        "accuracy_m": ("accuracy m", "accuracy", "noggrannhet", "position precision", "position accuracy",
                       "geopoint accuracy"),
        "external_id": _EXTERNAL_ID,
    },
    "sighting": {
        "type": ("type", "typ", "kategori", "category", "observation", "observationstyp"),
        "group_size": ("group size", "gruppstorlek", "antal personer", "antal"),
        "age_band": ("age band", "alder", "aldersgrupp", "age"),
        "observed_at": ("observed at", *_TIME, "start", "today", "submission time", "submissiondate"),
        "description": _DESCRIPTION,
        "reported_by": ("reported by", "rapporterad av"),
        "external_id": _EXTERNAL_ID,
    },
    "nightwalk": {
        "organisation": ("organisation", "organization", "forening"),
        "walk_date": ("walk date", *_TIME, "start", "today"),
        "walkers": ("walkers", "antal vandrare", "antal nattvandrare", "vandrare"),
        "contacts_young": ("contacts young", "kontakter", "kontakter med unga"),
        "observations": ("observations", "observationer", "iakttagelser", *_DESCRIPTION),
        "reported_by": ("reported by", "rapporterad av"),
        "external_id": _EXTERNAL_ID,
    },
    "incident": {
        "source": ("source", "kalla"),
        "type": ("type", "typ", "title type", "crime type", "handelsetyp", "brottstyp", "category", "kategori"),
        "occurred_at": ("occurred at", "datetime", *_TIME, "pubdate iso8601", "month", "start"),
        "precision": ("precision", "positionsnoggrannhet"),
        "title": ("title", "rubrik", "name", "namn", "html title"),
        "description": _DESCRIPTION,
        "owner_org": ("owner org", "agare"),
        "reported_by": ("reported by", "rapporterad av"),
        "external_id": _EXTERNAL_ID,
    },
    "area": {
        "name": ("name", "namn", "omrade", "omradesnamn", "knnamn", "kom namn", "kommun", "kommunnamn",
                 "regso", "deso", "title"),
        "locality": ("locality", "ort", "tatort", "kommundel"),
        "source": ("source", "kalla"),
        "population": ("population", "befolkning", "invanare", "pop", "pop total", "folkmangd"),
        "external_id": ("external id", "id", "kod", "code", "knkod", "kommun kod", "deso", "objectid", "fid"),
    },
    "walk": {
        "title": ("title", "titel", "rubrik", "name", "namn"),
        "started_at": ("started at", "starttid", "start", *_TIME),
        "light": ("light", "ljus", "ljusforhallande"),
        "organisations": ("organisations", "organisationer", "deltagande organisationer"),
        "notes": ("notes", "anteckningar", *_DESCRIPTION),
        "created_by": ("created by", "skapad av"),
        "external_id": _EXTERNAL_ID,
    },
}
# Kobo's underscore columns that carry record fields; the others (_status, _notes ...) are Kobo's own.
_KOBO_META = frozenset({"uuid", "id", "submission time", "position precision", "geopoint accuracy"})
SUPPORTED_KINDS: tuple[str, ...] = tuple(HEADERS)
_TRUE = frozenset({"true", "1", "ja", "yes", "j", "y", "sant", "x"})
_FALSE = frozenset({"false", "0", "nej", "no", "n", "falskt", ""})
# When something was seen or happened: never more than a day ahead (a walk may be planned, a due date lies
# ahead, so those are only held to dates.EARLIEST .. dates.LATEST).
OBSERVED_FIELDS = frozenset({"reported_at", "observed_at", "walk_date", "occurred_at"})
MAX_TEXT_CHARS = 100_000  # a free text longer than this is a rejected row (before it is scrubbed)


@dataclass
class Mapping:
    """The converted fields (one column per field), rejections and what was learnt on the way."""

    values: pd.DataFrame
    rejections: list[tuple[int, str, str, str]] = field(default_factory=list)
    masked: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    columns_used: dict[str, list[str]] = field(default_factory=dict)


def match_columns(columns: list[str], kind: str, exclude: set[str]) -> dict[str, list[str]]:
    """Field name → file columns in preference order (exact field name first, then synonyms).

    A column serves one field only; where the first column of a field is empty in a row, the next
    one is used (e.g. a GPX waypoint without ``type`` falls back to its ``name``).
    """
    folded: dict[str, str] = {}
    for c in columns:
        if c in exclude or (str(c).startswith("_") and fold(c) not in _KOBO_META):
            continue
        folded.setdefault(fold(c), c)
        if "/" in str(c):  # Kobo/ODK group prefix
            folded.setdefault(fold(str(c).rsplit("/", 1)[-1]), c)
    out: dict[str, list[str]] = {}
    taken: set[str] = set()
    for f in records.FIELDS[kind]:
        for name in dict.fromkeys((fold(f.name), *HEADERS[kind].get(f.name, ()))):
            col = folded.get(name)
            if col is not None and col not in taken:
                out.setdefault(f.name, []).append(col)
                taken.add(col)
    return out


def _coalesce(frame: pd.DataFrame, columns: list[str], as_text: bool) -> pd.Series:
    """The first non-empty value per row among ``columns``."""
    def one(c: str) -> pd.Series:
        col = frame[c].reset_index(drop=True)
        return _text_values(col) if as_text else col.astype("object")

    out = one(columns[0])
    for c in columns[1:]:
        missing = is_missing_text(out)
        if not missing.any():
            break
        out = out.where(~missing, one(c))
    return out


def _cell_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _text_values(values: pd.Series) -> pd.Series:
    missing = is_missing_text(values)
    cells = values.to_numpy(dtype=object)
    return pd.Series([None if m else _cell_text(v) for v, m in zip(cells, missing, strict=True)], dtype=object)


class Reject(Protocol):
    """Records a rejection for each row of ``mask``: its source row, the column, the value shown and the reason
    (one for all, or one per rejected row)."""

    def __call__(self, mask: np.ndarray, column: str, values: pd.Series | None, reason: str | list[str]) -> None: ...


def map_fields(table: RawTable, kind: str, defaults: dict[str, object], file: str) -> Mapping:
    """Convert the columns of ``table`` to the fields of ``kind``."""
    frame = table.frame
    n = len(frame)
    matched = match_columns(list(frame.columns), kind, table.used_columns)
    result = Mapping(pd.DataFrame(index=range(n)), columns_used=matched)
    rows = table.source_rows

    def reject(mask: np.ndarray, column: str, values: pd.Series | None, reason: str | list[str]) -> None:
        idx = np.flatnonzero(mask)
        for j, i in enumerate(idx):
            cell = None if values is None else values.iloc[i]
            value = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) or cell is pd.NA \
                else str(cell)
            result.rejections.append((int(rows[i]), column, value,
                                      reason if isinstance(reason, str) else reason[j]))

    for f in records.FIELDS[kind]:
        if f.name not in matched and f.name in result.values.columns:
            continue  # already filled, e.g. original_category from an unknown category
        raw, label = _field_source(f, table, matched.get(f.name), defaults, kind, file, result)
        if raw is None:
            if f.required and f.type != "fk":
                accepted = ", ".join(dict.fromkeys((f.name, *HEADERS[kind].get(f.name, ()))))
                reason = f"no column for required field {f.name!r}; accepted headers: {accepted}"
                result.rejections.extend((int(r), label, "", reason) for r in rows)
            result.values[f.name] = pd.Series([f.default] * n, dtype=object)
            continue
        result.values[f.name] = _convert(f, raw, kind, label, reject, result, rows)
    if kind == "finding" and "positive" not in matched and "positive" not in defaults:
        result.values["positive"] = (result.values["category"] == "trygg_plats").astype(bool)
    if table.external_id_prefix:
        prefix = table.external_id_prefix
        result.values["external_id"] = result.values["external_id"].map(lambda v: None if v is None
                                                                        else prefix + str(v))
    _warn_unused(table, matched, file, result)
    return result


def _field_source(f: records.Field, table: RawTable, column: list[str] | None, defaults: dict[str, object],
                  kind: str, file: str, result: Mapping) -> tuple[pd.Series | None, str]:
    """A field's raw values and the label its rejections name: the format's fixed value (e.g. a GPX track's
    kind), else the file's column(s), else the caller's default; an incident without a source column gets
    'ovrigt' with a warning. None when the field has no source."""
    n = len(table.frame)
    if f.name in table.fixed and column is None:
        return pd.Series([table.fixed[f.name]] * n, dtype=object), f"({f.name})"
    if column is not None:
        return _coalesce(table.frame, column, as_text=f.type not in ("datetime", "date")), str(column[0])
    if f.name in defaults:
        return pd.Series([defaults[f.name]] * n, dtype=object), f"({f.name})"
    if kind == "incident" and f.name == "source":
        result.warnings.append(f"{file}: no source column; the incidents get source 'ovrigt' (Övrig källa)")
        return pd.Series(["ovrigt"] * n, dtype=object), "(source)"
    return None, f"({f.name})"


def _warn_unused(table: RawTable, matched: dict[str, list[str]], file: str, result: Mapping) -> None:
    """A warning naming the file's columns (up to 20) that feed no field."""
    used = {c for cols in matched.values() for c in cols}
    unused = [c for c in table.frame.columns if c not in used and c not in table.used_columns
              and not str(c).startswith("__")]
    if unused:
        result.warnings.append(f"{file}: columns not imported: {', '.join(map(str, unused[:20]))}"
                               + (" …" if len(unused) > 20 else ""))


def _convert(f: records.Field, raw: pd.Series, kind: str, label: str, reject: Reject,
             result: Mapping, rows: np.ndarray) -> pd.Series:
    """One field's values converted to its type (rejections named by ``label``), one converter per type."""
    if f.type in ("datetime", "date"):
        return _convert_dates(f, raw, label, reject)
    text = raw.astype("object")
    if f.vocab is not None:
        vocab = "severity" if f.name == "severity" else f.vocab
        return _convert_vocabulary(f, vocab, text, kind, label, reject, result)
    if f.type == "text":
        return _convert_free_text(f, text, label, reject, result, rows)
    if f.type in ("int", "float", "fk"):
        return _convert_number(f, text, label, reject)
    if f.type == "bool":
        return _convert_bool(f, text, label, reject)
    return _convert_short_text(f, text, label, reject)


def _convert_dates(f: records.Field, raw: pd.Series, label: str, reject: Reject) -> pd.Series:
    """Dates or datetimes: unreadable, outside dates.EARLIEST .. dates.LATEST, an observation in the future
    (more than a day ahead) and a missing required value are rejected."""
    missing = is_missing_text(raw)
    parsed, outside = (parse_datetimes_checked(raw) if f.type == "datetime" else parse_dates_checked(raw))
    bad = ~missing & parsed.isna().to_numpy() & (outside == 0)
    reject(bad, label, raw, "cannot read the date; use e.g. 2026-08-22 17:59 or 22/8 2026")
    for side, bound in ((-1, f"is before {EARLIEST.isoformat()}"), (1, f"is after {LATEST.isoformat()}")):
        idx = np.flatnonzero(outside == side)
        reject(outside == side, label, raw, [f"the date {_shown(raw.iloc[i])!r} {bound}; check the year"
                                             for i in idx])
    if f.name in OBSERVED_FIELDS:
        future = _in_the_future(parsed, f.type)
        parsed = parsed.where(~future, pd.NaT if f.type == "datetime" else None)
        reject(future, label, raw, [f"the date {_shown(raw.iloc[i])!r} is in the future (an observation cannot "
                                    f"be more than a day ahead of today)" for i in np.flatnonzero(future)])
    if f.required:
        reject(missing, label, raw, f"{f.name} is required")
    if f.type == "date":
        return parsed.astype("object")
    return parsed


def _convert_vocabulary(f: records.Field, vocab: str, text: pd.Series, kind: str, label: str, reject: Reject,
                        result: Mapping) -> pd.Series:
    """Keys of the field's vocabulary from keys, Swedish or English labels and synonyms. An unknown value is
    rejected, or, where the kind allows it (``OTHER_ALLOWED``), becomes 'ovrigt' and is kept in the companion
    field (e.g. original_category)."""
    mapped = map_values(text, vocab)
    keys = mapped.keys.copy()
    other = OTHER_ALLOWED.get((kind, f.name))
    if other is not None:
        keys[mapped.unknown] = "ovrigt"
        # keep the original unless it is just the key or one of its labels
        orig = mapped.original.to_numpy(dtype=object)
        plain = {fold(w) for t in schema.VOCABULARIES[vocab] for w in (t.key, t.sv, t.en)}
        keep = ~mapped.empty & np.array([fold(v) not in plain for v in orig], dtype=bool)
        original = pd.Series(np.where(keep, orig, None), dtype=object)
        result.values[other] = original.astype("object")
    else:
        reject(mapped.unknown, label, text,
               [f"unknown {f.name} {text.iloc[i]!r}; allowed: {allowed_text(vocab)}"
                for i in np.flatnonzero(mapped.unknown)])
    if f.required:
        reject(mapped.empty, label, text, f"{f.name} is required")
    elif f.default is not None:
        keys[mapped.empty] = f.default
    return keys.astype("object")


def _convert_free_text(f: records.Field, text: pd.Series, label: str, reject: Reject, result: Mapping,
                       rows: np.ndarray) -> pd.Series:
    """Free text (descriptions, notes): longer than ``MAX_TEXT_CHARS`` is rejected; the rest is scrubbed of
    personal data (counted in ``result.masked``; a text that seems to name a person is warned about)."""
    missing = text.isna().to_numpy()
    arr = text.to_numpy(dtype=object).copy()
    too_long = np.array([v is not None and len(str(v)) > MAX_TEXT_CHARS for v in arr], dtype=bool)
    if too_long.any():
        reject(too_long, label, text.map(lambda v: None if v is None else str(v)[:40] + "..."),
               f"{f.name} is longer than {MAX_TEXT_CHARS:,} characters".replace(",", " "))
        arr[too_long] = None
        missing = missing | too_long
    present = np.flatnonzero(~missing)
    if len(present):
        arr[present], flagged = _scrub(arr[present], result)
        if flagged.any():
            named = present[flagged]
            result.warnings.append(f"{label}: the text of {len(named)} row(s) seems to name a person "
                                   f"(rows {', '.join(str(r) for r in rows[named[:10]])}); "
                                   f"check before sharing")
    out = pd.Series(arr, dtype=object)
    if f.required:
        reject(missing, label, text, f"{f.name} is required")
    return out.where(~missing, f.default).astype("object")


def _scrub(texts: np.ndarray, result: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """The texts scrubbed and where one seems to name a person. Each distinct text is scrubbed once; its
    masked counts are multiplied by how often it occurs."""
    uniq, inverse, occurs = np.unique(texts.astype(str), return_inverse=True, return_counts=True)
    cleaned = np.empty(len(uniq), dtype=object)
    names = np.zeros(len(uniq), dtype=bool)
    for j, value in enumerate(uniq):
        res = scrub_text(str(value))
        cleaned[j] = res.text
        names[j] = bool(res.warnings)
        for k, c in res.counts.items():
            result.masked[k] = result.masked.get(k, 0) + c * int(occurs[j])
    return cleaned[inverse], names[inverse]


def _convert_number(f: records.Field, text: pd.Series, label: str, reject: Reject) -> pd.Series:
    """Numbers (a decimal comma too; severity also from its words): not a number, a fraction for a whole
    number, beyond 2**53, a severity outside 1-3 and a negative accuracy are rejected."""
    values, bad = numbers(text.fillna(""))
    if f.name == "severity":
        mapped = map_values(text, "severity")
        from_words = bad & ~mapped.unknown & ~mapped.empty
        values[from_words] = mapped.keys[from_words].astype(float)
        bad = bad & ~from_words
    if f.type in ("int", "fk"):
        frac = np.isfinite(values) & (values != np.round(values))
        reject(frac, label, text, f"{f.name} must be a whole number")
        bad = bad & ~frac
    reject(bad, label, text, f"{f.name} must be a number")
    huge = np.isfinite(values) & (np.abs(values) > 2.0**53)
    reject(huge, label, text, f"{f.name} is out of range")
    values[huge] = np.nan
    bad = bad | huge
    if f.name == "severity":
        out_of = np.isfinite(values) & ~np.isin(values, [1, 2, 3])
        reject(out_of, label, text, "severity must be 1, 2 or 3 (lindrig, betydande, allvarlig)")
    if f.name == "accuracy_m":
        neg = np.isfinite(values) & (values < 0)
        reject(neg, label, text, "accuracy must not be negative")
    empty = ~np.isfinite(values)
    if f.required:
        reject(empty & ~bad, label, text, f"{f.name} is required")
    if f.type == "float":
        out = pd.Series(values, dtype="Float64")
        out[empty] = f.default if f.default is not None else pd.NA
        return out
    ints = pd.Series(np.where(empty, 0, values).astype("int64"), dtype="Int64")
    ints[empty] = f.default if f.default is not None else pd.NA
    return ints


def _convert_bool(f: records.Field, text: pd.Series, label: str, reject: Reject) -> pd.Series:
    """Yes/no in Swedish or English (ja/nej, true/false, 1/0, x); an empty cell is no."""
    folded = text.map(lambda v: "" if v is None else fold(v))
    truthy = folded.isin(_TRUE).to_numpy()
    falsy = folded.isin(_FALSE).to_numpy()
    reject(~truthy & ~falsy, label, text, f"{f.name} must be yes/no (ja/nej, true/false, 1/0)")
    return pd.Series(truthy, dtype=bool)


def _convert_short_text(f: records.Field, text: pd.Series, label: str, reject: Reject) -> pd.Series:
    """A short string (a name, an organisation): at most 200 characters."""
    missing = text.isna().to_numpy()
    if f.required:
        reject(missing, label, text, f"{f.name} is required")
    too_long = np.array([v is not None and len(str(v)) > 200 for v in text.to_numpy(dtype=object)], dtype=bool)
    reject(too_long, label, text, f"{f.name} is longer than 200 characters")
    return text.where(~missing, f.default).astype("object")


def _shown(value: object) -> str:
    text = "" if value is None else str(value).strip()
    return text if len(text) <= 40 else text[:37] + "..."


def _in_the_future(parsed: pd.Series, kind: str) -> np.ndarray:
    """Where a parsed value lies more than a day after now (datetimes) or after tomorrow (dates)."""
    if kind == "datetime":
        limit = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)
        return (parsed > limit).to_numpy(dtype=bool, na_value=False)
    tomorrow = local_today() + dt.timedelta(days=1)
    return np.array([d is not None and d > tomorrow for d in parsed.to_numpy(dtype=object)], dtype=bool)


def kinds_text() -> str:
    """The kinds that import supports, for messages."""
    return ", ".join(k for k in SUPPORTED_KINDS if k in schema.RECORD_KIND)
