"""What every reader hands on: attribute columns, geometries in the file's own coordinates, row numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trygghetskarta.csvsafe import csv_bytes

MISSING_TEXT = frozenset({"", "null", "none", "nan", "na", "n/a", "#n/a", "-"})


@dataclass
class RawTable:
    """One file read into memory, before mapping onto a record kind.

    ``geoms`` holds shapely geometries (or None) in the file's coordinates; ``missing_reasons`` says
    why a geometry is None. ``geographic_names`` is True when the coordinates are conventionally
    x = longitude (columns named lat/lon, WKT, GeoJSON). ``fixed`` are field values the format
    itself implies (e.g. the police API: source and precision).
    """

    frame: pd.DataFrame
    geoms: np.ndarray
    missing_reasons: np.ndarray
    source_rows: np.ndarray
    fmt: str
    declared_crs: str | None = None
    geographic_names: bool = False
    fixed: dict[str, object] = field(default_factory=dict)
    external_id_prefix: str = ""
    used_columns: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.frame)
        if not (len(self.geoms) == len(self.missing_reasons) == len(self.source_rows) == n):
            msg = "RawTable columns differ in length"
            raise AssertionError(msg)
        self.frame = plain_cells(self.frame)


def _is_container(v: object) -> bool:
    return isinstance(v, (list, tuple, dict, set, np.ndarray, bytes, bytearray, memoryview))


def _as_text(v: object) -> object:
    if not _is_container(v):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    try:
        return json.dumps(v.tolist() if isinstance(v, np.ndarray) else v, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return str(v)


def plain_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every cell a scalar: a list, object or array (a GeoJSON property holding ``[]`` or
    ``{}``, a GeoPackage BLOB) becomes its JSON (or hex) text, so no later step meets a cell whose truth
    value is ambiguous. Only object columns are looked at; a frame without such cells is returned as it is.
    """
    changed = {}
    for i, dtype in enumerate(frame.dtypes):
        if not pd.api.types.is_object_dtype(dtype):
            continue
        values = frame.iloc[:, i]
        odd = values.map(_is_container).to_numpy(dtype=bool)
        if odd.any():
            changed[i] = values.where(~odd, values.map(_as_text))
    if not changed:
        return frame
    frame = frame.copy()
    for i, values in changed.items():
        frame.isetitem(i, values)
    return frame


def is_missing_text(values: pd.Series) -> np.ndarray:
    """True where a cell is empty or a conventional null marker (NULL, NA, n/a ...)."""
    obj = values.astype("object")
    isna = obj.isna().to_numpy()
    text = obj.where(~isna, "").map(str).str.strip().str.lower()
    return isna | text.isin(MISSING_TEXT).to_numpy()


class RejectionReport:
    """What every import plan says about the rows it refuses: ``rejected`` (one line per row and reason, with
    ``source_row``), how many rows that is, and the report as a formula-safe CSV file."""

    rejected: pd.DataFrame

    @property
    def rejected_rows(self) -> int:
        """How many source rows were rejected (a row may have several reasons)."""
        return int(self.rejected["source_row"].nunique()) if len(self.rejected) else 0

    def report_csv(self) -> bytes:
        """The rejection report as CSV (UTF-8 with BOM so Excel reads å/ä/ö; no cell runs as a formula)."""
        return csv_bytes(self.rejected)

    def write_report(self, path: str | Path) -> Path:
        """Write the rejection report (``report_csv``) to ``path``."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(self.report_csv())
        return out
