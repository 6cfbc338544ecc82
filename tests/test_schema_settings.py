"""The vocabulary is complete in both languages and every setting is documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trygghetskarta import records, schema, settings
from trygghetskarta.errors import ValidationError

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("vocab", sorted(schema.VOCABULARIES))
def test_every_key_is_ascii_with_two_labels(vocab: str) -> None:
    for term in schema.VOCABULARIES[vocab]:
        assert re.fullmatch(r"[a-z0-9_+\-]+", term.key), term.key
        assert term.sv.strip() and term.en.strip(), term


def test_every_category_has_colour_icon_and_labels() -> None:
    folium_colours = {"red", "darkred", "lightred", "orange", "beige", "green", "darkgreen", "lightgreen", "blue",
                      "darkblue", "cadetblue", "lightblue", "purple", "darkpurple", "pink", "white", "gray",
                      "lightgray", "black"}
    for cat in schema.CATEGORIES:
        assert cat.color in folium_colours, cat
        assert cat.icon
    assert [c.key for c in schema.CATEGORIES if c.positive] == ["trygg_plats"]


def test_status_transitions_cover_every_status() -> None:
    assert set(schema.STATUS_TRANSITIONS) == set(schema.STATUS)
    for targets in schema.STATUS_TRANSITIONS.values():
        assert targets <= set(schema.STATUS)


def test_record_vocabularies_exist() -> None:
    for fields in records.FIELDS.values():
        for f in fields:
            if f.vocab:
                assert f.vocab in schema.VOCABULARIES, f
                if f.default is not None:
                    assert str(f.default) in schema.keys(f.vocab), f


def test_label_and_require_key() -> None:
    assert schema.label("category", "klotter", "en") == "Graffiti"
    assert schema.label("status", "atgardad") == "Åtgärdad"
    with pytest.raises(ValidationError, match="allowed: ny, bedomd"):
        schema.require_key("status", "klar")


def test_every_setting_is_documented_in_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for s in settings.SETTINGS:
        assert f"`{s.env}`" in text, f"{s.env} is missing from the README's configuration table"


def test_settings_read_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_PRIVACY_K", "7")
    assert settings.get("privacy_k") == 7
    monkeypatch.setenv("TRYGGHETSKARTA_PRIVACY_K", "sju")
    with pytest.raises(ValidationError, match="TRYGGHETSKARTA_PRIVACY_K"):
        settings.get("privacy_k")


def test_database_url_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert settings.database_url().startswith("sqlite:///")
    with pytest.raises(ValidationError, match="unsupported database URL"):
        settings.database_url("mysql://u:pw@h/db")
    with pytest.raises(ValidationError) as info:
        settings.database_url("mysql://u:pw@h/db")
    assert "pw" not in str(info.value)
