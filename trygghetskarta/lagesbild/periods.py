"""Report periods: week, month, tertial, quarter or custom, with the previous period and the same period
last year. Dates are local calendar days; ``end`` is inclusive."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trygghetskarta import i18n
from trygghetskarta.errors import ValidationError
from trygghetskarta.timeutil import date_from_value

PERIOD_KINDS: tuple[str, ...] = ("week", "month", "tertial", "quarter", "custom")
_MONTHS = {"month": 1, "tertial": 4, "quarter": 3}
_LABELS = {
    "week": ("Vecka", "Week"), "month": ("Månad", "Month"), "tertial": ("Tertial", "Four-month period"),
    "quarter": ("Kvartal", "Quarter"), "custom": ("Period", "Period"),
}


def _month_start(day: dt.date, months: int) -> dt.date:
    return dt.date(day.year, (day.month - 1) // months * months + 1, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _minus_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Period:
    """A report period: ``kind`` and the local dates ``start``..``end`` (both inclusive)."""

    kind: str
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.kind not in PERIOD_KINDS:
            msg = f"unknown period {self.kind!r}; allowed: {', '.join(PERIOD_KINDS)}"
            raise ValidationError(msg)
        if self.end < self.start:
            msg = f"the period ends ({self.end}) before it starts ({self.start})"
            raise ValidationError(msg)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period just before (the previous calendar week/month/…; a custom period of the same length)."""
        if self.kind in _MONTHS:
            start = _add_months(self.start, -_MONTHS[self.kind])
            return Period(self.kind, start, self.start - dt.timedelta(days=1))
        step = dt.timedelta(days=self.days)
        return Period(self.kind, self.start - step, self.end - step)

    def last_year(self) -> Period:
        """The same period a year earlier (a week: the same ISO week number)."""
        if self.kind == "week":
            iso = self.start.isocalendar()
            try:
                start = dt.date.fromisocalendar(iso.year - 1, iso.week, 1)
            except ValueError:  # week 53 in a year with 52
                start = dt.date.fromisocalendar(iso.year - 1, 52, 1)
            return Period("week", start, start + dt.timedelta(days=6))
        if self.kind in _MONTHS:
            start = _minus_year(self.start)
            return Period(self.kind, start, _add_months(start, _MONTHS[self.kind]) - dt.timedelta(days=1))
        return Period(self.kind, _minus_year(self.start), _minus_year(self.end))

    def label(self, lang: str = "sv") -> str:
        """A human label, e.g. 'oktober 2026', 'vecka 42 2026', 'kvartal 4 2026' or '2026-10-01 – 2026-10-31'."""
        if self.kind == "week":
            iso = self.start.isocalendar()
            return f"{'vecka' if lang == 'sv' else 'week'} {iso.week} {iso.year}"
        if self.kind == "month":
            name = i18n.month_name(self.start.month, lang)  # Babel: "oktober" in Swedish
            return f"{name} {self.start.year}"
        if self.kind in ("quarter", "tertial"):
            n = (self.start.month - 1) // _MONTHS[self.kind] + 1
            word = _LABELS[self.kind][0 if lang == "sv" else 1].lower()
            return f"{word} {n} {self.start.year}"
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def _as_date(value: object, what: str) -> dt.date:
    return date_from_value(value, what)


def period_from_date(kind: str, day: dt.date | str) -> Period:
    """The week (Monday–Sunday), month, tertial or quarter that contains ``day``."""
    day = _as_date(day, "day")
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        return Period("week", start, start + dt.timedelta(days=6))
    if kind in _MONTHS:
        start = _month_start(day, _MONTHS[kind])
        return Period(kind, start, _add_months(start, _MONTHS[kind]) - dt.timedelta(days=1))
    msg = f"period_from_date needs week, month, tertial or quarter, got {kind!r}"
    raise ValidationError(msg)


def period_from_bounds(start: dt.date | str, end: dt.date | str) -> Period:
    """The period ``start``..``end`` (inclusive); recognised as a calendar week/month/tertial/quarter when it is
    exactly one, so its comparisons use whole calendar periods."""
    start, end = _as_date(start, "--from"), _as_date(end, "--to")
    if end < start:
        msg = f"--to ({end}) is before --from ({start})"
        raise ValidationError(msg)
    for kind in ("week", "month", "quarter", "tertial"):
        candidate = period_from_date(kind, start)
        if candidate.start == start and candidate.end == end:
            return candidate
    return Period("custom", start, end)
