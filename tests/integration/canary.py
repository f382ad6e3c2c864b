"""Looking for secrets in what the server keeps or passes on.

A secret may leak in many spellings: as raw bytes, as text, in hex (how pg_dump and SQLite
print binary columns), in base64 or base64url at any alignment inside a longer encoded
blob, or escaped the way ``redis-cli MONITOR`` prints binary arguments. ``spellings``
lists them all, so a scan finds a leak whatever wrapped it.
"""

from __future__ import annotations

import base64
import string
from collections.abc import Mapping

_PRINTABLE = frozenset(string.printable.encode()) - frozenset(b"\t\n\r\x0b\x0c")
_REDIS_ESCAPES = {ord("\\"): b"\\\\", ord('"'): b'\\"', 10: b"\\n", 13: b"\\r", 9: b"\\t"}
_REDIS_ESCAPES.update({7: b"\\a", 8: b"\\b"})


def _base64_cores(secret: bytes) -> set[bytes]:
    """The base64 and base64url characters that depend only on ``secret``, for each of the
    three alignments it can have inside a longer encoded blob."""
    cores = set()
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\x00" * offset + secret)
            first = (8 * offset + 5) // 6
            last = (8 * (offset + len(secret))) // 6
            cores.add(encoded[first:last])
    return cores


def redis_repr(data: bytes) -> bytes:
    """How redis-cli MONITOR prints an argument (its ``sdscatrepr``)."""
    out = bytearray()
    for byte in data:
        if byte in _REDIS_ESCAPES:
            out += _REDIS_ESCAPES[byte]
        elif byte in _PRINTABLE:
            out.append(byte)
        else:
            out += f"\\x{byte:02x}".encode()
    return bytes(out)


def spellings(secret: bytes | str) -> set[bytes]:
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    forms = {raw, raw.hex().encode(), raw.hex().upper().encode(), redis_repr(raw)}
    forms |= _base64_cores(raw)
    return {form for form in forms if len(form) >= 8}


def leaks(haystack: bytes, secrets: Mapping[str, bytes | str]) -> list[str]:
    """The names of the secrets found in ``haystack``, in any spelling."""
    return sorted(
        name for name, secret in secrets.items() if any(f in haystack for f in spellings(secret))
    )


def notice_leaks(notice: bytes, *texts: str) -> list[str]:
    """What a notification sent in a test (an email whole, or a push as the push service
    received and decrypted it) gives away, in any spelling: the texts of the messages it
    is about, the personas' names, the practice's name. It must be nothing."""
    from tests.personas import NAMES

    secrets: dict[str, bytes | str] = {f"message {i}": text for i, text in enumerate(texts)}
    secrets |= {f"name of the {who}": name for who, name in NAMES.items()}
    secrets["practice"] = "Demo Practice"
    found = set(leaks(notice, secrets))
    # Names are short: ``spellings`` leaves out forms under 8 bytes, so each is also looked
    # for as it is written (all but the shortest, which random base64 would hold by chance).
    found |= {
        label
        for label, secret in secrets.items()
        if isinstance(secret, str) and len(secret) >= 4 and secret.encode() in notice
    }
    return sorted(found)
