"""Dates and times in the forms Swedish partners write, vectorised over a column.

ISO 8601 (with or without zone, ``T`` or space), the police API's ``2026-08-22 9:48:12 +02:00``,
``22/8 2026``, ``22.08.2026 17.59``, ``22 augusti 2026 kl. 17.59``, ``20260822`` and a bare month
``2021-08`` (the first of that month). Values without a zone are in ``settings.get("timezone")``
(Europe/Stockholm). Results are timezone-aware UTC; what cannot be read, or lies outside ``EARLIEST`` ..
``LATEST``, is ``NaT`` (``parse_datetimes_checked`` says which values were outside that range).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from trygghetskarta import settings

_MONTHS = {
    "januari": 1, "jan": 1, "january": 1, "februari": 2, "feb": 2, "february": 2, "mars": 3, "mar": 3,
    "march": 3, "april": 4, "apr": 4, "maj": 5, "may": 5, "juni": 6, "jun": 6, "june": 6, "juli": 7,
    "jul": 7, "july": 7, "augusti": 8, "aug": 8, "august": 8, "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "october": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}
_MONTH_RE = r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?\b"
_ISO_ZONED_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$"
_ISO_NAIVE_RE = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_ZONE_RE = r"\d:\d{2}(?::\d{2})?(?:\.\d+)?(?:z|utc|[+-]\d{2}(?::?\d{2})?)$"

# The plausible range of any date in an import: older dates are typing errors (0001-01-01, -1), later ones
# are years mistyped (2206). Observations must also not lie in the future (``fields``).
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)

# Formats tried, in order, on what ISO 8601 did not read. Day first, as in Sweden.
_FORMATS = (
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d/%m %Y %H:%M", "%d/%m %Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y",
    "%d %m %Y %H:%M:%S", "%d %m %Y %H:%M", "%d %m %Y", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%Y%m%d %H:%M", "%Y%m%d", "%Y-%m",
)


def _blank(v: object) -> bool:
    """None, NaN, NaT or NA (a list or array in a cell is not blank, and never asked for its truth value)."""
    return v is None or (pd.api.types.is_scalar(v) and bool(pd.isna(v)))


def _normalise(values: pd.Series) -> pd.Series:
    s = values.astype("object").map(lambda v: "" if _blank(v) else str(v))
    s = s.astype("string").str.strip().str.lower()
    s = s.str.replace(r"(?<=\d)t(?=\d)", " ", regex=True)
    s = s.str.replace(_MONTH_RE, lambda m: f" {_MONTHS[m.group(1)]} ", regex=True)
    s = s.str.replace(r"\bkl\.?\s*", " ", regex=True)
    # 17.59 or 17.59.12 after a space is a time, not a date
    s = s.str.replace(r"(?<=\s)(\d{1,2})\.(\d{2})(?:\.(\d{2}))?(?=\s|$|[+-]|z)",
                      lambda m: f"{m.group(1)}:{m.group(2)}" + (f":{m.group(3)}" if m.group(3) else ""),
                      regex=True)
    # single-digit hour (the police API writes 9:48:12)
    s = s.str.replace(r"(?<=[\sT])(\d):(\d{2})", r"0\1:\2", regex=True)
    # a space before the zone offset
    s = s.str.replace(r"\s+([+-]\d{2}:?\d{2})$", r"\1", regex=True)
    s = s.str.replace(r"\s+(z|utc)$", r"\1", regex=True)
    s = s.str.replace(r"(?<=\d:\d{2})([+-]\d{2})$", r"\1:00", regex=True)
    s = s.str.replace(r"\s+", " ", regex=True).str.strip()
    return s


def _localise(naive: pd.Series, tz: str) -> pd.Series:
    # DST fall-back hour: take the first (summer-time) occurrence; spring-forward gap: shift forward
    local = naive.dt.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
    return local.dt.tz_convert("UTC")


def _inside(parsed: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per value: -1 before ``EARLIEST``, +1 on or after the day after ``LATEST``, 0 otherwise (or NaT)."""
    tz = getattr(parsed.dt, "tz", None)
    lo, hi = pd.Timestamp(EARLIEST), pd.Timestamp(LATEST + dt.timedelta(days=1))
    if tz is not None:
        lo, hi = lo.tz_localize(tz), hi.tz_localize(tz)
    side = np.zeros(len(parsed), dtype=np.int8)
    side[(parsed < lo).to_numpy(dtype=bool, na_value=False)] = -1
    side[(parsed >= hi).to_numpy(dtype=bool, na_value=False)] = 1
    return side, parsed.notna().to_numpy(dtype=bool) & (side == 0)


def _date_side(v: object) -> int:
    day = v.date() if isinstance(v, dt.datetime) else v
    if isinstance(day, pd.Timestamp):
        day = day.date()
    return -1 if day < EARLIEST else 1 if day > LATEST else 0  # type: ignore[operator]


def parse_datetimes(values: pd.Series, *, tz: str | None = None) -> pd.Series:
    """Parse a column of dates/times; aware UTC ``datetime64`` with ``NaT`` where unreadable or implausible."""
    return parse_datetimes_checked(values, tz=tz)[0]


def parse_datetimes_checked(values: pd.Series, *, tz: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """``parse_datetimes`` and, per value, -1 / +1 where a readable date lies before ``EARLIEST`` / after ``LATEST``.

    Such dates are ``NaT`` in the result: they are checked before any time-zone arithmetic (which would
    overflow and turn ``0001-01-01`` into 1972), so the caller can reject the row saying why.
    """
    tz = tz or settings.get("timezone")
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    outside = np.zeros(len(values), dtype=np.int8)
    if values.empty:
        return out, outside
    obj = values.astype("object")
    # Already datetimes (e.g. from XLSX or GeoPackage)
    is_dt = obj.map(lambda v: isinstance(v, (dt.datetime, dt.date, pd.Timestamp)) and not _blank(v)).to_numpy(
        dtype=bool)
    if is_dt.any():
        _put_datetimes(obj, np.flatnonzero(is_dt), out, outside, tz)
    done = _parse_iso(obj, is_dt, out, outside, tz)
    if not done.all():
        _parse_written(obj, np.flatnonzero(~done), out, outside, tz)
    return out, outside


def _put(out: pd.Series, outside: np.ndarray, idx: np.ndarray, parsed: pd.Series,
         tz: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Put the ``parsed`` values of positions ``idx`` into ``out`` (naive ones localised in ``tz``) where they
    lie within EARLIEST .. LATEST, and mark the others in ``outside``. Returns (read and kept, side)."""
    side, ok = _inside(parsed)
    outside[idx] = side
    if ok.any():
        good = parsed[ok]
        out.iloc[idx[ok]] = (_localise(good.astype("datetime64[us]"), tz) if tz is not None else good).to_numpy()
    return ok, side


def _put_datetimes(obj: pd.Series, idx: np.ndarray, out: pd.Series, outside: np.ndarray, tz: str) -> None:
    """Values that already are dates or datetimes (naive ones are local time)."""
    for i in idx:
        v = obj.iloc[i]
        outside[i] = _date_side(v)
        if outside[i]:
            continue
        ts = pd.Timestamp(v)
        ts = ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward") if ts.tzinfo is None else ts
        out.iloc[i] = ts.tz_convert("UTC")


def _parse_iso(obj: pd.Series, is_dt: np.ndarray, out: pd.Series, outside: np.ndarray, tz: str) -> np.ndarray:
    """The fast path: plain ISO 8601 (what exports and most systems write) needs no normalising. Returns where
    a value is settled (a datetime already, empty, read, or outside the range)."""
    raw = obj.where(~is_dt, None).map(lambda v: "" if _blank(v) else str(v).strip())
    raw = raw.astype("string")
    done = is_dt | (raw == "").to_numpy()
    zoned_iso = raw.str.contains(_ISO_ZONED_RE, regex=True, na=False).to_numpy() & ~done
    if zoned_iso.any():
        idx = np.flatnonzero(zoned_iso)
        ok, side = _put(out, outside, idx, pd.to_datetime(raw[zoned_iso], format="ISO8601", utc=True,
                                                          errors="coerce"))
        done[idx[ok | (side != 0)]] = True
    naive_iso = raw.str.match(_ISO_NAIVE_RE, na=False).to_numpy() & ~done
    if naive_iso.any():
        idx = np.flatnonzero(naive_iso)
        ok, side = _put(out, outside, idx, pd.to_datetime(raw[naive_iso], format="ISO8601", errors="coerce"), tz)
        done[idx[ok | (side != 0)]] = True
    return done


def _parse_written(obj: pd.Series, rest: np.ndarray, out: pd.Series, outside: np.ndarray, tz: str) -> None:
    """The values at ``rest`` as people write them: normalised (month names, ``kl.``, ``17.59``, a spaced zone),
    then read with a zone, or without one by ISO 8601 and each of ``_FORMATS`` in turn."""
    text = pd.Series(pd.NA, index=obj.index, dtype="string")
    normal = _normalise(obj.iloc[rest])
    text.iloc[rest] = normal.where(normal != "", pd.NA).to_numpy()
    todo = text.notna().to_numpy()
    if not todo.any():
        return
    zoned = text.str.contains(_ZONE_RE, regex=True, na=False).to_numpy() & todo
    if zoned.any():
        z = text[zoned].str.replace(r"(utc|z)$", "+00:00", regex=True)
        _put(out, outside, np.flatnonzero(zoned), pd.to_datetime(z, format="ISO8601", utc=True, errors="coerce"))
    naive_mask = todo & ~zoned
    if naive_mask.any():
        naive_text = text[naive_mask]
        parsed = pd.to_datetime(naive_text, format="ISO8601", errors="coerce")
        for fmt in _FORMATS:
            missing = parsed.isna()
            if not missing.any():
                break
            parsed[missing] = pd.to_datetime(naive_text[missing], format=fmt, errors="coerce")
        _put(out, outside, np.flatnonzero(naive_mask), parsed, tz)


def parse_dates(values: pd.Series, *, tz: str | None = None) -> pd.Series:
    """Parse a column of calendar dates; ``datetime.date`` objects, ``None`` where unreadable or implausible."""
    return parse_dates_checked(values, tz=tz)[0]


def parse_dates_checked(values: pd.Series, *, tz: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """``parse_dates`` and the -1 / +1 marks of ``parse_datetimes_checked``."""
    tz = tz or settings.get("timezone")
    stamps, outside = parse_datetimes_checked(values, tz=tz)
    local = stamps.dt.tz_convert(tz)
    dates = local.dt.date
    return dates.astype("object").where(stamps.notna(), None), outside
