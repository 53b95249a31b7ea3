"""States known without registration: ISO 3166-1 countries and ISO 4217 currencies."""

from __future__ import annotations

from functools import cache

# Names people write for states that are not ISO 3166-1 codes. Alpha-2 codes resolve too.
COMMON_ALIASES = {
    "ROK": "KOR",  # Republic of Korea
    "DPRK": "PRK",  # Democratic People's Republic of Korea
    "PRC": "CHN",  # People's Republic of China
    "UK": "GBR",
    "UAE": "ARE",
    "ROC": "TWN",
}


@cache
def _codes() -> dict[str, str]:
    """Every accepted spelling of a state (upper-case) mapped to its alpha-3 code."""
    import iso3166  # self-contained and quick to load: every command that names a party needs it

    codes: dict[str, str] = {}
    for country in iso3166.countries:
        codes[country.alpha3] = country.alpha3
        codes[country.alpha2] = country.alpha3
    codes.update(COMMON_ALIASES)
    return codes


def state_code(party: str) -> str | None:
    """The alpha-3 code a party id names when it is a state, else None."""
    return _codes().get(party.upper())


def state_suggestions() -> frozenset[str]:
    """The ids worth suggesting for a mistyped state: alpha-3 codes and the common aliases."""
    return frozenset(code for code in _codes() if len(code) != 2)


@cache
def _currencies() -> frozenset[str]:
    import pycountry  # loaded only to check a currency: it takes a while to load

    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def is_currency(code: str) -> bool:
    return code in _currencies()
