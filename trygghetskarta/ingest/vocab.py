"""Map the words partners write onto the vocabulary keys of ``schema``.

Values are folded (case, å/ä/ö, punctuation, spacing) and looked up among each vocabulary's keys,
Swedish and English labels and the synonyms below. A kind that has an ``original_*`` field maps an
unknown value to ``ovrigt`` and keeps the original; elsewhere an unknown value is rejected with the
list of allowed keys.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from trygghetskarta import schema

_NON_ALNUM = re.compile(r"[^0-9a-z+]+")
_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ü": "u", "æ": "a", "ø": "o"})


def fold(text: str) -> str:
    """Lower case, å/ä/ö → a/a/o, every run of other characters → one space."""
    text = unicodedata.normalize("NFC", str(text)).lower().translate(_FOLD)
    return _NON_ALNUM.sub(" ", text).strip()


# Extra words per vocabulary (folded on use). Police event types (polisen.se, ~100) and the UK
# data.police.uk crime types are synonyms of the EST incident vocabulary; unlisted ones become `ovrigt`.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "category": {
        "belysning_trasig": ("trasig belysning", "slackt belysning", "trasig slackt belysning", "trasig lampa",
                             "lampa trasig",
                             "gatlykta trasig", "trasig gatlykta", "belysning trasig", "broken light",
                             "broken lighting", "street light out", "streetlight out", "unlit"),
        "belysning_otillracklig": ("otillracklig belysning", "dalig belysning", "morkt", "bländande belysning",
                                   "blandande belysning", "poor lighting", "insufficient lighting", "dark",
                                   "glare", "belysning"),
        "vegetation": ("forvaxt", "forvaxt vegetation", "skymmande vegetation", "buskar", "sly", "overgrown",
                       "bushes"),
        "skymd_sikt": ("skymd sikt", "gomstallen", "gomstalle", "hiding place", "obstructed view"),
        "klotter": ("graffiti", "tags", "tag"),
        "nedskrapning": ("skrap", "nedskrapning", "dumpning", "litter", "dumping", "rubbish", "fly tipping"),
        "skadegorelse": ("vandalism", "skadegorelse", "criminal damage"),
        "gangtunnel": ("tunnel", "gangtunnel", "underpass", "subway"),
        "orienterbarhet": ("skyltning", "orientering", "signage", "wayfinding"),
        "gangvag": ("gangvag", "framkomlighet", "footpath", "path", "accessibility", "trottoar"),
        "trafiksakerhet": ("trafik", "traffic", "overgangsstalle", "crossing"),
        "parkering": ("garage", "parkeringsplats", "parking", "car park"),
        "hallplats": ("busshallplats", "station", "pendeltag", "bus stop"),
        "overgiven_byggnad": ("tom byggnad", "overgiven byggnad", "abandoned building", "empty building"),
        "utrustning": ("lekplats", "utemobler", "parkbank", "playground", "bench", "street furniture"),
        "entre_trapphus": ("entre", "trapphus", "port", "entrance", "stairwell"),
        "odsligt": ("ode", "ingen insyn", "desolate", "isolated"),
        "trygg_plats": ("trygg plats", "tryggt", "bra plats", "safe place", "safe", "positive", "positiv"),
        "ovrigt": ("annat", "other", "misc", "ovrigt"),
    },
    "incident_type": {
        "skadegorelse": ("skadegorelse", "sabotage mot blaljusverksamhet", "criminal damage and arson",
                         "criminal damage", "vandalism"),
        "klotter": ("graffiti",),
        "anlagd_brand": ("mordbrand", "anlagd brand", "arson"),
        "nedskrapning": ("litter", "littering", "dumping"),
        "otrygg_samling": ("otrygghetsskapande samling", "ofog barn ungdom", "brak", "ofredande forargelse",
                           "anti social behaviour", "public order", "fylleri lob", "fylleri"),
        "narkotika": ("narkotikabrott", "narkotika", "drugs", "drug dealing"),
        "buskorning": ("buskorning", "olovlig korning", "a traktor", "epa traktor", "reckless driving"),
        "vald": ("misshandel", "misshandel grov", "mord drap", "mord drap forsok", "ran", "ran forsok",
                 "ran vapnat", "ran ovrigt", "olaga hot", "skottlossning", "skottlossning misstankt",
                 "knivlagen", "vapenlagen", "valdtakt", "valdtakt forsok", "sexualbrott", "explosion",
                 "detonation", "larm overfall", "olaga frihetsberovande manniskorov",
                 "violence and sexual offences", "robbery", "possession of weapons", "violence"),
        "inbrott": ("inbrott", "inbrott forsok", "stold inbrott", "larm inbrott", "hemfridsbrott",
                    "olaga intrang", "burglary"),
        "incident_anstalld": ("vald hot mot tjansteman", "incident mot anstalld", "hot mot personal",
                              "assault on staff"),
        "otrygg_plats": ("otrygg plats", "unsafe place"),
        "arrangemang": ("arrangemang", "evenemang", "event"),
        "ryktesspridning": ("ryktesspridning", "rykten", "sociala medier", "rumours"),
        "ovrigt": ("ovrigt", "other", "other crime"),
    },
    "sighting_type": {
        "samling_unga": ("samling", "ungdomar", "unga", "young people", "gathering"),
        "otrygg_samling": ("otrygghetsskapande samling", "intimidating gathering"),
        "narkotika": ("narkotika", "droger", "drugs"),
        "buskorning": ("buskorning", "a traktor", "epa traktor", "moped"),
        "skadegorelse": ("skadegorelse", "vandalism"),
        "konflikt": ("brak", "konflikt", "slagsmal", "fight", "conflict"),
        "positiv": ("positiv", "positive", "positiv aktivitet"),
        "ovrigt": ("ovrigt", "other"),
    },
    "incident_source": {
        "polisen_api": ("polisen se", "polisens handelser", "police api"),
        "polis": ("polisen", "police", "lokalpolisomrade"),
        "upplands_brohus": ("upplands brohus", "brohus"),
        "raddningstjanst": ("raddningstjansten", "brandkaren", "fire brigade"),
        "kommun": ("kommunen", "upplands bro kommun", "municipality"),
    },
    "light": {
        "dagsljus": ("dag", "ljust", "day", "daylight"),
        "skymning": ("skymning", "dusk", "twilight", "gryning", "dawn"),
        "morker": ("morkt", "natt", "kvall", "dark", "night"),
    },
    "precision": {"exakt": ("exact", "punkt", "point"), "gata": ("street", "gatuniva"),
                  "kommun": ("kommuncentroid", "centroid", "municipality")},
    "audience": {"publik": ("public", "offentlig"), "partner": ("partners",),
                 "begransad": ("restricted", "begransad", "intern")},
    "locality": {"kungsangen": ("kungsangen",), "bro": ("bro",), "brunna": ("brunna",)},
}

# Kinds whose vocabulary field keeps unknown values as `ovrigt` plus the original.
OTHER_ALLOWED: dict[tuple[str, str], str] = {
    ("finding", "category"): "original_category",
    ("sighting", "type"): "original_type",
    ("incident", "type"): "original_type",
}


@cache
def lookup(vocabulary: str) -> dict[str, str]:
    """Folded word → key for ``vocabulary`` (keys, both labels, synonyms)."""
    table: dict[str, str] = {}
    for term in schema.VOCABULARIES[vocabulary]:
        for word in (term.key, term.sv, term.en):
            table.setdefault(fold(word), term.key)
    for key, words in SYNONYMS.get(vocabulary, {}).items():
        for word in words:
            table.setdefault(fold(word), key)
    return table


@dataclass
class Mapped:
    """Keys per row (None when unknown or empty), which rows were unknown, and the originals."""

    keys: pd.Series
    unknown: np.ndarray
    empty: np.ndarray
    original: pd.Series


def map_values(values: pd.Series, vocabulary: str) -> Mapped:
    """Map a column onto ``vocabulary``; vectorised over the column's distinct values."""
    text = values.astype("object").where(values.notna(), None)
    as_str = text.map(lambda v: "" if v is None else str(v).strip()).astype("object")
    table = lookup(vocabulary)
    uniques = pd.unique(as_str.to_numpy())
    folded = {u: table.get(fold(u)) if u else None for u in uniques}
    keys = as_str.map(folded)
    empty = (as_str == "").to_numpy()
    unknown = keys.isna().to_numpy() & ~empty
    return Mapped(keys.astype("object").where(keys.notna(), None), unknown, empty, as_str)


def allowed_text(vocabulary: str) -> str:
    """The allowed keys of a vocabulary, for messages."""
    return ", ".join(schema.keys(vocabulary))
