"""Masked examples: enough of a value to recognise its kind, never enough to recover it.

Every string that leaves the PII package goes through ``mask``. Cards keep the last four
digits (as receipts do), emails the first letter of each part and the top-level domain,
phones and IBANs their country prefix and last two characters, IPs their first octet.
"""

from __future__ import annotations

import re

import phonenumbers


def mask(kind: str, value: str) -> str:
    masker = _MASKERS.get(kind, mask_generic)
    return masker(value.strip())


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    host, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{host[:1]}***.{tld}"


def mask_card(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return "**** **** **** " + digits[-4:]


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    prefix = ""
    if value.startswith("+"):
        try:
            prefix = f"+{phonenumbers.parse(value, None).country_code} "
        except phonenumbers.NumberParseException:
            prefix = "+"
    return f"{prefix}*** *** **{digits[-2:]}"


def mask_iban(value: str) -> str:
    compact = value.replace(" ", "")
    return f"{compact[:2]}** **** **** **{compact[-2:]}"


def mask_national_id(value: str) -> str:
    return "*" * max(len(value) - 2, 3) + value[-2:] if len(value) > 6 else "*****"


def mask_ip(value: str) -> str:
    if ":" in value:
        return value.split(":", 1)[0] + ":****:****"
    return value.split(".", 1)[0] + ".***.***.***"


def mask_date(value: str) -> str:
    return "****-**-**"


def mask_name(value: str) -> str:
    return " ".join(part[:1] + "***" for part in value.split())


def mask_generic(value: str) -> str:
    return value[:1] + "***" if value else "***"


_MASKERS = {
    "email": mask_email,
    "card": mask_card,
    "phone": mask_phone,
    "iban": mask_iban,
    "national_id": mask_national_id,
    "ip_address": mask_ip,
    "date_of_birth": mask_date,
    "person_name": mask_name,
}
