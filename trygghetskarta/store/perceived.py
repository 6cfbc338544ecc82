"""The store side of the police's trygghetsmätning (#17): queries and the writer the service calls.

The survey's results are published by the police; every role that may open the page reads them. Writing is the
service ``trygghetskarta.perceived``'s job (it checks the role and opens the transaction).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trygghetskarta.store import tables as t
from trygghetskarta.store.core import StoreCore, now_utc

TM_COLUMNS = ("id", "year", "area_name", "area_id", "question", "problem_index", "respondents", "file_name",
              "imported_by", "imported_at")


class PerceivedMixin(StoreCore):
    """Trygghetsmätning rows: ``trygghetsmatning`` reads them, ``save_trygghetsmatning`` writes a batch."""

    def trygghetsmatning(self, years: Sequence[int] | None = None) -> pd.DataFrame:
        """Stored survey rows (``TM_COLUMNS``), by year, area and question."""
        tm = t.trygghetsmatning
        q = sa.select(*[tm.c[c] for c in TM_COLUMNS])
        if years is not None:
            q = q.where(tm.c.year.in_([int(y) for y in years]))
        with self.read_conn() as conn:
            frame = pd.DataFrame(conn.execute(q.order_by(tm.c.year, tm.c.area_name, tm.c.question)).fetchall(),
                                 columns=list(TM_COLUMNS))
        frame["area_id"] = frame["area_id"].astype("Int64")
        return frame

    def save_trygghetsmatning(self, conn: Connection, rows: pd.DataFrame, *, file_name: str | None,
                              imported_by: str | None) -> tuple[int, int, int]:
        """Insert new (year, area, question) rows and replace changed values; returns (added, changed, same).

        ``rows`` has ``year``, ``area_name``, ``area_id``, ``question``, ``problem_index``, ``respondents``.
        """
        tm = t.trygghetsmatning
        existing = {(int(r.year), str(r.area_name), str(r.question)): (r.id, float(r.problem_index), r.respondents)
                    for r in conn.execute(sa.select(tm.c.id, tm.c.year, tm.c.area_name, tm.c.question,
                                                    tm.c.problem_index, tm.c.respondents))}
        added = changed = same = 0
        now = now_utc()
        new_rows = []
        for r in rows.to_dict("records"):
            key = (int(r["year"]), str(r["area_name"]), str(r["question"]))
            respondents = None if r.get("respondents") is None or pd.isna(r.get("respondents")) else \
                int(r["respondents"])
            area_id = None if r.get("area_id") is None or pd.isna(r.get("area_id")) else int(r["area_id"])
            values = {"problem_index": float(r["problem_index"]), "respondents": respondents, "area_id": area_id,
                      "file_name": file_name, "imported_by": imported_by, "imported_at": now}
            if key in existing:
                rid, old_value, old_resp = existing[key]
                if old_value == values["problem_index"] and old_resp == respondents:
                    same += 1
                    continue
                conn.execute(sa.update(tm).where(tm.c.id == rid).values(**values))
                changed += 1
            else:
                new_rows.append({"year": key[0], "area_name": key[1], "question": key[2], **values})
                added += 1
        if new_rows:
            conn.execute(sa.insert(tm), new_rows)
        return added, changed, same
