"""Dates, times and the kommun's time zone: the one place that decides how a value becomes a date or an
aware time. Everything stored is timezone-aware UTC; a day, a week or "today" is the kommun's
(``settings.timezone``)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd

from trygghetskarta import settings
from trygghetskarta.errors import ValidationError


def now_utc() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def local_zone() -> ZoneInfo:
    """The kommun's time zone (``settings.timezone``)."""
    return ZoneInfo(str(settings.get("timezone")))


def local_today() -> dt.date:
    """Today's date in the kommun's time zone."""
    return dt.datetime.now(local_zone()).date()


def local_date(value: dt.datetime) -> dt.date:
    """The kommun's calendar date of an aware time."""
    return require_aware(value).astimezone(local_zone()).date()


def require_aware(value: object, what: str = "time") -> dt.datetime:
    """``value`` if it is a timezone-aware datetime; else a ValidationError naming ``what``."""
    if not isinstance(value, dt.datetime):
        msg = f"{what}: expected a date and time, got {value!r}"
        raise ValidationError(msg)
    if value.tzinfo is None:
        msg = f"{what}: {value} has no time zone"
        raise ValidationError(msg)
    return value


def date_from_value(value: object, what: str, *, allow_datetime: bool = True) -> dt.date:
    """A date from a date, a datetime (its date, when allowed) or ISO text; else a ValidationError naming ``what``."""
    if isinstance(value, dt.datetime):
        if not allow_datetime:
            msg = f"{what} must be a date, not a datetime ({value!r}); use the local date"
            raise ValidationError(msg)
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        msg = f"{what} must be a date (YYYY-MM-DD), got {value!r}"
        raise ValidationError(msg) from None


def optional_date(value: object, what: str) -> dt.date | None:
    """``value`` as a date (None and NA stay None); a datetime or text that is no date is refused."""
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):  # type: ignore[call-overload]
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        msg = f"{what} must be a date (YYYY-MM-DD), got {value!r}"
        raise ValidationError(msg)
    return value


def timestamp_from_value(value: dt.date | dt.datetime, *, end: bool = False) -> pd.Timestamp:
    """An aware timestamp: a naive value is read in the kommun's zone; a date ``end`` is inclusive (the next
    day's midnight)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(str(settings.get("timezone")))
    if end and not isinstance(value, dt.datetime):
        stamp = stamp + pd.Timedelta(days=1)
    return stamp
