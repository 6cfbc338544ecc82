"""The facts of the accessibility statement (tillgänglighetsredogörelse, lag 2018:1937; issue 14): when it was
made, how it was assessed and what is known not to be accessible, and why. The statement page
(``app_pages/tillganglighet.py``) shows them, docs/ACCESSIBILITY.md lists the same, and the axe-core test
(``tests/test_e2e_axe.py``) excludes exactly the findings marked here as caused by a library, by rule and element.
The texts (Swedish and English) are in ``app_pages/_texts.py`` under ``a11y_lim_<key>``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# When the statement was made and last reviewed, and the engine of the automatic test (the test checks that the
# bundled axe-core is this version, so a newer engine means a new review of this file).
STATEMENT_DATE = dt.date(2026, 12, 4)
AXE_CORE_VERSION = "4.12.1"
WCAG_TAGS: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
DIGG_REPORT_URL = "https://www.digg.se/tdosanmalan"
LAW = "lag (2018:1937) om tillgänglighet till digital offentlig service"


@dataclass(frozen=True)
class Limitation:
    """Something that is not (fully) accessible. ``criterion`` is the WCAG 2.1 success criterion. ``issue`` is
    the upstream issue when a library the project uses causes it. ``rule`` and ``target`` (a regular expression
    over axe's element selector, frames first, joined by ``" >>> "``) are set when axe-core reports it; the
    test then excludes exactly those elements and nothing else."""

    key: str
    criterion: str
    issue: str | None = None
    rule: str | None = None
    target: str | None = None

    def covers(self, rule: str, target: str) -> bool:
        return (self.rule is not None and self.target is not None and rule == self.rule
                and re.search(self.target, target) is not None)


LIMITATIONS: tuple[Limitation, ...] = (
    # Streamlit's page template declares English; the app sets the language once the page has loaded.
    Limitation("lang", "3.1.1", issue="https://github.com/streamlit/streamlit/issues/15726"),
    # Streamlit's own controls carry English names (the navigation's "App pages", "View N more", the
    # sidebar's collapse button) whatever language the app is in.
    Limitation("streamlit_english", "3.1.2", issue="https://github.com/streamlit/streamlit/issues/1353"),
    # The Leaflet maps: the markers are reachable with Tab but a map cannot be read or used with a screen reader.
    Limitation("maps", "1.1.1, 2.1.1"),
    # The Vega-Lite charts have no text version on the page.
    Limitation("charts", "1.1.1"),
    # fpdf2 writes untagged PDF; the lägesbild is also offered as HTML.
    Limitation("pdf", "1.3.1"),
)


def library_caused() -> tuple[Limitation, ...]:
    """The limitations that axe-core reports and a library causes (the test's reviewed exclusions)."""
    return tuple(lim for lim in LIMITATIONS if lim.rule is not None)
