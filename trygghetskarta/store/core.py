"""The store's engine, migrations, validated atomic writes and permission-filtered reads.

The only place (with the other ``store`` modules) that speaks SQL. SQLite is the embedded default
(WAL, foreign keys, busy timeout, writes take the lock up front so concurrent writers wait instead of
failing); PostgreSQL + PostGIS when the URL says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from trygghetskarta import access, geography, records, schema, settings
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError, PermissionDeniedError, StoreError, ValidationError
from trygghetskarta.scrub import scrub_text
from trygghetskarta.store import tables as t
from trygghetskarta.timeutil import local_zone, now_utc

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
RESTRICTED_AUDIENCE = "begransad"
RESTRICTED_KINDS = frozenset({"sighting"})  # field sightings are restricted whatever their audience says
_CHUNK = 5000  # rows per INSERT round trip (PostgreSQL)
_BATCH = 100_000  # rows validated at a time inside one transaction
OFFICIAL_AREA_SOURCES = ("regso", "deso")


@dataclass
class InsertResult:
    """What a batch write did."""

    ids: list[int] = field(default_factory=list)
    already_present: int = 0
    masked: int = 0

    @property
    def inserted(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class RestrictedView:
    """Restricted rows a read handed to a viewer: the ``ids`` of rows of ``kind`` (audience begränsad, or a
    field sighting), to be written to the audit log as ``view_restricted``."""

    kind: str
    ids: frozenset[int]

    @property
    def rows(self) -> int:
        return len(self.ids)


_deferred_views: ContextVar[list[RestrictedView] | None] = ContextVar("trygghetskarta_deferred_views",
                                                                     default=None)


@contextmanager
def deferred_view_audit() -> Iterator[list[RestrictedView]]:
    """Inside this block ``read`` and ``points`` collect their restricted views in the list yielded instead of
    auditing them, for a cache: it keeps the list with the cached result and audits each use of the result
    (``Store.audit_views``), a cache hit as much as the first read."""
    views: list[RestrictedView] = []
    token = _deferred_views.set(views)
    try:
        yield views
    finally:
        _deferred_views.reset(token)


@dataclass(frozen=True)
class PreparedBatch:
    """Rows of one kind validated and typed for the store (``Store.prepare``), ready to be written."""

    kind: str
    rows: pd.DataFrame
    masked: int
    geoms: np.ndarray | None


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # A writer takes the write lock at BEGIN, so it waits (busy timeout) rather than failing
            # half-way with "database is locked" when another process writes at the same time.
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class StoreCore:
    """Engine, schema and the generic record operations. See ``docs/ARCHITECTURE.md``."""

    def __init__(self, url: str | None = None) -> None:
        self.url = settings.database_url(url)
        self.engine = _make_engine(self.url)
        self.backend = self.engine.dialect.name
        self._areas_cache: gpd.GeoDataFrame | None = None
        self._areas_version = ""

    def __repr__(self) -> str:
        return f"Store({settings.redact_url(self.url)})"

    # --- connections -----------------------------------------------------------------------------

    @contextmanager
    def write(self, changes_data: bool = True) -> Iterator[Connection]:
        """One write transaction: everything inside commits together or not at all.

        It also advances the database's data version (``data_version``) in the same transaction, last, just
        before the commit (so on PostgreSQL the row lock that orders concurrent writers is held only for the
        commit). Every app instance keys its caches on that version, so whatever a transaction changes is seen
        by all of them at their next run, whichever process wrote it. Only a transaction that writes nothing a
        cache shows (the append-only audit log) passes ``changes_data=False``.
        """
        try:
            with self.engine.connect() as conn:
                conn.execution_options(sqlite_immediate=True)
                with conn.begin():
                    yield conn
                    if changes_data:
                        conn.execute(sa.update(t.data_version).where(t.data_version.c.id == 1).values(
                            version=t.data_version.c.version + 1))
        except sa.exc.IntegrityError as exc:
            msg = ("the database refused the write (a reference or unique value is wrong), nothing was saved: "
                   f"{exc.orig}")
            raise StoreError(msg) from exc
        except sa.exc.OperationalError as exc:
            msg = f"the database could not complete the write, nothing was saved: {exc.orig}"
            raise StoreError(msg) from exc
        finally:
            self._after_write()

    def _after_write(self) -> None:
        """Hook for caches that depend on stored data."""

    def data_version(self) -> str:
        """The database's data version as ``epoch:version``: it changes with every committed write transaction
        of any process (``write``), so a cache keyed on it is never stale after the next read of it. One
        primary-key read of a single row."""
        with self.read_conn() as conn:
            row = conn.execute(sa.select(t.data_version.c.epoch, t.data_version.c.version).where(
                t.data_version.c.id == 1)).one_or_none()
        if row is None:
            msg = f"the database {settings.redact_url(self.url)} has no data version: run `trygghetskarta init`"
            raise StoreError(msg)
        return f"{row[0]}:{row[1]}"

    @contextmanager
    def read_conn(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    # --- schema ----------------------------------------------------------------------------------

    def _alembic_config(self) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        return cfg

    def init(self, revision: str = "head") -> str:
        """Create the database or upgrade it in place to ``revision``, keeping every row."""
        from alembic import command

        cfg = self._alembic_config()
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            if self.backend == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_lock(713921)")
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                conn.commit()
            finally:
                if self.backend == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_unlock(713921)")
                    conn.commit()
        self._areas_cache = None
        if self.revision() is not None and sa.inspect(self.engine).has_table("data_version"):
            with self.write():
                pass  # a migration may change rows: the caches of running instances start again
        return self.revision() or ""

    def revision(self) -> str | None:
        """The schema revision the database is at (None: not initialised)."""
        with self.read_conn() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    def require_initialised(self) -> None:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        current = self.revision()
        if current != head:
            msg = (f"the database {settings.redact_url(self.url)} is at schema {current or 'none'}, "
                   f"expected {head}: run `trygghetskarta init`")
            raise StoreError(msg)

    # --- meta ------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.read_conn() as conn:
            return conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str, conn: Connection | None = None) -> None:
        def _do(c: Connection) -> None:
            c.execute(sa.delete(t.meta).where(t.meta.c.key == key))
            c.execute(sa.insert(t.meta).values(key=key, value=value))

        if conn is not None:
            _do(conn)
        else:
            with self.write() as c:
                _do(c)

    def count(self, kind: str) -> int:
        """Number of stored records of ``kind`` (no permission filter: for admin tools and tests)."""
        table = t.TABLE_OF_KIND[kind]
        with self.read_conn() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)

    # --- audit -----------------------------------------------------------------------------------

    def audit(self, action: str, viewer: Viewer | None = None, kind: str | None = None,
              record_id: int | None = None, detail: dict[str, Any] | str | None = None,
              conn: Connection | None = None, unauthenticated: bool = False) -> None:
        """Append one audit event (append-only table). Without a viewer the actor is the local administrator
        (CLI, scripts) or, with ``unauthenticated``, nobody logged in (a failed login for an unknown name)."""
        if viewer is not None:
            username, role = viewer.username, viewer.role
        else:
            username, role = ("(ej inloggad)", "-") if unauthenticated else ("admin (lokal)", "admin")
        row = {
            "at": now_utc(), "username": username, "role": role, "action": action, "kind": kind,
            "record_id": record_id,
            "detail": detail if isinstance(detail, str) else json.dumps(detail or {}, ensure_ascii=False,
                                                                        default=str),
        }
        if conn is not None:
            conn.execute(sa.insert(t.audit_events), [row])
        else:
            with self.write(changes_data=False) as c:  # the audit log is never cached: no new data version
                c.execute(sa.insert(t.audit_events), [row])

    # --- areas -----------------------------------------------------------------------------------

    def areas(self) -> gpd.GeoDataFrame:
        """All areas (everyone may see areas), EPSG:4326; kept while the data version stays the same, so an
        area import by another process is seen here too."""
        version = self.data_version()
        if self._areas_cache is None or self._areas_version != version:
            self._areas_cache, self._areas_version = self.read("area"), version
        return self._areas_cache.copy()

    def area_id_by_name(self, name: str) -> int:
        areas = self.areas()
        match = areas[areas["name"].str.casefold() == name.casefold()]
        if match.empty:
            msg = f"no area named {name!r}; known: {', '.join(areas['name'])}"
            raise NotFoundError(msg)
        return int(match["id"].iloc[0])

    # --- writes ----------------------------------------------------------------------------------

    def insert(self, kind: str, frame: pd.DataFrame | PreparedBatch, actor: Viewer | None = None,
               conn: Connection | None = None, assign_areas: bool = True) -> InsertResult:
        """Validate every row of ``frame`` and write the new ones in one transaction.

        Raises ``ValidationError`` naming the first bad row; then nothing of the batch is kept. Rows whose
        ``external_id`` is already stored are skipped and counted in ``already_present``. A batch of up to
        100,000 rows (or one made by ``prepare``) is validated before the write transaction starts, so the
        write lock is held only for the writing; larger ones are validated slice by slice inside it.
        """
        if kind not in t.TABLE_OF_KIND:
            msg = f"unknown record kind {kind!r}; allowed: {', '.join(records.KINDS)}"
            raise ValidationError(msg)
        if isinstance(frame, PreparedBatch):
            if frame.kind != kind:
                msg = f"a batch prepared for {frame.kind} records cannot be stored as {kind} records"
                raise ValidationError(msg)
            prepared: PreparedBatch | None = frame
        elif isinstance(frame, pd.DataFrame) and len(frame) <= _BATCH:
            prepared = self.prepare(kind, frame, assign_areas)
        else:
            prepared = None
        table = t.TABLE_OF_KIND[kind]
        result = InsertResult()
        if conn is None:
            with self.write() as c:
                self._insert_batches(c, kind, table, frame, actor, result, assign_areas, prepared)
            if kind == "area":
                self._areas_cache = None
        else:
            self._insert_batches(conn, kind, table, frame, actor, result, assign_areas, prepared)
        return result

    def prepare(self, kind: str, frame: pd.DataFrame, assign_areas: bool = True) -> PreparedBatch:
        """Validate and type up to 100,000 rows for ``insert`` without touching the database, so a caller
        that writes more in the same transaction (a report and its photos) holds the write lock briefly."""
        if isinstance(frame, pd.DataFrame) and len(frame) > _BATCH:
            msg = f"prepare at most {_BATCH:,} rows at a time, got {len(frame):,}; insert() slices larger frames"
            raise ValidationError(msg)
        rows, masked, geoms = self._prepare(kind, frame, assign_areas)
        return PreparedBatch(kind, rows, masked, geoms)

    def _insert_batches(self, conn: Connection, kind: str, table: sa.Table, frame: pd.DataFrame | PreparedBatch,
                        actor: Viewer | None, result: InsertResult, assign_areas: bool,
                        prepared: PreparedBatch | None) -> None:
        """Write ``prepared``, or validate and write ``frame`` in slices inside the caller's transaction, so
        memory stays flat for big batches while a bad row anywhere still rolls back the whole batch."""
        source = prepared.rows if prepared is not None else frame
        if not isinstance(source, pd.DataFrame):
            msg = f"expected a (Geo)DataFrame of {kind} records, got {type(source).__name__}"
            raise ValidationError(msg)
        official = kind == "area" and "source" in source and source["source"].isin(OFFICIAL_AREA_SOURCES).any()
        if official:
            # Official RegSO/DeSO polygons replace the project's approximate ones (in this transaction).
            conn.execute(sa.delete(t.areas).where(t.areas.c.source == "approximate"))
        if prepared is not None:
            result.masked += prepared.masked
            self._insert_prepared(conn, kind, table, prepared.rows, prepared.geoms, result)
        else:
            for start in range(0, max(len(source), 1), _BATCH):
                part = source.iloc[start:start + _BATCH]
                rows, masked, geoms = self._prepare(kind, part, assign_areas, offset=start)
                result.masked += masked
                self._insert_prepared(conn, kind, table, rows, geoms, result)
        if official:
            self._reassign_area_ids(conn)
        self.audit("insert", actor, kind, None, {"rows": result.inserted,
                                                  "already_present": result.already_present}, conn=conn)

    def _reassign_area_ids(self, conn: Connection) -> None:
        """Place every stored record in the (new) smallest area containing it."""
        res = conn.execute(sa.select(t.areas.c.id, t.areas.c.geom))
        rows = res.fetchall()
        areas = gpd.GeoDataFrame({"id": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=schema.CRS_STORE)
        for kind, table in t.TABLE_OF_KIND.items():
            if kind == "area" or "area_id" not in table.c:
                continue
            pts = conn.execute(sa.select(table.c.id, table.c.lon, table.c.lat).where(table.c.lon.is_not(None)))
            frame = pd.DataFrame(pts.fetchall(), columns=["id", "lon", "lat"])
            if frame.empty:
                continue
            ids = geography.area_ids_from_lonlat(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float), areas)
            params = [{"rid": int(i), "aid": int(a) if a >= 0 else None} for i, a in zip(frame["id"], ids,
                                                                                        strict=True)]
            conn.execute(sa.update(table).where(table.c.id == sa.bindparam("rid")).values(
                area_id=sa.bindparam("aid")), params)

    def _insert_prepared(self, conn: Connection, kind: str, table: sa.Table, rows: pd.DataFrame,
                         geoms: np.ndarray | None, result: InsertResult) -> None:
        keep = self._drop_present(conn, kind, table, rows)
        result.already_present += int((~keep).sum())
        if kind == "area":
            self._check_area_names(conn, rows[keep])
        rows = rows[keep]
        if geoms is not None:
            geoms = geoms[keep]
        if rows.empty:
            return
        now = now_utc()
        rows = rows.assign(created_at=now)
        if "updated_at" in table.c:
            rows = rows.assign(updated_at=now)
        if geoms is not None:
            rows = rows.assign(geom=self._encode_geoms(geoms))
        if self.backend == "sqlite":
            result.ids.extend(self._insert_sqlite(conn, table, rows))
        else:
            records_ = _records(rows)
            stmt = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
            for start in range(0, len(records_), _CHUNK):
                chunk = records_[start:start + _CHUNK]
                result.ids.extend(conn.execute(stmt, chunk).scalars().all())

    @staticmethod
    def _insert_sqlite(conn: Connection, table: sa.Table, rows: pd.DataFrame) -> range:
        """Bulk insert through the driver: one prepared statement, values converted column-wise.

        The write transaction holds SQLite's write lock from BEGIN IMMEDIATE, so the new rowids are
        exactly the ones after the current maximum.
        """
        before = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
        columns = list(rows.columns)
        arrays = [_sqlite_column(rows[c], table.c[c].type) for c in columns]
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
        data = list(zip(*arrays, strict=True))
        for start in range(0, len(data), 50_000):
            conn.exec_driver_sql(sql, data[start:start + 50_000])
        after = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
        if after - before != len(data):
            msg = f"{table.name}: expected {len(data)} new rows, the database reports {after - before}"
            raise StoreError(msg)
        return range(before + 1, after + 1)

    @staticmethod
    def _check_area_names(conn: Connection, rows: pd.DataFrame) -> None:
        """Area names are unique: say which row repeats a stored (or earlier) name."""
        names = rows["name"].astype(str)
        taken = set(conn.execute(sa.select(t.areas.c.name).where(t.areas.c.name.in_(sorted(set(names))))).scalars())
        repeated = names.duplicated().to_numpy() | names.isin(taken).to_numpy()
        if repeated.any():
            i = int(np.flatnonzero(repeated)[0])
            msg = (f"area row {i + 1}: an area named {names.iloc[i]!r} already exists; give it another name or "
                   f"an external id that is already stored")
            raise ValidationError(msg)

    def _encode_geoms(self, geoms: np.ndarray) -> list[Any]:
        if self.backend == "postgresql":
            return list(shapely.to_wkb(shapely.set_srid(geoms, schema.SRID_STORE), hex=True, include_srid=True))
        return list(shapely.to_wkb(geoms))

    def _drop_present(self, conn: Connection, kind: str, table: sa.Table, rows: pd.DataFrame) -> np.ndarray:
        """A mask of rows to keep: external ids not yet stored and not repeated within the batch."""
        if "external_id" not in rows:
            return np.ones(len(rows), dtype=bool)
        ext = rows["external_id"]
        has = ext.notna().to_numpy()
        key = (rows["source"].astype(str) + "\x1f" + ext.astype(str)) if kind == "incident" else ext.astype(str)
        keep = ~(key.duplicated() & has).to_numpy()
        wanted = sorted(set(ext[has].astype(str)))
        present: set[str] = set()
        for start in range(0, len(wanted), 900):
            part = wanted[start:start + 900]
            if kind == "incident":
                q = sa.select(t.incidents.c.source, t.incidents.c.external_id).where(
                    t.incidents.c.external_id.in_(part))
                present.update(f"{s}\x1f{e}" for s, e in conn.execute(q))
            else:
                q = sa.select(table.c.external_id).where(table.c.external_id.in_(part))
                present.update(conn.execute(q).scalars())
        if present:
            keep &= ~(key.isin(present) & has).to_numpy()
        return keep

    def _prepare(self, kind: str, frame: pd.DataFrame, assign_areas: bool,
                 offset: int = 0) -> tuple[pd.DataFrame, int, np.ndarray | None]:
        """Validated, typed columns for ``kind``; raises ValidationError naming the first bad row."""
        if kind not in records.FIELDS:
            msg = f"unknown record kind {kind!r}; allowed: {', '.join(records.KINDS)}"
            raise ValidationError(msg)
        if not isinstance(frame, pd.DataFrame):
            msg = f"expected a (Geo)DataFrame of {kind} records, got {type(frame).__name__}"
            raise ValidationError(msg)
        n = len(frame)
        row_label = (frame["source_row"].astype(str).to_numpy() if "source_row" in frame
                     else np.arange(offset + 1, offset + n + 1).astype(str))

        def fail(mask: np.ndarray, reason: str) -> None:
            bad = np.flatnonzero(mask)
            if len(bad):
                msg = f"{kind} row {row_label[bad[0]]}: {reason}" + (
                    f" ({len(bad)} rows in all)" if len(bad) > 1 else "")
                raise ValidationError(msg)

        out: dict[str, Any] = {}
        masked = 0
        for f in records.FIELDS[kind]:
            col = frame[f.name] if f.name in frame else pd.Series([f.default] * n, index=frame.index,
                                                                   dtype=object)
            col = col.reset_index(drop=True)
            missing = col.isna().to_numpy() | (col.astype(str).str.strip() == "").to_numpy()
            if f.default is not None:
                col = col.where(~missing, f.default)
                missing = col.isna().to_numpy()
            if f.required:
                fail(missing, f"{f.name} is missing")
            out[f.name], m = _COLUMN_CONVERTERS[f.type](f, col, missing, fail)
            masked += m
        rows = pd.DataFrame(out)
        _row_rules(kind, rows, fail)
        geoms = self._prepare_geometry(kind, frame, fail)
        if geoms is not None:
            lon, lat = geography.representative_lonlat(geoms)
            rows["lon"], rows["lat"] = lon, lat
            if "area_id" in rows and assign_areas and kind != "area":
                self._assign_areas(rows, lon, lat)
        return rows, masked, geoms

    def _assign_areas(self, rows: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> None:
        """Rows without an area get the smallest stored area their position lies in (none: NULL)."""
        missing_area = rows["area_id"].isna().to_numpy()
        if not missing_area.any():
            return
        found = geography.area_ids_from_lonlat(lon[missing_area], lat[missing_area], self.areas())
        area_col = rows["area_id"].astype("Int64").to_numpy(dtype=object, na_value=None)
        area_col[missing_area] = [int(a) if a >= 0 else None for a in found]
        rows["area_id"] = pd.array(area_col, dtype="Int64")

    def _prepare_geometry(self, kind: str, frame: pd.DataFrame, fail: Any) -> np.ndarray | None:
        allowed = records.GEOMETRY_TYPES[kind]
        if not allowed:
            return None
        if "geometry" not in frame:
            if records.GEOMETRY_REQUIRED[kind]:
                fail(np.ones(len(frame), dtype=bool), "geometry is missing")
            return np.full(len(frame), None, dtype=object)
        gseries = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoSeries(frame["geometry"])
        if gseries.crs is not None and gseries.crs.to_epsg() != schema.SRID_STORE:
            gseries = gseries.to_crs(schema.CRS_STORE)
        geoms = np.asarray(gseries.to_numpy(), dtype=object)
        absent = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        if records.GEOMETRY_REQUIRED[kind]:
            fail(absent, "geometry is missing or empty")
        present = ~absent
        types = np.array(shapely.get_type_id(geoms))
        names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
                          "MultiPolygon", "GeometryCollection"])
        type_ok = np.isin(names[np.clip(types, 0, 7)], allowed)
        fail(present & ~type_ok, f"geometry must be {' or '.join(allowed)}")
        fail(present & ~shapely.is_valid(geoms), "geometry is invalid (self-intersecting or malformed)")
        x, y = shapely.get_x(shapely.point_on_surface(geoms)), shapely.get_y(shapely.point_on_surface(geoms))
        fail(present & ~((np.abs(x) <= 180) & (np.abs(y) <= 90)), "coordinates are not WGS 84 longitude/latitude")
        if kind == "area":
            polys = present & (types == 3)
            geoms[polys] = [shapely.MultiPolygon([g]) for g in geoms[polys]]
        geoms[absent] = None
        return geoms

    # --- reads -----------------------------------------------------------------------------------

    def _policy_clause(self, kind: str, viewer: Viewer | None) -> tuple[access.Policy, list[Any]]:
        pol = access.policy(viewer, kind)
        table = t.TABLE_OF_KIND[kind]
        if pol.mode == "all":
            return pol, []
        if pol.mode in ("none", "aggregate"):
            return pol, [sa.false()]
        assert viewer is not None  # "filtered" never applies to the local administrator
        ors: list[Any] = []
        if pol.audiences is not None and pol.audience_rows:
            ors.append(table.c.audience.in_(sorted(pol.audiences)))
        if pol.own_reporter and "reported_by" in table.c:
            ors.append(table.c.reported_by == viewer.username)
        if pol.own_walks:
            ors.extend(_own_walk_clauses(kind, table, viewer.username))
        if pol.own_org_column and viewer.organisation:
            ors.append(table.c[pol.own_org_column] == viewer.organisation)
        if pol.shared_column:
            ors.append(table.c[pol.shared_column].is_(True))
        return pol, [sa.or_(*ors)] if ors else [sa.false()]

    def _filter_clauses(self, kind: str, start: Any, end: Any, filters: dict[str, Any]) -> list[Any]:
        table = t.TABLE_OF_KIND[kind]
        clauses: list[Any] = []
        time_col = records.TIME_FIELD.get(kind)
        if time_col and (start is not None or end is not None):
            col = table.c[time_col]
            is_date = isinstance(col.type, sa.Date)
            if start is not None:
                clauses.append(col >= _bound(start, is_date, end=False))
            if end is not None:
                clauses.append(col < _bound(end, is_date, end=True))
        column_of = {"categories": "category", "types": "type", "statuses": "status", "sources": "source",
                     "area_ids": "area_id", "ids": "id", "responsibles": "responsible",
                     "precisions": "precision", "audiences": "audience", "external_ids": "external_id"}
        for name, values in filters.items():
            if values is None:
                continue
            if name == "walk_id":
                clauses.append(table.c.walk_id == int(values))
                continue
            if name == "bbox":  # every kind has the lon/lat of a representative point
                clauses += _bbox_clauses(table, values)
                continue
            if name not in column_of or column_of[name] not in table.c:
                msg = f"unknown filter {name!r} for {kind}"
                raise ValidationError(msg)
            clauses.append(table.c[column_of[name]].in_(list(values)))
        return clauses

    def read(self, kind: str, viewer: Viewer | None = None, start: Any = None, end: Any = None,
             **filters: Any) -> gpd.GeoDataFrame:
        """Records of ``kind`` the viewer may see, as a GeoDataFrame in EPSG:4326 (``id`` + fields).

        Filters (each a list of allowed values, applied in SQL): ``categories``, ``types``, ``statuses``,
        ``sources``, ``area_ids``, ``ids``, ``responsibles``, ``precisions``, ``audiences``, ``external_ids``;
        ``walk_id`` (one id) and ``bbox`` = (min lon, min lat, max lon, max lat) on the representative point.
        """
        table = t.TABLE_OF_KIND[kind]
        pol, clauses = self._policy_clause(kind, viewer)
        clauses += self._filter_clauses(kind, start, end, filters)
        with self.read_conn() as conn:
            result = conn.execute(sa.select(table).where(*clauses).order_by(table.c.id))
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        if frame.empty:
            frame = pd.DataFrame({c.name: pd.Series(dtype=object) for c in table.columns})
        geom = frame.pop("geom") if "geom" in frame else None
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geom if geom is not None else [None] * len(frame),
                                                             crs=schema.CRS_STORE), crs=schema.CRS_STORE)
        for c in table.columns:
            if c.name not in gdf or c.name == "geom":
                continue
            if isinstance(c.type, t.UTCDateTime):
                gdf[c.name] = pd.to_datetime(gdf[c.name], utc=True)
            elif isinstance(c.type, sa.Integer) and not isinstance(c.type, sa.Boolean):
                gdf[c.name] = gdf[c.name].astype("Int64")
        _redact(gdf, pol, viewer)
        self._note_restricted(kind, viewer, gdf)
        return gdf

    def _note_restricted(self, kind: str, viewer: Viewer | None, frame: pd.DataFrame) -> None:
        """Audit a logged-in viewer's view of restricted rows (``view_restricted``, one event per read, not per
        row), or hand it to the cache collecting it (``deferred_view_audit``)."""
        if viewer is None or frame.empty:
            return  # the local administrator (CLI, scripts) is not audited per read
        if kind in RESTRICTED_KINDS:
            restricted = frame["id"]
        elif "audience" in frame:
            restricted = frame.loc[(frame["audience"] == RESTRICTED_AUDIENCE).to_numpy(), "id"]
        else:
            return
        if restricted.empty:
            return
        view = RestrictedView(kind, frozenset(int(i) for i in restricted))
        sink = _deferred_views.get()
        if sink is not None:
            sink.append(view)
        else:
            self.audit_views(viewer, [view])

    def audit_views(self, viewer: Viewer, views: Sequence[RestrictedView], context: str | None = None) -> None:
        """One ``view_restricted`` audit event per kind for ``views`` (``rows``: the distinct rows they showed),
        in one transaction that leaves the data version alone. ``context`` (a page, a command) goes into the
        detail."""
        ids: dict[str, set[int]] = {}
        for view in views:
            ids.setdefault(view.kind, set()).update(view.ids)
        if not ids:
            return
        with self.write(changes_data=False) as conn:
            for kind, shown in ids.items():
                detail: dict[str, Any] = {"rows": len(shown)}
                if context:
                    detail["context"] = context
                self.audit("view_restricted", viewer, kind, None, detail, conn=conn)

    def points(self, kind: str, viewer: Viewer | None = None, start: Any = None, end: Any = None,
               columns: Sequence[str] | None = None, **filters: Any) -> pd.DataFrame:
        """A light frame (id, lon, lat, time and key columns) without geometry, for maps and analysis."""
        table = t.TABLE_OF_KIND[kind]
        pol, clauses = self._policy_clause(kind, viewer)
        clauses += self._filter_clauses(kind, start, end, filters)
        wanted = ["id", "lon", "lat"]
        time_col = records.TIME_FIELD.get(kind)
        if time_col:
            wanted.append(time_col)
        default = ("category", "status", "severity", "positive", "type", "source", "precision", "area_id",
                   "walk_id", "owner_org", "responsible", "audience")
        wanted += [c for c in (columns or default) if c in table.c and c not in wanted]
        if pol.own_org_column and set(wanted) & pol.hidden_columns() and pol.own_org_column not in wanted:
            wanted.append(pol.own_org_column)  # needed to blank the redacted columns of others' rows
        extra_audience = "audience" in table.c and "audience" not in wanted
        if extra_audience:
            wanted.append("audience")  # to tell restricted rows (audited), dropped again below
        cols = [table.c[c] for c in wanted]
        # Raw values (no per-row type processing) keep a million rows fast; times are parsed vectorised.
        q = sa.select(*[sa.type_coerce(c, sa.String) if isinstance(c.type, t.UTCDateTime) else c
                        for c in cols]).where(*clauses)
        with self.read_conn() as conn:
            res = conn.execute(q)
            frame = pd.DataFrame(res.fetchall(), columns=wanted)
        if time_col and time_col in frame:
            if isinstance(table.c[time_col].type, sa.Date):
                frame[time_col] = pd.to_datetime(frame[time_col])
            else:
                frame[time_col] = pd.to_datetime(frame[time_col], utc=True, format="ISO8601")
        _redact(frame, pol, viewer)
        self._note_restricted(kind, viewer, frame)
        if extra_audience:
            frame = frame.drop(columns="audience")
        return frame

    def count_by(self, kind: str, by: Sequence[str], viewer: Viewer | None = None, start: Any = None,
                 end: Any = None, **filters: Any) -> pd.DataFrame:
        """Counts grouped by columns, computed in SQL. Allowed where the viewer may read rows or totals."""
        table = t.TABLE_OF_KIND[kind]
        pol = access.policy(viewer, kind)
        if pol.mode == "none":
            msg = f"role {viewer.role if viewer else 'admin'} may not see {kind} records"
            raise PermissionDeniedError(msg)
        # Grouping by a redacted column (or, for area totals, by anything finer than area and type)
        # would hand back what read() hides.
        allowed_by = pol.aggregate_by if pol.mode == "aggregate" else None
        hidden = pol.hidden_columns()
        for b in by:
            if b not in table.c:
                msg = f"{kind} records have no column {b!r} to count by"
                raise ValidationError(msg)
            if (allowed_by is not None and b not in allowed_by) or b in hidden:
                msg = f"role {viewer.role if viewer else 'admin'} may not count {kind} records by {b!r}"
                raise PermissionDeniedError(msg)
        if pol.mode == "aggregate":
            extra = {f for f, v in filters.items() if v is not None} - pol.aggregate_filters
            if extra:
                msg = f"role {viewer.role if viewer else 'admin'} may not filter {kind} totals by {sorted(extra)}"
                raise PermissionDeniedError(msg)
            # Only sums of published cells over whole ISO weeks, never a count from the rows themselves
            # (privacy: the publication grid; SECURITY.md "Disclosure control").
            from trygghetskarta import privacy

            return privacy.published_counts(self, kind, list(by), start, end, **filters)
        clauses = self._policy_clause(kind, viewer)[1]
        clauses += self._filter_clauses(kind, start, end, filters)
        cols = [table.c[b] for b in by]
        q = sa.select(*cols, sa.func.count().label("count")).where(*clauses).group_by(*cols)
        with self.read_conn() as conn:
            res = conn.execute(q)
            return pd.DataFrame(res.fetchall(), columns=[*by, "count"])

    def disclosure_cells(self, kind: str, start: Any = None, end: Any = None, **filters: Any) -> pd.DataFrame:
        """Exact counts per disclosure cell: the record's (smallest) area, the local ISO week (``week``, its
        Monday as a date) and the type, as ``area_id``, ``type``, ``week``, ``count``.

        The raw material of ``privacy.published_counts``, which alone turns it into what partners see; it
        takes no viewer and must never be shown as it is. Grouped in SQL on PostGIS.
        """
        table = t.TABLE_OF_KIND[kind]
        time_col = records.TIME_FIELD.get(kind)
        if time_col is None:
            msg = f"{kind} records have no time to count by week"
            raise ValidationError(msg)
        keys = [c for c in ("area_id", "type") if c in table.c]
        clauses = self._filter_clauses(kind, start, end, filters)
        col = table.c[time_col]
        is_date = isinstance(col.type, sa.Date)
        zone = settings.get("timezone")
        if self.backend == "postgresql":
            local = col if is_date else sa.func.timezone(zone, col)
            week = sa.cast(sa.func.date_trunc("week", local), sa.Date)
            q = sa.select(*[table.c[k] for k in keys], week.label("week"), sa.func.count().label("count")).where(
                *clauses).group_by(*[table.c[k] for k in keys], week)
            with self.read_conn() as conn:
                frame = pd.DataFrame(conn.execute(q).fetchall(), columns=[*keys, "week", "count"])
        else:
            q = sa.select(*[table.c[k] for k in keys], col if is_date else sa.type_coerce(col, sa.String)).where(
                *clauses)
            with self.read_conn() as conn:
                rows = pd.DataFrame(conn.execute(q).fetchall(), columns=[*keys, "at"])
            at = pd.to_datetime(rows["at"]) if is_date else pd.to_datetime(
                rows["at"], utc=True, format="ISO8601").dt.tz_convert(zone).dt.tz_localize(None)
            day = at.dt.normalize()
            rows["week"] = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.date
            frame = rows.groupby([*keys, "week"], dropna=False, sort=False).size().reset_index(name="count")
        if "area_id" in frame:
            ids = pd.to_numeric(frame["area_id"], errors="coerce").astype("Int64")
            frame["area_id"] = pd.Series([None if pd.isna(a) else int(a) for a in ids], dtype=object,
                                         index=frame.index)
        frame["week"] = [w if isinstance(w, dt.date) and not isinstance(w, dt.datetime) else pd.Timestamp(w).date()
                         for w in frame["week"]]
        frame["count"] = frame["count"].astype("int64")
        return frame.reset_index(drop=True)

    def grid_counts(self, kind: str, cell_m: float, viewer: Viewer | None = None, start: Any = None,
                    end: Any = None, **filters: Any) -> pd.DataFrame:
        """Counts per square EPSG:3006 cell (``ix``, ``iy`` = floor(x / cell_m), floor(y / cell_m)).

        Only precise positions count (a kommun centroid never makes a hot spot). On PostGIS the
        aggregation runs in SQL (``ST_Transform`` + ``floor`` + ``GROUP BY``) so no row leaves the server;
        on SQLite the light ``points`` frame is binned with numpy.
        """
        if not (isinstance(cell_m, int | float) and cell_m > 0):
            msg = f"cell_m must be a positive number of metres, got {cell_m!r}"
            raise ValidationError(msg)
        table = t.TABLE_OF_KIND[kind]
        pol = access.policy(viewer, kind)
        if pol.mode in ("none", "aggregate"):
            msg = f"role {viewer.role if viewer else 'admin'} may not see {kind} positions"
            raise PermissionDeniedError(msg)
        if "precision" in table.c:
            filters = {**filters, "precisions": sorted(schema.HOTSPOT_PRECISIONS)}
        if self.backend == "postgresql":
            clauses = self._policy_clause(kind, viewer)[1] + self._filter_clauses(kind, start, end, filters)
            metric = sa.func.ST_Transform(sa.func.ST_PointOnSurface(sa.literal_column("geom")), schema.SRID_METRIC)
            ix = sa.func.floor(sa.func.ST_X(metric) / float(cell_m)).label("ix")
            iy = sa.func.floor(sa.func.ST_Y(metric) / float(cell_m)).label("iy")
            q = sa.select(ix, iy, sa.func.count().label("count")).select_from(table).where(*clauses).group_by(
                sa.literal_column("ix"), sa.literal_column("iy"))
            with self.read_conn() as conn:
                frame = pd.DataFrame(conn.execute(q).fetchall(), columns=["ix", "iy", "count"])
        else:
            pts = self.points(kind, viewer, start, end, columns=["id"], **filters)
            x, y = geography.metric_from_lonlat(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
            cells = np.stack([np.floor(x / cell_m), np.floor(y / cell_m)], axis=1)
            uniq, counts = np.unique(cells, axis=0, return_counts=True) if len(cells) else (np.empty((0, 2)), [])
            frame = pd.DataFrame({"ix": uniq[:, 0], "iy": uniq[:, 1], "count": counts})
        return frame.astype({"ix": "int64", "iy": "int64", "count": "int64"}).sort_values(
            ["iy", "ix"]).reset_index(drop=True)

    def get(self, kind: str, record_id: int, viewer: Viewer | None = None) -> dict[str, Any]:
        """One record as a dict, if the viewer may see it."""
        gdf = self.read(kind, viewer, ids=[int(record_id)])
        if gdf.empty:
            msg = f"no {kind} with id {record_id} (or you may not see it)"
            raise NotFoundError(msg)
        return gdf.iloc[0].to_dict()


def _bbox_clauses(table: sa.Table, bbox: Any) -> list[Any]:
    """``bbox`` = (min lon, min lat, max lon, max lat) in EPSG:4326, on the representative point's columns."""
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError):
        msg = f"bbox must be (min lon, min lat, max lon, max lat), got {bbox!r}"
        raise ValidationError(msg) from None
    if not (np.isfinite([west, south, east, north]).all() and west <= east and south <= north):
        msg = f"bbox must be (min lon, min lat, max lon, max lat) with min <= max, got {bbox!r}"
        raise ValidationError(msg)
    return [table.c.lon.between(west, east), table.c.lat.between(south, north)]


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with None for every kind of missing value (SQLAlchemy binds them as NULL)."""
    cols = {c: _none_for_na(rows[c]) for c in rows.columns}
    names = list(cols)
    return [dict(zip(names, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]


def _none_for_na(col: pd.Series) -> np.ndarray:
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        out = np.array(col.dt.to_pydatetime(), dtype=object)
    else:
        out = col.astype(object).to_numpy().copy()
    out[pd.isna(col).to_numpy()] = None
    return out


def _sqlite_column(col: pd.Series, sa_type: Any) -> np.ndarray:
    """Values as SQLite stores them through SQLAlchemy: UTC text timestamps, ISO dates, 0/1 booleans."""
    missing = pd.isna(col).to_numpy()
    if isinstance(sa_type, t.UTCDateTime):
        ts = pd.to_datetime(col, utc=True)
        out = ts.dt.tz_localize(None).dt.strftime("%Y-%m-%d %H:%M:%S.%f").astype(object).to_numpy()
    elif isinstance(sa_type, sa.Date):
        out = pd.Series([v.isoformat() if v is not None and not pd.isna(v) else None for v in col],
                        dtype=object).to_numpy()
    elif isinstance(sa_type, sa.Boolean):
        out = col.astype(object).map(lambda v: None if v is None or pd.isna(v) else int(bool(v))).to_numpy()
    elif isinstance(sa_type, sa.Integer):
        out = col.astype("Int64").astype(object).to_numpy()
    elif isinstance(sa_type, sa.Float):
        out = col.astype("Float64").astype(object).to_numpy()
    else:
        out = col.astype(object).to_numpy()
    out = out.astype(object, copy=True)
    out[missing] = None
    return out


def _redact(frame: pd.DataFrame, pol: access.Policy, viewer: Viewer | None) -> None:
    """Blank, in place, the columns a partner may see only on their own organisation's rows."""
    if not pol.redact_unless_own or viewer is None or not pol.own_org_column or frame.empty:
        return
    if viewer.organisation is None:
        foreign = pd.Series(True, index=frame.index)
    else:
        foreign = (frame[pol.own_org_column] != viewer.organisation).fillna(True).astype(bool)
    for col in pol.redact_unless_own:
        if col in frame:
            frame.loc[foreign, col] = None


def _scrub_series(values: pd.Series) -> tuple[pd.Series, int]:
    masked = 0
    out = values.copy()
    # Only text that could hold a number or an address is run through the scrubber.
    suspect = values.notna() & values.astype(str).str.contains(r"[\d@]", regex=True)
    for idx in np.flatnonzero(suspect.to_numpy()):
        res = scrub_text(values.iloc[idx])
        out.iloc[idx] = res.text
        masked += res.masked
    return out.where(out.notna(), ""), masked


def _as_bool(v: Any) -> bool | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    s = str(v).strip().casefold()
    if s in ("1", "true", "ja", "yes", "sant", "t", "j", "y"):
        return True
    if s in ("0", "false", "nej", "no", "falskt", "f", "n", ""):
        return False
    return None


def _own_walk_clauses(kind: str, table: sa.Table, username: str) -> list[Any]:
    """Rows that reach a participant through the walks they take part in: a walk itself, else a walk's records
    only as far as the walk's audience allows (``access.walk_audiences_showing``); an action also through the
    walks of its findings."""
    def own(walk_audiences: tuple[str, ...] | None = None) -> Any:
        q = sa.select(t.walk_participants.c.walk_id).where(t.walk_participants.c.username == username)
        if walk_audiences is not None:
            q = q.join(t.walks, t.walks.c.id == t.walk_participants.c.walk_id).where(
                t.walks.c.audience.in_(walk_audiences))
        return q

    if kind == "walk":
        return [table.c.id.in_(own())]
    clauses = []
    for level in access.AUDIENCE_ORDER:
        walks = own(access.walk_audiences_showing(level))
        through: Any = table.c.walk_id.in_(walks)
        if kind == "action":
            linked = sa.select(t.action_findings.c.action_id).join(
                t.findings, t.findings.c.id == t.action_findings.c.finding_id).where(t.findings.c.walk_id.in_(walks))
            through = through | table.c.id.in_(linked)
        clauses.append((table.c.audience == level) & through)
    return clauses


Converted = tuple[Any, int]  # the typed column and how many values the scrubber masked


def _text_column(f: records.Field, col: pd.Series, missing: np.ndarray, fail: Any) -> Converted:
    values = col.astype(object).where(~missing, None)
    masked = 0
    if f.type == "text":
        values, masked = _scrub_series(values)
    if f.vocab:
        allowed = schema.keys(f.vocab)
        bad = ~missing & ~values.isin(allowed).to_numpy()
        first = values[bad].iloc[0] if bad.any() else None
        fail(bad, f"unknown {f.name} {first!r}; allowed: {', '.join(allowed)}")
    return values, masked


def _int_column(f: records.Field, col: pd.Series, missing: np.ndarray, fail: Any) -> Converted:
    num = pd.to_numeric(col, errors="coerce")
    fail(~missing & (num.isna().to_numpy() | (num % 1 != 0).fillna(False).to_numpy()),
         f"{f.name} is not a whole number")
    return num.astype("Int64"), 0


def _float_column(f: records.Field, col: pd.Series, missing: np.ndarray, fail: Any) -> Converted:
    num = pd.to_numeric(col, errors="coerce")
    fail(~missing & num.isna().to_numpy(), f"{f.name} is not a number")
    return num.astype("Float64"), 0


def _bool_column(f: records.Field, col: pd.Series, missing: np.ndarray, fail: Any) -> Converted:
    values = (col.astype(bool) if pd.api.types.is_bool_dtype(col) and not missing.any()
              else col.map(_as_bool).astype(object))
    fail(~missing & values.isna().to_numpy(), f"{f.name} is not true/false")
    return values, 0


def _datetime_column(f: records.Field, col: pd.Series, missing: np.ndarray, fail: Any) -> Converted:
    return _as_aware(col, missing, fail, f.name), 0


def _date_column(f: records.Field, col: pd.Series, missing: np.ndarray, fail: Any) -> Converted:
    parsed = pd.to_datetime(col.where(~missing, None), errors="coerce")
    fail(~missing & parsed.isna().to_numpy(), f"{f.name} is not a date")
    return parsed.dt.date.astype(object).where(parsed.notna(), None), 0


# How each field type of ``records`` becomes a typed, checked column.
_COLUMN_CONVERTERS: dict[str, Any] = {
    "str": _text_column, "text": _text_column, "int": _int_column, "fk": _int_column, "float": _float_column,
    "bool": _bool_column, "datetime": _datetime_column, "date": _date_column,
}


def _row_rules(kind: str, rows: pd.DataFrame, fail: Any) -> None:
    """Rules over a row's typed values: severity and priority 1–3; a positive category makes a positive finding."""
    if kind == "finding":
        fail(~rows["severity"].isin([1, 2, 3]).fillna(False).to_numpy(), "severity must be 1, 2 or 3")
        positive_cat = rows["category"].map({c.key: c.positive for c in schema.CATEGORIES})
        rows["positive"] = rows["positive"].fillna(False).astype(bool) | positive_cat.astype(bool)
    if kind == "action":
        fail(~rows["priority"].isin([1, 2, 3]).fillna(False).to_numpy(), "priority must be 1, 2 or 3")


def _as_aware(col: pd.Series, missing: np.ndarray, fail: Any, name: str) -> pd.Series:
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return col.dt.tz_convert("UTC")
    values = col.where(~pd.Series(missing), None)
    naive = np.array([isinstance(v, (dt.datetime, pd.Timestamp)) and v.tzinfo is None for v in values])
    fail(naive, f"{name} has no time zone")
    text_naive = np.array([isinstance(v, str) and not _has_zone(v) for v in values])
    fail(text_naive, f"{name} has no time zone")
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    fail(~missing & parsed.isna().to_numpy(), f"{name} is not a date and time")
    return parsed


def _has_zone(s: str) -> bool:
    s = s.strip()
    return s.endswith(("Z", "z")) or (len(s) > 6 and s[-6] in "+-" and s[-3] == ":") or (
        len(s) > 5 and s[-5] in "+-" and s[-4:].isdigit() and ("T" in s or " " in s) and ":" in s)


def _bound(value: Any, is_date: bool, end: bool) -> Any:
    """A period bound: dates are whole days (an end date is inclusive), datetimes exact (end exclusive)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            msg = f"period bound {value} has no time zone"
            raise ValidationError(msg)
        return value.date() if is_date else value
    if isinstance(value, dt.date):
        day = value + dt.timedelta(days=1) if end else value
        if is_date:
            return day

        return dt.datetime.combine(day, dt.time(), tzinfo=local_zone())
    msg = f"period bound must be a date or datetime, got {value!r}"
    raise ValidationError(msg)


def content_key(*parts: Any) -> str:
    """A deterministic external id from content (for rows that come without one)."""
    return "h:" + hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]
