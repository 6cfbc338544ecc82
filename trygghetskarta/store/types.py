"""Column types that differ between SQLite and PostGIS: geometry and timezone-aware timestamps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely
from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine, UserDefinedType

from trygghetskarta.schema import SRID_STORE


class _PostGISGeometry(UserDefinedType):
    """``geometry(TYPE, 4326)`` on PostGIS; values travel as hex EWKB, which PostGIS parses and prints."""

    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = SRID_STORE) -> None:
        self.geometry_type = geometry_type
        self.srid = srid

    def get_col_spec(self, **_kw: Any) -> str:
        return f"geometry({self.geometry_type},{self.srid})"


class Geometry(TypeDecorator):
    """A shapely geometry in EPSG:4326: a PostGIS geometry column, or WKB in a SQLite BLOB.

    Values that are already ``bytes`` (WKB) or ``str`` (hex EWKB) pass through, so bulk writers can
    encode whole arrays at once with ``shapely.to_wkb``.
    """

    impl = LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = SRID_STORE) -> None:
        super().__init__()
        self.geometry_type = geometry_type
        self.srid = srid

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry(self.geometry_type, self.srid))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or isinstance(value, (bytes, str)):
            return value
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(value, self.srid), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return shapely.from_wkb(value)


class UTCDateTime(TypeDecorator):
    """A timezone-aware timestamp stored in UTC (timestamptz on PostgreSQL, UTC text on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            msg = f"expected a datetime, got {type(value).__name__}"
            raise TypeError(msg)
        if value.tzinfo is None:
            msg = "naive datetime given to the store; attach a time zone first"
            raise TypeError(msg)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
