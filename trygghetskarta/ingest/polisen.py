"""The Swedish police events API (polisen.se/api/events) and files derived from it.

``location.gps`` is "lat,lon" of the *municipality or county centroid*, so every event gets
precision ``kommun``; the API id becomes the external id (source ``polisen_api``). Brottsplatskartan
events (the same police texts geocoded to street level, sometimes wrongly) get precision ``gata`` and
source ``ovrigt`` with ids prefixed ``brottsplatskartan:`` since they are another id space.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from trygghetskarta.errors import ValidationError
from trygghetskarta.ingest.table import RawTable
from trygghetskarta.ingest.tabular import points_from_columns
from trygghetskarta.ingest.vocab import fold

API_FIELDS = ("id", "datetime", "name", "summary", "url", "type")
POLISEN_COLUMNS = frozenset({"id", "datetime", "name", "summary", "type"})
BROTTSPLATSKARTAN_COLUMNS = frozenset({"id", "pubdate iso8601", "title type"})


def table_from_api_json(data: bytes, file: str) -> RawTable:
    """A saved response of the police events API: a JSON array of event objects."""
    try:
        events = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        msg = f"{file}: not valid JSON ({exc})"
        raise ValidationError(msg) from None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        msg = f"{file}: expected a JSON array of police events (objects with id, datetime, type, location)"
        raise ValidationError(msg)
    if events and not any("location" in e and "datetime" in e for e in events[:50]):
        msg = f"{file}: the JSON array does not look like police events (no 'location' and 'datetime')"
        raise ValidationError(msg)
    rows = []
    for e in events:
        location = e.get("location") if isinstance(e.get("location"), dict) else {}
        row = {k: (None if e.get(k) is None else str(e.get(k))) for k in API_FIELDS}
        row["location_name"] = None if location.get("name") is None else str(location.get("name"))
        row["location_gps"] = None if location.get("gps") is None else str(location.get("gps"))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*API_FIELDS, "location_name", "location_gps"], dtype=object)
    if frame.empty:
        msg = f"{file}: the police events array is empty"
        raise ValidationError(msg)
    table = points_from_columns(frame, file, "polisen_json")
    table.source_rows = np.arange(len(frame)) + 1  # event number in the array
    table.fixed = {"source": "polisen_api", "precision": "kommun"}
    return table


def apply_profile(table: RawTable, kind: str) -> None:
    """Recognise police-derived tables by their columns and set what the format implies."""
    if kind != "incident":
        return
    folded = {fold(c) for c in table.frame.columns}
    if table.fmt == "polisen_json" or (folded >= POLISEN_COLUMNS and ({"location gps", "location name"} & folded)):
        table.fixed.setdefault("source", "polisen_api")
        table.fixed.setdefault("precision", "kommun")
        table.warnings.append("police events API format: positions are municipality/county centroids "
                              "(precision 'kommun')")
    elif folded >= BROTTSPLATSKARTAN_COLUMNS:
        table.fixed.setdefault("source", "ovrigt")
        table.fixed.setdefault("precision", "gata")
        table.external_id_prefix = "brottsplatskartan:"
        table.warnings.append("Brottsplatskartan format: street-level positions geocoded automatically "
                              "(precision 'gata', source 'ovrigt')")
