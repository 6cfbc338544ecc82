"""What every reader hands on: attribute columns, geometries in the file's own coordinates, row numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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


def is_missing_text(values: pd.Series) -> np.ndarray:
    """True where a cell is empty or a conventional null marker (NULL, NA, n/a ...)."""
    obj = values.astype("object")
    isna = obj.isna().to_numpy()
    text = obj.where(~isna, "").map(str).str.strip().str.lower()
    return isna | text.isin(MISSING_TEXT).to_numpy()
