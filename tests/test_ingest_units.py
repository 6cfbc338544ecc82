"""Dates, vocabulary folding and CRS detection, the building blocks of import."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import shapely

from trygghetskarta import schema
from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest import municipality
from trygghetskarta.ingest.boundary import Municipality
from trygghetskarta.ingest.crs import detect_crs, transform_xy
from trygghetskarta.ingest.dates import parse_dates, parse_datetimes
from trygghetskarta.ingest.vocab import fold, map_values

UTC = dt.UTC


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-08-22 9:48:12 +02:00", dt.datetime(2026, 8, 22, 7, 48, 12, tzinfo=UTC)),  # police API
    ("2020-01-29T06:51:11+0100", dt.datetime(2020, 1, 29, 5, 51, 11, tzinfo=UTC)),  # Brottsplatskartan
    ("2026-08-22T17:59:00Z", dt.datetime(2026, 8, 22, 17, 59, tzinfo=UTC)),
    ("2026-08-22 17:59", dt.datetime(2026, 8, 22, 15, 59, tzinfo=UTC)),  # no zone: Stockholm summer
    ("2026-01-15 17:59", dt.datetime(2026, 1, 15, 16, 59, tzinfo=UTC)),  # Stockholm winter
    ("22/8 2026", dt.datetime(2026, 8, 21, 22, 0, tzinfo=UTC)),
    ("22.08.2026 17.59", dt.datetime(2026, 8, 22, 15, 59, tzinfo=UTC)),
    ("22 augusti 2026 kl. 17.59", dt.datetime(2026, 8, 22, 15, 59, tzinfo=UTC)),
    ("3 okt 2026", dt.datetime(2026, 10, 2, 22, 0, tzinfo=UTC)),
    ("20260822", dt.datetime(2026, 8, 21, 22, 0, tzinfo=UTC)),
    ("2021-08", dt.datetime(2021, 7, 31, 22, 0, tzinfo=UTC)),  # UK police "Month"
    ("2026-09-10T20:15:03.123+02:00", dt.datetime(2026, 9, 10, 18, 15, 3, 123000, tzinfo=UTC)),  # Kobo
])
def test_dates_in_swedish_and_iso_forms(text: str, expected: dt.datetime) -> None:
    parsed = parse_datetimes(pd.Series([text]))
    assert parsed.dt.tz is not None
    assert parsed.iloc[0].to_pydatetime() == expected


def test_unreadable_dates_are_nat_and_python_datetimes_pass() -> None:
    parsed = parse_datetimes(pd.Series(["igår", None, "", dt.datetime(2026, 1, 2, 3, 4)], dtype=object))
    assert parsed.isna().tolist() == [True, True, True, False]
    assert parsed.iloc[3].to_pydatetime() == dt.datetime(2026, 1, 2, 2, 4, tzinfo=UTC)
    assert parse_dates(pd.Series(["2026-03-01 23:30"])).iloc[0] == dt.date(2026, 3, 1)


def test_fold_and_synonyms() -> None:
    assert fold("  Skadegörelse ") == "skadegorelse"
    assert fold("ÖDE, ingen insyn") == "ode ingen insyn"
    m = map_values(pd.Series(["Klotter", "GRAFFITI", "trasig lampa", "Övrigt", "", "okänd sak"]), "category")
    assert m.keys.tolist() == ["klotter", "klotter", "belysning_trasig", "ovrigt", None, None]
    assert m.unknown.tolist() == [False, False, False, False, False, True]
    police = map_values(pd.Series(["Mord/dråp,  försök", "Inbrott", "Skadegörelse", "Trafikolycka"]),
                        "incident_type")
    assert police.keys.tolist() == ["vald", "inbrott", "skadegorelse", None]


@pytest.fixture(scope="module")
def ub() -> Municipality:
    return municipality()


# Kungsängen station area, in each CRS
KUNGSANGEN = (17.7519, 59.4789)


def _in(crs: str) -> tuple[np.ndarray, np.ndarray]:
    lon = np.array([KUNGSANGEN[0], 17.62, 17.70])
    lat = np.array([KUNGSANGEN[1], 59.51, 59.55])
    return transform_xy(lon, lat, schema.CRS_STORE, crs)


@pytest.mark.parametrize("crs", list(schema.KNOWN_INPUT_CRS))
def test_undeclared_crs_detected_from_the_municipality_extent(crs: str, ub: Municipality) -> None:
    x, y = _in(crs)
    d = detect_crs(x, y, declared=None, municipality_3006=ub.geom_3006, municipality_name=ub.name, file="f.csv")
    assert (d.crs, d.swapped) == (crs, False)
    assert "tried" in d.note


@pytest.mark.parametrize("crs", [schema.CRS_STORE, schema.CRS_METRIC, schema.CRS_RT90])
def test_swapped_axes_detected(crs: str, ub: Municipality) -> None:
    x, y = _in(crs)
    d = detect_crs(y, x, declared=None, municipality_3006=ub.geom_3006, municipality_name=ub.name, file="f.csv")
    assert (d.crs, d.swapped) == (crs, True)


def test_mislabelled_declared_crs_is_corrected_with_a_note(ub: Municipality) -> None:
    x, y = _in(schema.CRS_METRIC)
    d = detect_crs(x, y, declared="EPSG:4326", municipality_3006=ub.geom_3006, municipality_name=ub.name,
                   file="f.csv")
    assert d.crs == schema.CRS_METRIC and d.mislabelled
    assert "declared EPSG:4326 does not fit" in d.note


def test_declared_crs_honoured_when_it_fits(ub: Municipality) -> None:
    x, y = _in(schema.CRS_SWEREF_1800)
    d = detect_crs(x, y, declared="3011", municipality_3006=ub.geom_3006, municipality_name=ub.name, file="f")
    assert d.crs == "EPSG:3011" and not d.mislabelled


def test_ambiguous_crs_refused_saying_what_was_tried(ub: Municipality) -> None:
    # Frankfurt in Web Mercator: also inside SWEREF 99 TM's range, but neither is near Upplands-Bro
    x, y = np.array([954109.143]), np.array([6460965.887])
    with pytest.raises(ValidationError, match=r"f.csv: cannot tell the CRS.*EPSG:3006.*EPSG:3857.*--crs"):
        detect_crs(x, y, declared=None, municipality_3006=ub.geom_3006, municipality_name=ub.name, file="f.csv")


def test_far_away_lonlat_with_lat_lon_names_is_read_as_wgs84(ub: Municipality) -> None:
    x, y = np.array([-0.107, -0.111]), np.array([51.52, 51.51])
    d = detect_crs(x, y, declared=None, municipality_3006=ub.geom_3006, municipality_name=ub.name, file="uk.csv",
                   geographic_names=True)
    assert (d.crs, d.swapped) == ("EPSG:4326", False)


def test_unknown_crs_argument_is_a_validation_error(ub: Municipality) -> None:
    with pytest.raises(ValidationError, match="unknown CRS"):
        detect_crs(np.array([1.0]), np.array([2.0]), declared="EPSG:999999", municipality_3006=ub.geom_3006,
                   municipality_name=ub.name, file="f")


def test_municipality_is_upplands_bro(ub: Municipality) -> None:
    assert ub.name == "Upplands-Bro"
    assert 200e6 < ub.geom_3006.area < 260e6
    assert ub.geom_4326.contains(shapely.Point(17.752277, 59.49068))
