"""CSV cells a spreadsheet shows as text, never runs as a formula (every CSV the product writes uses this).

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel and
LibreOffice (``=HYPERLINK(...)``, DDE); such text gets a leading apostrophe. Numbers stay numbers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_csv_cell(value: Any) -> Any:
    """A text value that a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell made safe for spreadsheets (numbers stay numbers)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_csv_cell)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as formula-safe CSV, UTF-8 with BOM so Excel reads å/ä/ö."""
    return neutralise_frame(frame).to_csv(index=False).encode("utf-8-sig")
