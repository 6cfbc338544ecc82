"""import_file against the embedded store: one transaction, idempotent, report, dry run, round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from trygghetskarta.errors import TrygghetskartaError, ValidationError
from trygghetskarta.ingest import import_file
from trygghetskarta.store import Store

CSV = ("kategori;datum;lat;lon;beskrivning\n"
       "Trasig belysning;2026-08-22 21:30;59.49068;17.752277;Lampan är släckt, ring 070-123 45 67\n"
       "Klotter;2026-08-22 21:40;59.51;17.64;\n"
       "Klotter;2026-08-22 21:40;;;ingen plats\n"
       "Klotter;2026-08-22 21:40;59.33;18.07;Stockholm\n")


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "fynd.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_import_twice_adds_nothing_the_second_time(sqlite_store: Store, csv_file: Path, tmp_path: Path) -> None:
    first = import_file(sqlite_store, csv_file, "finding", report=tmp_path / "rej.csv")
    assert first.summary_line() == "accepted 2, rejected 2, already present 0"
    stored = sqlite_store.read("finding")
    assert sorted(stored["category"]) == ["belysning_trasig", "klotter"]
    assert "[telefon]" in stored.loc[stored["category"] == "belysning_trasig", "description"].iloc[0]
    report = pd.read_csv(tmp_path / "rej.csv", dtype=str, encoding="utf-8-sig")
    assert list(report.columns) == ["source_row", "column", "value", "reason"]
    assert report["source_row"].tolist() == ["4", "5"]
    assert report["reason"].iloc[1].startswith("outside Upplands-Bro")
    second = import_file(sqlite_store, csv_file, "finding")
    assert second.summary_line() == "accepted 0, rejected 2, already present 2"
    assert sqlite_store.count("finding") == 2


def test_dry_run_writes_nothing_but_counts(sqlite_store: Store, csv_file: Path, tmp_path: Path) -> None:
    dry = import_file(sqlite_store, csv_file, "finding", dry_run=True, report=tmp_path / "r.csv")
    assert dry.summary_line() == "accepted 2, rejected 2, already present 0"
    assert sqlite_store.count("finding") == 0
    assert (tmp_path / "r.csv").exists()
    import_file(sqlite_store, csv_file, "finding")
    again = import_file(sqlite_store, csv_file, "finding", dry_run=True)
    assert again.summary_line() == "accepted 0, rejected 2, already present 2"


def test_a_store_refusal_leaves_nothing_half_written(sqlite_store: Store, csv_file: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import shapely

    import trygghetskarta.ingest as ingest_module

    real = ingest_module.read_file

    def sabotage(*args: Any, **kwargs: Any) -> Any:
        plan = real(*args, **kwargs)  # read in the sandbox's child; the plan is then spoiled here
        geoms = plan.accepted.geometry.to_numpy().copy()
        geoms[1] = shapely.Point(500.0, 500.0)  # the store must refuse this row
        plan.accepted = plan.accepted.set_geometry(list(geoms), crs=plan.accepted.crs)
        return plan

    monkeypatch.setattr(ingest_module, "read_file", sabotage)
    with pytest.raises(TrygghetskartaError):
        import_file(sqlite_store, csv_file, "finding")
    assert sqlite_store.count("finding") == 0


def test_incidents_idempotent_by_external_id(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text('[{"id": 1, "datetime": "2026-08-22 9:48:12 +02:00", "name": "22 augusti 09.30, Rån, '
                    'Upplands-bro", "summary": "Rån i Kungsängen.", "url": "/x", "type": "Rån", '
                    '"location": {"name": "Upplands-bro", "gps": "59.49068,17.752277"}}]', encoding="utf-8")
    assert import_file(sqlite_store, path, "incident").summary_line() == "accepted 1, rejected 0, already present 0"
    assert import_file(sqlite_store, path, "incident").summary_line() == "accepted 0, rejected 0, already present 1"
    row = sqlite_store.read("incident").iloc[0]
    assert (row["source"], row["type"], row["precision"], row["external_id"]) == ("polisen_api", "vald", "kommun", "1")
    assert row["original_type"] == "Rån"


def test_own_export_round_trip(sqlite_store: Store, csv_file: Path, tmp_path: Path) -> None:
    import_file(sqlite_store, csv_file, "finding")
    before = sqlite_store.read("finding").sort_values("external_id").reset_index(drop=True)
    out = tmp_path / "export.geojson"
    before.drop(columns=["id", "created_at", "updated_at", "lon", "lat"], errors="ignore").to_file(out)
    fresh_url = "sqlite:///" + str(tmp_path / "fresh.sqlite")
    from trygghetskarta.store import open_store

    fresh = open_store(fresh_url)
    fresh.init()
    try:
        result = import_file(fresh, out, "finding")
        assert result.summary_line() == "accepted 2, rejected 0, already present 0"
        after = fresh.read("finding").sort_values("external_id").reset_index(drop=True)
    finally:
        fresh.dispose()
    for col in ("category", "description", "severity", "positive", "status", "reported_at", "external_id",
                "source", "audience"):
        assert after[col].tolist() == before[col].tolist(), col
    assert after.geometry.geom_equals_exact(before.geometry, tolerance=1e-9).all()


def test_nonexistent_file(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="nope.csv: no such file"):
        import_file(sqlite_store, tmp_path / "nope.csv", "finding")
