"""The EST cycle: partners' weekly reports with a review step, the EST meeting's decisions, and a
deadline (senast) on actions.

- ``est_reports``: one submitted weekly EST report of one organisation for one ISO week (form or
  import), with its review status (inskickad → godkänd / returnerad with a reason) and reviewer.
- ``partner_reports`` gains the report it belongs to, the EST report category, an optional single-event
  time, place name and point (EPSG:4326 like every other table) and an external id that makes a
  re-import add nothing. The old one-row-per-(organisation, area, period, type) constraint goes: a
  weekly report may hold several single events of the same category in the same area.
- ``est_decisions``: the EST meeting's decisions (beslut om insats) for a coming week, in priority order,
  each with owner and date, followed up at the next meeting.
- ``actions.deadline``: the date by which an action must be done (senast), besides the planned date.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from trygghetskarta.store.migrations.helpers import geo_columns
from trygghetskarta.store.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.add_column(sa.Column("deadline", sa.Date, nullable=True))

    op.create_table(
        "est_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation", sa.String(40), nullable=False, index=True),
        sa.Column("week", sa.String(8), nullable=False, index=True),  # ISO week, e.g. 2026-W49
        sa.Column("week_start", sa.Date, nullable=False),
        sa.Column("week_end", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("source", sa.String(20), nullable=False),  # formular / import
        sa.Column("file_name", sa.String(300)),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("submitted_by", sa.String(100)),
        sa.Column("submitted_at", UTCDateTime, nullable=False),
        sa.Column("reviewed_by", sa.String(100)),
        sa.Column("reviewed_at", UTCDateTime),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )

    with op.batch_alter_table("partner_reports") as batch:
        batch.drop_constraint("uq_partner_report", type_="unique")
        batch.add_column(sa.Column("report_id", sa.Integer,
                                   sa.ForeignKey("est_reports.id", name="fk_partner_reports_report",
                                                 ondelete="CASCADE")))
        batch.add_column(sa.Column("category", sa.String(40)))
        batch.add_column(sa.Column("occurred_at", UTCDateTime))
        batch.add_column(sa.Column("place", sa.String(300)))
        for column in geo_columns("POINT", nullable=True):
            batch.add_column(column)
        batch.add_column(sa.Column("external_id", sa.String(200)))
        batch.create_unique_constraint("uq_partner_report_external_id", ["external_id"])
        batch.create_index("ix_partner_reports_report_id", ["report_id"])
        batch.create_index("ix_partner_reports_period_start", ["period_start"])

    _wrap_existing_rows()

    op.create_table(
        "est_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("week", sa.String(8), nullable=False, index=True),  # the week the decision is for
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", ondelete="SET NULL")),
        sa.Column("place", sa.String(300)),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("followup", sa.Text, nullable=False, server_default=""),
        sa.Column("followed_up_at", UTCDateTime),
        sa.Column("followed_up_by", sa.String(100)),
        sa.Column("created_by", sa.String(100)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        *geo_columns("POINT", nullable=True),
    )


# The EST report category of each partner incident type, frozen as it was when this migration was written.
_CATEGORY_OF_TYPE = {
    "skadegorelse": "skadegorelse", "klotter": "skadegorelse", "anlagd_brand": "skadegorelse",
    "otrygg_samling": "otrygg_samling", "otrygg_plats": "otrygg_plats", "arrangemang": "arrangemang",
}


def _wrap_existing_rows() -> None:
    """Rows saved before the review step existed were already part of the lägesbild: each organisation's
    rows for one period become one approved report, and each row gets its EST category."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, organisation, period_start, period_end, type FROM partner_reports")).all()
    if not rows:
        return
    now = dt.datetime.now(dt.UTC)
    reports = sa.table("est_reports", *(sa.column(c) for c in (
        "organisation", "week", "week_start", "week_end", "status", "source", "comment")),
        *(sa.column(c, UTCDateTime) for c in ("submitted_at", "created_at", "updated_at")))
    made: dict[tuple, int] = {}
    for row in rows:
        start = row.period_start if isinstance(row.period_start, dt.date) else dt.date.fromisoformat(
            str(row.period_start)[:10])
        end = row.period_end if isinstance(row.period_end, dt.date) else dt.date.fromisoformat(
            str(row.period_end)[:10])
        key = (row.organisation, start, end)
        if key not in made:
            year, week, _ = start.isocalendar()
            conn.execute(sa.insert(reports).values(
                organisation=row.organisation, week=f"{year}-W{week:02d}", week_start=start, week_end=end,
                status="godkand", source="migrering", comment="", submitted_at=now, created_at=now, updated_at=now))
            made[key] = int(conn.execute(sa.text("SELECT max(id) FROM est_reports")).scalar_one())
        conn.execute(sa.text("UPDATE partner_reports SET report_id = :r, category = :c WHERE id = :i"),
                     {"r": made[key], "c": _CATEGORY_OF_TYPE.get(row.type, "ordningsstorande"), "i": row.id})


def downgrade() -> None:
    op.drop_table("est_decisions")
    with op.batch_alter_table("partner_reports") as batch:
        batch.drop_index("ix_partner_reports_period_start")
        batch.drop_index("ix_partner_reports_report_id")
        batch.drop_constraint("uq_partner_report_external_id", type_="unique")
        batch.drop_constraint("fk_partner_reports_report", type_="foreignkey")
        for name in ("external_id", "geom", "lat", "lon", "place", "occurred_at", "category", "report_id"):
            batch.drop_column(name)
        batch.create_unique_constraint("uq_partner_report",
                                       ["organisation", "area_id", "period_start", "period_end", "type"])
    op.drop_table("est_reports")
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("deadline")
