"""The police's trygghetsmätning as a file: a problem index 0–6 per sub-area and question, by year.

Columns (Swedish headers; English ones are accepted too): ``år`` (year), ``område`` (the survey's sub-area, e.g.
"Bro" or "Kungsängen"; matched to a stored area by name when one has that name), ``fråga`` (the question or
problem, e.g. "Nedskräpning" or "Känner sig otrygg ute sent en kväll"), ``problemindex`` (a number from 0 to 6;
a comma is a decimal separator) and, optional, ``svarande`` (respondents). A wide file with one column per
question (``år``, ``område``, then one column per question) is read too.

Nothing here writes: ``read_tm_file`` returns the valid rows and each refused row with its reason; the service
``trygghetskarta.perceived`` writes them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trygghetskarta.csvsafe import csv_bytes
from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest import limits
from trygghetskarta.ingest.plan import REJECTION_COLUMNS
from trygghetskarta.ingest.tabular import frame_from_csv, frame_from_xlsx, numbers
from trygghetskarta.ingest.vocab import fold

KIND = "trygghetsmatning"
INDEX_MIN, INDEX_MAX = 0.0, 6.0
COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("år", ("ar", "year", "artal", "matar")),
    ("område", ("omrade", "area", "delomrade", "sub area", "subarea", "lokalomrade")),
    ("fråga", ("fraga", "question", "problem", "indikator", "indicator")),
    ("problemindex", ("problemindex", "index", "problem index", "varde", "value")),
    ("svarande", ("svarande", "respondents", "antal svarande", "n")),
)
_FIELD_OF_HEADER = {fold(word): field for field, words in COLUMNS for word in (field, *words)}


@dataclass
class TmPlan:
    """What a file holds: valid ``rows`` (year, area_name, question, problem_index, respondents, source_row) and
    each refused row with its reason (``rejected``: source_row, column, value, reason)."""

    path: Path
    rows: pd.DataFrame
    rejected: pd.DataFrame
    total_rows: int

    @property
    def rejected_rows(self) -> int:
        return int(self.rejected["source_row"].nunique()) if len(self.rejected) else 0

    def write_report(self, path: str | Path) -> Path:
        """The rejection report (CSV, UTF-8 with BOM; no cell runs as a formula)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(csv_bytes(self.rejected))
        return out


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _frame(path: Path, name: str) -> pd.DataFrame:
    from trygghetskarta.ingest.plan import detect_format

    limits.check_file_size(path)
    with path.open("rb") as handle:
        head = handle.read(4096)
    fmt = detect_format(path, head)
    if fmt == "csv":
        frame = frame_from_csv(path.read_bytes(), name)
    elif fmt == "xlsx":
        frame = frame_from_xlsx(path, name)
    else:
        msg = f"{name}: a trygghetsmätning is a CSV or XLSX file (år, område, fråga, problemindex), not {fmt}"
        raise ValidationError(msg)
    limits.check_rows(len(frame), name)
    return frame


def _long(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The file in long form (one row per year × area × question), keeping each cell's spreadsheet row."""
    renamed: dict[str, str] = {}
    for col in frame.columns:
        target = _FIELD_OF_HEADER.get(fold(str(col)))
        if target is not None and target not in renamed.values():
            renamed[str(col)] = target
    frame = frame.rename(columns=renamed)
    frame["source_row"] = np.arange(len(frame)) + 2  # the header is row 1, as in a spreadsheet
    missing = [c for c in ("år", "område") if c not in frame.columns]
    if missing:
        msg = (f"{name}: no column {', '.join(repr(m) for m in missing)}; the columns are år, område, fråga, "
               "problemindex")
        raise ValidationError(msg)
    if "fråga" in frame.columns and "problemindex" in frame.columns:
        if "svarande" not in frame.columns:
            frame["svarande"] = ""
        return frame[["source_row", "år", "område", "fråga", "problemindex", "svarande"]]
    questions = [c for c in frame.columns if c not in ("source_row", "år", "område", "svarande", "fråga",
                                                       "problemindex")]
    if not questions:
        msg = f"{name}: no 'fråga' and 'problemindex' columns and no question columns (a wide file)"
        raise ValidationError(msg)
    wide = frame.assign(svarande=frame.get("svarande", ""))
    long = wide.melt(id_vars=["source_row", "år", "område", "svarande"], value_vars=questions,
                     var_name="fråga", value_name="problemindex")
    return long.sort_values("source_row", kind="stable")[["source_row", "år", "område", "fråga", "problemindex",
                                                          "svarande"]]


def read_tm_file(path: str | Path, *, name: str | None = None, today: dt.date | None = None) -> TmPlan:
    """Read and validate a trygghetsmätning file; every bad row is refused with its row number and reason."""
    path = Path(path)
    name = name or path.name  # an upload is stored under another name; messages use the user's
    frame = _long(_frame(path, name), name)
    this_year = (today or dt.date.today()).year
    years, bad_years = numbers(frame["år"].map(_cell))
    values, bad_values = numbers(frame["problemindex"].map(_cell).str.replace(",", ".", regex=False))
    resp, bad_resp = numbers(frame["svarande"].map(_cell))
    rows: list[dict[str, Any]] = []
    rejections: list[tuple[int, str, str, str]] = []
    seen: dict[tuple[int, str, str], int] = {}
    for i, rec in enumerate(frame.to_dict("records")):
        row = int(rec["source_row"])
        cells = {c: _cell(rec.get(c)) for c in ("år", "område", "fråga", "problemindex", "svarande")}
        if not any(cells.values()):
            continue
        problems: list[tuple[str, str, str]] = []
        year = years[i]
        if bad_years[i] or np.isnan(year) or year % 1 or not 1990 <= year <= this_year:
            problems.append(("år", cells["år"], f"år must be a year from 1990 to {this_year}"))
        if not cells["område"]:
            problems.append(("område", "", "område (the survey's sub-area) is missing"))
        elif len(cells["område"]) > 200:
            problems.append(("område", cells["område"][:60], "område is longer than 200 characters"))
        if not cells["fråga"]:
            problems.append(("fråga", "", "fråga (the question) is missing"))
        elif len(cells["fråga"]) > 300:
            problems.append(("fråga", cells["fråga"][:60], "fråga is longer than 300 characters"))
        value = values[i]
        if bad_values[i] or np.isnan(value) or not INDEX_MIN <= value <= INDEX_MAX:
            problems.append(("problemindex", cells["problemindex"], "problemindex must be a number from 0 to 6"))
        respondents = None
        if cells["svarande"]:
            if bad_resp[i] or np.isnan(resp[i]) or resp[i] % 1 or resp[i] < 0:
                problems.append(("svarande", cells["svarande"], "svarande must be a whole number of at least 0"))
            else:
                respondents = int(resp[i])
        if not problems:
            key = (int(year), fold(cells["område"]), fold(cells["fråga"]))
            if key in seen:
                problems.append(("fråga", cells["fråga"][:60],
                                 f"the same år, område and fråga as row {seen[key]}"))
            else:
                seen[key] = row
        if problems:
            rejections.extend((row, c, v[:120], f"{name} row {row}: {r}") for c, v, r in problems)
            continue
        rows.append({"source_row": row, "year": int(year), "area_name": cells["område"], "question": cells["fråga"],
                     "problem_index": float(value), "respondents": respondents})
    rejected = pd.DataFrame(rejections, columns=list(REJECTION_COLUMNS))
    rejected["source_row"] = rejected["source_row"].astype("int64")
    valid = pd.DataFrame(rows, columns=["source_row", "year", "area_name", "question", "problem_index",
                                        "respondents"])
    return TmPlan(path, valid, rejected, int(frame["source_row"].nunique()))
