"""The partners' weekly EST report as a file: the template the app hands out (CSV or XLSX), and reading a
filled-in copy row by row.

Columns (Swedish headers; English ones are accepted too): ``vecka`` (ISO week, e.g. 2026-W49; may be left
empty when ``tidpunkt`` is given), ``område`` (area name or id; empty = the whole kommun), ``kategori`` (key or
Swedish/English label of an EST report category, or a detailed type such as klotter, brand, narkotika,
buskörning), ``antal`` (a whole number >= 1; empty = 1), ``tidpunkt`` (optional, a single event's date and
time), ``plats`` (optional place name), ``latitud``/``longitud`` (optional, WGS 84), ``kommentar`` and, when the
command does not say it, ``organisation``.

Nothing here writes: ``read_est_file`` returns the valid lines and each refused row with its reason; the
service ``trygghetskarta.est_reports`` writes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from trygghetskarta import schema, settings
from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest.dates import parse_datetimes
from trygghetskarta.ingest.plan import REJECTION_COLUMNS
from trygghetskarta.ingest.table import RejectionReport
from trygghetskarta.ingest.tabular import numbers
from trygghetskarta.ingest.vocab import fold, lookup
from trygghetskarta.timeutil import local_zone

KIND = "est_report"
# Template columns in order, with their English names (also accepted as headers).
TEMPLATE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("vecka", "week"), ("område", "area"), ("kategori", "category"), ("antal", "count"),
    ("tidpunkt", "time"), ("plats", "place"), ("latitud", "latitude"), ("longitud", "longitude"),
    ("kommentar", "comment"),
)
OPTIONAL_COLUMNS: tuple[tuple[str, str], ...] = (("organisation", "organisation"),)
_FIELD_OF_HEADER = {fold(name): sv for sv, en in (*TEMPLATE_COLUMNS, *OPTIONAL_COLUMNS) for name in (sv, en)}
_FIELD_OF_HEADER.update({fold(w): "latitud" for w in ("lat", "y lat")})
_FIELD_OF_HEADER.update({fold(w): "longitud" for w in ("lon", "lng", "long", "x lon")})
_FIELD_OF_HEADER.update({fold(w): "område" for w in ("omrade namn", "area name", "omrade id", "area id")})
_FIELD_OF_HEADER.update({fold(w): "tidpunkt" for w in ("datum", "date", "datum och tid", "occurred at")})
_FIELD_OF_HEADER.update({fold(w): "antal" for w in ("antal handelser", "number")})

# Words partners write for a detailed type (→ its EST category and the type kept on the line).
_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "klotter": ("klotter", "graffiti", "tags", "tag"),
    "anlagd_brand": ("brand", "anlagd brand", "bilbrand", "containerbrand", "soptunnebrand", "arson", "fire"),
    "narkotika": ("narkotika", "narkotikahantering", "knark", "langning", "drugs", "drug dealing"),
    "buskorning": ("buskorning", "a traktor", "epa", "mopedbuskorning", "moped", "reckless driving"),
    "vald": ("brak", "slagsmal", "vald", "fight", "fights", "violence"),
    "nedskrapning": ("nedskrapning", "skrap", "litter"),
}
_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "skadegorelse": ("skadegorelse", "skadegorelse inkl klotter och brand", "vandalism"),
    "otrygg_samling": ("otrygghetsskapande samling", "samling", "samling av personer", "gang", "gathering"),
    "ordningsstorande": ("annat ordningsstorande", "ordningsstorande", "ordningsstorning", "disorder",
                         "other disorder"),
    "otrygg_plats": ("otrygg plats", "unsafe place"),
    "arrangemang": ("arrangemang", "evenemang", "event"),
}
_WEEK_RE = re.compile(r"^(\d{4})\s*-?\s*w?\s*(\d{1,2})$")
_WEEK_SV_RE = re.compile(r"^(?:v|vecka|week)\s*(\d{1,2})\s*(?:-|/|,)?\s*(\d{4})$")


@dataclass
class EstPlan(RejectionReport):
    """What an import of one file would write (``lines``, each with its ``source_row``) and refuse."""

    path: Path
    lines: list[dict[str, Any]]
    rejected: pd.DataFrame
    total_rows: int
    warnings: list[str] = field(default_factory=list)


# --- weeks -------------------------------------------------------------------------------------------


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week ``YYYY-Www``."""
    year, number = int(week[:4]), int(week[-2:])
    start = dt.date.fromisocalendar(year, number, 1)
    return start, start + dt.timedelta(days=6)


def week_of(day: dt.date) -> str:
    """The ISO week ``YYYY-Www`` that ``day`` lies in."""
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def parse_week(value: Any) -> str:
    """An ISO week from ``2026-W49``, ``2026W49``, ``2026-49``, ``v49 2026``/``vecka 49 2026`` or a date in it."""
    if isinstance(value, dt.datetime):
        return week_of(value.date())
    if isinstance(value, dt.date):
        return week_of(value)
    text = str(value).strip()
    folded = text.lower().replace("–", "-")
    match = _WEEK_RE.match(folded)
    if match:
        year, number = int(match.group(1)), int(match.group(2))
    else:
        match = _WEEK_SV_RE.match(folded)
        if match is None:
            try:
                return week_of(dt.date.fromisoformat(text[:10]))
            except ValueError:
                msg = f"{text!r} is not an ISO week (write it as 2026-W49)"
                raise ValidationError(msg) from None
        number, year = int(match.group(1)), int(match.group(2))
    try:
        dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        msg = f"{text!r}: {year} has no week {number}"
        raise ValidationError(msg) from None
    return f"{year}-W{number:02d}"


# --- vocabulary ----------------------------------------------------------------------------------------


def _category_table() -> dict[str, tuple[str, str | None]]:
    table: dict[str, tuple[str, str | None]] = {}
    for term in schema.EST_CATEGORIES:
        for word in (term.key, term.sv, term.en, term.sv.split(" (")[0], term.en.split(" (")[0]):
            table.setdefault(fold(word), (term.key, None))
    for key, words in _CATEGORY_WORDS.items():
        for word in words:
            table.setdefault(fold(word), (key, None))
    for typ, words in _TYPE_WORDS.items():
        for word in words:
            table.setdefault(fold(word), (schema.EST_CATEGORY_OF_TYPE[typ], typ))
    for word, typ in lookup("incident_type").items():
        table.setdefault(word, (schema.EST_CATEGORY_OF_TYPE[typ], typ))
    return table


_CATEGORIES = _category_table()


def resolve_category(value: Any) -> tuple[str, str]:
    """(EST category key, detailed incident type key) for a key, label or detailed type a partner wrote."""
    found = _CATEGORIES.get(fold(str(value)))
    if found is None:
        allowed = "; ".join(f"{t.key} ({t.sv})" for t in schema.EST_CATEGORIES)
        msg = f"unknown category {str(value)!r}; allowed: {allowed}"
        raise ValidationError(msg)
    category, typ = found
    return category, typ or schema.EST_DEFAULT_TYPE[category]


def resolve_organisation(value: Any) -> str:
    """A party key from its key or label."""
    key = lookup("party").get(fold(str(value)))
    if key is None:
        msg = f"unknown organisation {str(value)!r}; allowed: {', '.join(schema.PARTY)}"
        raise ValidationError(msg)
    return key


def area_lookup(areas: pd.DataFrame) -> dict[str, int]:
    """Folded area name / id / external id → area id."""
    table: dict[str, int] = {}
    for row in areas[["id", "name", *(["external_id"] if "external_id" in areas else [])]].itertuples(index=False):
        table.setdefault(str(int(row.id)), int(row.id))
        table.setdefault(fold(str(row.name)), int(row.id))
        ext = getattr(row, "external_id", None)
        if ext is not None and not pd.isna(ext) and str(ext):
            table.setdefault(fold(str(ext)), int(row.id))
    return table


def resolve_area(value: Any, table: dict[str, int], names: list[str]) -> int | None:
    """An area id from its name, id or external id; empty means the whole kommun (None)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or not str(value).strip():
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0)?", text):
        text = text.split(".")[0]
    found = table.get(text) or table.get(fold(text))
    if found is None and not names:
        msg = f"unknown area {text!r}: no areas are stored yet (leave område empty for the whole kommun)"
        raise ValidationError(msg)
    if found is None:
        shown = ", ".join(names[:15]) + (" …" if len(names) > 15 else "")
        msg = f"unknown area {text!r}; known: {shown}"
        raise ValidationError(msg)
    return found


# --- one line ----------------------------------------------------------------------------------------------


def line_id(organisation: str, week: str, line: dict[str, Any], nth: int) -> str:
    """A deterministic external id from a line's content: the same line imported again adds nothing."""
    occurred = line.get("occurred_at")
    parts = [KIND, organisation, week, str(line.get("area_id") or ""), line["category"], line["type"],
             str(line["count"]), occurred.isoformat() if occurred is not None else "", line.get("place") or "",
             "" if line.get("lon") is None else f"{line['lon']:.6f}",
             "" if line.get("lat") is None else f"{line['lat']:.6f}", line.get("comment") or ""]
    if nth:
        parts.append(f"#{nth}")
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"est:{digest}"


def check_position(lon: float | None, lat: float | None, muni: Any = None) -> None:
    """A place's point must lie in the municipality (within the boundary buffer)."""
    if lon is None and lat is None:
        return
    if lon is None or lat is None:
        msg = "give both latitud and longitud, or neither"
        raise ValidationError(msg)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"latitud {lat} / longitud {lon} are not WGS 84 degrees"
        raise ValidationError(msg)
    from trygghetskarta.ingest.boundary import municipality
    from trygghetskarta.ingest.crs import transform_geometries

    m = municipality(muni)
    point = transform_geometries(np.array([shapely.Point(lon, lat)], dtype=object), schema.CRS_STORE,
                                 schema.CRS_METRIC)[0]
    buffer = float(settings.get("boundary_buffer_m"))
    if m.geom_3006.distance(point) > buffer:
        msg = f"the place {lat:.5f}, {lon:.5f} lies outside {m.name} (more than {buffer:.0f} m from its boundary)"
        raise ValidationError(msg)


# --- the template ---------------------------------------------------------------------------------------


def template_frame() -> pd.DataFrame:
    """The empty template's header."""
    return pd.DataFrame(columns=[sv for sv, _ in TEMPLATE_COLUMNS])


def write_template(path: str | Path, areas: pd.DataFrame | None = None, week: str | None = None) -> Path:
    """Write the template as CSV (semicolon-separated, UTF-8 with BOM, as Swedish Excel opens it) or XLSX
    (the sheet to fill in, with pick lists for category and area, and a sheet that explains each column)."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        msg = f"{out.name}: the template is written as .csv or .xlsx"
        raise ValidationError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        template_frame().to_csv(out, index=False, sep=";", encoding="utf-8-sig")
        return out
    import openpyxl
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    sheet = book.worksheets[0]  # a new workbook has one sheet (``book.active`` may be None to a type checker)
    sheet.title = "EST-rapport"
    sheet.append([sv for sv, _ in TEMPLATE_COLUMNS])
    for col, width in zip("ABCDEFGHI", (10, 24, 40, 8, 18, 24, 10, 10, 40), strict=True):
        sheet.column_dimensions[col].width = width
    help_sheet = book.create_sheet("Förklaring")
    help_sheet.append(["kolumn", "vad"])
    for row in (
        ("vecka", f"ISO-vecka, t.ex. {week or '2026-W49'} (får lämnas tom om tidpunkt anges)"),
        ("område", "områdets namn (tomt = hela kommunen)"),
        ("kategori", "en av kategorierna nedan, eller t.ex. klotter, brand, narkotika, bråk, buskörning"),
        ("antal", "antal händelser, ett heltal ≥ 1 (tomt = 1)"),
        ("tidpunkt", "valfritt: datum och tid för en enskild händelse, t.ex. 2026-12-03 21:30"),
        ("plats", "valfritt: platsens namn eller adress (inga personuppgifter)"),
        ("latitud/longitud", "valfritt: platsens position i WGS 84"),
        ("kommentar", "valfritt: kort kommentar (skriv inga namn eller personnummer)"),
    ):
        help_sheet.append(list(row))
    help_sheet.append([])
    help_sheet.append(["kategori", "nyckel"])
    for term in schema.EST_CATEGORIES:
        help_sheet.append([term.sv, term.key])
    names = [] if areas is None else [str(n) for n in areas["name"]]
    if names:
        help_sheet.append([])
        help_sheet.append(["område"])
        first = help_sheet.max_row + 1
        for name in names:
            help_sheet.append([name])
        area_rule = DataValidation(type="list", formula1=f"'Förklaring'!$A${first}:$A${first + len(names) - 1}",
                                   allow_blank=True)
        sheet.add_data_validation(area_rule)
        area_rule.add("B2:B1000")
    labels = ",".join(t.sv.split(" (")[0] for t in schema.EST_CATEGORIES)
    if len(labels) < 250:  # Excel's limit for an inline list
        category_rule = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=True)
        sheet.add_data_validation(category_rule)
        category_rule.add("C2:C1000")
    help_sheet.column_dimensions["A"].width = 60
    help_sheet.column_dimensions["B"].width = 60
    book.save(out)
    return out


# --- reading a filled-in file ------------------------------------------------------------------------


def _frame(path: Path, name: str) -> pd.DataFrame:
    from trygghetskarta.ingest.plan import frame_from_table_file

    return frame_from_table_file(path, name, "an EST report is a CSV or XLSX file (the template)")


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_est_file(path: str | Path, *, organisation: str | None, areas: pd.DataFrame,
                  municipality: Any = None, name: str | None = None) -> EstPlan:
    """Read and validate a filled-in template; every bad row is refused with its row number and reason."""
    path = Path(path)
    name = name or path.name  # an upload is stored under another name; messages use the user's
    frame, warnings = _template_frame(_frame(path, name), name, organisation)
    rows = np.arange(len(frame)) + 2  # the header is row 1, as in a spreadsheet
    times = parse_datetimes(frame["tidpunkt"].map(_cell))
    lons, _ = numbers(frame["longitud"].map(_cell))
    lats, _ = numbers(frame["latitud"].map(_cell))
    table = area_lookup(areas)
    names = [str(n) for n in areas["name"]]
    lines: list[dict[str, Any]] = []
    rejections: list[tuple[int, str, str, str]] = []
    for i, rec in enumerate(frame.to_dict("records")):
        row_number = int(rows[i])
        if all(_cell(rec.get(c)) == "" for c in frame.columns):
            continue
        row = _Row(rec)
        org = _row_organisation(row, organisation)
        occurred, week = _row_time_and_week(row, times.iloc[i])
        category = row.attempt("kategori", resolve_category, row.cell("kategori") or "(tom)")
        area_id = row.attempt("område", resolve_area, rec.get("område"), table, names)
        count = _row_count(row)
        lon, lat = _row_position(row, lons[i], lats[i], municipality)
        if row.problems:
            rejections.extend((row_number, c, v[:120], f"{name} row {row_number}: {r}") for c, v, r in row.problems)
            continue
        lines.append({"source_row": row_number, "organisation": org, "week": week, "area_id": area_id,
                      "category": category[0], "type": category[1], "count": count, "occurred_at": occurred,
                      "place": row.cell("plats")[:300] or None, "lon": lon, "lat": lat,
                      "comment": row.cell("kommentar")})
    rejected = pd.DataFrame(rejections, columns=list(REJECTION_COLUMNS))
    rejected["source_row"] = rejected["source_row"].astype("int64")
    return EstPlan(path, lines, rejected, len(frame), warnings)


def _template_frame(frame: pd.DataFrame, name: str, organisation: str | None) -> tuple[pd.DataFrame, list[str]]:
    """The file's columns under the template's names (every template column present, empty when the file has
    none) and a warning for each other column; a file without the columns a report needs is refused."""
    renamed: dict[str, str] = {}
    for col in frame.columns:
        target = _FIELD_OF_HEADER.get(fold(str(col)))
        if target is not None and target not in renamed.values():
            renamed[str(col)] = target
    frame = frame.rename(columns=renamed)
    if "kategori" not in frame.columns:
        msg = (f"{name}: no column 'kategori'; the template's columns are "
               f"{', '.join(sv for sv, _ in TEMPLATE_COLUMNS)}")
        raise ValidationError(msg)
    if "vecka" not in frame.columns and "tidpunkt" not in frame.columns:
        msg = f"{name}: no column 'vecka' (or 'tidpunkt' to take the week from)"
        raise ValidationError(msg)
    if organisation is None and "organisation" not in frame.columns:
        msg = f"{name}: say which organisation reports (--organisation PARTY, or an 'organisation' column)"
        raise ValidationError(msg)
    for col in ("vecka", "område", "antal", "tidpunkt", "plats", "latitud", "longitud", "kommentar",
                "organisation"):
        if col not in frame.columns:
            frame[col] = ""
    warnings = [f"{name}: column {c!r} is not part of the template and was not read"
                for c in frame.columns if c not in {sv for sv, _ in (*TEMPLATE_COLUMNS, *OPTIONAL_COLUMNS)}]
    return frame, warnings


@dataclass
class _Row:
    """One row of the file being read: its cells and the problems found so far (column, value, reason)."""

    rec: dict[str, Any]
    problems: list[tuple[str, str, str]] = field(default_factory=list)

    def cell(self, column: str) -> str:
        return _cell(self.rec.get(column))

    def attempt(self, column: str, func: Callable[..., Any], *args: Any) -> Any:
        """``func(*args)``, or None with the refusal noted as a problem of ``column``."""
        try:
            return func(*args)
        except ValidationError as exc:
            self.problems.append((column, self.cell(column), str(exc)))
            return None


def _row_organisation(row: _Row, organisation: str | None) -> str | None:
    """The reporting organisation: the import's (a row naming another is refused), else the row's."""
    if row.cell("organisation"):
        org_in_row = row.attempt("organisation", resolve_organisation, row.cell("organisation"))
        if organisation is not None and org_in_row is not None and org_in_row != organisation:
            row.problems.append(("organisation", row.cell("organisation"),
                                 f"the row is for {org_in_row}, the import for {organisation}"))
        return org_in_row if organisation is None else organisation
    if organisation is None:
        row.problems.append(("organisation", "", "organisation missing"))
    return organisation


def _row_time_and_week(row: _Row, stamp: Any) -> tuple[dt.datetime | None, str | None]:
    """The event's time (optional) and the ISO week: the row's week, else the time's; both must agree."""
    occurred = None if pd.isna(stamp) else stamp.to_pydatetime()
    if row.cell("tidpunkt") and occurred is None:
        row.problems.append(("tidpunkt", row.cell("tidpunkt"), "not a date/time (write 2026-12-03 21:30)"))
    week = None
    if row.cell("vecka"):
        week = row.attempt("vecka", parse_week, row.rec.get("vecka"))
    elif occurred is not None:
        week = week_of(occurred.astimezone(_tz()).date())
    elif not any(p[0] == "tidpunkt" for p in row.problems):
        row.problems.append(("vecka", "", "week missing (write it as 2026-W49)"))
    if week is not None and occurred is not None and week_of(occurred.astimezone(_tz()).date()) != week:
        row.problems.append(("tidpunkt", row.cell("tidpunkt"), f"the time does not lie in week {week}"))
    return occurred, week


def _row_count(row: _Row) -> int:
    """How many events the line counts: a whole number from 1 to 100 000; empty is 1."""
    if not row.cell("antal"):
        return 1
    parsed, bad = numbers(pd.Series([row.cell("antal")]))
    value = parsed[0]
    if bad[0] or np.isnan(value) or value < 1 or value % 1 or value > 100_000:
        row.problems.append(("antal", row.cell("antal"), "antal must be a whole number from 1 to 100000"))
        return 1
    return int(value)


def _row_position(row: _Row, lon_value: float, lat_value: float,
                  municipality: Any) -> tuple[float | None, float | None]:
    """The optional WGS 84 position, which must be numbers and lie in the kommun."""
    lon = None if np.isnan(lon_value) else float(lon_value)
    lat = None if np.isnan(lat_value) else float(lat_value)
    if (row.cell("longitud") and lon is None) or (row.cell("latitud") and lat is None):
        row.problems.append(("latitud", f"{row.cell('latitud')} {row.cell('longitud')}".strip(),
                             "latitud/longitud are not numbers"))
    else:
        row.attempt("latitud", check_position, lon, lat, municipality)
    return lon, lat


def _tz() -> Any:

    return local_zone()
