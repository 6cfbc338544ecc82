"""axe-core in Chromium for the accessibility test (issue 14): the engine comes from the PyPI package
``axe-playwright-python`` (requirements-dev.txt), which bundles Deque's ``axe.min.js`` (MPL-2.0). It is injected
into the page and into every frame of it (the Folium map documents, the position component), then ``axe.run``
checks the page with the WCAG 2.0/2.1 A and AA rules; a violation inside a frame is reported with the frame's
selector first in its target.

Some findings may be caused by Streamlit's own markup, which the project does not write:
``trygghetskarta.accessibility.library_caused()`` lists them, each with its upstream issue (the statement page and
docs/ACCESSIBILITY.md show the same list); the test excludes exactly those (rule + element pattern), nothing else.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Error as PlaywrightError

from trygghetskarta import accessibility

WCAG_TAGS = list(accessibility.WCAG_TAGS)
IMPACTS = ("critical", "serious", "moderate", "minor")

_RUN = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
                                     iframes: true, frameWaitTime: 5000});
  const flat = (t) => Array.isArray(t) ? t.join(' ') : t;
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                                 nodes: v.nodes.map(n => ({target: n.target.map(flat), html: n.html.slice(0, 300),
                                                           impact: n.impact}))}));
}"""


@dataclass(frozen=True)
class Finding:
    """One element that breaks one rule."""

    rule: str
    impact: str
    target: str  # the selectors, frame first, joined by " >>> "
    html: str
    help: str


def inject(page: Any) -> None:
    """Put axe into the page and every frame in it (frames that vanish during a rerun are skipped)."""
    for frame in page.frames:
        if frame.is_detached():
            continue
        try:
            if not frame.evaluate("() => typeof window.axe === 'object'"):
                frame.evaluate(AXE_SCRIPT)
        except PlaywrightError:
            continue


def run(page: Any) -> list[Finding]:
    """axe's WCAG 2.1 A/AA violations on the page and in its frames, one ``Finding`` per element."""
    for attempt in range(3):
        inject(page)
        try:
            violations = page.evaluate(_RUN, WCAG_TAGS)
            break
        except PlaywrightError as exc:
            # a frame replaced while axe ran (a component re-mounts): inject into the new one, run again
            if "Axe in frame timed out" not in str(exc) or attempt == 2:
                raise
            page.wait_for_timeout(1000)
    return [Finding(v["id"], str(n.get("impact") or v.get("impact") or "minor"), " >>> ".join(n["target"]),
                    n["html"], v["help"])
            for v in violations for n in v["nodes"]]


def split(findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(the project's own, those on the reviewed list of what Streamlit causes)."""
    known = [f for f in findings if any(k.covers(f.rule, f.target) for k in accessibility.library_caused())]
    return [f for f in findings if f not in known], known


def counts(findings: list[Finding]) -> Counter[str]:
    return Counter(f.impact for f in findings)


def line(label: str, own: list[Finding], known: list[Finding]) -> str:
    c, k = counts(own), counts(known)
    own_part = " ".join(f"{i}={c.get(i, 0)}" for i in IMPACTS)
    known_part = " ".join(f"{i}={k.get(i, 0)}" for i in IMPACTS)
    return f"{label:<34} project: {own_part} | streamlit (listed): {known_part}"


def describe(findings: list[Finding]) -> str:
    return "\n".join(f"  [{f.impact}] {f.rule}: {f.target}\n      {f.html}" for f in findings)
