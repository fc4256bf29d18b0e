"""What the synthetic world contains: the outcome mix and other knobs (all labelled assumptions),
error descriptions, and the vehicles (makes, models, spellings, plausible VINs).
"""

from __future__ import annotations

import random
from typing import NamedTuple

DEFAULT_HOST = "example.com"
GOOGLE_CALLBACK_PATH = "/auth/google/callback"

# --------------------------------------------------------------------------------------------
# Assumptions (labelled).  No public source gives real Connect outcome rates; this mix is the
# synthetic default suggested in the domain notes, PURELY AN ASSUMPTION for realistic-looking
# test data (the 10% "exited" share is split 6% / 4%).
# --------------------------------------------------------------------------------------------
OUTCOME_MIX: tuple[tuple[str, float], ...] = (
    ("success", 0.70),
    ("access_denied", 0.08),
    ("user_manually_returned_to_application", 0.06),
    ("oem_cancelled_login", 0.04),
    ("vehicle_incompatible", 0.06),
    ("invalid_subscription", 0.02),
    ("no_vehicles", 0.02),
    ("configuration_error", 0.01),
    ("server_error", 0.01),
)
GENERATED_ERRORS: tuple[str, ...] = tuple(code for code, _ in OUTCOME_MIX if code != "success")

# Also assumptions (synthetic knobs, not from any source).
P_ABANDON = 0.12  # launch never comes back
P_RELOAD = 0.04  # a redirect line is repeated seconds later (same state)
P_RETRY = 0.40  # a retryable error is followed by a new attempt that succeeds
RETRYABLE = frozenset(
    {
        "access_denied",
        "user_manually_returned_to_application",
        "oem_cancelled_login",
        "server_error",
        "no_vehicles",
        "invalid_subscription",
    }
)
P_NO_STATE = 0.015  # redirect without any state and without a launch (e.g. Dashboard link)
P_ORPHAN = 0.005  # redirect with a state whose launch is not in the file
SUCCESS_FLOWS = (("user_id", 0.80), ("code", 0.15), ("code+user_id", 0.05))
# Look-alike lines, as a share of all lines.
RATE_GOOGLE = 0.003
RATE_NOISE = {"code": 0.002, "error": 0.001, "user_id": 0.0005}

# error_description variants (texts as in the Smartcar docs and SDK tests; see the spec notes).
DESCRIPTIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "access_denied": (
        ("User denied access to application.", 0.70),
        ("User denied access to application", 0.15),
        ("User denied access to the requested scope of permissions.", 0.15),
    ),
    "vehicle_incompatible": (
        ("The user\u2019s vehicle is not compatible.", 0.6),
        ("The user's vehicle is not compatible.", 0.4),
    ),
    "invalid_subscription": (
        ("User does not have an active connected vehicle subscription", 0.8),
        ("The user's subscription is invalid.", 0.2),
    ),
    "no_vehicles": (
        ("No vehicles found. Please add vehicles to your account and try again.", 0.8),
        ("User does not have any vehicles connected to this connected services account", 0.2),
    ),
    "configuration_error": (("There has been an error in the configuration of your application.", 1.0),),
    "server_error": (("Unexpected server error. Please try again.", 1.0),),
    "user_manually_returned_to_application": (
        ("The user exited Connect before granting your application access", 1.0),
    ),
    "oem_cancelled_login": (("The user did not complete authorization with the OEM", 1.0),),
}
CONFIG_ERROR_MESSAGES = (
    "You have entered a test mode VIN. Please enter a VIN that belongs to a real vehicle.",
    "The VIN provided is not valid.",  # synthetic wording
    "This VIN is not compatible with the requested permissions.",  # synthetic wording
)
P_OEM_MALFORMED = 0.25  # docs example puts the description in a bare key (no error_description=)

# Section 5 per-make model lists (general knowledge, no compatibility implied), plus a few
# makes outside that list, to give vehicle_incompatible something plausibly unsupported.
MODELS: dict[str, tuple[str, ...]] = {
    "TESLA": ("Model 3", "Model Y", "Model S", "Model X", "Cybertruck"),
    "FORD": ("Mustang Mach-E", "F-150 Lightning", "F-150", "Escape", "Explorer"),
    "CHEVROLET": ("Bolt EV", "Bolt EUV", "Equinox", "Silverado", "Tahoe"),
    "CADILLAC": ("Lyriq", "Escalade", "XT5"),
    "GMC": ("Sierra", "Yukon", "Hummer EV"),
    "BUICK": ("Enclave", "Encore GX"),
    "TOYOTA": ("RAV4", "Camry", "Corolla", "bZ4X", "Highlander", "Tacoma"),
    "LEXUS": ("RX", "NX", "ES"),
    "HONDA": ("Civic", "Accord", "CR-V"),
    "ACURA": ("MDX", "RDX"),
    "HYUNDAI": ("Ioniq 5", "Kona Electric", "Tucson"),
    "KIA": ("EV6", "Niro EV", "Sportage"),
    "NISSAN": ("LEAF", "Ariya", "Rogue"),
    "BMW": ("i4", "iX", "3 Series", "X5"),
    "MINI": ("Cooper SE", "Countryman"),
    "MERCEDES-BENZ": ("EQS", "EQE", "C-Class", "GLC"),
    "AUDI": ("e-tron", "Q4 e-tron", "A4", "Q5"),
    "VOLKSWAGEN": ("ID.4", "Golf", "Tiguan"),
    "VOLVO": ("XC40 Recharge", "XC60", "XC90"),
    "POLESTAR": ("Polestar 2",),
    "JEEP": ("Grand Cherokee 4xe", "Wrangler 4xe"),
    "RAM": ("1500",),
    "RENAULT": ("Zoe", "Megane E-Tech"),
    "PEUGEOT": ("e-208", "3008"),
    "SKODA": ("Enyaq",),
    "RIVIAN": ("R1T", "R1S"),
    # not in the section 5 list; general knowledge, used only for vehicle_incompatible
    "SUBARU": ("Outback", "Forester", "Solterra"),
    "MAZDA": ("CX-5", "MX-30", "Mazda3"),
    "MITSUBISHI": ("Outlander PHEV",),
    "FIAT": ("500e",),
}
# How the make may be spelt on the redirect (case and aliases vary).
MAKE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "TESLA": ("TESLA", "Tesla", "tesla"),
    "VOLKSWAGEN": ("VOLKSWAGEN", "Volkswagen", "VW", "vw"),
    "MERCEDES-BENZ": ("MERCEDES-BENZ", "Mercedes-Benz", "mercedes benz", "Mercedes Benz", "Mercedes"),
    "CHEVROLET": ("CHEVROLET", "Chevrolet", "Chevy"),
    "BMW": ("BMW", "bmw"),
    "MINI": ("MINI", "Mini"),
    "GMC": ("GMC",),
    "RAM": ("RAM", "Ram"),
    "KIA": ("KIA", "Kia"),
}
# What makes a vehicle incompatible, as the synthetic world has it (general knowledge, an
# ASSUMPTION, not Smartcar's compatibility list): a make whose connected services Connect does
# not reach, or a supported make's car built before its connected services existed.
#: Makes treated as unsupported: any of their model years can come back incompatible.
UNSUPPORTED_MAKES = frozenset({"SUBARU", "MAZDA", "MITSUBISHI", "FIAT"})
#: Supported makes -> first model year with connected services; older cars are incompatible.
CONNECTED_SINCE: dict[str, int] = {
    "FORD": 2017, "CHEVROLET": 2016, "CADILLAC": 2016, "GMC": 2016, "BUICK": 2016, "TOYOTA": 2018,
    "LEXUS": 2018, "HONDA": 2018, "ACURA": 2019, "HYUNDAI": 2018, "KIA": 2019, "NISSAN": 2016,
    "BMW": 2014, "MINI": 2015, "MERCEDES-BENZ": 2016, "AUDI": 2016, "VOLKSWAGEN": 2020, "VOLVO": 2016,
    "JEEP": 2018, "RAM": 2019, "RENAULT": 2019, "PEUGEOT": 2019, "SKODA": 2019,
}  # fmt: skip
# First model year of each model (general knowledge), so no car predates its model.
MODEL_SINCE: dict[str, int] = {
    "Model 3": 2017, "Model Y": 2020, "Model S": 2012, "Model X": 2016, "Cybertruck": 2024,
    "Mustang Mach-E": 2021, "F-150 Lightning": 2022, "F-150": 1975, "Escape": 2001, "Explorer": 1991,
    "Bolt EV": 2017, "Bolt EUV": 2022, "Equinox": 2005, "Silverado": 1999, "Tahoe": 1995,
    "Lyriq": 2023, "Escalade": 1999, "XT5": 2017, "Sierra": 1999, "Yukon": 1992, "Hummer EV": 2022,
    "Enclave": 2008, "Encore GX": 2020, "RAV4": 1996, "Camry": 1983, "Corolla": 1968, "bZ4X": 2023,
    "Highlander": 2001, "Tacoma": 1995, "RX": 1999, "NX": 2015, "ES": 1990, "Civic": 1973,
    "Accord": 1976, "CR-V": 1997, "MDX": 2001, "RDX": 2007, "Ioniq 5": 2022, "Kona Electric": 2019,
    "Tucson": 2005, "EV6": 2022, "Niro EV": 2019, "Sportage": 1995, "LEAF": 2011, "Ariya": 2023,
    "Rogue": 2008, "i4": 2022, "iX": 2022, "3 Series": 1977, "X5": 2000, "Cooper SE": 2020,
    "Countryman": 2011, "EQS": 2022, "EQE": 2023, "C-Class": 1994, "GLC": 2016, "e-tron": 2019,
    "Q4 e-tron": 2022, "A4": 1995, "Q5": 2009, "ID.4": 2021, "Golf": 1975, "Tiguan": 2009,
    "XC40 Recharge": 2021, "XC60": 2009, "XC90": 2003, "Polestar 2": 2021, "Grand Cherokee 4xe": 2022,
    "Wrangler 4xe": 2021, "1500": 2011, "Zoe": 2013, "Megane E-Tech": 2022, "e-208": 2020,
    "3008": 2009, "Enyaq": 2021, "R1T": 2022, "R1S": 2022, "Outback": 1995, "Forester": 1998,
    "Solterra": 2023, "CX-5": 2013, "MX-30": 2021, "Mazda3": 2004, "Outlander PHEV": 2014, "500e": 2013,
}  # fmt: skip
NEWEST_MODEL_YEAR = 2026
# Weights among the plausibly incompatible makes (assumption): unsupported makes first.
# fmt: off
INCOMPATIBLE_MAKE_WEIGHTS: dict[str, float] = {
    "SUBARU": 6, "MAZDA": 6, "MITSUBISHI": 4, "FIAT": 3, "HONDA": 3, "TOYOTA": 3, "FORD": 3,
    "VOLKSWAGEN": 3, "SKODA": 2, "PEUGEOT": 2, "RENAULT": 2, "HYUNDAI": 2, "KIA": 2, "NISSAN": 2,
}
# fmt: on
# World manufacturer identifiers (general knowledge) for plausible synthetic VINs.
# fmt: off
WMI: dict[str, tuple[str, ...]] = {
    "TESLA": ("5YJ", "7SA"), "FORD": ("1FA", "1FT", "1FM"), "CHEVROLET": ("1G1", "1GN"),
    "CADILLAC": ("1GY",), "GMC": ("1GT", "1GK"), "BUICK": ("5GA", "KL4"), "TOYOTA": ("JTD", "4T1", "2T3"),
    "LEXUS": ("JTH", "2T2"), "HONDA": ("1HG", "2HK"), "ACURA": ("5J8",), "HYUNDAI": ("KMH", "5NM"),
    "KIA": ("KNA", "KND"), "NISSAN": ("1N4", "JN1"), "BMW": ("WBA", "5UX"), "MINI": ("WMW",),
    "MERCEDES-BENZ": ("WDD", "W1K"), "AUDI": ("WAU", "WA1"), "VOLKSWAGEN": ("WVW", "1V2"),
    "VOLVO": ("YV1", "YV4"), "POLESTAR": ("LPS", "YSM"), "JEEP": ("1C4",), "RAM": ("1C6", "3C6"),
    "RENAULT": ("VF1",), "PEUGEOT": ("VF3",), "SKODA": ("TMB",), "RIVIAN": ("7FC", "7PD"),
    "SUBARU": ("JF1", "4S4"), "MAZDA": ("JM1", "JM3"), "MITSUBISHI": ("JA4",), "FIAT": ("3C3", "ZFA"),
}
# fmt: on
# Test-mode VINs from the Smartcar docs start with 0SC; the two below are quoted there.
DOC_TEST_VINS = ("0SCAUDI012FE3B132", "0SCAUDI0155C49A95", "0SCAUDI037A5ADB1C")

TEST_VIN_MAKES = {"AUDI": "AUDI", "TSLA": "TESLA", "FORD": "FORD", "BMW0": "BMW"}
_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
_VIN_VALUES = dict(zip("0123456789", range(10))) | {
    c: v
    for c, v in zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ", (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9)
    )
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 2010..2039; 2001..2009 are digits


def _year_code(year: int) -> str:
    if 2001 <= year <= 2009:
        return str(year - 2000)
    return _YEAR_CODES[(year - 2010) % 30]


def _make_vin(rnd: random.Random, make: str, year: int) -> str:
    """A 17-char VIN with a plausible WMI, the model-year code and a valid check digit."""
    body = (
        rnd.choice(WMI[make])
        + "".join(rnd.choice(_VIN_CHARS) for _ in range(5))
        + "0"
        + _year_code(year)
        + rnd.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
        + "".join(rnd.choice("0123456789") for _ in range(6))
    )
    total = sum(_VIN_VALUES[c] * w for c, w in zip(body, _VIN_WEIGHTS))
    check = "X" if total % 11 == 10 else str(total % 11)
    return body[:8] + check + body[9:]


class _Vehicle(NamedTuple):
    make: str
    model: str
    year: int
    vin: str


def vehicle_pool(rnd: random.Random, n: int = 240) -> list[_Vehicle]:
    """Vehicles that plausibly come back ``vehicle_incompatible``: a real make, model and year.

    An unsupported make in any year its model was built, or a supported make's car from
    before its connected services (:data:`CONNECTED_SINCE`); never a year before the model.
    """
    out = []
    candidates = []
    for make in INCOMPATIBLE_MAKE_WEIGHTS:
        cutoff = NEWEST_MODEL_YEAR + 1 if make in UNSUPPORTED_MAKES else CONNECTED_SINCE[make]
        models = [m for m in MODELS[make] if MODEL_SINCE[m] < cutoff]
        if models:
            candidates.append((make, models, cutoff))
    weights = [INCOMPATIBLE_MAKE_WEIGHTS[make] for make, _, _ in candidates]
    for _ in range(n):
        make, models, cutoff = rnd.choices(candidates, weights)[0]
        model = rnd.choice(models)
        # recent-ish cars are the ones people try to connect (assumption): the last 12 years
        first = max(MODEL_SINCE[model], cutoff - 12)
        year = first + int((cutoff - first) * rnd.random() ** 0.7)
        out.append(_Vehicle(make, model, min(year, cutoff - 1), _make_vin(rnd, make, min(year, cutoff - 1))))
    return out


def spelling(rnd: random.Random, make: str) -> str:
    if make in MAKE_SPELLINGS:
        return rnd.choice(MAKE_SPELLINGS[make])
    return rnd.choice((make, make, make.title()))
