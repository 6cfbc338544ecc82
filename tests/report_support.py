"""Reading a rendered report back: the HTML's tags and text, and each section's table as rows of cell text."""

from __future__ import annotations

from html.parser import HTMLParser


class ReportPage(HTMLParser):
    """Parses a report page: ``tags`` (every start tag), ``text`` (all text, unescaped), ``rows[kind]`` (the body
    rows of the table in ``<section class="section-<kind>">``, each a list of its cells' text) and ``marks[kind]``
    (the ``lvl-*`` class of each row's dot, or None)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.rows: dict[str, list[list[str]]] = {}
        self.marks: dict[str, list[str | None]] = {}
        self._section: str | None = None
        self._cell: list[str] | None = None
        self._in_body = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        classes = (dict(attrs).get("class") or "").split()
        if tag == "section":
            self._section = next(c.removeprefix("section-") for c in classes if c.startswith("section-"))
            self.rows[self._section], self.marks[self._section] = [], []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._section is not None:
            self.rows[self._section].append([])
            self.marks[self._section].append(None)
        elif tag == "td" and self._in_body:
            self._cell = []
        elif tag == "span" and "lvl" in classes and self._section is not None:
            self.marks[self._section][-1] = next(c.removeprefix("lvl-") for c in classes if c.startswith("lvl-"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._section is not None:
            self.rows[self._section][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
