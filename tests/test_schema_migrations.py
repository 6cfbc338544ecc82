"""The table definitions (``store/tables.py``, used by every query) match the schema the Alembic migrations
build, exactly, on both backends: tables, columns, types, nullability, indexes, unique and foreign keys."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from trygghetskarta.store import Store
from trygghetskarta.store import tables as t
from trygghetskarta.store.types import Geometry


def _extension_tables(conn: sa.Connection) -> set[str]:
    """Tables that belong to an installed extension (PostGIS's ``spatial_ref_sys``): not the project's."""
    if conn.dialect.name != "postgresql":
        return set()
    rows = conn.execute(sa.text(
        "SELECT c.relname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid "
        "JOIN pg_extension e ON e.oid = d.refobjid WHERE d.deptype = 'e' AND c.relkind = 'r'"))
    return {r[0] for r in rows}


def _for_dialect(dialect: str, extension_tables: set[str]) -> Any:
    """``include_object`` for autogenerate: a definition made conditional with ``ddl_if(dialect=...)`` (the
    GiST indexes, PostGIS only) counts only on its dialect, exactly as ``metadata.create_all`` would treat it;
    an extension's own tables are not compared."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        del compare_to
        if type_ == "table" and reflected and name in extension_tables:
            return False
        condition = getattr(obj, "_ddl_if", None)  # set by SchemaItem.ddl_if()
        return reflected or condition is None or condition.dialect in (None, dialect)

    return include


# A reflected PostGIS geometry column has no SQLAlchemy type: its type and SRID are compared through PostGIS's
# geometry_columns in the test below instead.
@pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry':sqlalchemy.exc.SAWarning")
def test_table_definitions_match_the_migrations(store: Store) -> None:
    with store.engine.connect() as conn:
        dialect = conn.dialect.name
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _for_dialect(dialect, _extension_tables(conn))})
        diff = compare_metadata(context, t.metadata)
        assert diff == []
        if dialect != "postgresql":
            return
        inspector = sa.inspect(conn)
        # the index access method (GiST for geometry, else B-tree), which autogenerate does not compare
        for table in t.metadata.sorted_tables:
            reflected = {i["name"]: i.get("dialect_options", {}).get("postgresql_using", "btree")
                         for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                assert reflected[index.name] == (index.dialect_options["postgresql"]["using"] or "btree"), index.name
        # geometry type and SRID per column
        columns = {(r.f_table_name, r.f_geometry_column): (r.type, r.srid) for r in conn.execute(sa.text(
            "SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns"))}
        defined = {(table.name, c.name): (c.type.geometry_type, c.type.srid)
                   for table in t.metadata.sorted_tables for c in table.columns if isinstance(c.type, Geometry)}
        assert len(defined) == 9
        assert columns == defined
