"""Texts the public sees, in the four languages a resident may choose: Swedish, English, Arabic (written
right to left) and Somali. The public pages, the API's messages to senders and the e-mails all read them
here, so a resident gets one language throughout. The vocabulary keys stay those of ``schema``; Swedish and
English labels come from ``schema``, Arabic and Somali ones from the tables below. The texts are gettext
catalogues (domain ``public``), managed like the app's (docs/ARCHITECTURE.md, "Texts")."""

from __future__ import annotations

import re

from trygghetskarta import i18n, schema
from trygghetskarta.i18n import N_

DOMAIN = "public"

PUBLIC_LANGUAGES: tuple[str, ...] = ("sv", "en", "ar", "so")
LANGUAGE_NAMES: dict[str, str] = {"sv": "Svenska", "en": "English", "ar": "العربية", "so": "Soomaali"}
RTL_LANGUAGES = frozenset({"ar"})

# The texts are the catalogues of the domain "public" (trygghetskarta/locale/{sv,en,ar,so}/LC_MESSAGES/public.po,
# babel-public.cfg); the ids the code builds at run time (refusals, e-mails, the links between the pages):
RUNTIME_IDS: tuple[str, ...] = (
    N_("bad_email"), N_("bad_photo"), N_("bad_place"), N_("rate_limited"), N_("too_long"),
    N_("help_address"), N_("help_hours"), N_("help_phone"), N_("help_web"),
    N_("mail_status_approved"), N_("mail_status_assigned"), N_("mail_status_fixed"), N_("mail_status_wontfix"),
    N_("nav_help"), N_("nav_login"), N_("nav_map"), N_("nav_report"), N_("nav_status"),
)

# Arabic and Somali labels of the vocabulary a resident sees (Swedish and English come from ``schema``).
_CATEGORY_AR_SO: dict[str, tuple[str, str]] = {
    "belysning_trasig": ("إنارة معطّلة أو مطفأة", "Nal jaban ama dansan"),
    "belysning_otillracklig": ("إنارة غير كافية أو مبهرة", "Iftiin aan ku filnayn ama indha-sarcaad leh"),
    "vegetation": ("نباتات كثيفة تحجب الرؤية", "Geedo aad u koray oo xira aragga"),
    "skymd_sikt": ("رؤية محجوبة، أماكن للاختباء", "Arag xiran, meelo lagu dhuunto"),
    "klotter": ("كتابة على الجدران", "Qoraal darbiyada lagu qoray"),
    "nedskrapning": ("قمامة أو رمي نفايات", "Qashin ama qashin la tuuray"),
    "skadegorelse": ("تخريب", "Burbur ula kac ah"),
    "gangtunnel": ("نفق للمشاة", "Tunnel lugeed"),
    "orienterbarhet": ("صعوبة الاهتداء أو اللافتات", "Jihaynta ama calaamadaha"),
    "gangvag": ("ممر المشاة أو سهولة المرور", "Waddada lugta ama marinka"),
    "trafiksakerhet": ("السلامة المرورية", "Badbaadada taraafikada"),
    "parkering": ("موقف سيارات أو مرآب", "Baarkin ama garaash"),
    "hallplats": ("موقف حافلات أو محطة", "Joogsiga baska ama saldhig"),
    "overgiven_byggnad": ("مبنى مهجور أو فارغ", "Dhismo la dayacay ama madhan"),
    "utrustning": ("ملعب أطفال أو أثاث خارجي", "Garoon carruureed ama alaab bannaanka"),
    "entre_trapphus": ("مدخل أو درج", "Albaabka laga galo ama jaranjarada"),
    "odsligt": ("مكان مقفر بلا رقابة", "Meel cidla ah oo aan la arkin"),
    "trygg_plats": ("مكان آمن يستحق الحفاظ عليه", "Meel ammaan ah oo mudan ilaalin"),
    "ovrigt": ("أخرى", "Kale"),
}
_STATUS_AR_SO: dict[str, tuple[str, str]] = {
    "ny": ("جديد", "Cusub"),
    "bedomd": ("تمت المراجعة", "La qiimeeyay"),
    "tilldelad": ("أُحيل إلى الجهة المسؤولة", "Loo gudbiyay mas'uulka"),
    "planerad": ("مخطط له", "La qorsheeyay"),
    "atgardad": ("تم الإصلاح", "La hagaajiyay"),
    "verifierad": ("تم التحقق", "La xaqiijiyay"),
    "ej_atgardas": ("لن يتم إصلاحه", "Lama hagaajin doono"),
    "dubblett": ("مكرر", "Nuqul"),
}


def lang_or_default(lang: object) -> str:
    """``lang`` if it is a public language, else Swedish."""
    return lang if isinstance(lang, str) and lang in PUBLIC_LANGUAGES else "sv"


_LTR_VALUE = re.compile(r"^[0-9A-Za-z\s:.,+\-/()]+$")


def ltr(value: object) -> str:
    """``value`` as a left-to-right island (Unicode isolates), so a phone number, date, code or position keeps
    its order inside right-to-left text ("114 14", not "14 114")."""
    return f"\u2066{value}\u2069"


def text(key: str, lang: str = "sv", **values: object) -> str:
    """The public text ``key`` in ``lang`` (Swedish for an unknown language; the key if the text is missing).
    In a right-to-left language, text values of digits and Latin letters (codes, dates, positions, phone
    numbers; not links) are inserted as left-to-right islands."""
    lang = lang_or_default(lang)
    if lang in RTL_LANGUAGES:
        values = {k: ltr(v) if isinstance(v, str) and _LTR_VALUE.match(v) and not v.startswith("http") else v
                  for k, v in values.items()}
    return i18n.dgettext(DOMAIN, key, lang, **values)


def category_label(key: str, lang: str = "sv") -> str:
    lang = lang_or_default(lang)
    if lang in ("ar", "so") and key in _CATEGORY_AR_SO:
        return _CATEGORY_AR_SO[key][0 if lang == "ar" else 1]
    return schema.label("category", key, "en" if lang == "en" else "sv")


def status_label(key: str, lang: str = "sv") -> str:
    lang = lang_or_default(lang)
    if lang in ("ar", "so") and key in _STATUS_AR_SO:
        return _STATUS_AR_SO[key][0 if lang == "ar" else 1]
    return schema.label("status", key, "en" if lang == "en" else "sv")


def status_with_swedish(key: str, lang: str = "sv") -> str:
    """The status in ``lang``, with the Swedish term the kommun uses in parentheses when they differ (handy
    when the resident calls the kommun)."""
    shown = status_label(key, lang)
    swedish = schema.label("status", key, "sv")
    return shown if shown == swedish else f"{shown} ({swedish})"


def party_label(key: str | None, lang: str = "sv") -> str:
    return schema.label("party", key, "en" if lang_or_default(lang) == "en" else "sv")
