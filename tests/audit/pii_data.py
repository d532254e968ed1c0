"""A deterministic table that mixes real-looking PII with look-alikes, and its labels.

Every cell has a known label (a PII kind or None), so detection can be scored by precision and
recall per column and per value. Look-alikes are the values a careless detector flags: random
digits that fail Luhn, order numbers, SKUs, timestamps, build numbers, IBAN-shaped references
with wrong check digits, bare 9-digit batch numbers, shipping dates with plausible "ages".
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from stdnum import iban as _iban
from stdnum import luhn

SEED = 20241124
ROWS = 300
TABLE = "crm.customer_records"

FIRST = [
    "Alice",
    "Bruno",
    "Chloé",
    "Dmitri",
    "Esther",
    "Farid",
    "Grace",
    "Hiroshi",
    "Ingrid",
    "Jamal",
    "Katarina",
    "Liam",
    "Maya",
    "Nikolai",
    "Olivia",
    "Pedro",
    "Quinn",
    "Rosa",
    "Samuel",
    "Tanya",
]
LAST = [
    "Anderson",
    "Bianchi",
    "Castillo",
    "Dubois",
    "Eriksson",
    "Fischer",
    "García",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lefèvre",
    "Moreau",
    "Nakamura",
    "O'Brien",
    "Petrov",
    "Rossi",
    "Schmidt",
]
DOMAINS = ["example.com", "mail.example.org", "corp.example.net", "post.example.de"]
US_AREAS = ["212", "415", "312", "617", "206", "303", "512", "718"]

#: column -> (SQL type, PII kind or None for the column)
COLUMNS: dict[str, tuple[str, str | None]] = {
    "id": ("int", None),
    "first_name": ("text", "person_name"),
    "last_name": ("text", "person_name"),
    "email": ("text", "email"),
    "login": ("text", "email"),  # no name hint: found by values
    "contact": ("text", "email"),  # 70% emails, the rest "n/a"
    "phone": ("text", "phone"),
    "card_number": ("text", "card"),
    "iban": ("text", "iban"),
    "ssn": ("text", "national_id"),
    "national_id": ("text", "national_id"),
    "client_ip": ("inet", "ip_address"),
    "remote_host": ("text", "ip_address"),  # no name hint
    "birth_date": ("date", "date_of_birth"),
    # look-alikes
    "order_number": ("text", None),
    "sku": ("text", None),
    "tracking_number": ("text", None),
    "gift_card_code": ("text", None),
    "transaction_id": ("text", None),  # random digits starting with 4: about 10% pass Luhn by chance
    "batch_number": ("text", None),
    "payment_reference": ("text", None),
    "build": ("text", None),
    "product_code": ("text", None),
    "fax": ("text", None),
    "shipped_on": ("date", None),
    "created_at": ("timestamptz", None),
    "created_text": ("text", None),
    "status": ("text", None),
    "notes": ("text", None),
    "amount": ("numeric", None),
}


def _luhn_card(rng: random.Random) -> str:
    prefix, length = rng.choice(
        [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16)]
    )
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    number = body + luhn.calc_check_digit(body)
    if rng.random() < 0.5 and length == 16:
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))
    return number


def _not_luhn(rng: random.Random, first: str = "4") -> str:
    body = first + "".join(rng.choice("0123456789") for _ in range(14))
    good = luhn.calc_check_digit(body)
    return body + str((int(good) + rng.randint(1, 9)) % 10)


def _grouped(digits: str) -> str:
    return " ".join(digits[j : j + 4] for j in range(0, len(digits), 4))


def _valid_iban(rng: random.Random) -> str:
    country, bban = rng.choice(
        [
            ("DE", lambda: "".join(rng.choice("0123456789") for _ in range(18))),
            (
                "GB",
                lambda: (
                    "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
                    + "".join(rng.choice("0123456789") for _ in range(14))
                ),
            ),
            (
                "NL",
                lambda: (
                    "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
                    + "".join(rng.choice("0123456789") for _ in range(10))
                ),
            ),
        ]
    )
    bban = bban()
    check = _iban.calc_check_digits(f"{country}00{bban}")
    compact = f"{country}{check}{bban}"
    return _iban.format(compact) if rng.random() < 0.5 else compact


def _bad_iban(rng: random.Random) -> str:
    while True:
        text = "DE" + "".join(rng.choice("0123456789") for _ in range(20))
        if not _iban.is_valid(text):
            return text


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _dni(rng: random.Random) -> str:
    number = rng.randint(10_000_000, 99_999_999)
    return f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def _phone(rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"({rng.choice(US_AREAS)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
    if style == 1:
        return f"+1 {rng.choice(US_AREAS)} {rng.randint(200, 999)} {rng.randint(0, 9999):04d}"
    if style == 2:
        return f"+44 20 7{rng.randint(100, 999)} {rng.randint(0, 9999):04d}"
    return f"+49 30 {rng.randint(1000000, 9999999)}"


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.8:
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))
    return "2001:db8::" + format(rng.randint(1, 0xFFFF), "x")


def generate(seed: int = SEED, rows: int = ROWS) -> list[dict[str, object]]:
    """The rows, deterministic for a seed. Each dict maps column -> value."""
    rng = random.Random(seed)
    today = date(2026, 1, 1)
    out = []
    for i in range(1, rows + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        mail = (
            f"{first.lower()}.{last.lower().replace(chr(39), '')}{rng.randint(1, 999)}@{rng.choice(DOMAINS)}"
        )
        created = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 900_000))
        out.append(
            {
                "id": i,
                "first_name": first,
                "last_name": last,
                "email": mail,
                "login": f"{first[0].lower()}{rng.randint(100, 99999)}@{rng.choice(DOMAINS)}",
                "contact": mail if rng.random() < 0.7 else "n/a",
                "phone": _phone(rng),
                "card_number": _luhn_card(rng),
                "iban": _valid_iban(rng),
                "ssn": _ssn(rng),
                "national_id": _dni(rng),
                "client_ip": _ip(rng),
                "remote_host": _ip(rng),
                "birth_date": today - timedelta(days=rng.randint(18 * 365, 90 * 365)),
                "order_number": f"ORD-{rng.randint(2019, 2025)}-{rng.randint(0, 999999):06d}",
                "sku": f"SKU-{rng.randint(10000, 99999)}-{rng.choice(['S', 'M', 'L', 'XL'])}",
                "tracking_number": _not_luhn(rng, rng.choice("4531")),
                "gift_card_code": _grouped(_not_luhn(rng)),
                "transaction_id": "4" + "".join(rng.choice("0123456789") for _ in range(15)),
                "batch_number": f"{rng.randint(100_000_000, 899_999_999)}",
                "payment_reference": _bad_iban(rng),
                "build": f"{rng.randint(2020, 2026)}.{rng.randint(1, 12)}.{rng.randint(1, 28)}.{rng.randint(1, 9)}",
                "product_code": f"{rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGH')}{rng.randint(10, 99)}-"
                f"{rng.choice('KLMNPQ')}{rng.choice('RSTUVW')}{rng.randint(10, 99)}",
                "fax": rng.choice(["n/a", "none", "-", ""]),
                "shipped_on": today - timedelta(days=rng.randint(1, 900)),
                "created_at": created,
                "created_text": created.strftime("%Y-%m-%d %H:%M:%S"),
                "status": rng.choice(["paid", "shipped", "refunded", "pending"]),
                "notes": rng.choice(["leave at door", "call before delivery", "gift wrap", "fragile", ""]),
                "amount": round(rng.uniform(1, 900), 2),
            }
        )
    return out


def cell_kind(column: str, value: object) -> str | None:
    """The true label of one cell."""
    kind = COLUMNS[column][1]
    if kind is None or value is None:
        return None
    if column == "contact" and value == "n/a":
        return None
    return kind


def load(pg, rows: list[dict[str, object]]) -> None:
    cols = ", ".join(f"{name} {sql_type}" for name, (sql_type, _) in COLUMNS.items())
    pg.execute(f"CREATE SCHEMA crm; CREATE TABLE {TABLE} ({cols})")
    names = list(COLUMNS)
    with pg.conn.cursor() as cur, cur.copy(f"COPY {TABLE} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[n] for n in names])
    pg.execute(f"ANALYZE {TABLE}")
