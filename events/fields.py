"""Field types of the event catalog and the checks that turn JSON values into them."""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Literal, NewType, Union, get_args, get_origin, get_type_hints
from uuid import UUID

from msgspec import Struct
from msgspec.structs import fields

from .dates import DateError, Edtf, ascii_digits, parse_edtf
from .states import is_currency, state_code

Slug = NewType("Slug", str)  # a user-chosen id of an instrument, series, meeting or project
PartyRef = NewType("PartyRef", str)  # a party named by an event, resolved to its id
NewPartyId = NewType("NewPartyId", str)  # the id (or an alias) of a party being registered
StateRef = NewType("StateRef", str)  # a state, resolved to its ISO 3166-1 alpha-3 code
Currency = NewType("Currency", str)  # an ISO 4217 code
Text = NewType("Text", str)  # free text, not blank
EventRef = int | str  # an event by position or id
Names = NewType("Names", dict)  # {BCP 47 language tag: name or title}, e.g. {"ko": "환경부"}
Duration = NewType("Duration", str)  # an ISO 8601 duration in years, months, weeks and days: P5Y, P6M
Yes = NewType("Yes", bool)  # a flag that is given as true or left out

MAX_TEXT = 20_000
MAX_INT = 2**53  # larger integers do not survive RFC 8785 canonical JSON
MAX_NUMBER = 1_000_000
_SLUG = re.compile(r"[a-z0-9][a-z0-9._:-]{0,127}")
_PARTY_ID = re.compile(r"[A-Z][A-Z0-9_.-]{1,31}")
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Z]{2}|[0-9]{3}))?")
_DURATION = re.compile(r"P(?=\d)(\d{1,4}Y)?(\d{1,5}M)?(\d{1,5}W)?(\d{1,6}D)?")
_AMOUNT = re.compile(r"[0-9]{1,18}(\.[0-9]{1,12})?")


class FieldError(ValueError):
    """A value that does not fit its field; `path` names the field, e.g. data.parties[1].

    An empty path means the whole line (or document): not JSON, or not an object.
    """

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


PartyResolver = Callable[[str], str]
"""Turns a party id as written into the id of a known party, or raises LookupError(message)."""

Converter = Callable[[Any, str, PartyResolver], tuple[Any, Any]]
"""(JSON value, path, resolver) -> (Python value, normalised JSON value)."""


def convert(cls: type, value: Any, path: str, resolve: PartyResolver) -> tuple[Any, dict]:
    """Check a JSON object against a catalog Struct: the instance and the object normalised."""
    return _converter(cls)(value, path, resolve)


def type_name(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a number",
        float: "a float",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), "a value")


def _text(value: Any, path: str, _: PartyResolver) -> tuple[str, str]:
    if not isinstance(value, str):
        raise FieldError(path, f"expected a string, got {type_name(value)}")
    if not value.strip():
        raise FieldError(path, "must not be blank")
    if len(value) > MAX_TEXT:
        raise FieldError(path, f"longer than {MAX_TEXT} characters")
    no_nul(value, path)
    return value, value


def no_nul(value: str, path: str) -> None:
    """Text the ledger stores holds no NUL character: PostgreSQL cannot keep one in text."""
    if "\x00" in value:
        raise FieldError(path, "contains a NUL character (U+0000), which the ledger cannot store")


def _spelled(pattern: re.Pattern[str], case: Callable[[str], str]) -> Callable[[str], str | None]:
    return lambda value: case(value) if pattern.fullmatch(case(value)) else None


def _id(expected: str, normalise: Callable[[str], str | None], spelled: str) -> Converter:
    """A converter of ids: what one is called, its normal form (None: not one), how one is spelled."""

    def convert(value: Any, path: str, _: PartyResolver) -> tuple[str, str]:
        if not isinstance(value, str):
            raise FieldError(path, f"expected {expected}, got {type_name(value)}")
        normalised = normalise(value)
        if normalised is None:
            raise FieldError(path, f"{value!r} is not {spelled}")
        return normalised, normalised

    return convert


_slug = _id(
    "an id string",
    _spelled(_SLUG, str.lower),
    "an id: use letters, digits, '.', '_', ':' or '-' (up to 128, starting with a letter or digit)",
)
_new_party = _id(
    "a party id",
    _spelled(_PARTY_ID, str.upper),
    "a party id: 2 to 32 letters, digits, '.', '_' or '-', starting with a letter",
)
_state = _id("a country code", state_code, "an ISO 3166-1 country code")


def _party(value: Any, path: str, resolve: PartyResolver) -> tuple[str, str]:
    if not isinstance(value, str):
        raise FieldError(path, f"expected a party id, got {type_name(value)}")
    try:
        party = resolve(value)
    except LookupError as error:
        raise FieldError(path, str(error.args[0])) from None
    return party, party


def _currency(value: Any, path: str, _: PartyResolver) -> tuple[str, str]:
    if not isinstance(value, str) or not is_currency(value.upper()):
        raise FieldError(path, f"{value!r} is not an ISO 4217 currency code (e.g. USD, KRW, EUR)")
    return value.upper(), value.upper()


def _edtf(value: Any, path: str, _: PartyResolver) -> tuple[Edtf, str]:
    if not isinstance(value, str):
        raise FieldError(path, f"expected an EDTF date string, got {type_name(value)}")
    try:
        text = ascii_digits(value)
        return parse_edtf(text), text
    except DateError as error:
        raise FieldError(path, str(error)) from None


def _duration(value: Any, path: str, _: PartyResolver) -> tuple[str, str]:
    if isinstance(value, str):
        value = ascii_digits(value)
    if not isinstance(value, str) or not _DURATION.fullmatch(value) or value.strip("P0YMWD") == "":
        raise FieldError(
            path,
            f"{value!r} is not an ISO 8601 duration of years, months, weeks or days (e.g. P5Y, P6M, P90D)",
        )
    return value, value


def _yes(value: Any, path: str, _: PartyResolver) -> tuple[bool, bool]:
    if value is not True:
        got = "false" if value is False else type_name(value)
        raise FieldError(path, f"expected true, or leave the field out; got {got}")
    return True, True


def _amount(value: Any, path: str, _: PartyResolver) -> tuple[Decimal, str]:
    if isinstance(value, float):
        raise FieldError(path, f'{value!r} is a float; write amounts as a string, e.g. "{value}"')
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise FieldError(path, f'{value!r} is not an amount: a decimal string like "1250.50"')
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise FieldError(path, f"{value!r} is not an amount") from None
    if amount <= 0:
        raise FieldError(path, "must be greater than 0")
    return amount, value


def _number(value: Any, path: str, _: PartyResolver) -> tuple[int, int]:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FieldError(path, f"expected a whole number, got {type_name(value)}")
    if not 1 <= value <= MAX_NUMBER:
        raise FieldError(path, f"must be between 1 and {MAX_NUMBER}")
    return value, value


def _event_ref(value: Any, path: str, resolve: PartyResolver) -> tuple[int | str, int | str]:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return _event_ref(int(value), path, resolve)
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value < MAX_INT:
            raise FieldError(path, f"a position is a whole number from 1 to {MAX_INT - 1}")
        return value, value
    if isinstance(value, str):
        try:
            return str(UUID(value)), str(UUID(value))
        except ValueError:
            pass
    raise FieldError(path, f"{value!r} is neither a position nor an event id")


def _names(value: Any, path: str, resolve: PartyResolver) -> tuple[dict[str, str], dict[str, str]]:
    if type(value) is not dict:
        raise FieldError(path, f"expected an object of language tags and names, got {type_name(value)}")
    for tag, name in value.items():
        if not _LANGUAGE_TAG.fullmatch(tag):
            raise FieldError(f"{path}.{tag}", "is not a BCP 47 language tag (e.g. en, ko, ja, zh-Hans)")
        _text(name, f"{path}.{tag}", resolve)
    return value, value


_SCALARS: dict[Any, Converter] = {
    Slug: _slug,
    PartyRef: _party,
    NewPartyId: _new_party,
    StateRef: _state,
    Currency: _currency,
    Text: _text,
    Names: _names,
    Edtf: _edtf,
    Duration: _duration,
    Yes: _yes,
    Decimal: _amount,
    int: _number,
    EventRef: _event_ref,
}


def _literal(choices: tuple[str, ...]) -> Converter:
    def check(value: Any, path: str, _: PartyResolver) -> tuple[str, str]:
        if value not in choices:
            raise FieldError(path, f"{value!r} is not one of: {', '.join(choices)}")
        return value, value

    return check


def _tuple(item: Converter) -> Converter:
    def check(value: Any, path: str, resolve: PartyResolver) -> tuple[tuple, list]:
        if not isinstance(value, list):
            raise FieldError(path, f"expected a list, got {type_name(value)}")
        pairs = [item(element, f"{path}[{index}]", resolve) for index, element in enumerate(value)]
        return tuple(p for p, _ in pairs), [j for _, j in pairs]

    return check


def _for_hint(hint: Any) -> Converter:
    if hint in _SCALARS:
        return _SCALARS[hint]
    origin = get_origin(hint)
    if origin is Literal:
        return _literal(get_args(hint))
    if origin is tuple:
        return _tuple(_for_hint(get_args(hint)[0]))
    if origin in (Union, types.UnionType):
        (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
        return _for_hint(inner)
    if isinstance(hint, type) and issubclass(hint, Struct):
        return _converter(hint)
    raise TypeError(f"no converter for {hint!r}")  # pragma: no cover - a catalog mistake


@cache
def _converter(cls: type) -> Converter:
    hints = get_type_hints(cls)
    order = [f.name for f in fields(cls)]
    converters = {f.name: _for_hint(hints[f.name]) for f in fields(cls)}
    required = {f.name for f in fields(cls) if f.required}
    paths: dict[str, dict[str, str]] = {}  # "data" -> {"instrument": "data.instrument", ...}

    def check(value: Any, path: str, resolve: PartyResolver) -> tuple[Any, dict]:
        if type(value) is not dict:
            raise FieldError(path, f"expected an object, got {type_name(value)}")
        named = paths.get(path) or paths.setdefault(path, {name: f"{path}.{name}" for name in order})
        kwargs: dict[str, Any] = {}
        normalised: dict[str, Any] = {}
        for name, raw in value.items():
            field_converter = converters.get(name)
            if field_converter is None:
                raise FieldError(
                    f"{path}.{name}", f"unknown field for {cls.__name__} (fields: {', '.join(sorted(order))})"
                )
            if raw is None or raw == []:  # an optional field left empty
                continue
            kwargs[name], normalised[name] = field_converter(raw, named[name], resolve)
        if len(kwargs) < len(required) or not required <= kwargs.keys():
            missing = next(name for name in order if name in required and name not in kwargs)
            raise FieldError(named[missing], f"required for {cls.__name__}")
        return cls(**kwargs), normalised

    return check


def load(cls: type, data: dict[str, Any]) -> Any:
    """Type data the ledger stored after checking it: only the conversions, no checks."""
    return _loader(cls)(data)


@cache
def _loader(cls: type) -> Callable[[dict[str, Any]], Any]:
    hints = get_type_hints(cls)
    casts = {f.name: cast for f in fields(cls) if (cast := _cast(hints[f.name])) is not None}

    def load_stored(data: dict[str, Any]) -> Any:
        if not casts:
            return cls(**data)
        return cls(
            **{
                name: casts[name](value) if name in casts and value is not None else value
                for name, value in data.items()
            }
        )

    return load_stored


def _cast(hint: Any) -> Callable[[Any], Any] | None:
    """How a stored JSON value becomes the field's Python value; None when it already is."""
    if hint is Edtf:
        return parse_edtf
    if hint is Decimal:
        return Decimal
    origin = get_origin(hint)
    if origin is tuple:
        item = _cast(get_args(hint)[0])
        return tuple if item is None else lambda values: tuple(map(item, values))
    if origin in (Union, types.UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        return _cast(options[0]) if len(options) == 1 else None  # int | str (an event ref) as stored
    if isinstance(hint, type) and issubclass(hint, Struct):
        return _loader(hint)
    return None
