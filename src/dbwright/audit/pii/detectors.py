"""Value detectors for PII kinds, and the column-name hints that support them.

Each detector answers one question about one value, using the validating library for the
kind where one exists (phonenumbers, python-stdnum's Luhn, IBAN and national-id modules,
ipaddress). Kinds with no checksum that random data would satisfy (bare 9-digit SSNs,
personal names, dates of birth, bare digit phone numbers) only count where the column name
supports them: ``needs_hint``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers
from stdnum import iban, luhn
from stdnum.es import dni
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

EMAIL = re.compile(r"^[\w.%+'-]+@[\w-]+(\.[\w-]+)*\.[^\W\d_]{2,24}$")  # \w: internationalised (RFC 6531)
PHONE_SHAPE = re.compile(r"^\+?[\d\s().\-]{7,24}$")
CARD_SHAPE = re.compile(r"^\d{4}([ -]?\d{2,6}){2,4}$|^\d{13,19}$")
CARD_PREFIX = re.compile(r"^(4|5[1-5]|2[2-7]|3[47]|6011|65|35|30[0-5]|36|38)")
SSN_DASHED = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_NAME_WORD = r"[A-ZÀ-Þ][a-zß-ÿ]*(?:['’.-][A-Za-zÀ-ÿ][a-zß-ÿ]*)*"
PERSON_NAME = re.compile(rf"^{_NAME_WORD}( {_NAME_WORD}){{0,3}}$")  # O'Brien, Jean-Luc, García

#: Column-name fragments that support each kind (matched against snake_case words).
HINTS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"e_?mail"),
    "phone": re.compile(r"phone|mobile|(^|_)(cell|fax|tel|telephone|msisdn)(_|$)"),
    "card": re.compile(r"card|(^|_)pan(_|$)|cc_?num|credit"),
    "iban": re.compile(r"iban|bank_?account|account_?number"),
    "national_id": re.compile(
        r"(^|_)(ssn|nino|bsn|dni|nif|nir|tin)(_|$)|social_?sec|national_?id|passport|"
        r"tax_?id|codice_?fiscale|personnummer|id_?number"
    ),
    "ip_address": re.compile(r"(^|_)ip(_|$)|ip_?addr|remote_?addr|client_?addr"),
    "date_of_birth": re.compile(r"birth|(^|_)(dob|born|bday)(_|$)"),
    "person_name": re.compile(
        r"first_?name|last_?name|full_?name|given_?name|family_?name|surname|"
        r"middle_?name|maiden|forename|^name$|customer_?name|contact_?name|person_?name"
    ),
}

#: Tables whose plain ``name`` column is a person's name.
PERSON_TABLES = re.compile(
    r"user|customer|person|people|employee|member|patient|contact|client|"
    r"staff|student|account|subscriber|author"
)


def is_email(value: str) -> bool:
    return len(value) <= 254 and bool(EMAIL.match(value.strip()))


def is_phone(value: str, *, bare_digits_ok: bool = False, region: str = "US") -> bool:
    """A valid number by phonenumbers, written the way phone numbers are written.

    phonenumbers strips letters and punctuation before validating, so "ORD-2024-000123" parses as a
    valid US number; the shape test keeps order numbers and SKUs out, and a bare digit string only
    counts when the column name says phone.
    """
    text = value.strip()
    if not PHONE_SHAPE.match(text):
        return False
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15:
        return False
    formatted = text.startswith("+") or bool(re.search(r"[\s().-]", text))
    if not (formatted or bare_digits_ok):
        return False
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):  # an ISO date
        return False
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def is_card(value: str) -> bool:
    """13–19 digits, a known issuer prefix and a valid Luhn check digit."""
    text = value.strip()
    if not CARD_SHAPE.match(text):
        return False
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and bool(CARD_PREFIX.match(digits)) and luhn.is_valid(digits)


def is_iban(value: str) -> bool:
    text = value.strip()
    return 15 <= len(text.replace(" ", "")) <= 34 and text[:2].isalpha() and iban.is_valid(text)


def is_national_id(value: str, *, hinted: bool = False) -> bool:
    """National identifiers with a distinctive format or a check digit; bare digits need a hint."""
    text = value.strip()
    if SSN_DASHED.match(text):
        return ssn.is_valid(text)
    if re.match(r"^\d{8}[A-Za-z]$", text):
        return dni.is_valid(text)
    if re.match(r"^[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z]$", text):
        return codicefiscale.is_valid(text)
    if re.match(r"^[12]\d{14}$", text.replace(" ", "")):
        return nir.is_valid(text)
    if hinted and re.match(r"^\d{9}$", text):
        return ssn.is_valid(text) or bsn.is_valid(text)
    return False


def is_ip(value: str) -> bool:
    text = value.strip()
    if "/" in text:  # an inet/cidr text form with a mask
        text = text.split("/", 1)[0]
    if text.count(".") != 3 and ":" not in text:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_date(value: str) -> date | None:
    text = value.strip()[:10]
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def is_birth_date(value: str, today: date | None = None) -> bool:
    """A parseable date that makes a plausible age (0 to 120 years)."""
    parsed = parse_date(value)
    if parsed is None:
        return False
    today = today or date.today()
    age_days = (today - parsed).days
    return 0 <= age_days <= 120 * 366


def is_person_name(value: str) -> bool:
    text = value.strip()
    return 2 <= len(text) <= 80 and bool(PERSON_NAME.match(text))


@dataclass(frozen=True)
class Detector:
    kind: str
    test: Callable[[str, bool], bool]  # (value, column name hints this kind) -> match
    needs_hint: bool = False
    sensitivity: str = "high"  # high: financial or government identifiers; medium: contact data


DETECTORS: tuple[Detector, ...] = (
    Detector("email", lambda v, h: is_email(v), sensitivity="medium"),
    Detector("card", lambda v, h: is_card(v)),
    Detector("iban", lambda v, h: is_iban(v)),
    Detector("national_id", lambda v, h: is_national_id(v, hinted=h)),
    Detector("phone", lambda v, h: is_phone(v, bare_digits_ok=h), sensitivity="medium"),
    Detector("ip_address", lambda v, h: is_ip(v), sensitivity="medium"),
    Detector("date_of_birth", lambda v, h: is_birth_date(v), needs_hint=True),
    Detector("person_name", lambda v, h: is_person_name(v), needs_hint=True, sensitivity="medium"),
)
BY_KIND = {d.kind: d for d in DETECTORS}


def name_hints(table: str, column: str) -> set[str]:
    """PII kinds the column's name suggests (``name`` counts only in person-like tables)."""
    col = column.lower()
    kinds = {kind for kind, pattern in HINTS.items() if pattern.search(col)}
    if "person_name" in kinds and col == "name" and not PERSON_TABLES.search(table.lower()):
        kinds.discard("person_name")
    if "national_id" in kinds and col in {"tin", "id_number"} and not PERSON_TABLES.search(table.lower()):
        kinds.discard("national_id")
    return kinds
