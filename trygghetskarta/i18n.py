"""The one language system (issue 14): gettext catalogues managed with Babel, and Babel's formatting of dates,
numbers, month and weekday names for the chosen language.

Message ids are symbolic (``"page_karta"``, ``"map_legend"``); ``locale/sv/LC_MESSAGES/messages.po`` holds the
Swedish text, ``locale/en/…`` the English. ``make messages`` extracts the ids from the code (``babel.cfg``), updates
the catalogues and compiles them to the ``.mo`` files read here. A text missing from a catalogue falls back to
Swedish, then to the id itself (visible, never a crash; tests/test_translations.py fails on it).

Base layer: no project import, no streamlit.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from babel import Locale, dates, numbers
from babel.messages import mofile, pofile
from babel.support import NullTranslations, Translations

LANGUAGES: tuple[str, ...] = ("sv", "en")
DEFAULT = "sv"
DOMAIN = "messages"
# The catalogues: the app's (Swedish, English) and the public pages', which residents read in four languages.
DOMAINS: dict[str, tuple[str, ...]] = {DOMAIN: LANGUAGES, "public": ("sv", "en", "ar", "so")}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for a marked id
    """Marks a message id the code builds at run time (``f"page_{key}"``), so ``make messages`` extracts it."""
    return msgid


def language(lang: object, domain: str = DOMAIN) -> str:
    """``lang`` when it is a language of ``domain``'s catalogues, else Swedish."""
    return lang if isinstance(lang, str) and lang in DOMAINS[domain] else DEFAULT


@functools.cache
def translations(lang: str, domain: str = DOMAIN) -> NullTranslations:
    """The catalogue of ``lang``: its compiled ``.mo`` (``make run``/``make test`` compile it); compiled in memory
    from the ``.po`` when the ``.mo`` is missing or older (a fresh clone run without make)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        return Translations.load(str(LOCALE_DIR), [lang], domain=domain)
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = pofile.read_po(fh, locale=lang, domain=domain)
    buffer = io.BytesIO()
    mofile.write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


def has(msgid: str, lang: str = DEFAULT, domain: str = DOMAIN) -> bool:
    """Whether the catalogue of ``lang`` translates ``msgid``."""
    catalog = getattr(translations(language(lang, domain), domain), "_catalog", {})
    return bool(catalog.get(msgid))


def gettext(msgid: str, lang: str = DEFAULT, **values: object) -> str:
    """The app's text of ``msgid`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    return dgettext(DOMAIN, msgid, lang, **values)


def dgettext(domain: str, msgid: str, lang: str = DEFAULT, **values: object) -> str:
    """The text of ``msgid`` in ``lang`` from ``domain``'s catalogues (Swedish, then the id, when missing)."""
    lang = language(lang, domain)
    text = translations(lang, domain).gettext(msgid)
    if text == msgid and lang != DEFAULT:
        text = translations(DEFAULT, domain).gettext(msgid)
    return text.format(**values) if values else text


# --- formatting (Babel's CLDR data: "14 000" and "december" in Swedish) -------------------------------------


def locale(lang: str) -> Locale:
    return Locale.parse(language(lang))


def format_number(value: float | int, lang: str = DEFAULT, decimals: int | None = None) -> str:
    """A number grouped and with the decimal sign of ``lang`` (Swedish: ``14 000``, ``2,5``)."""
    if decimals is None:
        return numbers.format_decimal(value, locale=language(lang))
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return numbers.format_decimal(value, format=pattern, locale=language(lang), decimal_quantization=True)


def format_percent(value: float, lang: str = DEFAULT, decimals: int = 0) -> str:
    """``99 %`` in Swedish (a no-break space before the sign), ``99%`` in English."""
    lang = language(lang)
    pattern = str(Locale.parse(lang).percent_formats[None].pattern)
    if decimals > 0:
        pattern = pattern.replace("0", "0." + "0" * decimals, 1) if "." not in pattern else pattern
    return numbers.format_percent(value, format=pattern, locale=lang)


def format_date(value: dt.date, lang: str = DEFAULT, form: str = "long") -> str:
    """``form`` is Babel's ``short``/``medium``/``long``/``full`` or a CLDR pattern (``"d MMMM"``)."""
    return dates.format_date(value, format=form, locale=language(lang))


def format_datetime(value: dt.datetime, lang: str = DEFAULT, form: str = "medium") -> str:
    return dates.format_datetime(value, format=form, locale=language(lang))


def month_name(month: int, lang: str = DEFAULT, width: Literal["abbreviated", "narrow", "wide"] = "wide") -> str:
    """The name of month 1–12 (``wide``: ``december``; ``abbreviated``: ``dec.``)."""
    return dates.get_month_names(width, context="stand-alone", locale=language(lang))[month]


def weekday_name(weekday: int, lang: str = DEFAULT,
                 width: Literal["abbreviated", "narrow", "short", "wide"] = "wide") -> str:
    """The name of weekday 0–6, Monday first (``måndag``)."""
    return dates.get_day_names(width, context="stand-alone", locale=language(lang))[weekday]


def date_pattern(lang: str = DEFAULT) -> str:
    """The date-input pattern a user reads (``ÅÅÅÅ-MM-DD`` in Swedish), for help texts beside a date field."""
    return gettext("date_input_format", lang)


def d3_locale(lang: str = DEFAULT) -> dict[str, object]:
    """The number and time locale of ``lang`` in the form Vega-Lite/d3 takes (``usermeta.embedOptions``), so a
    chart's axes read ``14 000`` and ``december`` in Swedish."""
    lang = language(lang)
    symbols = numbers.get_decimal_symbol(lang), numbers.get_group_symbol(lang)
    number = {"decimal": symbols[0], "thousands": symbols[1].replace("\u00a0", "\u202f") if lang == "sv" else
              symbols[1], "grouping": [3], "currency": ["", " kr"] if lang == "sv" else ["$", ""]}
    time = {"dateTime": "%A %e %B %Y %X", "date": "%Y-%m-%d", "time": "%H:%M:%S", "periods": ["AM", "PM"],
            "days": [weekday_name((i + 6) % 7, lang) for i in range(7)],
            "shortDays": [weekday_name((i + 6) % 7, lang, "abbreviated") for i in range(7)],
            "months": [month_name(m, lang) for m in range(1, 13)],
            "shortMonths": [month_name(m, lang, "abbreviated") for m in range(1, 13)]}
    return {"number": number, "time": time}


# --- extraction (``make messages``: babel.cfg names this method) --------------------------------------------


def _constant_ids(node: ast.expr) -> list[str]:
    """The message ids an argument can be: a string, or either string of ``"a" if c else "b"``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constant_ids(node.body) + _constant_ids(node.orelse)
    return []


def extract_python(fileobj: IO[bytes], keywords: Iterable[str], comment_tags: Iterable[str],
                   options: dict[str, Any]) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method over the syntax tree: finds ``t("id")``, ``_ui.t("id", n=3)`` and ``N_("id")``
    also inside f-strings (Python 3.11's tokenizer, which Babel's own extractor reads, does not look into them)
    and both ids of ``t("a" if c else "b")``. A call whose id is built at run time is skipped (mark it with
    ``N_``)."""
    del comment_tags
    names = set(keywords)
    tree = ast.parse(fileobj.read().decode(options.get("encoding", "utf-8")))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name in names:
            for msgid in _constant_ids(node.args[0]):
                yield node.lineno, name, msgid, []
