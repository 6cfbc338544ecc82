"""What a user sees on a page run by Streamlit's AppTest, as plain strings, and the check that it reads as Swedish:
no English sentence, no internal key (a vocabulary key such as ``belysning_trasig``, a snake_case token, ``None``),
no English month or weekday name, no number grouped with a comma, no imperial map scale.

The English detector is a stop-word heuristic: a text fails when it holds a word from ``ENGLISH`` (words that are
not Swedish). ``ALLOWED`` is the small reviewed list of names that may appear as they are.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from trygghetskarta import schema

# Words that do not occur in Swedish text (checked against the Swedish catalogue: none of them is a Swedish word
# the app uses). Kept short and distinctive: "in", "per", "status", "period", "program" are Swedish too.
_ENGLISH_WORDS = """
the and of to is are was were not with from this that these those your you please found page empty accepted
rejected already present rows row none error failed invalid unknown missing must should could would been which
what when where who whose count previous last year month week day days name names label labels value values key
keys type source category categories permission denied allowed only can cannot may any new open yes true false
null nan nat responsible priority planned there their they have has had will shall upload uploaded file files
drag browse select choose hide download save saved cancel submit delete remove edit add added changed unchanged
before after between than here help report reports map maps walk walks finding findings action actions user users
role roles password username login logout sign settings overview review summary mi ft
"""
ENGLISH = frozenset(_ENGLISH_WORDS.split())
# English month and weekday names are capitalised (Swedish writes "december", "måndag").
ENGLISH_NAMES = frozenset(["January", "February", "March", "April", "May", "June", "July", "August", "September",
                           "October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday",
                           "Friday", "Saturday", "Sunday"])
# Reviewed: names and abbreviations that stay as they are in Swedish text.
ALLOWED = frozenset({"Folium", "Leaflet", "OpenStreetMap", "EST", "CSV", "XLSX", "GeoJSON", "GeoPackage", "KML",
                     "GPX", "PDF", "HTML", "SWEREF", "WGS", "EPSG", "QR", "SSO", "OpenID", "Open311", "API", "URL",
                     "DeSO", "RegSO", "SCB", "TopoJSON", "Shapefile", "HEIC", "JPEG", "PNG", "WebP", "Gi", "FDR",
                     "PAI", "RRI", "WDQ", "TNE", "WDD", "Mann", "Kendall", "Getis", "Ord", "Upplands", "Bro"})
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
SYMBOL = re.compile("[\u2300-\u23ff\u2600-\u27bf\U0001f000-\U0001ffff]")  # emoji such as ⏰ (a box without the font)
COMMA_THOUSANDS = re.compile(r"\b\d{1,3},\d{3}\b")
RAW = re.compile(r"(?<![\w-])(None|nan|NaN|NaT|True|False)(?![\w-])")
WORD = re.compile(r"[A-Za-zÅÄÖåäöÉé0-9]+")
TEST_USER = re.compile(r"\btest_[a-z]+\b")  # the fixture's user names are data, not text
# Strings a widget or chart may hold that a user never reads as text: colours, icons, CSS sizes.
_SILENT = re.compile(r"^(#[0-9a-fA-F]{3,8}|:material/[a-z_]+:|rgba?\(.*\)|\d+(\.\d+)?(px|rem|%)?)$")


def vocabulary_keys() -> frozenset[str]:
    """The schema keys that are not also a Swedish word a user may read (``klotter`` is both)."""
    keys: set[str] = set()
    for vocabulary, terms in schema.VOCABULARIES.items():
        for term in terms:
            if term.key.lower() != term.sv.lower() and ("_" in term.key or not term.key.isalpha()):
                keys.add(term.key)
        del vocabulary
    return frozenset(keys)


def problems(text: str, keys: frozenset[str]) -> list[str]:
    """Why ``text`` does not read as Swedish (empty: it does)."""
    found: list[str] = []
    if text.startswith(("http://", "https://")) or _SILENT.match(text.strip()):
        return found
    stripped = TEST_USER.sub(" ", re.sub(r"https?://\S+|`[^`]*`|:material/[a-z_]+:|\]\([^)]*\)", " ", text))
    words = [w for w in WORD.findall(stripped) if w not in ALLOWED]
    english = sorted({w for w in words if w.lower() in ENGLISH or w in ENGLISH_NAMES})
    if english:
        found.append(f"English word(s) {english}")
    snake = sorted(set(SNAKE.findall(stripped)))
    if snake:
        found.append(f"internal key(s) {snake}")
    raw_keys = sorted({w for w in re.findall(r"[a-z_]+", stripped) if w in keys})
    if raw_keys:
        found.append(f"vocabulary key(s) {raw_keys}")
    if RAW.search(stripped):
        found.append(f"raw value {RAW.findall(stripped)}")
    if SYMBOL.search(stripped):
        found.append(f"symbol a desktop font may lack {SYMBOL.findall(stripped)}")
    if COMMA_THOUSANDS.search(stripped):
        found.append(f"English number grouping {COMMA_THOUSANDS.findall(stripped)}")
    return found


# --- collecting the text -----------------------------------------------------------------------------------

_TEXT_FIELDS = ("label", "body", "placeholder", "help", "title", "caption", "text")


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _proto_strings(proto: Any) -> Iterator[tuple[str, str]]:
    for field, value in proto.ListFields():
        if field.name in _TEXT_FIELDS and isinstance(value, str):
            yield field.name, value
        elif field.name in ("options", "default_options") and not isinstance(value, str | bytes):
            for option in value:
                if isinstance(option, str):
                    yield field.name, option
        elif field.name in ("expandable", "tab", "popover") and hasattr(value, "ListFields"):
            yield from _proto_strings(value)


def _channel_title(enc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The title Vega-Lite draws for a channel: its own, its axis' or legend's, else one made from the field
    (``"Sum of n"`` for an aggregate)."""
    title = enc.get("title", "__field__")
    for key in ("axis", "legend", "header"):
        sub = enc.get(key)
        if isinstance(sub, dict) and "title" in sub:
            title = sub["title"]
    if title == "__field__":
        field = enc.get("field")
        aggregate = enc.get("aggregate")
        title = f"{str(aggregate).capitalize()} of {field}" if aggregate and field else field
    if isinstance(title, str):
        yield "chart title", title


def _encoding_strings(s: Any, nominal: set[str]) -> Iterator[tuple[str, str]]:
    """The titles of one (sub)spec's channels; notes the nominal fields whose values the chart prints."""
    for channel, enc in (s.get("encoding") or {}).items():
        for e in enc if isinstance(enc, list) else [enc]:
            if not isinstance(e, dict) or channel in ("detail", "order", "href"):
                continue
            yield from _channel_title(e)
            if e.get("type") in ("nominal", "ordinal") and isinstance(e.get("field"), str):
                nominal.add(e["field"])
    if isinstance(s.get("title"), str):
        yield "chart title", s["title"]


def _specs(s: Any) -> Iterator[dict[str, Any]]:
    if isinstance(s, dict):
        yield s
        for v in s.values():
            yield from _specs(v)
    elif isinstance(s, list):
        for v in s:
            yield from _specs(v)


def _chart_strings(spec_json: str, datasets: Any) -> Iterator[tuple[str, str]]:
    """Axis, legend and tooltip titles (a field's name is its title when none is given) and the nominal values
    a chart prints on an axis or in a legend."""
    nominal: set[str] = set()
    for s in _specs(json.loads(spec_json)):
        yield from _encoding_strings(s, nominal)
    for ds in datasets:
        if not ds.data.data:
            continue
        table = pa.ipc.open_stream(io.BytesIO(ds.data.data)).read_all()
        for name in nominal & set(table.column_names):
            for value in table.column(name).to_pylist():
                if isinstance(value, str):
                    yield "chart value", value


def _frame_columns(node: Any) -> Iterator[tuple[str, str]]:
    try:
        frame = node.value
    except Exception:  # noqa: BLE001 - an element that is not a frame: nothing to read
        return
    data = getattr(frame, "data", frame)  # a Styler's frame
    for column in getattr(data, "columns", []):
        yield "column", str(column)
    index = getattr(data, "index", None)
    if index is not None and index.dtype == object:  # a named index is shown as the rows' first column
        for value in index:
            yield "row name", str(value)
    if hasattr(data, "isna") and bool(data.isna().to_numpy().any()):
        blank = [str(c) for c in data.columns[data.isna().to_numpy().any(axis=0)]]
        yield f"table cells of {blank}", "None"  # Streamlit writes "None" for a missing value
    if hasattr(data, "columns") and len(data) == 0:
        yield f"table with no rows (columns {list(map(str, data.columns))})", "empty"  # Streamlit draws "empty"


def visible_texts(at: AppTest) -> list[tuple[str, str]]:
    """``(where, text)`` for everything the page shows as text."""
    out: list[tuple[str, str]] = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if kind in ("dataframe", "table", "arrow_data_frame"):
            out.extend(_frame_columns(node))
            continue
        if kind == "arrow_vega_lite_chart" and proto is not None:
            out.extend(_chart_strings(proto.spec, proto.datasets))
            continue
        if kind == "metric" and proto is not None:
            out.append(("metric", proto.label))
            continue
        if kind == "html" and proto is not None:
            shown = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", proto.body, flags=re.S | re.I)
            out.append(("html", " ".join(shown.split())))
            continue
        if proto is not None and hasattr(proto, "ListFields"):
            out.extend((f"{kind}.{where}", s) for where, s in _proto_strings(proto))
    return [(where, s) for where, s in out if s.strip()]


def imperial_scales(at: AppTest) -> int:
    """How many maps on the page draw a scale in miles and feet besides metres (Leaflet's default)."""
    n = 0
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        doc = getattr(proto, "srcdoc", "") if proto is not None else ""
        for options in re.findall(r"L\.control\.scale\((\{.*?\})?\)", doc or "", flags=re.S):
            if not re.search(r'"?imperial"?\s*:\s*false', options or ""):
                n += 1
    return n


def leaks(at: AppTest) -> list[str]:
    """Every piece of the page's text that is not Swedish, with where it was shown."""
    keys = vocabulary_keys()
    found = [f"{where}: {text!r}: {'; '.join(why)}" for where, text in visible_texts(at)
             if (why := problems(text, keys))]
    if imperial_scales(at):
        found.append(f"map: {imperial_scales(at)} scale(s) with miles and feet")
    return found


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


__all__ = ["ALLOWED", "ENGLISH", "leaks", "pa", "problems", "unique", "visible_texts", "vocabulary_keys"]
