"""Scrub free text of personal data before it is stored: personnummer, phone numbers, e-mail addresses.

Shared by import, the report page and every store write. A personnummer is masked only when its
Luhn check digit is right, so dates and case numbers survive. Names cannot be found reliably; text
that looks like it names a person gets a warning instead (``names_person``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MASK = {"personnummer": "[personnummer]", "telefon": "[telefon]", "epost": "[e-post]"}

# The look-behind starts a match only where a run of address characters starts: without it a long word with
# no "@" is tried from each of its characters in turn (quadratic: 12 s for one 32 767-character cell).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# YYYYMMDD-NNNN, YYMMDD-NNNN, YYMMDD+NNNN, with or without separator (also samordningsnummer, day+60).
_PNR = re.compile(r"(?<![\d-])(?:(19|20)?(\d{2})(\d{2})(\d{2})[-+ ]?(\d{4}))(?![\d-])")
# Swedish phone numbers: 07x-xxx xx xx, 08-xxx xx xx, +46 7x ..., 0046 ...; 8–13 digits with separators.
_PHONE = re.compile(r"(?<![\w+])(?:\+46|0046|0)[\s-]?\(?\d{1,3}\)?(?:[\s-]?\d){5,9}(?!\d)")
# Two capitalised words in a row after a cue, or a cue followed by a capitalised word.
_NAME_CUE = re.compile(
    r"\b(?:heter|hette|kallas|namnet|name is|called|känd som)\s+[A-ZÅÄÖ][a-zåäöé]+", re.UNICODE)
_FULL_NAME = re.compile(r"\b[A-ZÅÄÖ][a-zåäöé]{2,}\s+[A-ZÅÄÖ][a-zåäöé]{2,}(?:son|sson|berg|ström|lund|qvist|"
                        r"quist|gren|ström|strand|holm|dahl|blad|sten)\b", re.UNICODE)


@dataclass
class ScrubResult:
    """The cleaned text, what was masked (per kind) and warnings."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def masked(self) -> int:
        return sum(self.counts.values())


def luhn_valid(digits: str) -> bool:
    """True if the 10-digit string passes the Luhn check used by Swedish personnummer."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(digits):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _is_personnummer(m: re.Match[str]) -> bool:
    _, yy, mm, dd, tail = m.groups()
    month, day = int(mm), int(dd)
    if not 1 <= month <= 12:
        return False
    if not (1 <= day <= 31 or 61 <= day <= 91):  # samordningsnummer add 60 to the day
        return False
    return luhn_valid(yy + mm + dd + tail)


def names_person(text: str) -> bool:
    """True when the text looks like it names a person (a warning, not a certainty)."""
    return bool(_NAME_CUE.search(text) or _FULL_NAME.search(text))


def scrub_text(text: str | None) -> ScrubResult:
    """Mask personnummer (Luhn-checked), e-mail addresses and phone numbers in ``text``."""
    if text is None:
        return ScrubResult("")
    text = str(text)
    counts = {"personnummer": 0, "epost": 0, "telefon": 0}

    def _pnr(m: re.Match[str]) -> str:
        if _is_personnummer(m):
            counts["personnummer"] += 1
            return MASK["personnummer"]
        return m.group(0)

    def _count(kind: str):
        def sub(_m: re.Match[str]) -> str:
            counts[kind] += 1
            return MASK[kind]

        return sub

    out = _EMAIL.sub(_count("epost"), text)
    out = _PNR.sub(_pnr, out)
    out = _PHONE.sub(_count("telefon"), out)
    warnings = ["texten verkar namnge en person / the text seems to name a person"] if names_person(out) else []
    return ScrubResult(out, {k: v for k, v in counts.items() if v}, warnings)
