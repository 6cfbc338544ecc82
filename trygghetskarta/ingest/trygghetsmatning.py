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

from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest.plan import REJECTION_COLUMNS
from trygghetskarta.ingest.table import RejectionReport
from trygghetskarta.ingest.tabular import numbers
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
_FIELDS = ("år", "område", "fråga", "problemindex", "svarande")
_VALID_COLUMNS = ["source_row", "year", "area_name", "question", "problem_index", "respondents"]
_TEXT_LIMITS = (("område", "område (the survey's sub-area) is missing", 200),
                ("fråga", "fråga (the question) is missing", 300))
Problem = tuple[str, str, str]  # column, value, reason


@dataclass
class TmPlan(RejectionReport):
    """What a file holds: valid ``rows`` (year, area_name, question, problem_index, respondents, source_row) and
    each refused row with its reason (``rejected``: source_row, column, value, reason)."""

    path: Path
    rows: pd.DataFrame
    rejected: pd.DataFrame
    total_rows: int


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _frame(path: Path, name: str) -> pd.DataFrame:
    from trygghetskarta.ingest.plan import frame_from_table_file

    return frame_from_table_file(path, name,
                                 "a trygghetsmätning is a CSV or XLSX file (år, område, fråga, problemindex)")


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


@dataclass
class _Numbers:
    """The file's number columns parsed at once: each value and whether its cell was not a number."""

    years: np.ndarray
    bad_years: np.ndarray
    values: np.ndarray
    bad_values: np.ndarray
    respondents: np.ndarray
    bad_respondents: np.ndarray

    @classmethod
    def parse(cls, frame: pd.DataFrame) -> _Numbers:
        years, bad_years = numbers(frame["år"].map(_cell))
        values, bad_values = numbers(frame["problemindex"].map(_cell).str.replace(",", ".", regex=False))
        resp, bad_resp = numbers(frame["svarande"].map(_cell))
        return cls(years, bad_years, values, bad_values, resp, bad_resp)


def _text_problems(cells: dict[str, str]) -> list[Problem]:
    """område and fråga: present and not too long."""
    problems: list[Problem] = []
    for column, missing, longest in _TEXT_LIMITS:
        if not cells[column]:
            problems.append((column, "", missing))
        elif len(cells[column]) > longest:
            problems.append((column, cells[column][:60], f"{column} is longer than {longest} characters"))
    return problems


def _respondents(cells: dict[str, str], nums: _Numbers, i: int) -> tuple[int | None, list[Problem]]:
    """The optional svarande: a whole number of at least 0, or nothing."""
    if not cells["svarande"]:
        return None, []
    resp = nums.respondents[i]
    if nums.bad_respondents[i] or np.isnan(resp) or resp % 1 or resp < 0:
        return None, [("svarande", cells["svarande"], "svarande must be a whole number of at least 0")]
    return int(resp), []


def _row_problems(cells: dict[str, str], nums: _Numbers, i: int, this_year: int) -> tuple[int | None, list[Problem]]:
    """Everything wrong with one row on its own (in the order of its columns), and its respondents."""
    problems: list[Problem] = []
    year = nums.years[i]
    if nums.bad_years[i] or np.isnan(year) or year % 1 or not 1990 <= year <= this_year:
        problems.append(("år", cells["år"], f"år must be a year from 1990 to {this_year}"))
    problems.extend(_text_problems(cells))
    value = nums.values[i]
    if nums.bad_values[i] or np.isnan(value) or not INDEX_MIN <= value <= INDEX_MAX:
        problems.append(("problemindex", cells["problemindex"], "problemindex must be a number from 0 to 6"))
    respondents, resp_problems = _respondents(cells, nums, i)
    return respondents, problems + resp_problems


def read_tm_file(path: str | Path, *, name: str | None = None, today: dt.date | None = None) -> TmPlan:
    """Read and validate a trygghetsmätning file; every bad row is refused with its row number and reason.

    The steps: the file in long form, its number columns parsed, then each non-empty row checked on its own and
    against the rows before it (one row per år × område × fråga)."""
    path = Path(path)
    name = name or path.name  # an upload is stored under another name; messages use the user's
    frame = _long(_frame(path, name), name)
    this_year = (today or dt.date.today()).year
    nums = _Numbers.parse(frame)
    rows: list[dict[str, Any]] = []
    rejections: list[tuple[int, str, str, str]] = []
    seen: dict[tuple[int, str, str], int] = {}
    for i, rec in enumerate(frame.to_dict("records")):
        row = int(rec["source_row"])
        cells = {c: _cell(rec.get(c)) for c in _FIELDS}
        if not any(cells.values()):
            continue
        respondents, problems = _row_problems(cells, nums, i, this_year)
        if not problems:
            problems = _duplicate(cells, int(nums.years[i]), row, seen)
        if problems:
            rejections.extend((row, c, v[:120], f"{name} row {row}: {r}") for c, v, r in problems)
            continue
        rows.append({"source_row": row, "year": int(nums.years[i]), "area_name": cells["område"],
                     "question": cells["fråga"], "problem_index": float(nums.values[i]), "respondents": respondents})
    return _plan(path, frame, rows, rejections)


def _duplicate(cells: dict[str, str], year: int, row: int, seen: dict[tuple[int, str, str], int]) -> list[Problem]:
    """A refusal when an earlier row had the same år, område and fråga; else the row is remembered."""
    key = (year, fold(cells["område"]), fold(cells["fråga"]))
    if key in seen:
        return [("fråga", cells["fråga"][:60], f"the same år, område and fråga as row {seen[key]}")]
    seen[key] = row
    return []


def _plan(path: Path, frame: pd.DataFrame, rows: list[dict[str, Any]],
          rejections: list[tuple[int, str, str, str]]) -> TmPlan:
    rejected = pd.DataFrame(rejections, columns=list(REJECTION_COLUMNS))
    rejected["source_row"] = rejected["source_row"].astype("int64")
    valid = pd.DataFrame(rows, columns=_VALID_COLUMNS)
    return TmPlan(path, valid, rejected, int(frame["source_row"].nunique()))
