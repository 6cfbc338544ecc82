"""CSV and XLSX import: coordinates in every column style, encodings, Swedish headers, Kobo exports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from trygghetskarta import schema
from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest import read_file
from trygghetskarta.ingest.crs import transform_xy

LON, LAT = 17.752277, 59.49068  # inside Upplands-Bro


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_swedish_headers_semicolons_decimal_commas_cp1252(tmp_path: Path) -> None:
    text = ("Kategori;Beskrivning;Allvarlighet;Datum;Latitud;Longitud\r\n"
            "Trasig belysning;Lampan vid gångtunneln är släckt;3;22/8 2026 kl. 21.30;59,49068;17,752277\r\n"
            "Klotter;Ring 070-123 45 67;1;2026-08-22;59,50;17,70\r\n")
    plan = read_file(_write(tmp_path / "fynd.csv", text, "cp1252"), "finding")
    assert plan.rejected.empty, plan.rejected
    acc = plan.accepted
    assert acc.crs == schema.CRS_STORE
    assert acc["category"].tolist() == ["belysning_trasig", "klotter"]
    assert acc["description"].iloc[0] == "Lampan vid gångtunneln är släckt"
    assert acc["description"].iloc[1] == "Ring [telefon]"
    assert plan.masked == {"telefon": 1}
    assert acc["severity"].tolist() == [3, 1]
    assert acc["reported_at"].iloc[0] == dt.datetime(2026, 8, 22, 19, 30, tzinfo=dt.UTC)
    assert acc.geometry.iloc[0].x == pytest.approx(LON) and acc.geometry.iloc[0].y == pytest.approx(LAT)
    assert acc["source_row"].tolist() == [2, 3]
    assert acc["external_id"].str.startswith("sha256:").all()
    assert list(acc.columns) == [*[f.name for f in schema_fields("finding")], "geometry", "source_row"]


def schema_fields(kind: str) -> list:
    from trygghetskarta import records

    return list(records.FIELDS[kind])


def test_utf8_bom_and_single_latlon_column(tmp_path: Path) -> None:
    text = "\ufefftyp,tid,position\nTag,2026-08-22 20:00,\"59.49068,17.752277\"\n"
    plan = read_file(_write(tmp_path / "a.csv", text), "finding")
    assert plan.accepted["category"].tolist() == ["klotter"]
    assert plan.accepted["original_category"].tolist() == ["Tag"]


def test_sweref_xy_columns_detected(tmp_path: Path) -> None:
    x, y = transform_xy([LON], [LAT], "EPSG:4326", "EPSG:3006")
    plan = read_file(_write(tmp_path / "b.csv", f"category,date,E,N\nklotter,2026-08-22,{x[0]:.2f},{y[0]:.2f}\n"),
                     "finding")
    assert plan.detected_crs == "EPSG:3006"
    assert plan.accepted.geometry.iloc[0].x == pytest.approx(LON, abs=1e-6)


def test_rt90_with_swedish_xy_convention_is_swapped(tmp_path: Path) -> None:
    # Swedish surveyors call northing X: the columns below are swapped relative to x=east
    e, n = transform_xy([LON], [LAT], "EPSG:4326", "EPSG:3021")
    plan = read_file(_write(tmp_path / "c.csv", f"kategori;datum;X;Y\nklotter;2026-08-22;{n[0]:.1f};{e[0]:.1f}\n"),
                     "finding")
    assert plan.detected_crs == "EPSG:3021"
    assert "swapped" in plan.crs_note
    assert plan.accepted.geometry.iloc[0].y == pytest.approx(LAT, abs=1e-5)


def test_per_row_rejections_name_row_column_value_reason(tmp_path: Path) -> None:
    text = ("kategori,datum,lat,lon,allvarlighet,status\n"
            "klotter,2026-08-22,59.49068,17.752277,2,ny\n"      # ok (row 2)
            "klotter,2026-08-22,,,2,ny\n"                        # no coordinates (row 3)
            "klotter,2026-08-22,abc,17.7,2,ny\n"                 # not a number (row 4)
            "klotter,igår,59.49,17.75,2,ny\n"                    # bad date (row 5)
            "klotter,2026-08-22,59.33,18.07,2,ny\n"              # Stockholm city: outside (row 6)
            "klotter,2026-08-22,59.49,17.75,7,ny\n"              # severity (row 7)
            "klotter,2026-08-22,59.49,17.75,2,fixad\n"           # unknown status (row 8)
            ",2026-08-22,59.49,17.75,2,ny\n")                    # missing category (row 9)
    plan = read_file(_write(tmp_path / "d.csv", text), "finding")
    assert plan.accepted["source_row"].tolist() == [2]
    rej = plan.rejected.set_index("source_row")
    assert list(plan.rejected.columns) == ["source_row", "column", "value", "reason"]
    assert "no coordinates" in rej.loc[3, "reason"]
    assert rej.loc[4, "reason"] == "'abc' in column 'lat' is not a number"
    assert rej.loc[5, "column"] == "datum" and rej.loc[5, "value"] == "igår" and "date" in rej.loc[5, "reason"]
    assert rej.loc[6, "reason"].startswith("outside Upplands-Bro: ")
    metres = float(rej.loc[6, "reason"].split(": ")[1].split(" m ")[0].replace(" ", ""))
    assert 10_000 < metres < 40_000
    assert "severity must be 1, 2 or 3" in rej.loc[7, "reason"]
    assert rej.loc[8, "reason"].startswith("unknown status 'fixad'; allowed: ny, bedomd")
    assert rej.loc[9, "reason"] == "category is required"
    assert plan.rejected_rows == 7


def test_buffer_setting_decides_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "e.csv", "kategori,datum,lat,lon\nklotter,2026-08-22,59.33,18.07\n")
    assert len(read_file(path, "finding").accepted) == 0
    monkeypatch.setenv("TRYGGHETSKARTA_BOUNDARY_BUFFER_M", "60000")
    assert len(read_file(path, "finding").accepted) == 1


def test_xlsx_with_dates_and_numbers(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]  # a new workbook's one sheet
    sheet.append(["Kategori", "Datum", "Latitude", "Longitude", "Beskrivning"])
    sheet.append(["Nedskräpning", dt.datetime(2026, 9, 1, 21, 0), LAT, LON, "Soppåsar"])
    sheet.append(["Förväxt vegetation", "2026-09-01", 59.52, 17.64, None])
    book.save(tmp_path / "f.xlsx")
    plan = read_file(tmp_path / "f.xlsx", "finding")
    assert plan.rejected.empty, plan.rejected
    assert plan.accepted["category"].tolist() == ["nedskrapning", "vegetation"]
    assert plan.accepted["reported_at"].iloc[0] == dt.datetime(2026, 9, 1, 19, 0, tzinfo=dt.UTC)


def test_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="g.csv: no coordinate columns found"):
        read_file(_write(tmp_path / "g.csv", "a,b\n1,2\n"), "finding")
    with pytest.raises(ValidationError, match="binary"):
        read_file(_write(tmp_path / "h.csv", "a\x00b"), "finding")
    bad = tmp_path / "i.csv"
    bad.write_bytes(b"lat,lon\n\x81\x8d,1\n")
    with pytest.raises(ValidationError, match="i.csv: text is neither UTF-8 nor Windows-1252"):
        read_file(bad, "finding")
    with pytest.raises(ValidationError, match="cannot import kind 'action'"):
        read_file(bad, "action")
    monkeypatch.setenv("TRYGGHETSKARTA_IMPORT_MAX_ROWS", "2")
    rows = "kategori,datum,lat,lon\n" + "klotter,2026-08-22,59.49,17.75\n" * 3
    with pytest.raises(ValidationError, match="j.csv: more than 2 rows"):
        read_file(_write(tmp_path / "j.csv", rows), "finding")
    monkeypatch.setenv("TRYGGHETSKARTA_IMPORT_MAX_MB", "0.00001")
    with pytest.raises(ValidationError, match=r"j.csv: the file is .* MB; the limit is"):
        read_file(tmp_path / "j.csv", "finding")


def _kobo_csv(path: Path) -> Path:
    """A KoboToolbox CSV export (XML values and headers, ';' separated) of data/forms/trygghetsvandring.xlsx."""
    header = ("start;end;today;category;severity;description;position;_position_latitude;_position_longitude;"
              "_position_altitude;_position_precision;photo;photo_URL;_id;_uuid;_submission_time;"
              "_validation_status;_notes;_status;_submitted_by;__version__;_tags;_index")
    rows = [
        ("2026-10-14T19:40:03.123+02:00;2026-10-14T19:42:10.456+02:00;2026-10-14;belysning_trasig;3;"
         "Lampan vid gångtunneln släckt;59.49068 17.752277 23.4 4.8;59.49068;17.752277;23.4;4.8;1697305330.jpg;"
         "https://kf.kobotoolbox.org/media/x.jpg;101;6f1c2a0e-1b0e-4e07-9a55-0c2d7a3c1f01;2026-10-14T17:43:01;;;"
         "submitted_via_web;;vHt7;;1"),
        ("2026-10-14T19:50:00.000+02:00;2026-10-14T19:51:00.000+02:00;2026-10-14;trygg_plats;1;"
         "Välupplyst torg;59.51 17.64 20 6;59.51;17.64;20;6;;;102;0f0e4c55-5f2b-4a43-8a3c-7b0a4f3e9d02;"
         "2026-10-14T17:52:00;;;submitted_via_web;;vHt7;;2"),
    ]
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_kobo_export_of_the_shipped_xlsform_imports_without_mapping(tmp_path: Path) -> None:
    form = Path(__file__).resolve().parents[1] / "data" / "forms" / "trygghetsvandring.xlsx"
    book = openpyxl.load_workbook(form, read_only=True)
    survey = list(book["survey"].iter_rows(values_only=True))
    choices = list(book["choices"].iter_rows(values_only=True))
    names = {r[1] for r in survey[1:]}
    assert {"category", "severity", "description", "position", "photo"} <= names
    assert {r[1] for r in choices if r[0] == "kategori"} == {c.key for c in schema.CATEGORIES}
    assert ("geopoint", "position") in {(r[0], r[1]) for r in survey}
    book.close()
    plan = read_file(_kobo_csv(tmp_path / "kobo.csv"), "finding")
    assert plan.rejected.empty, plan.rejected
    acc = plan.accepted
    assert acc["category"].tolist() == ["belysning_trasig", "trygg_plats"]
    assert acc["positive"].tolist() == [False, True]
    assert acc["original_category"].isna().all()
    assert acc["accuracy_m"].tolist() == [4.8, 6.0]
    assert acc["external_id"].iloc[0] == "6f1c2a0e-1b0e-4e07-9a55-0c2d7a3c1f01"
    assert acc["reported_at"].iloc[0] == dt.datetime(2026, 10, 14, 17, 40, 3, 123000, tzinfo=dt.UTC)
    assert acc.geometry.iloc[1].x == pytest.approx(17.64)


def test_odk_geopoint_only_column(tmp_path: Path) -> None:
    text = "KEY,SubmissionDate,grupp/category,grupp/position\nuuid:1,2026-10-14 20:00,klotter,59.49 17.75 10 3.5\n"
    plan = read_file(_write(tmp_path / "odk.csv", text), "finding")
    assert plan.accepted["category"].tolist() == ["klotter"]
    assert plan.accepted["accuracy_m"].tolist() == [3.5]
    assert plan.accepted["external_id"].tolist() == ["uuid:1"]
