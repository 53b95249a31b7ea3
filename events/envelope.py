"""One event as a user writes it: the JSON envelope, checked field by field."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from uuid import UUID

import orjson
from msgspec import Struct

from .catalog import EVENT_TYPES, Event
from .dates import DateError, Edtf, ascii_digits, parse_edtf
from .fields import MAX_INT, FieldError, PartyResolver, convert, load, no_nul, type_name

MAX_LINE_BYTES = 1_000_000
MAX_IMPORT_DEPTH = 32
CONTENT_FIELDS = ("type", "occurred_on", "data", "source", "note", "key")
RECORD_FIELDS = ("id", "position", "hash", "recorded_at", "recorded_by", "imported_from")
SOURCE_FIELDS = ("title", "url", "published_on", "publisher", "page")
_HASH = re.compile(r"[0-9a-f]{64}")
# A UUID as the ledger writes one (lower case, hyphenated): `str(UUID(text))` gives it back.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Draft(Struct, frozen=True):
    """An event not yet recorded: its typed data and its content as it will be stored."""

    type: str
    occurred_on: Edtf | None
    data: Event
    content: dict[str, Any]  # type, occurred_on, data (normalised), source, note, key
    id: str | None = None
    imported_from: dict[str, Any] | None = None

    @property
    def key(self) -> str | None:
        return self.content.get("key")


class _DuplicateKey(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _DuplicateKey
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# The standard library's C decoder hands every object's pairs over, so a repeated key is seen
# (orjson, like json.loads, keeps the last one silently).
_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant)


def parse_json(text: bytes | str) -> Any:
    """Parse one JSON document strictly: no duplicate keys, NaN, huge texts or invalid UTF-8."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if len(raw) > MAX_LINE_BYTES:
        raise FieldError("", f"longer than {MAX_LINE_BYTES} bytes")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FieldError("", f"not valid UTF-8 (byte {error.start + 1})") from None
    try:
        value = _DECODER.decode(decoded)
    except _DuplicateKey:
        raise FieldError("", "an object has the same key twice") from None
    except RecursionError:
        raise FieldError("", "not valid JSON: nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, NaN and Infinity
        raise FieldError("", f"not valid JSON: {error}") from None
    if "\\u" in decoded:
        try:  # an escaped lone surrogate decodes, but is no text: orjson says so
            orjson.dumps(value)
        except orjson.JSONEncodeError:
            raise FieldError("", "not valid JSON: a string holds a lone surrogate") from None
    return value


def parse_event(value: Any, resolve: PartyResolver) -> Draft:
    """Check an envelope and its data; party ids are resolved (and checked) by `resolve`."""
    if not isinstance(value, dict):
        raise FieldError("", f"expected a JSON object, got {type_name(value)}")
    for name in value:
        if name not in CONTENT_FIELDS and name not in RECORD_FIELDS:
            raise FieldError(name, "unknown top-level field")
    type_ = value.get("type")
    cls = EVENT_TYPES.get(type_) if isinstance(type_, str) else None
    if cls is None or not isinstance(type_, str):
        raise FieldError("type", f"{type_!r} is not an event type ({', '.join(EVENT_TYPES)})")
    content: dict[str, Any] = {"type": type_}
    occurred_on = _occurred_on(value.get("occurred_on"), required=type_ != "EventRetracted")
    if occurred_on is not None:
        content["occurred_on"] = occurred_on.text
    data, content["data"] = convert(cls, value.get("data"), "data", resolve)
    if value.get("source") is not None:
        content["source"] = _source(value["source"])
    for name in ("note", "key"):
        if value.get(name) is not None:
            content[name] = _string(value[name], name)
    provenance = _imported_from(value) if len(value) > len(content) + ("id" in value) else None
    return Draft(type_, occurred_on, data, content, _event_id(value.get("id")), provenance)


def parse_stored(envelope: dict[str, Any], resolve: PartyResolver) -> Draft:
    """Check a stored envelope as the ledger writes one: every field valid, in the form the
    ledger stores (party ids resolved, ids lower-case), and the fields the ledger adds well formed.

    The hash and the position are the chain's to check.
    """
    content = {name: envelope[name] for name in CONTENT_FIELDS if name in envelope}
    draft = parse_event(content, resolve)
    for name in CONTENT_FIELDS:
        if draft.content.get(name) != content.get(name):
            raise FieldError(name, "not in the form the ledger stores")
    if not isinstance(envelope.get("id"), str) or _event_id(envelope["id"]) != envelope["id"]:
        raise FieldError("id", "not a UUID as the ledger writes one")
    if not isinstance(envelope.get("recorded_by"), str):
        raise FieldError("recorded_by", "expected a string")
    origin = envelope.get("imported_from")
    if origin is not None and (not isinstance(origin, dict) or _imported_from(origin) != origin):
        raise FieldError("imported_from", "not provenance as the ledger writes it")
    return draft


def _occurred_on(value: Any, required: bool) -> Edtf | None:
    if value is None:
        if required:
            raise FieldError("occurred_on", "required: the EDTF date the event happened")
        return None
    if not isinstance(value, str):
        raise FieldError("occurred_on", f"expected an EDTF date string, got {type_name(value)}")
    try:
        return parse_edtf(ascii_digits(value))
    except DateError as error:
        raise FieldError("occurred_on", str(error)) from None


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldError(path, f"expected a non-blank string, got {type_name(value)}")
    no_nul(value, path)
    return value


def _source(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError("source", f"expected an object, got {type_name(value)}")
    value = dict(value)
    for name, field in value.items():
        path = f"source.{name}"
        if name not in SOURCE_FIELDS:
            raise FieldError(path, f"unknown source field (fields: {', '.join(SOURCE_FIELDS)})")
        if name == "page" and isinstance(field, int) and not isinstance(field, bool):
            if not 0 <= field < MAX_INT:
                raise FieldError(path, "page number out of range")
            continue
        _string(field, path)
        if name == "published_on":
            try:
                value[name] = parse_edtf(ascii_digits(field)).text
            except DateError as error:
                raise FieldError(path, str(error)) from None
    return value


def _event_id(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is str and _UUID.fullmatch(value):
        return value  # already as the ledger writes it: every stored event's id
    try:
        return str(UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise FieldError("id", f"{value!r} is not a UUID") from None


def _imported_from(value: dict[str, Any], path: str = "") -> dict[str, Any] | None:
    """What a line says of the ledger it came from, kept as provenance."""
    origin: dict[str, Any] = {}
    if value.get("position") is not None:
        position = value["position"]
        if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position < MAX_INT:
            raise FieldError(f"{path}position", "expected a position (a whole number from 1)")
        origin["position"] = position
    if value.get("hash") is not None:
        if not isinstance(value["hash"], str) or not _HASH.fullmatch(value["hash"]):
            raise FieldError(f"{path}hash", "expected 64 lower-case hex digits")
        origin["hash"] = value["hash"]
    for name in ("recorded_at", "recorded_by"):
        if value.get(name) is not None:
            origin[name] = _string(value[name], f"{path}{name}")
    earlier = value.get("imported_from")
    if earlier is not None:
        if not isinstance(earlier, dict):
            raise FieldError(f"{path}imported_from", f"expected an object, got {type_name(earlier)}")
        if path.count(".") >= MAX_IMPORT_DEPTH:
            raise FieldError(f"{path}imported_from", f"nested deeper than {MAX_IMPORT_DEPTH} imports")
        for name in earlier:
            if name not in RECORD_FIELDS or name == "id":
                raise FieldError(f"{path}imported_from.{name}", "unknown provenance field")
        origin["imported_from"] = _imported_from(earlier, f"{path}imported_from.")
    return origin or None


class Recorded(Struct, frozen=True):
    """An event as the ledger holds it: the stored envelope and its typed data."""

    position: int
    type: str
    occurred_on: Edtf | None
    data: Event
    envelope: dict[str, Any]  # id, position, type, occurred_on, data, ..., recorded_at, hash

    @property
    def id(self) -> str:
        return self.envelope["id"]

    @property
    def recorded_at(self) -> str:
        return self.envelope["recorded_at"]

    @property
    def day(self) -> date | None:
        return self.occurred_on.day if self.occurred_on else None


def decode(envelope: dict[str, Any]) -> Recorded:
    """Type a stored envelope: its fields were checked, and its ids resolved, when recorded."""
    type_ = envelope["type"]
    data = load(EVENT_TYPES[type_], envelope["data"])
    occurred_on = envelope.get("occurred_on")
    return Recorded(
        envelope["position"], type_, parse_edtf(occurred_on) if occurred_on else None, data, envelope
    )
