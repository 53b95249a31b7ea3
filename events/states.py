"""States known without registration (ISO 3166-1 codes, aliases and names) and ISO 4217 currencies."""

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


# Names people write that the ISO 3166 library's names, official names and common names lack.
NAME_ALIASES = {
    "republic of korea": "KOR",
    "korea, dpr": "PRK",
    "dpr korea": "PRK",
    "russia": "RUS",
    "people's republic of china": "CHN",
    "great britain": "GBR",
}


def _folded(name: str) -> str:
    """A name compared without case, dots or repeated spaces: 'Viet  Nam.' is 'viet nam'."""
    return " ".join(name.replace(".", " ").casefold().split())


@cache
def _database(name: str) -> list[dict[str, str]]:
    """One of the ISO databases pycountry ships (`3166-1`, `4217`), read as it ships it.
    Importing pycountry itself would cost every query that names a state some 80 ms (it sets up
    translations and reads package metadata); reading its JSON costs one."""
    from importlib.util import find_spec
    from pathlib import Path

    import orjson

    spec = find_spec("pycountry")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pycountry is not installed: reinstall coopledger")
    folder = Path(next(iter(spec.submodule_search_locations))) / "databases"
    return orjson.loads((folder / f"iso{name}.json").read_bytes())[name]  # type: ignore[no-any-return]


@cache
def _names() -> dict[str, str]:
    """Every name of a state (folded) mapped to its alpha-3 code; '…, Republic of' also read forwards."""
    names: dict[str, str] = {}
    for country in _database("3166-1"):
        for field in ("name", "official_name", "common_name"):
            name = country.get(field)
            if name:
                names[_folded(name)] = country["alpha_3"]
                head, comma, tail = name.partition(", ")
                if comma:  # "Korea, Republic of" is also "Republic of Korea"
                    names[_folded(f"{tail} {head}")] = country["alpha_3"]
    names.update(NAME_ALIASES)
    return names


@cache
def _state_names() -> dict[str, str]:
    return {c["alpha_3"]: c.get("common_name") or c["name"] for c in _database("3166-1")}


def state_name(code: str) -> str:
    """How a state is named in answers: its common name where ISO gives one, else its name."""
    return _state_names().get(code, code)


def state_by_name(written: str) -> str | None:
    """The alpha-3 code of a state written by name (Japan, South Korea, Viet Nam), else None."""
    return _names().get(_folded(written))


def state_candidates(written: str, limit: int = 5) -> list[str]:
    """States whose name contains or resembles what was written, as `CODE (name)`."""
    from difflib import get_close_matches

    folded = _folded(written)
    codes: list[str] = []
    if len(folded) >= 3:
        codes = [code for name, code in sorted(_names().items()) if folded in name.split(", ")[0].split()]
        codes += [code for name, code in sorted(_names().items()) if name.startswith(folded)]
    codes += [_names()[name] for name in get_close_matches(folded, list(_names()), n=limit, cutoff=0.75)]
    unique = list(dict.fromkeys(codes))[:limit]
    return [f"{code} ({state_name(code)})" for code in unique]


def state_suggestions() -> frozenset[str]:
    """The ids worth suggesting for a mistyped state: alpha-3 codes and the common aliases."""
    return frozenset(code for code in _codes() if len(code) != 2)


@cache
def _currencies() -> frozenset[str]:
    return frozenset(currency["alpha_3"] for currency in _database("4217"))


def is_currency(code: str) -> bool:
    return code in _currencies()
