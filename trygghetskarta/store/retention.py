"""Retention (gallring): the SQL that aggregates and deletes what is older than its retention period.

The rules (which kinds, how long) live in ``privacy.gallra``; this mixin only counts and deletes, in one
transaction. The audit log is append-only through database triggers (migration 0002); a DELETE on it is
let through only while this transaction has marked itself (PostgreSQL: ``SET LOCAL trygghetskarta.gallra``,
SQLite: the meta row ``gallra = on``, written and removed inside the same transaction, so no other
connection ever sees it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trygghetskarta.access import Viewer
from trygghetskarta.store import tables as t
from trygghetskarta.store.core import StoreCore

# kind -> (table, time column); the time column is a UTC datetime except for night walks (a date).
RETENTION_TABLES: dict[str, tuple[sa.Table, str]] = {
    "sighting": (t.sightings, "observed_at"),
    "nightwalk": (t.nightwalks, "walk_date"),
    "incident": (t.incidents, "occurred_at"),
    "audit": (t.audit_events, "at"),
}


class RetentionMixin(StoreCore):
    """Count and remove records older than a cutoff per kind; sightings are aggregated first."""

    def _older_clause(self, kind: str, cutoff: dt.datetime) -> Any:
        table, col = RETENTION_TABLES[kind]
        if isinstance(table.c[col].type, sa.Date):
            return table.c[col] < cutoff.date()
        return table.c[col] < cutoff

    def retention_counts(self, cutoffs: dict[str, dt.datetime], timezone: str) -> dict[str, dict[str, int]]:
        """What ``retention_apply`` would do with these cutoffs, without changing anything."""
        out: dict[str, dict[str, int]] = {}
        with self.read_conn() as conn:
            for kind, cutoff in cutoffs.items():
                table, _col = RETENTION_TABLES[kind]
                n = conn.execute(sa.select(sa.func.count()).select_from(table).where(
                    self._older_clause(kind, cutoff))).scalar()
                out[kind] = {"deleted": int(n or 0)}
                if kind == "sighting":
                    out[kind]["aggregated_cells"] = len(self._sighting_cells(conn, cutoff, timezone))
        return out

    def retention_apply(self, cutoffs: dict[str, dt.datetime], timezone: str,
                        actor: Viewer | None = None) -> dict[str, dict[str, int]]:
        """Aggregate old sightings into ``sighting_aggregates``, delete everything older than its cutoff.

        One transaction: either all of it happens or nothing. An audit event records what was done
        (none when there was nothing to do, so a second run on the same day changes nothing).
        """
        out: dict[str, dict[str, int]] = {}
        with self.write() as conn:
            self._gallra_mark(conn, on=True)
            try:
                for kind, cutoff in cutoffs.items():
                    table, _col = RETENTION_TABLES[kind]
                    older = self._older_clause(kind, cutoff)
                    if kind == "sighting":
                        cells = self._sighting_cells(conn, cutoff, timezone)
                        self._add_sighting_aggregates(conn, cells)
                        deleted = conn.execute(sa.delete(table).where(older)).rowcount
                        out[kind] = {"deleted": int(deleted or 0), "aggregated_cells": len(cells)}
                    else:
                        deleted = conn.execute(sa.delete(table).where(older)).rowcount
                        out[kind] = {"deleted": int(deleted or 0)}
            finally:
                self._gallra_mark(conn, on=False)
            if any(v["deleted"] for v in out.values()):
                detail = {kind: {"cutoff": cutoffs[kind].isoformat(), **v} for kind, v in out.items()}
                self.audit("gallra", actor, None, None, detail, conn=conn)
        return out

    def _gallra_mark(self, conn: Connection, on: bool) -> None:
        """Let this transaction (and only it) delete audit events."""
        if self.backend == "postgresql":
            if on:
                conn.execute(sa.text("SELECT set_config('trygghetskarta.gallra', 'on', true)"))
            else:
                conn.execute(sa.text("SELECT set_config('trygghetskarta.gallra', 'off', true)"))
            return
        conn.execute(sa.delete(t.meta).where(t.meta.c.key == "gallra"))
        if on:
            conn.execute(sa.insert(t.meta).values(key="gallra", value="on"))

    def _sighting_cells(self, conn: Connection, cutoff: dt.datetime, timezone: str) -> pd.DataFrame:
        """Old sightings counted per area × month (local time) × type."""
        res = conn.execute(sa.select(t.sightings.c.area_id, t.sightings.c.type, t.sightings.c.observed_at).where(
            self._older_clause("sighting", cutoff)))
        frame = pd.DataFrame(res.fetchall(), columns=["area_id", "type", "observed_at"])
        if frame.empty:
            return pd.DataFrame({"area_id": pd.Series(dtype="Int64"), "month": pd.Series(dtype=object),
                                 "type": pd.Series(dtype=object), "count": pd.Series(dtype="int64")})
        local = pd.to_datetime(frame["observed_at"], utc=True).dt.tz_convert(ZoneInfo(timezone))
        frame["month"] = [dt.date(y, m, 1) for y, m in zip(local.dt.year, local.dt.month, strict=True)]
        frame["area_id"] = frame["area_id"].astype("Int64")
        cells = frame.groupby(["area_id", "month", "type"], dropna=False).size().reset_index(name="count")
        return cells

    def _add_sighting_aggregates(self, conn: Connection, cells: pd.DataFrame) -> None:
        agg = t.sighting_aggregates
        for row in cells.itertuples(index=False):
            area_id = None if pd.isna(row.area_id) else int(row.area_id)
            # NULL area ids are distinct to a UNIQUE constraint, so match them explicitly.
            area_match = agg.c.area_id.is_(None) if area_id is None else agg.c.area_id == area_id
            where = (area_match, agg.c.month == row.month, agg.c.type == str(row.type))
            existing = conn.execute(sa.select(agg.c.id).where(*where)).scalar()
            if existing is None:
                conn.execute(sa.insert(agg).values(area_id=area_id, month=row.month, type=str(row.type),
                                                   count=int(row.count)))
            else:
                conn.execute(sa.update(agg).where(agg.c.id == existing).values(count=agg.c.count + int(row.count)))

    def sighting_aggregates(self) -> pd.DataFrame:
        """The retained monthly sighting counts (area × month × type) left by retention."""
        with self.read_conn() as conn:
            res = conn.execute(sa.select(t.sighting_aggregates).order_by(
                t.sighting_aggregates.c.month, t.sighting_aggregates.c.area_id, t.sighting_aggregates.c.type))
            return pd.DataFrame(res.fetchall(), columns=list(res.keys()))
