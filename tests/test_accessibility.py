"""The accessibility statement's facts (issue 14): the statement page renders them with no login, in Swedish and
English, with a way to report a problem and Digg as the enforcement body; docs/ACCESSIBILITY.md and the README
agree with them; the bundled axe-core is the version the statement names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from streamlit.testing.v1 import AppTest

from app_pages._texts import text
from trygghetskarta import accessibility

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "ACCESSIBILITY.md"


def test_the_bundled_axe_core_is_the_version_the_statement_names() -> None:
    banner = re.match(r"/\*! axe v(\S+)", AXE_SCRIPT)
    assert banner is not None
    assert banner.group(1) == accessibility.AXE_CORE_VERSION


def test_every_limitation_has_its_texts_and_the_doc_lists_it() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for limitation in accessibility.LIMITATIONS:
        sv, en = (text(f"a11y_lim_{limitation.key}", lang) for lang in ("sv", "en"))
        assert sv and en and sv != en, limitation.key
        assert f"`{limitation.key}`" in doc, f"docs/ACCESSIBILITY.md does not list {limitation.key}"
        if limitation.issue:
            assert limitation.issue in doc, limitation.issue
    assert accessibility.STATEMENT_DATE.isoformat() in doc
    assert "docs/ACCESSIBILITY.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "/tillganglighet" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_a_library_caused_exclusion_matches_only_its_rule_and_element() -> None:
    lim = accessibility.Limitation("x", "1.3.1", issue="https://example.invalid/1", rule="list",
                                   target=r"\[data-testid=\"stSidebarNavItems\"\]")
    assert lim.covers("list", 'ul[data-testid="stSidebarNavItems"]')
    assert not lim.covers("listitem", 'ul[data-testid="stSidebarNavItems"]')
    assert not lim.covers("list", "ul.tk-legend")
    assert not accessibility.Limitation("y", "1.1.1").covers("list", "ul")


def _statement(lang: str, contact: str | None, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    if contact is None:
        monkeypatch.delenv("TRYGGHETSKARTA_ACCESSIBILITY_CONTACT", raising=False)
    else:
        monkeypatch.setenv("TRYGGHETSKARTA_ACCESSIBILITY_CONTACT", contact)
    at = AppTest.from_file(str(ROOT / "app_pages" / "tillganglighet.py"), default_timeout=60)
    at.session_state["tk_lang"] = lang
    return at.run()


def _shown(at: AppTest) -> str:
    return "\n".join([*(m.value for m in at.markdown), *(i.value for i in at.info), *(c.value for c in at.caption),
                      *(h.value for h in at.header), *(t.value for t in at.title)])


def test_the_statement_needs_no_login_and_says_what_digg_requires(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _statement("sv", "tillganglighet@kommun.example", monkeypatch)
    assert not at.exception
    shown = _shown(at)
    assert at.title[0].value.replace("\u00ad", "") == "Tillgänglighetsredogörelse"  # a soft hyphen for phones
    assert "delvis förenlig" in shown
    assert "](mailto:tillganglighet@kommun.example)" in shown  # a mailto link to the address in the setting
    assert accessibility.DIGG_REPORT_URL in shown and "Digg" in shown
    assert f"axe-core {accessibility.AXE_CORE_VERSION}" in shown
    assert accessibility.STATEMENT_DATE.isoformat() in shown
    for limitation in accessibility.LIMITATIONS:
        assert text(f"a11y_lim_{limitation.key}", "sv") in shown
        if limitation.issue:
            assert limitation.issue in shown


def test_the_statement_in_english_and_without_a_contact_address(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _statement("en", None, monkeypatch)
    assert not at.exception
    shown = _shown(at)
    assert at.title[0].value == "Accessibility statement"
    assert "partially compliant" in shown
    assert "TRYGGHETSKARTA_ACCESSIBILITY_CONTACT" in shown  # says that no address is set
    assert "mailto:" not in shown
