"""The hash chain over recorded events (SPEC section 5), and content fingerprints."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

GENESIS = "0" * 64
# The envelope fields in the order they are stored; the hash covers all but `hash`.
ENVELOPE_FIELDS = (
    "id",
    "position",
    "type",
    "occurred_on",
    "data",
    "source",
    "note",
    "key",
    "recorded_at",
    "recorded_by",
    "imported_from",
)


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON of an envelope.

    orjson with sorted keys writes the same bytes as RFC 8785 for what envelopes hold (ASCII
    keys, strings, integers below 2**53, no floats); tests/test_chain.py holds the two equal.
    """
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def link(previous: str, envelope: dict[str, Any]) -> str:
    """hash_n = hex(SHA-256(ASCII(hash_n-1) || RFC8785(envelope_n without hash)))."""
    body = {name: value for name, value in envelope.items() if name != "hash"}
    return hashlib.sha256(previous.encode("ascii") + canonical(body)).hexdigest()


def seal(previous: str, envelope: dict[str, Any]) -> tuple[str, bytes]:
    """The hash of a new event and its stored form: the canonical envelope, hash last.

    Storing the canonical bytes lets `unseal` recompute the chain without re-encoding.
    """
    body = canonical(envelope)
    hash_ = hashlib.sha256(previous.encode("ascii") + body).hexdigest()
    return hash_, body[:-1] + b',"hash":"' + hash_.encode("ascii") + b'"}'


_HASH_MEMBER = len(b',"hash":"') + 64 + len(b'"}')


def unseal(previous: str, stored: bytes) -> tuple[str, str] | None:
    """The hash a stored event claims, and the one its bytes and the chain give (None: not sealed)."""
    if len(stored) < _HASH_MEMBER + 2 or stored[-_HASH_MEMBER:-66] != b',"hash":"' or stored[-2:] != b'"}':
        return None
    body = stored[:-_HASH_MEMBER] + b"}"
    claimed = stored[-66:-2].decode("ascii", "replace")
    return claimed, hashlib.sha256(previous.encode("ascii") + body).hexdigest()


def fingerprint(content: dict[str, Any]) -> str:
    """What makes two events the same event: type, occurred_on, data, source and note."""
    same = {
        name: content[name] for name in ("type", "occurred_on", "data", "source", "note") if name in content
    }
    return hashlib.sha256(canonical(same)).hexdigest()
