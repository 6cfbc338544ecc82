"""Random bytes, CSVs and GeoJSON never crash the importer with anything but the project's own errors,
and never leave a partial batch in the store."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trygghetskarta.errors import TrygghetskartaError
from trygghetskarta.ingest import import_file, read_file
from trygghetskarta.store import Store, open_store

SUFFIXES = [".csv", ".json", ".geojson", ".kml", ".gpx", ".kmz", ".zip", ".xlsx", ".gpkg", ".bin"]
HEADERS = ["lat", "lon", "latitud", "longitud", "x", "y", "kategori", "datum", "beskrivning", "position",
           "allvarlighet", "status", "wkt", "id", "type", "name", "kalla", "E", "N", "_uuid"]
CELLS = st.one_of(
    st.sampled_from(["59.49068", "17.752277", "59,5", "17,64", "655840", "6597917", "klotter", "Trasig lampa",
                     "2026-08-22", "22/8 2026 kl. 21.30", "NULL", "", "ny", "3", "9", "POINT (17.75 59.49)",
                     "POINT (1 2", "59.49 17.75 10 4", "nan", "inf", "-1e308", "ring 070-123 45 67"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
)


@st.composite
def csv_texts(draw: st.DrawFn) -> bytes:
    cols = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    rows = draw(st.lists(st.lists(CELLS, min_size=len(cols), max_size=len(cols)), max_size=8))
    quote = lambda v: '"' + v.replace('"', '""') + '"' if any(c in v for c in f'{sep}"\n\r') else v  # noqa: E731
    text = sep.join(cols) + "\n" + "\n".join(sep.join(quote(v) for v in r) for r in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return text.encode(encoding, errors="replace")


NUMBERS = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32),
                    st.sampled_from([17.75, 59.49, 655840.0, 6597917.0, 1e9, -200.0]))
POSITIONS = st.lists(NUMBERS, min_size=0, max_size=3)


@st.composite
def geojson_texts(draw: st.DrawFn) -> bytes:
    gtype = draw(st.sampled_from(["Point", "LineString", "Polygon", "MultiPoint", "Nonsense"]))
    if gtype == "Point":
        coords: object = draw(POSITIONS)
    elif gtype == "Polygon":
        coords = [draw(st.lists(POSITIONS, max_size=5))]
    else:
        coords = draw(st.lists(POSITIONS, max_size=4))
    props = draw(st.dictionaries(st.sampled_from(HEADERS), CELLS, max_size=5))
    feature = {"type": "Feature", "properties": props,
               "geometry": draw(st.sampled_from([None, {"type": gtype, "coordinates": coords}]))}
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": [feature] * draw(st.integers(0, 3))}
    if draw(st.booleans()):
        doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": draw(
            st.sampled_from(["EPSG:3006", "urn:ogc:def:crs:EPSG::3857", "nonsense"]))}}, "features": doc["features"]}
    return json.dumps(doc).encode()


CONTENT = st.one_of(
    st.tuples(st.sampled_from(SUFFIXES), st.binary(max_size=300)),
    st.tuples(st.just(".csv"), csv_texts()),
    st.tuples(st.sampled_from([".geojson", ".json"]), geojson_texts()),
)
KINDS = st.sampled_from(["finding", "incident", "area", "walk", "sighting"])


@pytest.fixture(scope="module")
def shared_store() -> Iterator[Store]:
    folder = Path(tempfile.mkdtemp())
    store = open_store("sqlite:///" + str(folder / "prop.sqlite"))
    store.init()
    yield store
    store.dispose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(content=CONTENT, kind=KINDS)
def test_random_input_raises_only_project_errors_and_never_writes_a_partial_batch(
        shared_store: Store, content: tuple[str, bytes], kind: str) -> None:
    suffix, data = content
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        before = shared_store.count(kind)
        try:
            plan = read_file(path, kind)
        except TrygghetskartaError:
            plan = None
        try:
            result = import_file(shared_store, path, kind)
        except TrygghetskartaError:
            assert shared_store.count(kind) == before  # refused: nothing written
            return
        assert plan is not None  # import succeeded, so reading alone must have too
        assert shared_store.count(kind) == before + result.accepted  # the whole batch, nothing less
        assert result.accepted + result.already_present == len(plan.accepted)
