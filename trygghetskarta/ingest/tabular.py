"""CSV and XLSX: decoding, delimiter sniffing, and finding the coordinates among the columns.

Coordinates may be a latitude/longitude pair (lat/lon, latitud/longitud, Kobo's ``_position_latitude``),
an x/y or E/N pair (any supported CRS), one "lat,lon" or ODK geopoint "lat lon alt accuracy" column,
or a WKT / hex WKB geometry column.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException

from trygghetskarta import settings
from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest.limits import open_zip
from trygghetskarta.ingest.table import RawTable, is_missing_text
from trygghetskarta.ingest.vocab import fold

LAT_NAMES = ("lat", "latitude", "latitud", "breddgrad", "lat wgs84", "latitude wgs84", "y lat", "gps lat")
LON_NAMES = ("lon", "lng", "long", "longitude", "longitud", "langdgrad", "lon wgs84", "longitude wgs84",
             "x lon", "gps lon", "gps lng")
Y_NAMES = ("y", "n", "northing", "nord", "norr", "north", "y koordinat", "ykoord", "y coord", "n koordinat")
X_NAMES = ("x", "e", "easting", "ost", "east", "x koordinat", "xkoord", "x coord", "e koordinat")
POINT_NAMES = ("lat lon", "latlon", "lat lng", "koordinater", "koordinat", "coordinates", "coordinate",
               "position", "gps", "location gps", "geopoint", "plats", "location", "punkt", "point")
GEOMETRY_NAMES = ("wkt", "geometry text", "geometry", "geom", "the geom", "shape", "geometri")
ACCURACY_COLUMN = "__geopoint_accuracy"
MAX_CELL_CHARS = 100_000  # one cell longer than this refuses the file (CSV and XLSX), naming the row


def decode(data: bytes, file: str) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as Excel writes it; refuse anything else."""
    if b"\x00" in data[:65536]:
        msg = f"{file}: looks like a binary file, not text (a NUL byte near the start); expected CSV text"
        raise ValidationError(msg)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        msg = (f"{file}: text is neither UTF-8 nor Windows-1252 (byte 0x{data[exc.start]:02x} at offset "
               f"{exc.start}); save it as UTF-8 CSV")
        raise ValidationError(msg) from None


def _sniff_delimiter(text: str) -> str:
    head = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        first = head.splitlines()[0] if head else ""
        counts = {d: first.count(d) for d in (";", ",", "\t", "|")}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


_QUOTED = re.compile(r'"[^"]*"')


def header_columns(text: str, sep: str) -> int:
    """How many fields the first line holds (delimiters inside double quotes do not count).

    Only the first line is looked at, without splitting it into fields, so a header of a million columns
    costs one pass over it and no list of a million strings.
    """
    end = text.find("\n")
    first = text if end < 0 else text[:end]
    if '"' in first:
        first = _QUOTED.sub("", first)
    return first.count(sep) + 1


def _n(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def check_columns(n: int, file: str, what: str = "the header has") -> None:
    """Refuse more columns than ``import_max_columns`` (``what`` says where they were counted)."""
    limit = int(settings.get("import_max_columns"))
    if n > limit:
        msg = f"{file}: {what} {_n(n)} columns; at most {_n(limit)} are read (setting import_max_columns)"
        raise ValidationError(msg)


def check_cells(frame: pd.DataFrame, file: str, first_row: int) -> None:
    """Refuse a table with a cell longer than ``MAX_CELL_CHARS``, naming its row and column.

    The file is refused rather than the row rejected: such a cell is no record, and it usually means a
    quote left open that swallowed the rows after it, which the user must see.
    """
    for col in frame.columns:
        lengths = frame[col].astype("string").str.len().fillna(0).to_numpy(dtype=np.int64)
        if len(lengths) and lengths.max() > MAX_CELL_CHARS:
            i = int(np.argmax(lengths))
            msg = (f"{file}: row {i + first_row}, column {str(col)[:60]!r}: a cell of {_n(int(lengths[i]))} "
                   f"characters; at most {_n(MAX_CELL_CHARS)} are read (a quote left open swallows the rows "
                   f"after it)")
            raise ValidationError(msg)


def frame_from_csv(data: bytes, file: str) -> pd.DataFrame:
    """Read CSV bytes into a string DataFrame (empty cells are empty strings).

    The header's columns are counted (``import_max_columns``) before pandas parses anything, and a cell
    longer than ``MAX_CELL_CHARS`` refuses the file naming its row.
    """
    text = decode(data, file)
    sep = _sniff_delimiter(text)
    check_columns(header_columns(text, sep), file)
    limit = int(settings.get("import_max_rows"))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                            engine="c", nrows=limit + 1, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        msg = f"{file}: cannot read as CSV (delimiter {sep!r}): {exc}"
        raise ValidationError(msg) from None
    check_columns(len(frame.columns), file)
    check_cells(frame, file, first_row=2)
    return frame


def frame_from_xlsx(path: Path, file: str) -> pd.DataFrame:
    """Read the first worksheet of an XLSX file (after checking it is not an archive bomb)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    open_zip(path).close()
    limit = int(settings.get("import_max_rows"))
    try:
        with warnings.catch_warnings(), contextlib.ExitStack() as stack:
            warnings.simplefilter("ignore")  # openpyxl warns about styles and data validation it ignores
            # our own handle: closed even when openpyxl fails half-way through a broken workbook
            handle = stack.enter_context(path.open("rb"))
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                # the sheet's declared size (<dimension>) first: refuse before a row is read
                if sheet.max_column is not None:
                    check_columns(int(sheet.max_column), file, "the first worksheet has")
                width = int(settings.get("import_max_columns")) + 1  # never build rows wider than this
                rows = []
                for i, row in enumerate(sheet.iter_rows(values_only=True, max_col=width)):
                    if i > limit + 1:
                        break
                    if len(row) >= width and row[width - 1] is not None:
                        check_columns(width, file, "the first worksheet has at least")
                    rows.append(row)
            finally:
                book.close()
    except ValidationError:
        raise
    except (InvalidFileException, KeyError, OSError, ValueError, TypeError, IndexError, AttributeError,
            EOFError) as exc:
        msg = f"{file}: cannot read as an Excel workbook: {exc}"
        raise ValidationError(msg) from None
    except Exception as exc:  # noqa: BLE001 - openpyxl/zip/xml raise many types on a broken file
        msg = f"{file}: cannot read as an Excel workbook ({type(exc).__name__}: {exc})"
        raise ValidationError(msg) from None
    rows = [r for r in rows if r is not None and any(v is not None and str(v).strip() for v in r)]
    if not rows:
        msg = f"{file}: the first worksheet is empty"
        raise ValidationError(msg)
    # rows come padded to the widest allowed; keep the columns up to the last one that holds a value
    width = max(max((j + 1 for j, v in enumerate(r) if v is not None), default=0) for r in rows)
    header = [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(rows[0][:width])]
    header += [f"column_{i + 1}" for i in range(len(header), width)]
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[1:]]
    return pd.DataFrame(body, columns=_unique(header), dtype=object)  # openpyxl cuts cells at 32 767 characters


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}.{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out


def _find(columns: dict[str, str], names: tuple[str, ...], suffix: str | None = None) -> str | None:
    for name in names:
        if name in columns:
            return columns[name]
    if suffix:
        for folded, original in columns.items():
            if folded.endswith(" " + suffix):
                return original
    return None


def numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers with a decimal point or comma and spaces as thousands separators.

    Returns the floats (NaN where empty or unreadable) and a mask of cells that were not empty but
    could not be read.
    """
    obj = values.astype("object")
    missing = is_missing_text(obj)
    text = obj.where(~missing, "").map(str).str.replace(r"[\s\u00a0]", "", regex=True)
    comma_only = text.str.contains(",", regex=False) & ~text.str.contains(".", regex=False)
    text = text.where(~comma_only, text.str.replace(",", ".", regex=False))
    parsed = np.array(pd.to_numeric(text.where(~missing, None), errors="coerce").to_numpy(dtype=float), copy=True)
    bad = ~missing & np.isnan(parsed)
    return parsed, bad


def points_from_columns(frame: pd.DataFrame, file: str, fmt: str) -> RawTable:
    """Find the coordinate columns of a table and build point (or WKT) geometries."""
    columns = {fold(c): c for c in reversed(list(frame.columns))}
    for c in reversed(list(frame.columns)):  # Kobo/ODK group prefixes: "grupp/position"
        if "/" in str(c):
            columns.setdefault(fold(str(c).rsplit("/", 1)[-1]), c)
    n = len(frame)
    rows = np.arange(n) + 2  # the header is row 1, as in a spreadsheet
    geometry_col = _find(columns, GEOMETRY_NAMES)
    lat_col = _find(columns, LAT_NAMES, "latitude")
    lon_col = _find(columns, LON_NAMES, "longitude")
    if geometry_col is not None and _looks_like_geometry(frame[geometry_col]):
        return _from_geometry_column(frame, geometry_col, rows, fmt)
    if lat_col is not None and lon_col is not None:
        return _from_pair(frame, lon_col, lat_col, rows, fmt, geographic=True)
    point_col = _find(columns, POINT_NAMES)
    if point_col is not None:
        return _from_point_column(frame, point_col, rows, fmt)
    y_col = _find(columns, Y_NAMES)
    x_col = _find(columns, X_NAMES)
    if x_col is not None and y_col is not None:
        return _from_pair(frame, x_col, y_col, rows, fmt, geographic=False)
    msg = (f"{file}: no coordinate columns found among {', '.join(map(str, frame.columns[:30]))}. "
           f"Use lat/lon, latitude/longitude, x/y, E/N, one 'lat,lon' column or a WKT geometry column")
    raise ValidationError(msg)


def _looks_like_geometry(values: pd.Series) -> bool:
    present = values[~is_missing_text(values)]
    if present.empty:
        return False
    first = str(present.iloc[0]).strip().upper()
    return first.startswith(("POINT", "LINESTRING", "POLYGON", "MULTI", "GEOMETRYCOLLECTION", "SRID=")) or (
        len(first) >= 42 and all(c in "0123456789ABCDEF" for c in first))


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _from_geometry_column(frame: pd.DataFrame, col: str, rows: np.ndarray, fmt: str) -> RawTable:
    values = frame[col].astype("object")
    missing = is_missing_text(values)
    # plain Python lists: a pandas object Series turns None into NaN on where/map, which is not text
    text = [None if m else str(v).strip() for v, m in zip(values.to_numpy(dtype=object), missing, strict=True)]
    is_hex = np.array([t is not None and len(t) >= 10 and set(t) <= _HEX_DIGITS for t in text], dtype=bool)
    wkt = np.array([None if t is None or h else (t.split(";", 1)[1] if t.upper().startswith("SRID=") else t)
                    for t, h in zip(text, is_hex, strict=True)], dtype=object)
    geoms = np.full(len(frame), None, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        geoms[:] = _read_geometries(wkt, shapely.from_wkt)
        if is_hex.any():
            hexes = np.array([t for t, h in zip(text, is_hex, strict=True) if h], dtype=object)
            geoms[is_hex] = _read_geometries(hexes, shapely.from_wkb)
    reasons = np.full(len(frame), None, dtype=object)
    reasons[missing] = f"geometry missing (column {col!r} empty)"
    unreadable = ~missing & shapely.is_missing(geoms)
    reasons[unreadable] = f"cannot read column {col!r} as WKT or WKB"
    return RawTable(frame, geoms, reasons, rows, fmt, geographic_names=True, used_columns={col})


def _read_geometries(texts: np.ndarray, reader: Callable[..., np.ndarray]) -> np.ndarray:
    """WKT or WKB per cell; None where a cell cannot be read (a GEOS error on one cell spoils only that cell)."""
    try:
        return reader(texts, on_invalid="ignore")
    except (GEOSException, ValueError, TypeError, NotImplementedError):
        pass
    out = np.full(len(texts), None, dtype=object)
    for i, t in enumerate(texts):
        if t is None:
            continue
        try:
            out[i] = reader(t, on_invalid="ignore")
        except (GEOSException, ValueError, TypeError, NotImplementedError):
            out[i] = None
    return out


def _from_pair(frame: pd.DataFrame, x_col: str, y_col: str, rows: np.ndarray, fmt: str, *,
               geographic: bool) -> RawTable:
    x, x_bad = numbers(frame[x_col])
    y, y_bad = numbers(frame[y_col])
    ok = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(len(frame), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    reasons = np.full(len(frame), None, dtype=object)
    reasons[~ok] = f"no coordinates ({y_col!r}/{x_col!r} empty)"
    for bad, col in ((x_bad, x_col), (y_bad, y_col)):
        idx = np.flatnonzero(bad)
        reasons[idx] = [f"{frame[col].iloc[i]!r} in column {col!r} is not a number" for i in idx]
    return RawTable(frame, geoms, reasons, rows, fmt, geographic_names=geographic, used_columns={x_col, y_col})


def _from_point_column(frame: pd.DataFrame, col: str, rows: np.ndarray, fmt: str) -> RawTable:
    values = frame[col].astype("object")
    missing = is_missing_text(values)
    text = values.where(~missing, "").map(str).str.strip()
    # ODK geopoint "lat lon alt acc" (spaces), else "lat,lon" / "lat;lon"
    spaced = text.str.contains(r"\s", regex=True)
    parts = text.where(~spaced, text.str.replace(r"\s+", "|", regex=True))
    parts = parts.where(spaced, parts.str.replace(r"\s*[,;]\s*", "|", regex=True))
    split = parts.str.split("|", expand=True, n=4)
    n = len(frame)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    acc = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    if split.shape[1] >= 2:
        lat, bad_lat = numbers(split[0].fillna(""))
        lon, bad_lon = numbers(split[1].fillna(""))
        bad = bad_lat | bad_lon | (~missing & (np.isnan(lat) | np.isnan(lon)))
        if split.shape[1] >= 4:
            acc, _ = numbers(split[3].fillna(""))
    else:
        bad = ~missing
    ok = np.isfinite(lat) & np.isfinite(lon)
    geoms = np.full(n, None, dtype=object)
    geoms[ok] = shapely.points(lon[ok], lat[ok])
    reasons = np.full(n, None, dtype=object)
    reasons[~ok] = f"no coordinates (column {col!r} empty)"
    idx = np.flatnonzero(bad & ~ok)
    reasons[idx] = [f"{values.iloc[i]!r} in column {col!r} is not 'lat,lon' or 'lat lon alt accuracy'"
                    for i in idx]
    frame = frame.copy()
    if np.isfinite(acc).any():
        frame[ACCURACY_COLUMN] = pd.Series(acc, index=frame.index).astype("object").where(np.isfinite(acc), None)
    return RawTable(frame, geoms, reasons, rows, fmt, geographic_names=True, used_columns={col})
