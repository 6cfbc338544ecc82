"""Issue 14, the catalogues: every message id the code uses (extracted as ``make messages`` does, with babel.cfg)
has a Swedish and an English text; each text keeps its id's ``{placeholders}``; every catalogue compiles; and
Babel formats numbers, dates, months and weekdays in Swedish the Swedish way.

A failure names the id and the file and line that use it. To fix: run ``make messages`` and fill in the new
entries' ``msgstr`` in ``trygghetskarta/locale/sv/LC_MESSAGES/messages.po`` and ``…/en/…`` (docs/ARCHITECTURE.md,
"Texts")."""

from __future__ import annotations

import datetime as dt
import io
import re
import string
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages import mofile, pofile
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from trygghetskarta import i18n

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("sv", "en")
# domain → its extraction mapping; the public pages' catalogues are in four languages
CONFIG = {"messages": "babel.cfg", "public": "babel-public.cfg"}
CATALOGUES = [(domain, lang) for domain in CONFIG for lang in i18n.DOMAINS[domain]]


def _catalog(lang: str, domain: str = "messages") -> pofile.Catalog:
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as fh:
        return pofile.read_po(fh, locale=lang)


def _used_ids(config: str = "babel.cfg") -> dict[str, list[str]]:
    """Every message id in the code, with where it is used (``file:line``)."""
    with (ROOT / config).open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, filename=config)
    used: dict[str, list[str]] = defaultdict(list)
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords={"N_": None}, comment_tags=(), strip_comment_tags=True):
        used[str(message)].append(f"{filename}:{lineno}")
    return used


@pytest.fixture(scope="module")
def used() -> dict[str, dict[str, list[str]]]:
    found = {domain: _used_ids(config) for domain, config in CONFIG.items()}
    assert len(found["messages"]) > 400 and len(found["public"]) > 50, "babel.cfg or the extractor is broken"
    return found


def _fields(text: object) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(str(text)) if name is not None}


@pytest.mark.parametrize(("domain", "lang"), CATALOGUES)
def test_every_used_id_has_a_text(used: dict[str, dict[str, list[str]]], domain: str, lang: str) -> None:
    catalog = _catalog(lang, domain)
    missing = [f"{msgid} (used in {', '.join(where[:3])}; add it to trygghetskarta/locale/{lang}/LC_MESSAGES/"
               f"{domain}.po)" for msgid, where in sorted(used[domain].items())
               if msgid not in catalog or not catalog[msgid].string]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize(("domain", "lang"), CATALOGUES)
def test_catalogues_hold_only_used_ids(used: dict[str, dict[str, list[str]]], domain: str, lang: str) -> None:
    """An id no code uses is a text nobody sees (``make messages`` drops it): the catalogues are up to date."""
    unused = sorted(str(m.id) for m in _catalog(lang, domain) if m.id and m.id not in used[domain])
    assert not unused, f"{domain}/{lang}: {unused}; run `make messages`"


@pytest.mark.parametrize(("domain", "lang"), [c for c in CATALOGUES if c[1] != "sv"])
def test_every_language_keeps_the_swedish_placeholders(domain: str, lang: str) -> None:
    sv, other = _catalog("sv", domain), _catalog(lang, domain)
    differ = [f"{m.id}: sv {sorted(_fields(m.string))} {lang} {sorted(_fields(other[m.id].string))}"
              for m in sv if m.id and m.id in other and _fields(m.string) != _fields(other[m.id].string)]
    assert not differ, "\n".join(differ)


@pytest.mark.parametrize(("domain", "lang"), CATALOGUES)
def test_every_catalogue_compiles(domain: str, lang: str) -> None:
    catalog = _catalog(lang, domain)
    problems = [(m.id, errors) for m, errors in catalog.check() if errors]
    assert not problems
    buffer = io.BytesIO()
    mofile.write_mo(buffer, catalog)
    buffer.seek(0)
    compiled = mofile.read_mo(buffer)
    assert len(compiled) == len([m for m in catalog if m.id]) > 50


def test_a_missing_text_falls_back_to_swedish_then_to_its_id() -> None:
    assert i18n.gettext("page_karta", "sv") == "Karta"
    assert i18n.gettext("page_karta", "en") == "Map"
    assert i18n.gettext("page_karta", "xx") == "Karta"  # an unknown language reads Swedish
    assert i18n.gettext("no_such_id_anywhere", "en") == "no_such_id_anywhere"
    assert i18n.gettext("refused", "sv", role="Polis", page="Admin") == "Din roll (Polis) har inte tillgång till " \
                                                                        "sidan Admin."


def test_the_extractor_finds_ids_in_f_strings_and_both_branches(tmp_path: Path) -> None:
    source = ('x = f"**{_ui.t(\'inside\')}** {t(\'also\', n=2)}"\n'
              'y = _ui.t("yes_id" if flag else "no_id")\n'
              'z = _ui.t(f"built_{key}")\n'
              'w = N_("marked")\n')
    found = [m for _line, _f, m, _c in i18n.extract_python(io.BytesIO(source.encode()), ["t", "N_"], [], {})]
    assert sorted(found) == ["also", "inside", "marked", "no_id", "yes_id"]


def test_babel_formats_numbers_and_dates_in_swedish() -> None:
    assert i18n.format_number(14000, "sv") == "14\u00a0000"
    assert i18n.format_number(14000, "en") == "14,000"
    assert i18n.format_number(2.5, "sv", 1) == "2,5"
    assert i18n.format_percent(0.99, "sv") == "99\u00a0%"
    assert i18n.month_name(12, "sv") == "december"
    assert i18n.weekday_name(0, "sv") == "måndag"
    assert i18n.format_date(dt.date(2026, 12, 4), "sv") == "4 december 2026"
    locale = i18n.d3_locale("sv")
    assert locale["number"]["decimal"] == "," and locale["number"]["thousands"] in ("\u00a0", "\u202f")  # type: ignore[index]
    assert locale["time"]["months"][11] == "december" and locale["time"]["days"][0] == "söndag"  # type: ignore[index]


def test_no_page_builds_swedish_or_english_inline() -> None:
    """Texts come from the catalogues: no page picks a sentence by comparing the language (the public pages, with
    their four languages, still do; see docs/ARCHITECTURE.md)."""
    public = {"anmal.py", "status.py", "publik_karta.py", "hjalp.py", "_public.py"}
    offenders = [f"{p.name}:{i}" for p in sorted((ROOT / "app_pages").glob("*.py")) if p.name not in public
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"""lang\(\) == ["'](sv|en)["']""", line)]
    assert not offenders, offenders
