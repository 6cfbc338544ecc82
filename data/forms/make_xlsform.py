"""Write ``trygghetsvandring.xlsx``, an XLSForm for KoboCollect / ODK Collect.

Its choices are the keys of ``schema.CATEGORIES`` and ``schema.SEVERITIES`` and its field names are
the record fields (``category``, ``severity``, ``description``, ``position``, ``photo``), so a Kobo or
ODK export of it imports with ``trygghetskarta import EXPORT.csv --kind finding`` without any mapping.

    python data/forms/make_xlsform.py            # rewrites data/forms/trygghetsvandring.xlsx
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from trygghetskarta import schema

FORM_ID = "trygghetsvandring"
VERSION = "2026110101"
SV, EN = "label::Svenska (sv)", "label::English (en)"
HINT_SV, HINT_EN = "hint::Svenska (sv)", "hint::English (en)"

SURVEY_HEADER = ["type", "name", SV, EN, HINT_SV, HINT_EN, "required", "appearance"]
SURVEY: list[list[str]] = [
    ["start", "start", "", "", "", "", "", ""],
    ["end", "end", "", "", "", "", "", ""],
    ["today", "today", "", "", "", "", "", ""],
    ["select_one kategori", "category", "Vad har du hittat?", "What did you find?", "", "", "yes", "minimal"],
    ["select_one allvarlighet", "severity", "Hur allvarligt?", "How serious?", "", "", "yes", ""],
    ["text", "description", "Beskriv kort", "Describe briefly",
     "Skriv inte namn, telefonnummer eller personnummer.", "Do not write names, phone numbers or ID numbers.",
     "", "multiline"],
    ["geopoint", "position", "Var? (GPS)", "Where? (GPS)", "Vänta tills noggrannheten är under 10 m.",
     "Wait until the accuracy is below 10 m.", "yes", ""],
    ["image", "photo", "Foto (inga personer)", "Photo (no people)",
     "Fotografera platsen, inte människor.", "Photograph the place, not people.", "", ""],
]


def rows_choices() -> list[list[str]]:
    rows = [["kategori", c.key, c.sv, c.en] for c in schema.CATEGORIES]
    rows += [["allvarlighet", s.key, f"{s.key} – {s.sv}", f"{s.key} – {s.en}"] for s in schema.SEVERITIES]
    return rows


def build(path: Path) -> Path:
    """Write the XLSForm to ``path``."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(SURVEY_HEADER)
    for row in SURVEY:
        survey.append(row)
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", SV, EN])
    for row in rows_choices():
        choices.append(row)
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language", "instance_name"])
    settings.append(["Trygghetsvandring – fynd", FORM_ID, VERSION, "Svenska (sv)",
                     "concat(${category}, ' ', ${today})"])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


if __name__ == "__main__":
    out = build(Path(__file__).resolve().parent / "trygghetsvandring.xlsx")
    print(f"wrote {out}")
