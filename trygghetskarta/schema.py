"""The vocabulary, defined once: categories, types, statuses, roles, parties, audiences, CRS codes.

Every key is stable ASCII; every key has a Swedish and an English label. Everything else in the
project reads these tables; nothing else spells a category or a status.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- coordinate reference systems -------------------------------------------------------------

CRS_STORE = "EPSG:4326"  # store and exchange: WGS 84
CRS_METRIC = "EPSG:3006"  # compute: SWEREF 99 TM
SRID_STORE = 4326
SRID_METRIC = 3006
CRS_SWEREF_1800 = "EPSG:3011"  # SWEREF 99 18 00
CRS_RT90 = "EPSG:3021"  # RT 90 2.5 gon V
CRS_WEB_MERCATOR = "EPSG:3857"
KNOWN_INPUT_CRS: tuple[str, ...] = (CRS_STORE, CRS_METRIC, CRS_SWEREF_1800, CRS_RT90, CRS_WEB_MERCATOR)
EXPORT_CRS: tuple[int, ...] = (SRID_STORE, SRID_METRIC)

LANGUAGES: tuple[str, ...] = ("sv", "en")


@dataclass(frozen=True)
class Term:
    """One vocabulary entry: a stable key and its labels."""

    key: str
    sv: str
    en: str

    def label(self, lang: str = "sv") -> str:
        return self.en if lang == "en" else self.sv


@dataclass(frozen=True)
class Category(Term):
    """A finding category with its map colour and Font Awesome icon name."""

    color: str = "gray"
    icon: str = "circle"
    positive: bool = False


def _index(terms: tuple[Term, ...]) -> dict[str, Term]:
    keys = [t.key for t in terms]
    if len(keys) != len(set(keys)):
        msg = f"duplicate vocabulary key in {keys}"
        raise ValueError(msg)
    return {t.key: t for t in terms}


# --- finding categories (trygghetsvandring) ----------------------------------------------------
# Colours are from folium's marker palette so the same value serves markers and the legend.

CATEGORIES: tuple[Category, ...] = (
    Category("belysning_trasig", "Trasig/släckt belysning", "Broken/unlit lighting", "red", "lightbulb"),
    Category("belysning_otillracklig", "Otillräcklig/bländande belysning", "Insufficient/glaring lighting",
             "orange", "adjust"),
    Category("vegetation", "Förväxt/skymmande vegetation", "Overgrown/obstructing vegetation", "green", "tree"),
    Category("skymd_sikt", "Skymd sikt, gömställen", "Obstructed view, hiding places", "darkgreen", "eye-slash"),
    Category("klotter", "Klotter", "Graffiti", "purple", "paint-brush"),
    Category("nedskrapning", "Nedskräpning/dumpning", "Litter/dumping", "beige", "trash"),
    Category("skadegorelse", "Skadegörelse", "Vandalism", "darkred", "chain-broken"),
    Category("gangtunnel", "Gångtunnel", "Pedestrian underpass", "black", "road"),
    Category("orienterbarhet", "Orienterbarhet/skyltning", "Wayfinding/signage", "cadetblue", "map-signs"),
    Category("gangvag", "Gångväg/framkomlighet", "Footpath/accessibility", "lightgray", "male"),
    Category("trafiksakerhet", "Trafiksäkerhet", "Traffic safety", "lightred", "car"),
    Category("parkering", "Parkering/garage", "Parking/garage", "darkblue", "product-hunt"),
    Category("hallplats", "Hållplats/station", "Bus stop/station", "blue", "bus"),
    Category("overgiven_byggnad", "Övergiven/tom byggnad", "Abandoned/empty building", "darkpurple", "building"),
    Category("utrustning", "Lekplats/utemöbler", "Playground/street furniture", "pink", "child"),
    Category("entre_trapphus", "Entré/trapphus", "Entrance/stairwell", "lightblue", "sign-in"),
    Category("odsligt", "Öde, ingen insyn", "Desolate, no overlooking", "gray", "low-vision"),
    Category("trygg_plats", "Trygg plats att värna", "Safe place worth keeping", "lightgreen", "heart",
             positive=True),
    Category("ovrigt", "Övrigt", "Other", "white", "question"),
)
CATEGORY = _index(CATEGORIES)

# --- finding status lifecycle --------------------------------------------------------------------

STATUSES: tuple[Term, ...] = (
    Term("ny", "Ny", "New"),
    Term("bedomd", "Bedömd", "Assessed"),
    Term("tilldelad", "Tilldelad", "Assigned"),
    Term("planerad", "Planerad", "Planned"),
    Term("atgardad", "Åtgärdad", "Fixed"),
    Term("verifierad", "Verifierad", "Verified"),
    Term("ej_atgardas", "Ej åtgärdas", "Will not be fixed"),
    Term("dubblett", "Dubblett", "Duplicate"),
)
STATUS = _index(STATUSES)
OPEN_STATUSES = frozenset({"ny", "bedomd", "tilldelad", "planerad"})
FIXED_STATUSES = frozenset({"atgardad", "verifierad"})
CLOSED_STATUSES = frozenset({"verifierad", "ej_atgardas", "dubblett"})
# Allowed transitions; a reopen (atgardad/verifierad -> ny/tilldelad) happens at a follow-up walk.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    "ny": frozenset({"bedomd", "tilldelad", "ej_atgardas", "dubblett"}),
    "bedomd": frozenset({"tilldelad", "ej_atgardas", "dubblett"}),
    "tilldelad": frozenset({"planerad", "atgardad", "ej_atgardas", "dubblett", "bedomd"}),
    "planerad": frozenset({"atgardad", "tilldelad", "ej_atgardas"}),
    "atgardad": frozenset({"verifierad", "tilldelad"}),
    "verifierad": frozenset({"tilldelad"}),
    "ej_atgardas": frozenset({"bedomd", "tilldelad"}),
    "dubblett": frozenset({"ny"}),
}
# Findings a new action may take (not fixed, verified or duplicates).
ACTIONABLE_STATUSES = OPEN_STATUSES | {"ej_atgardas"}

# --- roles ---------------------------------------------------------------------------------------

ROLES: tuple[Term, ...] = (
    Term("deltagare", "Deltagare (trygghetsvandring)", "Walk participant"),
    Term("nattvandrare", "Nattvandrare", "Night walker"),
    Term("faltgrupp", "Fältgrupp", "Field worker"),
    Term("planerare", "Planerare", "Planner"),
    Term("polis", "Polis", "Police"),
    Term("bostadsbolag", "Bostadsbolag", "Housing company"),
    Term("vaktare", "Väktare (bevakningsbolag)", "Security guards (security company)"),
    Term("raddningstjanst", "Räddningstjänst", "Fire and rescue service"),
    Term("admin", "Administratör", "Administrator"),
)
ROLE = _index(ROLES)
# Role sets, defined here once; ``access`` says what each may see and do.
# Partners contribute to the lägesbild and never see personal or restricted details (access.py).
PARTNER_ROLES = frozenset({"polis", "bostadsbolag", "vaktare", "raddningstjanst"})
# The kommun's unit for trygghet och prevention and the administrator: every record, every action.
PLANNER_ROLES = frozenset({"planerare", "admin"})
# The kommun's own roles that read restricted records (field sightings with their positions).
KOMMUN_STAFF_ROLES = frozenset({"faltgrupp"}) | PLANNER_ROLES
# Who reads the partners' weekly EST reports and the EST meeting's decisions.
EST_READER_ROLES = KOMMUN_STAFF_ROLES | PARTNER_ROLES
# Who answers the follow-up of a finding at a walk (participants on their phones, partners, planners).
FOLLOWUP_ROLES = PLANNER_ROLES | {"deltagare"} | PARTNER_ROLES

# --- audience of a record ------------------------------------------------------------------------

AUDIENCES: tuple[Term, ...] = (
    Term("publik", "Publik", "Public"),
    Term("partner", "Partner", "Partner"),
    Term("begransad", "Begränsad", "Restricted"),
)
AUDIENCE = _index(AUDIENCES)

# --- responsible parties (ansvarig) --------------------------------------------------------------

PARTIES: tuple[Term, ...] = (
    Term("kommun_gata_park", "Kommunen (gata/park)", "Municipality (streets/parks)"),
    Term("kommun_fastighet", "Kommunen (fastighet)", "Municipality (property)"),
    Term("upplands_brohus", "Upplands-Brohus", "Upplands-Brohus"),
    Term("privat_fastighetsagare", "Privat fastighetsägare/BRF", "Private owner/housing co-op"),
    Term("trafikverket", "Trafikverket", "Swedish Transport Administration"),
    Term("region_sl", "Region Stockholm/SL", "Region Stockholm/SL"),
    Term("vagforening", "Vägförening", "Road association"),
    Term("elnatsbolag", "Elnätsbolag", "Power grid company"),
    Term("polis", "Polisen", "Police"),
    Term("vaktarbolag", "Bevakningsbolag (väktare)", "Security company (guards)"),
    Term("raddningstjanst", "Räddningstjänsten", "Fire and rescue service"),
    Term("okand", "Okänd", "Unknown"),
)
PARTY = _index(PARTIES)
# The organisations a partner role reports for; the first is the default when none is given.
PARTNER_ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "polis": ("polis",),
    "bostadsbolag": ("upplands_brohus", "privat_fastighetsagare"),
    "vaktare": ("vaktarbolag",),
    "raddningstjanst": ("raddningstjanst",),
}
DEFAULT_ORGANISATION: dict[str, str] = {role: orgs[0] for role, orgs in PARTNER_ORGANISATIONS.items()}

# --- partner incident types (EST) ------------------------------------------------------------------

INCIDENT_TYPES: tuple[Term, ...] = (
    Term("skadegorelse", "Skadegörelse", "Vandalism"),
    Term("klotter", "Klotter", "Graffiti"),
    Term("anlagd_brand", "Anlagd brand", "Arson"),
    Term("nedskrapning", "Nedskräpning", "Littering"),
    Term("otrygg_samling", "Otrygghetsskapande samling av personer", "Intimidating gathering"),
    Term("narkotika", "Misstänkt narkotikahantering", "Suspected drug dealing"),
    Term("buskorning", "Buskörning", "Reckless driving (e.g. A-tractor)"),
    Term("vald", "Våld", "Violence"),
    Term("inbrott", "Inbrott", "Burglary"),
    Term("incident_anstalld", "Incident mot anställd", "Incident against staff"),
    Term("otrygg_plats", "Otrygg plats", "Unsafe place"),
    Term("arrangemang", "Arrangemang", "Event"),
    Term("ryktesspridning", "Ryktesspridning i sociala medier", "Rumours on social media"),
    Term("ovrigt", "Övrigt", "Other"),
)
INCIDENT_TYPE = _index(INCIDENT_TYPES)

# --- the EST weekly report (partners' inhämtning → granskning → sammanställning) --------------------

EST_CATEGORIES: tuple[Term, ...] = (
    Term("skadegorelse", "Skadegörelse (inkl. klotter och brand)", "Vandalism (incl. graffiti and arson)"),
    Term("otrygg_samling", "Otrygghetsskapande samling av personer", "Intimidating gathering of people"),
    Term("ordningsstorande", "Annat ordningsstörande (t.ex. narkotikahantering, bråk, buskörning)",
         "Other disorder (e.g. drug dealing, fights, reckless driving)"),
    Term("otrygg_plats", "Otrygg plats", "Unsafe place"),
    Term("arrangemang", "Arrangemang", "Event"),
)
EST_CATEGORY = _index(EST_CATEGORIES)
# The EST report category of each partner incident type (a report line keeps its detailed type).
EST_CATEGORY_OF_TYPE: dict[str, str] = {
    "skadegorelse": "skadegorelse", "klotter": "skadegorelse", "anlagd_brand": "skadegorelse",
    "otrygg_samling": "otrygg_samling", "otrygg_plats": "otrygg_plats", "arrangemang": "arrangemang",
    "nedskrapning": "ordningsstorande", "narkotika": "ordningsstorande", "buskorning": "ordningsstorande",
    "vald": "ordningsstorande", "inbrott": "ordningsstorande", "incident_anstalld": "ordningsstorande",
    "ryktesspridning": "ordningsstorande", "ovrigt": "ordningsstorande",
}
# The detailed type a line gets when only its category is given.
EST_DEFAULT_TYPE: dict[str, str] = {
    "skadegorelse": "skadegorelse", "otrygg_samling": "otrygg_samling", "ordningsstorande": "ovrigt",
    "otrygg_plats": "otrygg_plats", "arrangemang": "arrangemang",
}

EST_REPORT_STATUSES: tuple[Term, ...] = (
    Term("inskickad", "Inskickad", "Submitted"),
    Term("godkand", "Godkänd", "Approved"),
    Term("returnerad", "Returnerad", "Returned"),
)
EST_REPORT_STATUS = _index(EST_REPORT_STATUSES)
# Review: the planner approves or returns (with a reason) a submitted report; a returned report comes back
# when the partner resubmits it; an approved report can still be returned (it then leaves the lägesbild).
EST_REPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    "inskickad": frozenset({"godkand", "returnerad"}),
    "godkand": frozenset({"returnerad"}),
    "returnerad": frozenset({"inskickad"}),
}
EST_REPORT_VISIBLE_STATUS = "godkand"  # only approved figures enter the shared lägesbild

EST_REPORT_SOURCES: tuple[Term, ...] = (
    Term("formular", "Formulär", "Form"),
    Term("import", "Importerad fil", "Imported file"),
    Term("migrering", "Före granskningssteget", "Before the review step"),
)
EST_REPORT_SOURCE = _index(EST_REPORT_SOURCES)

EST_DECISION_STATUSES: tuple[Term, ...] = (
    Term("beslutad", "Beslutad", "Decided"),
    Term("genomford", "Genomförd", "Carried out"),
    Term("delvis", "Delvis genomförd", "Partly carried out"),
    Term("ej_genomford", "Ej genomförd", "Not carried out"),
)
EST_DECISION_STATUS = _index(EST_DECISION_STATUSES)

INCIDENT_SOURCES: tuple[Term, ...] = (
    Term("polisen_api", "Polisens händelser (API)", "Police events (API)"),
    Term("polis", "Polisen (EST-rapport)", "Police (EST report)"),
    Term("upplands_brohus", "Upplands-Brohus", "Upplands-Brohus"),
    Term("bostadsbolag", "Bostadsbolag", "Housing company"),
    Term("kommun", "Kommunen", "Municipality"),
    Term("raddningstjanst", "Räddningstjänsten", "Fire and rescue"),
    Term("ovrigt", "Övrig källa", "Other source"),
)
INCIDENT_SOURCE = _index(INCIDENT_SOURCES)

LOCATION_PRECISIONS: tuple[Term, ...] = (
    Term("exakt", "Exakt", "Exact"),
    Term("gata", "Gata", "Street"),
    Term("kommun", "Kommuncentroid", "Municipality centroid"),
)
LOCATION_PRECISION = _index(LOCATION_PRECISIONS)
HOTSPOT_PRECISIONS = frozenset({"exakt", "gata"})  # a kommun centroid never makes a hot spot

# --- field sightings (fältgrupp) -----------------------------------------------------------------

SIGHTING_TYPES: tuple[Term, ...] = (
    Term("samling_unga", "Samling av unga", "Young people gathering"),
    Term("otrygg_samling", "Otrygghetsskapande samling", "Intimidating gathering"),
    Term("narkotika", "Misstänkt narkotikahantering", "Suspected drug dealing"),
    Term("buskorning", "Buskörning", "Reckless driving"),
    Term("skadegorelse", "Pågående skadegörelse", "Ongoing vandalism"),
    Term("konflikt", "Konflikt/bråk", "Conflict/fight"),
    Term("positiv", "Positiv aktivitet", "Positive activity"),
    Term("ovrigt", "Övrigt", "Other"),
)
SIGHTING_TYPE = _index(SIGHTING_TYPES)

GROUP_SIZES: tuple[Term, ...] = (
    Term("1-4", "1–4 personer", "1–4 people"),
    Term("5-9", "5–9 personer", "5–9 people"),
    Term("10-19", "10–19 personer", "10–19 people"),
    Term("20+", "20 eller fler", "20 or more"),
)
GROUP_SIZE = _index(GROUP_SIZES)

AGE_BANDS: tuple[Term, ...] = (
    Term("under13", "Under 13 år", "Under 13"),
    Term("13-15", "13–15 år", "13–15"),
    Term("16-17", "16–17 år", "16–17"),
    Term("18-25", "18–25 år", "18–25"),
    Term("blandat", "Blandat", "Mixed"),
    Term("okant", "Okänt", "Unknown"),
)
AGE_BAND = _index(AGE_BANDS)

# --- walks, actions, light -----------------------------------------------------------------------

LIGHT_CONDITIONS: tuple[Term, ...] = (
    Term("dagsljus", "Dagsljus", "Daylight"),
    Term("skymning", "Skymning", "Twilight"),
    Term("morker", "Mörker", "Darkness"),
)
LIGHT_CONDITION = _index(LIGHT_CONDITIONS)

LOCALITIES: tuple[Term, ...] = (
    Term("bro", "Bro", "Bro"),
    Term("kungsangen", "Kungsängen", "Kungsängen"),
    Term("brunna", "Brunna", "Brunna"),
    Term("ovrigt", "Övrigt", "Other"),
)
LOCALITY = _index(LOCALITIES)

ACTION_KINDS: tuple[Term, ...] = (
    Term("enkel", "Enklare åtgärd", "Quick fix"),
    Term("projektering", "Kräver projektering", "Needs design work"),
)
ACTION_KIND = _index(ACTION_KINDS)

ACTION_STATUSES: tuple[Term, ...] = (
    Term("oppen", "Öppen", "Open"),
    Term("pagar", "Pågår", "In progress"),
    Term("klar", "Klar", "Done"),
    Term("stangd", "Stängd utan åtgärd", "Closed without action"),
)
ACTION_STATUS = _index(ACTION_STATUSES)
ACTION_DONE_STATUSES = frozenset({"klar", "stangd"})
# Action lifecycle: "klar" may be reopened to "pagar" (a follow-up walk found the place not fixed).
ACTION_TRANSITIONS: dict[str, frozenset[str]] = {
    "oppen": frozenset({"pagar", "klar", "stangd"}),
    "pagar": frozenset({"oppen", "klar", "stangd"}),
    "klar": frozenset({"pagar"}),
    "stangd": frozenset({"oppen"}),
}
# Kinds of status events besides the record kinds themselves: a walk's follow-up answer on a finding, and a
# further report (text and photos) added to an existing finding.
FOLLOWUP_EVENT = "followup"
REPORT_EVENT = "tillagg"

PRIORITIES: tuple[Term, ...] = (
    Term("1", "Hög", "High"),
    Term("2", "Medel", "Medium"),
    Term("3", "Låg", "Low"),
)
PRIORITY = _index(PRIORITIES)

SEVERITIES: tuple[Term, ...] = (
    Term("1", "Lindrig", "Minor"),
    Term("2", "Betydande", "Significant"),
    Term("3", "Allvarlig", "Serious"),
)
SEVERITY = _index(SEVERITIES)

AREA_SOURCES: tuple[Term, ...] = (
    Term("approximate", "Ungefärlig (projektets egen)", "Approximate (drawn by the project)"),
    Term("regso", "RegSO (SCB)", "RegSO (Statistics Sweden)"),
    Term("deso", "DeSO (SCB)", "DeSO (Statistics Sweden)"),
    Term("scb_kommun", "Kommungräns (SCB)", "Municipality boundary (Statistics Sweden)"),
    Term("import", "Importerad fil", "Imported file"),
)
AREA_SOURCE = _index(AREA_SOURCES)

# --- record kinds --------------------------------------------------------------------------------

RECORD_KINDS: tuple[Term, ...] = (
    Term("finding", "Fynd", "Finding"),
    Term("sighting", "Fältobservation", "Field sighting"),
    Term("nightwalk", "Nattvandringsrapport", "Night-walk report"),
    Term("incident", "Partnerhändelse", "Partner incident"),
    Term("area", "Område", "Area"),
    Term("walk", "Trygghetsvandring", "Safety walk"),
    Term("action", "Åtgärd", "Action"),
)
RECORD_KIND = _index(RECORD_KINDS)

# Default audience per kind (DESIGN.md §2): field sightings are restricted.
DEFAULT_AUDIENCE: dict[str, str] = {
    "finding": "publik",
    "sighting": "begransad",
    "nightwalk": "partner",
    "incident": "partner",
    "area": "publik",
    "walk": "publik",
    "action": "partner",
}

# --- lägesbild area status -----------------------------------------------------------------------

AREA_LEVELS: tuple[Term, ...] = (
    Term("gron", "Grön", "Green"),
    Term("gul", "Gul", "Yellow"),
    Term("orange", "Orange", "Orange"),
    Term("rod", "Röd", "Red"),
)
AREA_LEVEL = _index(AREA_LEVELS)

VOCABULARIES: dict[str, tuple[Term, ...]] = {
    "category": CATEGORIES,
    "status": STATUSES,
    "role": ROLES,
    "audience": AUDIENCES,
    "party": PARTIES,
    "incident_type": INCIDENT_TYPES,
    "est_category": EST_CATEGORIES,
    "est_report_status": EST_REPORT_STATUSES,
    "est_report_source": EST_REPORT_SOURCES,
    "est_decision_status": EST_DECISION_STATUSES,
    "incident_source": INCIDENT_SOURCES,
    "precision": LOCATION_PRECISIONS,
    "sighting_type": SIGHTING_TYPES,
    "group_size": GROUP_SIZES,
    "age_band": AGE_BANDS,
    "light": LIGHT_CONDITIONS,
    "locality": LOCALITIES,
    "action_kind": ACTION_KINDS,
    "action_status": ACTION_STATUSES,
    "priority": PRIORITIES,
    "severity": SEVERITIES,
    "area_source": AREA_SOURCES,
    "record_kind": RECORD_KINDS,
    "area_level": AREA_LEVELS,
}


def label(vocabulary: str, key: str | None, lang: str = "sv") -> str:
    """The label of ``key`` in ``vocabulary``; the key itself when it is unknown (never raises)."""
    if key is None:
        return ""
    for term in VOCABULARIES[vocabulary]:
        if term.key == str(key):
            return term.label(lang)
    return str(key)


def keys(vocabulary: str) -> list[str]:
    """The keys of a vocabulary, in their defined order."""
    return [t.key for t in VOCABULARIES[vocabulary]]


def require_key(vocabulary: str, key: str, what: str | None = None) -> str:
    """Return ``key`` if it belongs to ``vocabulary``, else raise a ValidationError listing the allowed keys."""
    from trygghetskarta.errors import ValidationError

    allowed = keys(vocabulary)
    if key not in allowed:
        msg = f"unknown {what or vocabulary} {key!r}; allowed: {', '.join(allowed)}"
        raise ValidationError(msg)
    return key
