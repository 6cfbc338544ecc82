"""Small DDL helpers shared by migration scripts (geometry columns and their indexes on both backends)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trygghetskarta.store.types import Geometry


def geo_columns(geometry_type: str, nullable: bool) -> list[sa.Column]:
    """``lon``, ``lat`` and ``geom`` columns of a geographic table."""
    return [
        sa.Column("lon", sa.Float, nullable=nullable),
        sa.Column("lat", sa.Float, nullable=nullable),
        sa.Column("geom", Geometry(geometry_type), nullable=nullable),
    ]


def geo_indexes(table: str) -> None:
    """A GiST index on PostGIS, a lon/lat B-tree index on SQLite."""
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")
    op.create_index(f"ix_{table}_lonlat", table, ["lon", "lat"])
