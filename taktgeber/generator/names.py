"""Company and person names, and the name normalisation the links use (DESIGN.md §4)."""

from __future__ import annotations

import random
import re
import unicodedata

from stdnum.at import uid
from stdnum.de import vat as de_vat
from stdnum.iso7064 import mod_11_10
from stdnum.luhn import calc_check_digit
from stdnum.nl import btw

STEMS = (
    "Nordwind",
    "Alpenblick",
    "Rheintal",
    "Sonnenberg",
    "Blauwerk",
    "Falkenstein",
    "Lindenhof",
    "Seeblick",
    "Kronberg",
    "Eichwald",
    "Morgenrot",
    "Silberfluss",
    "Brückner",
    "Hofmann",
    "Weißenfels",
    "Schäfer",
    "Köhler",
    "Bergmann",
    "Lichtblick",
    "Sternwarte",
    "Tannhäuser",
    "Löwenzahn",
    "Grünfeld",
    "Wasserburg",
    "Adler",
    "Nebelhorn",
    "Fjord",
    "Polaris",
    "Atlas",
    "Meridian",
    "Orion",
    "Quantum",
    "Vektor",
    "Prisma",
    "Helix",
    "Zenit",
    "Kobalt",
    "Saphir",
    "Granit",
    "Basalt",
    "Horizont",
    "Delta",
    "Lumen",
    "Nova",
    "Aurora",
    "Boréal",
    "Émeraude",
    "Rivière",
    "Château",
    "Lumière",
    "Tulp",
    "Molen",
    "Dijk",
    "Zeeland",
    "Grachten",
    "Matterhorn",
    "Säntis",
    "Thistle",
    "Harbour",
    "Bluebell",
    "Redwood",
    "Summit",
    "Prairie",
    "Cascade",
)
SECTORS = (
    "Logistik",
    "Maschinenbau",
    "Energie",
    "Medien",
    "Software",
    "Handel",
    "Versicherung",
    "Bau",
    "Pharma",
    "Automotive",
    "Consulting",
    "Systems",
    "Digital",
    "Analytics",
    "Foods",
    "Textil",
    "Immobilien",
    "Mobility",
    "Robotics",
    "Finance",
    "Health",
    "Labs",
    "Studio",
    "Solutions",
)
LEGAL_FORMS = {
    "DE": ("GmbH", "AG", "GmbH & Co. KG", "SE", "KG"),
    "AT": ("GmbH", "AG", "OG"),
    "FR": ("SAS", "SARL", "SA"),
    "NL": ("B.V.", "N.V."),
    "CH": ("AG", "GmbH", "SA"),
    "GB": ("Ltd", "plc", "LLP"),
    "US": ("Inc.", "LLC", "Corp."),
}
FIRST_NAMES = (
    "Anna",
    "Jonas",
    "Lea",
    "Lukas",
    "Mia",
    "Felix",
    "Sophie",
    "Paul",
    "Emma",
    "Leon",
    "Hannah",
    "Finn",
    "Clara",
    "Noah",
    "Marie",
    "Elias",
    "Lena",
    "Ben",
    "Laura",
    "Max",
    "Julia",
    "Tim",
    "Sarah",
    "Jan",
    "Nora",
    "David",
    "Zoe",
    "Moritz",
    "Ida",
    "Jakob",
    "Greta",
    "Emil",
)
LAST_NAMES = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Braun",
    "Zimmermann",
    "Krüger",
    "Hartmann",
    "Lange",
    "Werner",
    "Krause",
    "Lehmann",
    "Köhler",
)


def normalise_name(name: str) -> str:
    """Unicode NFKD, ASCII only, lower case, runs of non-alphanumerics → one space, trimmed."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).strip()


class CompanyNames:
    """Unique company names (unique after normalisation, so name links are unambiguous)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def make(self, country: str) -> str:
        for attempt in range(1000):
            core = f"{self.rng.choice(STEMS)} {self.rng.choice(SECTORS)}"
            if attempt > 20:
                core = f"{core} {attempt}"
            name = f"{core} {self.rng.choice(LEGAL_FORMS[country])}"
            key = normalise_name(name)
            if key not in self.seen:
                self.seen.add(key)
                return name
        raise RuntimeError("could not find a unique company name")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def vat_id(rng: random.Random, country: str) -> str | None:
    """A VAT id that passes python-stdnum's check for the country (None where none applies)."""
    if country == "AT":
        body = "U" + _digits(rng, 7)
        return "AT" + body + uid.calc_check_digit(body)
    if country == "FR":
        siren = "8" + _digits(rng, 7)
        siren += calc_check_digit(siren)
        return "FR" + siren_to_tva(siren)
    if country == "NL":
        while True:  # BSN-style 11-proof check digit
            body = str(rng.randint(1, 9)) + _digits(rng, 7)
            check = sum(int(d) * w for d, w in zip(body, range(9, 1, -1), strict=True)) % 11
            candidate = f"NL{body}{check}B01"
            if check < 10 and btw.is_valid(candidate):
                return candidate
    if country == "DE":
        while True:
            body = str(rng.randint(1, 9)) + _digits(rng, 7)
            candidate = "DE" + body + mod_11_10.calc_check_digit(body)
            if de_vat.is_valid(candidate):
                return candidate
    if country == "CH":
        return f"CHE-{_digits(rng, 3)}.{_digits(rng, 3)}.{_digits(rng, 3)} MWST"
    if country == "GB":
        return "GB" + _digits(rng, 9)
    return None


def siren_to_tva(siren: str) -> str:
    from stdnum.fr import siren as siren_module

    return siren_module.to_tva(siren)


def broken_vat_id(valid: str) -> str:
    """The same id with one digit changed so that its country's check fails."""
    from stdnum.eu import vat as eu_vat

    for i in range(len(valid) - 1, -1, -1):
        if not valid[i].isdigit():
            continue
        for step in range(1, 10):
            candidate = valid[:i] + str((int(valid[i]) + step) % 10) + valid[i + 1 :]
            if not eu_vat.is_valid(candidate):
                return candidate
    return valid[:-1]
