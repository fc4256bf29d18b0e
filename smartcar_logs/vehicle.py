"""Vehicle attributes from a redirect: canonical makes and VIN details.

Canonical make rule (``make`` and ``vin_make``)
    Fold accents to ASCII (``Citroën`` -> ``CITROEN``, ``Škoda`` -> ``SKODA``), uppercase, turn
    underscores and whitespace runs into one space and tighten spaces around hyphens.  Then look
    the make up in a small alias table keyed by its letters and digits only, so ``VW``,
    ``Volkswagen``, ``mercedes benz``, ``MERCEDES_BENZ`` and ``Mercedes-Benz`` each land on one
    spelling.  The canonical spellings follow the brand's own punctuation, uppercased:
    ``MERCEDES-BENZ``, ``ROLLS-ROYCE``, ``LAND ROVER``, ``ALFA ROMEO``, ``ASTON MARTIN``.
    Makes not in the table keep the cleaned uppercase form.  Group names (``GM``, ``Stellantis``)
    and model lines (``Range Rover``) are deliberately *not* aliased to a brand.

VIN model year
    The year letter repeats every 30 years, so a VIN decodes to several candidate years.  We take
    the most recent candidate not after the current year + 1 (vininfo's own ordering), which is
    right for the cars that reach Connect today; North-American VINs (first digit 1-5) settle
    the 30-year cycle by position 7 (a digit: 1980-2009, a letter: 2010-2039).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["canonical_make", "vin_details", "vin_check_digit"]

_VIN_CHARS_RE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_SPACES_RE = re.compile(r"\s+")
_HYPHEN_RE = re.compile(r"\s*-\s*")
_NON_ALNUM_RE = re.compile(r"[^A-Z0-9]+")


# --- makes -------------------------------------------------------------------------------

_MAKE_CANON = (
    "MERCEDES-BENZ",
    "ROLLS-ROYCE",
    "LAND ROVER",
    "ALFA ROMEO",
    "ASTON MARTIN",
    "VOLKSWAGEN",
    "CHEVROLET",
    "MINI",
    "CITROEN",
    "SKODA",
    "TESLA",
    "HARLEY-DAVIDSON",
    "MCLAREN",
)
# Keyed by letters+digits only, so separators and case never matter.
_MAKE_ALIASES: dict[str, str] = {_NON_ALNUM_RE.sub("", m): m for m in _MAKE_CANON}
_MAKE_ALIASES.update(
    {
        "VW": "VOLKSWAGEN",
        "MERCEDES": "MERCEDES-BENZ",
        "MB": "MERCEDES-BENZ",
        "BENZ": "MERCEDES-BENZ",
        "CHEVY": "CHEVROLET",
        "ALFA": "ALFA ROMEO",
        "ASTONMARTINLAGONDA": "ASTON MARTIN",
        "ASTONMARTINLAGONDALIMITED": "ASTON MARTIN",
        "ROLLS": "ROLLS-ROYCE",
        "TESLAMOTORS": "TESLA",
    }
)

# Suffixes vininfo appends to manufacturer names ("Chevrolet Mexico", "Porsche car").
_VIN_SUFFIX_RE = re.compile(
    r"\s+(?:USA|US|MEXICO|CANADA|CHINA|GERMANY|AUSTRALIA|BRAZIL|ARGENTINA|UK|SPAIN|CAR|CARS|SUV)$"
)


@lru_cache(maxsize=4096)
def canonical_make(raw: str | None) -> str | None:
    """Return the canonical uppercase spelling of a vehicle make, or None when blank.

    See the module docstring for the rule.  ``canonical_make("mercedes benz")``,
    ``canonical_make("MERCEDES_BENZ")`` and ``canonical_make("MB")`` all return
    ``"MERCEDES-BENZ"``; ``canonical_make("Ford")`` returns ``"FORD"``.
    """
    if raw is None:
        return None
    s = str(raw)
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    s = s.upper().replace("_", " ")
    s = _SPACES_RE.sub(" ", s).strip()
    if not s:
        return None
    if "-" in s:
        s = _HYPHEN_RE.sub("-", s)
    return _MAKE_ALIASES.get(_NON_ALNUM_RE.sub("", s), s)


def _vin_make_name(manufacturer: str | None) -> str | None:
    if not manufacturer or manufacturer == "UnsupportedBrand":
        return None
    name = canonical_make(manufacturer)
    if name is None:
        return None
    stripped = _VIN_SUFFIX_RE.sub("", name)
    return canonical_make(stripped) if stripped else name


# --- VINs --------------------------------------------------------------------------------

_VIN_VALUES = {str(d): d for d in range(10)}
_VIN_VALUES.update(zip("ABCDEFGH", range(1, 9)))
_VIN_VALUES.update(zip("JKLMN", range(1, 6)))
_VIN_VALUES.update({"P": 7, "R": 9})
_VIN_VALUES.update(zip("STUVWXYZ", range(2, 10)))
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str | None:
    """Return the expected check digit (``'0'``-``'9'`` or ``'X'``) of a 17-character VIN.

    Computed with the 49 CFR 565 transliteration and weights; None when *vin* is not 17
    characters of the VIN alphabet.  We compute it ourselves because vininfo's
    ``verify_checksum`` also rejects some year letters, which is a different question.
    """
    if len(vin) != 17 or _VIN_CHARS_RE.fullmatch(vin) is None:
        return None
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS))
    rem = total % 11
    return "X" if rem == 10 else str(rem)


@lru_cache(maxsize=16384)
def vin_details(vin: str | None) -> tuple[str | None, bool | None, str | None, int | None]:
    """Normalise a VIN and decode what it says about the vehicle.

    Parameters
    ----------
    vin
        The VIN as sent (already percent-decoded).

    Returns
    -------
    (vin, vin_valid, vin_make, vin_year)
        *vin* stripped and uppercased (None when blank).  *vin_valid* is True only for 17
        characters without I/O/Q whose check digit (position 9) is right when the VIN is
        North-American (first character 1-5; other regions do not mandate it); None when
        there is no VIN.  *vin_make* is the WMI manufacturer from vininfo, canonicalised
        like :func:`canonical_make`, and *vin_year* the model year (North-American VINs:
        the position-7 cycle rule; others: the most recent candidate); both None when vininfo cannot tell.
    """
    if vin is None:
        return None, None, None, None
    v = vin.strip().upper()
    if not v:
        return None, None, None, None
    expected = vin_check_digit(v)
    if expected is None:
        return v, False, None, None
    valid = v[8] == expected if v[0] in "12345" else True
    vin_make = vin_year = None
    try:
        from vininfo import Vin  # imported lazily: it is only needed for the rare VIN

        decoded = Vin(v)
    except Exception:
        decoded = None
    if decoded is not None:
        try:
            vin_make = _vin_make_name(decoded.manufacturer)
        except Exception:
            vin_make = None
        try:
            years = sorted((int(y) for y in decoded.years), reverse=True)
            # North-American VINs say which 30-year cycle in position 7: a digit means
            # 1980-2009, a letter 2010-2039. Elsewhere, take the most recent candidate.
            if years and v[0] in "12345" and len(years) > 1:
                older = v[6].isdigit()
                years = [y for y in years if (y < 2010) == older] or years
            vin_year = years[0] if years else None
        except Exception:
            vin_year = None
    return v, valid, vin_make, vin_year
