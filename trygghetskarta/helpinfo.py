"""The "Hjälp och stöd" page's content as data an administrator edits per kommun (issue 16): who to call now
and where to get support (the kommun's support for våld i nära relation, kvinnojouren, Trygghetscenter,
stödcentrum för unga brottsoffer, the fältgrupp), with phone, address, opening hours and a note.

Shipped with Upplands-Bro's (``DEFAULT_0139``). The national numbers are the ones every Swedish help page
gives: 112, Polisen 114 14, Kvinnofridslinjen 020-50 50 50, Brottsofferjouren 116 006. Local numbers, addresses
and opening hours that change are left for the kommun's administrator to fill in on the Admin page (an empty
field is not shown; the page then says to ask the kommun) rather than shipped from memory.

A text field is either one string (shown in every language) or a mapping language → text (Swedish when the
resident's language is missing)."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from trygghetskarta import actions, settings
from trygghetskarta.errors import ValidationError
from trygghetskarta.public_texts import lang_or_default

if TYPE_CHECKING:
    from trygghetskarta.access import Viewer
    from trygghetskarta.store import Store

FIELDS = ("name", "phone", "address", "hours", "web", "note")
SECTIONS = ("call_now", "support")
_MAX_ENTRIES = 40
_MAX_TEXT = 1000

DEFAULT_0139: dict[str, Any] = {
    "call_now": [
        {"name": {"sv": "Nödnummer – polis, ambulans, räddningstjänst", "en": "Emergency – police, ambulance, fire",
                  "ar": "رقم الطوارئ – الشرطة، الإسعاف، الإطفاء",
                  "so": "Lambarka degdegga – booliska, ambalaas, dab-demis"},
         "phone": "112",
         "note": {"sv": "När det är akut eller någon är i fara.", "en": "When it is urgent or someone is in danger.",
                  "ar": "عندما يكون الأمر عاجلًا أو يكون شخص ما في خطر.",
                  "so": "Marka ay degdeg tahay ama qof khatar ku jiro."}},
        {"name": {"sv": "Polisen", "en": "Police (non-emergency)", "ar": "الشرطة (غير الطارئ)",
                  "so": "Booliska (aan degdeg ahayn)"},
         "phone": "114 14",
         "note": {"sv": "För att anmäla brott eller få råd när det inte är akut.",
                  "en": "To report a crime or get advice when it is not urgent.",
                  "ar": "للإبلاغ عن جريمة أو الحصول على نصيحة عندما لا يكون الأمر عاجلًا.",
                  "so": "Si aad u soo sheegto dembi ama u hesho talo marka aysan degdeg ahayn."}},
        {"name": {"sv": "Kvinnofridslinjen", "en": "Kvinnofridslinjen (national helpline for women)",
                  "ar": "Kvinnofridslinjen (خط المساعدة الوطني للنساء)",
                  "so": "Kvinnofridslinjen (khadka caawimada qaranka ee haweenka)"},
         "phone": "020-50 50 50",
         "note": {"sv": "Stöd dygnet runt för dig som utsatts för hot eller våld. Gratis, och samtalet syns inte på "
                        "telefonräkningen.",
                  "en": "Support day and night if you have been threatened or subjected to violence. Free, and the "
                        "call does not show on the phone bill.",
                  "ar": "دعم على مدار الساعة إذا تعرضت للتهديد أو العنف. مجاني، ولا تظهر المكالمة في فاتورة الهاتف.",
                  "so": "Taageero habeen iyo maalin haddii lagu hanjabay ama lagu xadgudbay. Waa bilaash, wicitaankuna "
                        "kuma muuqdo biilka taleefanka."}},
        {"name": {"sv": "Brottsofferjouren", "en": "Brottsofferjouren (victim support)",
                  "ar": "Brottsofferjouren (دعم ضحايا الجرائم)", "so": "Brottsofferjouren (taageerada dhibanayaasha)"},
         "phone": "116 006",
         "note": {"sv": "Stöd till dig som utsatts för eller bevittnat brott.",
                  "en": "Support if you have been a victim of or witnessed a crime.",
                  "ar": "دعم إذا كنت ضحية جريمة أو شاهدًا عليها.",
                  "so": "Taageero haddii lagugu galay dembi ama aad goob joog u ahayd."}},
    ],
    "support": [
        {"name": {"sv": "Upplands-Bro kommun – stöd vid våld i nära relation",
                  "en": "Upplands-Bro municipality – support for violence in close relationships"},
         "note": {"sv": "Socialtjänsten ger stöd, skydd och rådgivning till dig som utsätts för våld av någon "
                        "närstående, och till barn som upplever våld. Kontakta kommunens kontaktcenter och be att få "
                        "tala med socialtjänsten.",
                  "en": "Social services give support, protection and advice if someone close to you is violent, "
                        "and to children who experience violence. Contact the municipality's contact centre and ask "
                        "for social services."}},
        {"name": {"sv": "Kvinnojouren Anna i Upplands-Bro", "en": "Kvinnojouren Anna i Upplands-Bro (women's shelter)"},
         "note": {"sv": "Ideell kvinnojour: samtalsstöd och skyddat boende för kvinnor och deras barn.",
                  "en": "Voluntary women's shelter: support talks and protected housing for women and their "
                        "children."}},
        {"name": {"sv": "Trygghetscenter i Bro", "en": "Trygghetscenter (safety centre) in Bro"},
         "note": {"sv": "Kommunens, polisens och fastighetsägarnas gemensamma mötesplats för trygghetsfrågor.",
                  "en": "The meeting place of the municipality, the police and property owners for safety."}},
        {"name": {"sv": "Stödcentrum för unga brottsoffer", "en": "Support centre for young victims of crime"},
         "note": {"sv": "Stöd till barn och unga som utsatts för eller bevittnat brott, och till deras föräldrar.",
                  "en": "Support for children and young people who have been victims of or witnessed a crime, and "
                        "for their parents."}},
        {"name": {"sv": "Fältgruppen (kommunens fältassistenter)", "en": "The field team (municipal youth workers)"},
         "note": {"sv": "Finns ute där unga är, kvällar och helger. Du kan prata med dem om det som oroar dig.",
                  "en": "Out where young people are, evenings and weekends. You can talk to them about what worries "
                        "you."}},
    ],
}


def _key() -> str:
    return f"help:{settings.get('kommunkod')}"


def default() -> dict[str, Any]:
    """The shipped content for the configured kommun (Upplands-Bro's; another kommun starts from it)."""
    return copy.deepcopy(DEFAULT_0139)


def load(store: Store) -> dict[str, Any]:
    """The content the administrator saved for the configured kommun, else the shipped one."""
    saved = store.app_setting(_key(), None)
    return validate(saved) if saved else default()


def _check_text(value: Any, where: str) -> Any:
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            msg = f"{where}: at most {_MAX_TEXT} characters"
            raise ValidationError(msg)
        return value.strip()
    if isinstance(value, dict):
        unknown = [k for k in value if k not in ("sv", "en", "ar", "so")]
        if unknown:
            msg = f"{where}: unknown language {unknown[0]!r}; use sv, en, ar or so"
            raise ValidationError(msg)
        out: dict[str, str] = {}
        for k, v in value.items():
            if not isinstance(v, str):
                msg = f"{where}.{k}: must be text"
                raise ValidationError(msg)
            out[k] = _check_text(v, f"{where}.{k}")
        return out
    msg = f"{where}: must be text or a mapping language → text"
    raise ValidationError(msg)


def validate(data: Any) -> dict[str, Any]:
    """The content checked field by field (a message names the section, entry and field)."""
    if not isinstance(data, dict):
        msg = "the help content must be an object with the sections call_now and support"
        raise ValidationError(msg)
    out: dict[str, Any] = {}
    for section in SECTIONS:
        entries = data.get(section, [])
        if not isinstance(entries, list) or len(entries) > _MAX_ENTRIES:
            msg = f"{section}: must be a list of at most {_MAX_ENTRIES} entries"
            raise ValidationError(msg)
        clean = []
        for i, entry in enumerate(entries, start=1):
            where = f"{section} entry {i}"
            if not isinstance(entry, dict):
                msg = f"{where}: must be an object with {', '.join(FIELDS)}"
                raise ValidationError(msg)
            unknown = [k for k in entry if k not in FIELDS]
            if unknown:
                msg = f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(FIELDS)}"
                raise ValidationError(msg)
            if not entry.get("name"):
                msg = f"{where}: give a name"
                raise ValidationError(msg)
            clean.append({k: _check_text(v, f"{where} {k}") for k, v in entry.items() if v not in (None, "")})
        out[section] = clean
    extra = [k for k in data if k not in SECTIONS]
    if extra:
        msg = f"unknown section {extra[0]!r}; allowed: {', '.join(SECTIONS)}"
        raise ValidationError(msg)
    return out


def save(store: Store, text_or_data: str | dict[str, Any], actor: Viewer | None = None) -> dict[str, Any]:
    """Check and save the content (JSON text or data) for the configured kommun; administrators only."""
    if isinstance(text_or_data, str):
        try:
            data = json.loads(text_or_data)
        except json.JSONDecodeError as exc:
            msg = f"the help content is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
            raise ValidationError(msg) from None
    else:
        data = text_or_data
    clean = validate(data)
    actions.set_app_setting(store, _key(), clean, actor)
    return clean


def localised(value: Any, lang: str) -> str:
    """A text field in ``lang`` (Swedish when missing)."""
    if isinstance(value, dict):
        return str(value.get(lang_or_default(lang)) or value.get("sv") or next(iter(value.values()), ""))
    return "" if value is None else str(value)
