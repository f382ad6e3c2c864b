"""Exports: a conversation decrypted on a member's side, as a signed, printable document.

A member (the client, for their right of access; the therapist, for the clinical record)
writes the messages they opened into one self-contained HTML file, followed by a manifest
that lists each message's number, sender, time, signing key and hash, the document's hash
and both members' identities, signed by the exporter's identity (crypto/SPEC.md,
"Exports")::

    file          = document || "<!--confide-export-manifest\\n" || manifest || "\\n-->\\n"
    message_hash  = SHA-256("confide/v1/export-message" || conversation_id || u64(seq)
                            || role || u64(time) || opened || signer(32) || u32(len(text))
                            || text)
    manifest      = canonical JSON of the fields below and "signature"
    signature     = Ed25519-Sign(exporter_sign_sk, "confide/v1/export" || canonical JSON of
                                 the fields without "signature")

The document is rendered deterministically from the manifest's fields and the texts, so
that the browser and this package write the same bytes for the same messages, and a
verifier can say which message was changed, removed or added.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from . import _labels
from ._fields import MAX_SAFE_INTEGER, coerce_id, require_bytes, require_type, u32, u64
from ._primitives import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, verify_detached
from .encoding import b64decode, b64encode
from .errors import BindingError, FormatError, UnsupportedVersionError
from .identity import IdentityKeyPair, PublicIdentity
from .safety import format_identity_number, format_safety_number, identity_number, safety_number

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "MAX_EXPORT_TIME",
    "ExportMember",
    "ExportMessage",
    "VerifiedExport",
    "export_message_hash",
    "make_export",
    "verify_export",
]

EXPORT_FORMAT = "confide-export"
EXPORT_VERSION = 1
# 9999-12-31T23:59:59.999Z: the last instant both implementations write as a date.
MAX_EXPORT_TIME = 253_402_300_799_999
ROLES = ("client", "therapist")
_ROLE_BYTE = {"client": 0x01, "therapist": 0x02}
MAX_NAME_LENGTH = 200

_START = "<!--confide-export-manifest\n"
_END = "\n-->\n"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ELEMENT = re.compile(r'<li\b[^>]*?\bid="m([0-9]{1,16})"[^>]*>.*?</li>\n', re.DOTALL)
_TEXT = re.compile(r'<p class="text">([^<]*)</p></li>\n\Z')
_UNOPENED = "This message could not be opened when this record was made."

_STYLE = "\n".join(
    (
        "body{font:12pt/1.45 Georgia,'Times New Roman',serif;color:#111;background:#fff;"
        "max-width:44em;margin:2em auto;padding:0 1em}",
        "h1{font-size:1.45em;margin:0 0 .4em}",
        ".facts{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:1em 0}",
        ".facts dt{font-weight:bold}",
        ".facts dd{margin:0;overflow-wrap:anywhere}",
        ".note{font-size:.9em;color:#444}",
        ".messages{list-style:none;margin:1.5em 0;padding:0}",
        ".message{border-top:1px solid #bbb;padding:.5em 0;break-inside:avoid;"
        "page-break-inside:avoid}",
        ".from-therapist{padding-left:1.5em}",
        ".meta{margin:0;font-size:.85em;color:#444}",
        ".seq{font-variant-numeric:tabular-nums}",
        ".sender{font-weight:bold;color:#111}",
        ".text{margin:.25em 0 0;white-space:pre-wrap;overflow-wrap:anywhere}",
        ".unopened{margin:.25em 0 0;font-style:italic;color:#555}",
        "footer{border-top:2px solid #111;margin-top:1.5em;font-size:.9em}",
        "@page{margin:2cm}",
        "@media print{body{max-width:none;margin:0;padding:0;font-size:11pt}.note{color:#000}}",
    )
)


@dataclasses.dataclass(frozen=True, slots=True)
class ExportMember:
    """One of the conversation's two members: their name as the exporter's client shows
    it, and their public identity now (the one whose safety number was compared)."""

    name: str
    identity: PublicIdentity


@dataclasses.dataclass(frozen=True, slots=True)
class ExportMessage:
    """One message of an export. ``sender`` is ``"client"`` or ``"therapist"``; ``time``
    the time it was written, in milliseconds since 1970 (its sender's signed time, else
    the server's); ``signer`` the Ed25519 key of the identity whose signature verified;
    ``text`` its text. A message the exporter could not open has ``text`` and ``signer``
    None, and is listed so that its number is no gap."""

    seq: int
    sender: str
    time: int
    signer: bytes | None
    text: str | None = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class VerifiedExport:
    """What a verified export says, every word of it checked."""

    conversation_id: uuid.UUID
    exporter: str
    exported_at: int
    client: ExportMember
    therapist: ExportMember
    safety_number: str
    document_hash: bytes
    messages: tuple[ExportMessage, ...]

    @property
    def exporter_identity(self) -> PublicIdentity:
        """The identity that signed the export."""
        return (self.client if self.exporter == "client" else self.therapist).identity


# --- checks ---------------------------------------------------------------------------------


def _integer(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FormatError(f"{what} must be an integer from {low} to {high}, not {value!r}")
    return value


def _role(value: object, what: str) -> str:
    if not isinstance(value, str) or value not in ROLES:
        raise FormatError(f"{what} must be 'client' or 'therapist', not {value!r}")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise FormatError(f"{what} must be a str, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError(f"{what} is not valid Unicode (a lone surrogate)") from None
    return value


def _name(value: object, what: str) -> str:
    name = _text(value, what)
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise FormatError(f"{what} must be 1 to {MAX_NAME_LENGTH} characters long")
    return name


def _check_message(message: object, number: int) -> ExportMessage:
    what = f"Message {number} of the export"
    item = require_type(message, ExportMessage, what)
    _integer(item.seq, f"{what}: its number", 1, MAX_SAFE_INTEGER)
    _role(item.sender, f"{what}: its sender")
    _integer(item.time, f"{what}: its time", 0, MAX_EXPORT_TIME)
    if (item.text is None) != (item.signer is None):
        raise FormatError(f"{what}: a text and a signer come together, or neither")
    if item.text is not None:
        _text(item.text, f"{what}: its text")
        signer = require_bytes(item.signer, f"{what}: its signer")
        if len(signer) != PUBLIC_KEY_SIZE:
            raise FormatError(f"{what}: its signer must be {PUBLIC_KEY_SIZE} bytes")
        return dataclasses.replace(item, signer=signer)
    return item


# --- the canonical parts --------------------------------------------------------------------


def export_message_hash(conversation_id: uuid.UUID | bytes, message: ExportMessage) -> bytes:
    """The 32-byte SHA-256 a manifest lists for ``message`` (crypto/SPEC.md, "Exports")."""
    conversation = coerce_id(conversation_id, "The conversation id")
    item = _check_message(message, 1)
    return _message_hash(conversation, item)


def _message_hash(conversation: bytes, item: ExportMessage) -> bytes:
    text = b"" if item.text is None else item.text.encode("utf-8")
    signer = bytes(PUBLIC_KEY_SIZE) if item.signer is None else item.signer
    body = (
        _labels.EXPORT_MESSAGE
        + conversation
        + u64(item.seq)
        + bytes([_ROLE_BYTE[item.sender]])
        + u64(item.time)
        + bytes([0x00 if item.text is None else 0x01])
        + signer
        + u32(len(text))
        + text
    )
    return hashlib.sha256(body).digest()


def _canonical(value: Any) -> str:
    """JSON with sorted keys, no spaces, every character outside printable ASCII and
    ``< > &`` written as ``\\u`` escapes (lowercase hex)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#39;", "'")
        .replace("&amp;", "&")
    )


def _instant(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _iso(ms: int) -> str:
    at = _instant(ms)
    return f"{at.year:04d}-{at.strftime('%m-%dT%H:%M:%S')}.{ms % 1000:03d}Z"


def _readable(ms: int) -> str:
    at = _instant(ms)
    return f"{at.year:04d}-{at.strftime('%m-%d %H:%M')} UTC"


def _element(item: ExportMessage, name: str) -> str:
    signer = "" if item.signer is None else b64encode(item.signer)
    body = (
        f'<p class="unopened">{_UNOPENED}</p>'
        if item.text is None
        else f'<p class="text">{_escape(item.text)}</p>'
    )
    return (
        f'<li class="message from-{item.sender}" id="m{item.seq}" data-seq="{item.seq}"'
        f' data-sender="{item.sender}" data-time="{item.time}" data-signer="{signer}">'
        f'<p class="meta"><span class="seq">#{item.seq}</span> <span class="sender">'
        f'{_escape(name)}</span> <time datetime="{_iso(item.time)}">{_readable(item.time)}'
        f"</time></p>{body}</li>\n"
    )


def _document(
    conversation: uuid.UUID,
    exporter: str,
    exported_at: int,
    members: dict[str, ExportMember],
    number: str,
    messages: Sequence[ExportMessage],
) -> str:
    client = _escape(members["client"].name)
    therapist = _escape(members["therapist"].name)
    count = len(messages)
    counted = "1 message" if count == 1 else f"{count} messages"
    parts = [
        "<!DOCTYPE html>\n",
        '<html lang="en">\n',
        "<head>\n",
        '<meta charset="utf-8">\n',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';'
        " style-src 'unsafe-inline'\">\n",
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f'<meta name="generator" content="{EXPORT_FORMAT} {EXPORT_VERSION}">\n',
        f"<title>Messages between {client} and {therapist}</title>\n",
        f"<style>\n{_STYLE}\n</style>\n",
        "</head>\n",
        "<body>\n",
        "<header>\n",
        f"<h1>Messages between {client} and {therapist}</h1>\n",
        '<dl class="facts">\n',
        f"<dt>Client</dt><dd>{client}</dd>\n",
        f"<dt>Therapist</dt><dd>{therapist}</dd>\n",
        f"<dt>Exported by</dt><dd>{_escape(members[exporter].name)} ({exporter})</dd>\n",
        f'<dt>Exported on</dt><dd><time datetime="{_iso(exported_at)}">'
        f"{_readable(exported_at)}</time></dd>\n",
        f"<dt>Messages</dt><dd>{count}</dd>\n",
        f"<dt>Conversation</dt><dd><code>{conversation}</code></dd>\n",
        f"<dt>Safety number</dt><dd><code>{format_safety_number(number)}</code></dd>\n",
        "</dl>\n",
        '<p class="note">Decrypted on the exporter\'s own device and signed with their key.'
        " The signed list at the end of this file names every message; anyone can check"
        " that none was changed, removed or added with <code>confide-chat verify-export"
        " FILE</code>. Times are in UTC.</p>\n",
        "</header>\n",
        "<main>\n",
        '<ol class="messages">\n',
        *(_element(item, members[item.sender].name) for item in messages),
        "</ol>\n",
        "</main>\n",
        f"<footer><p>End of the record: {counted}.</p></footer>\n",
        "</body>\n",
        "</html>\n",
    ]
    return "".join(parts)


# --- making ---------------------------------------------------------------------------------


def make_export(
    exporter: IdentityKeyPair,
    conversation_id: uuid.UUID | bytes,
    *,
    client: ExportMember,
    therapist: ExportMember,
    messages: Sequence[ExportMessage],
    exported_at: int,
) -> bytes:
    """The export file of ``messages`` (in increasing ``seq``), signed by ``exporter``.

    ``exporter`` must be one of the two members (by its keys). Raises :class:`FormatError`
    for an argument of the wrong type or out of range, for messages out of order, and for
    an exporter who is neither member.
    """
    signer = require_type(exporter, IdentityKeyPair, "The exporter")
    conversation = uuid.UUID(bytes=coerce_id(conversation_id, "The conversation id"))
    members = {
        "client": require_type(client, ExportMember, "The client"),
        "therapist": require_type(therapist, ExportMember, "The therapist"),
    }
    for role, member in members.items():
        _name(member.name, f"The {role}'s name")
        require_type(member.identity, PublicIdentity, f"The {role}'s identity")
    _integer(exported_at, "The export's time", 0, MAX_EXPORT_TIME)
    if not isinstance(messages, Sequence) or isinstance(messages, str | bytes):
        raise FormatError("The messages must be a sequence of ExportMessage")
    items = [_check_message(message, number) for number, message in enumerate(messages, 1)]
    for before, after in zip(items, items[1:], strict=False):
        if after.seq <= before.seq:
            raise FormatError(f"Message {after.seq} comes after message {before.seq}: not in order")
    own = signer.public.fingerprint()
    roles = [role for role, member in members.items() if member.identity.fingerprint() == own]
    if not roles:
        raise FormatError("The exporter is neither member of the conversation")
    role = roles[0]
    number = safety_number(members["client"].identity, members["therapist"].identity)
    document = _document(conversation, role, exported_at, members, number, items).encode()
    body = _manifest_body(conversation, role, exported_at, members, number, document, items)
    signature = signer._sign(_labels.EXPORT + _canonical(body).encode("ascii"))
    manifest = _canonical({**body, "signature": b64encode(signature)})
    return document + (_START + manifest + _END).encode("ascii")


def _manifest_body(
    conversation: uuid.UUID,
    exporter: str,
    exported_at: int,
    members: dict[str, ExportMember],
    number: str,
    document: bytes,
    items: Sequence[ExportMessage],
) -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "conversation": str(conversation),
        "exporter": exporter,
        "exported_at": exported_at,
        "members": {
            role: {"name": member.name, "identity": b64encode(member.identity.to_bytes())}
            for role, member in members.items()
        },
        "safety_number": number,
        "document": b64encode(hashlib.sha256(document).digest()),
        "messages": [
            {
                "seq": item.seq,
                "sender": item.sender,
                "time": item.time,
                "signer": "" if item.signer is None else b64encode(item.signer),
                "hash": b64encode(_message_hash(conversation.bytes, item)),
            }
            for item in items
        ],
    }


# --- verifying ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Listed:
    seq: int
    sender: str
    time: int
    signer: bytes | None
    hash: bytes


def _split(data: bytes) -> tuple[bytes, bytes]:
    if not data.endswith(_END.encode()):
        raise FormatError(
            "This is not a Confide export, or it was cut short: it does not end with its"
            " signed manifest"
        )
    start = data.rfind(_START.encode())
    if start < 0:
        raise FormatError("This is not a Confide export: it has no signed manifest")
    return data[:start], data[start + len(_START) : len(data) - len(_END)]


def _object(value: object, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        raise FormatError(f"The manifest's {what} must be an object of exactly {sorted(keys)}")
    return value


def _b64(value: object, size: int | None, what: str) -> bytes:
    if not isinstance(value, str):
        raise FormatError(f"The manifest's {what} must be base64url text")
    data = b64decode(value)
    if size is not None and len(data) != size:
        raise FormatError(f"The manifest's {what} must be {size} bytes")
    return data


_TOP = {
    "format",
    "version",
    "conversation",
    "exporter",
    "exported_at",
    "members",
    "safety_number",
    "document",
    "messages",
    "signature",
}


def _read_manifest(text: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise FormatError("The export's manifest is not JSON") from None
    if not isinstance(manifest, dict):
        raise FormatError("The export's manifest is not a JSON object")
    if manifest.get("format") != EXPORT_FORMAT:
        raise FormatError("This is not a Confide export: its manifest names another format")
    version = manifest.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise FormatError("The export's manifest has no version")
    if version != EXPORT_VERSION:
        raise UnsupportedVersionError(f"Unsupported export format version {version}")
    if _canonical(manifest).encode("ascii") != text:
        raise FormatError("The export's manifest is not in its canonical form")
    return _object(manifest, _TOP, "top level")


def _listed(item: object, number: int) -> _Listed:
    fields = _object(item, {"seq", "sender", "time", "signer", "hash"}, f"message {number}")
    signer = None if fields["signer"] == "" else _b64(fields["signer"], PUBLIC_KEY_SIZE, "signer")
    return _Listed(
        seq=_integer(fields["seq"], "A listed message's number", 1, MAX_SAFE_INTEGER),
        sender=_role(fields["sender"], "A listed message's sender"),
        time=_integer(fields["time"], "A listed message's time", 0, MAX_EXPORT_TIME),
        signer=signer,
        hash=_b64(fields["hash"], 32, "message hash"),
    )


def _trusts(
    exporter: PublicIdentity,
    number: str,
    trusted: Iterable[PublicIdentity],
    fingerprints: Iterable[bytes],
    safety_numbers: Iterable[str],
) -> bool:
    own = exporter.fingerprint()
    for identity in trusted:
        if hmac.compare_digest(
            require_type(identity, PublicIdentity, "A trusted identity").fingerprint(), own
        ):
            return True
    for fp in fingerprints:
        if hmac.compare_digest(require_bytes(fp, "A trusted fingerprint"), own):
            return True
    for given in safety_numbers:
        if not isinstance(given, str):
            raise FormatError("A safety number must be text")
        digits = "".join(given.split())
        format_safety_number(digits)
        if hmac.compare_digest(digits.encode(), number.encode()):
            return True
    return False


def verify_export(
    data: bytes,
    *,
    trusted: Iterable[PublicIdentity] = (),
    fingerprints: Iterable[bytes] = (),
    safety_numbers: Iterable[str] = (),
) -> VerifiedExport:
    """Check an export file and return what it says.

    The exporter must be trusted: its identity among ``trusted``, its fingerprint among
    ``fingerprints``, or the members' safety number among ``safety_numbers`` (60 digits,
    spaces allowed). Raises, for the first check that fails (crypto/SPEC.md, "Exports"):
    :class:`FormatError` (not an export, cut short, a malformed manifest),
    :class:`UnsupportedVersionError`, the members' identities' own errors,
    :class:`SignatureError` (the manifest was changed), :class:`BindingError` naming the
    signer you do not know, or naming each message changed, missing or added, or a document
    changed elsewhere.
    """
    raw = require_bytes(data, "The export")
    document, text = _split(raw)
    manifest = _read_manifest(text)
    conversation_text = manifest["conversation"]
    if not isinstance(conversation_text, str) or not _UUID.fullmatch(conversation_text):
        raise FormatError("The manifest's conversation must be a UUID in lowercase")
    conversation = uuid.UUID(conversation_text)
    exporter = _role(manifest["exporter"], "The manifest's exporter")
    exported_at = _integer(manifest["exported_at"], "The export's time", 0, MAX_EXPORT_TIME)
    listed_members = _object(manifest["members"], set(ROLES), "members")
    members: dict[str, ExportMember] = {}
    for role in ROLES:
        entry = _object(listed_members[role], {"name", "identity"}, f"{role}")
        name = _name(entry["name"], f"The {role}'s name")
        members[role] = ExportMember(
            name, PublicIdentity(_b64(entry["identity"], None, "identity"))
        )
    number = safety_number(members["client"].identity, members["therapist"].identity)
    if manifest["safety_number"] != number:
        raise FormatError("The manifest's safety number is not that of its two members")
    document_hash = _b64(manifest["document"], 32, "document hash")
    if not isinstance(manifest["messages"], list):
        raise FormatError("The manifest's messages must be a list")
    listed = [_listed(item, index) for index, item in enumerate(manifest["messages"], 1)]
    for before, after in zip(listed, listed[1:], strict=False):
        if after.seq <= before.seq:
            raise FormatError("The manifest's messages are not in increasing order")
    signature = _b64(manifest["signature"], SIGNATURE_SIZE, "signature")
    signer = members[exporter].identity
    body = {key: value for key, value in manifest.items() if key != "signature"}
    verify_detached(
        signer.sign_key,
        _labels.EXPORT + _canonical(body).encode("ascii"),
        signature,
        "The export's manifest was changed after it was signed: its signature does not verify",
    )
    if not _trusts(signer, number, trusted, fingerprints, safety_numbers):
        raise BindingError(
            "The export was signed by an identity you do not know: the "
            f"{exporter} {members[exporter].name!r}, identity number "
            f"{format_identity_number(identity_number(signer))}. Compare it with them in"
            " person, or give the safety number you compared."
        )
    messages = _check_document(conversation, members, listed, document)
    if not hmac.compare_digest(hashlib.sha256(document).digest(), document_hash):
        raise BindingError(
            "The export was changed after it was signed: its document differs outside the"
            " messages (heading, names or layout)"
        )
    expected = _document(conversation, exporter, exported_at, members, number, messages)
    if expected.encode() != document:
        raise BindingError("The export's document is not the one its manifest describes")
    return VerifiedExport(
        conversation_id=conversation,
        exporter=exporter,
        exported_at=exported_at,
        client=members["client"],
        therapist=members["therapist"],
        safety_number=number,
        document_hash=document_hash,
        messages=tuple(messages),
    )


def _check_document(
    conversation: uuid.UUID,
    members: dict[str, ExportMember],
    listed: Sequence[_Listed],
    document: bytes,
) -> list[ExportMessage]:
    """The messages of the document, each checked against its listing; a BindingError
    naming every message changed, missing or added."""
    text = document.decode("utf-8", errors="replace")
    found: dict[int, list[str]] = {}
    for match in _ELEMENT.finditer(text):
        found.setdefault(int(match.group(1)), []).append(match.group(0))
    problems: list[str] = []
    messages: list[ExportMessage] = []
    for entry in listed:
        elements = found.get(entry.seq, [])
        if not elements:
            problems.append(f"message {entry.seq} is missing")
            continue
        if len(elements) > 1:
            problems.append(f"message {entry.seq} appears {len(elements)} times")
            continue
        message = _read_element(conversation, members, entry, elements[0])
        if message is None:
            problems.append(f"message {entry.seq} was changed")
        else:
            messages.append(message)
    known = {entry.seq for entry in listed}
    problems.extend(f"message {seq} was added" for seq in sorted(set(found) - known))
    if problems:
        raise BindingError("The export was changed after it was signed: " + "; ".join(problems))
    return messages


def _read_element(
    conversation: uuid.UUID,
    members: dict[str, ExportMember],
    entry: _Listed,
    element: str,
) -> ExportMessage | None:
    match = _TEXT.search(element)
    if entry.signer is None:
        text = None
    elif match is None:
        return None
    else:
        text = _unescape(match.group(1))
    message = ExportMessage(entry.seq, entry.sender, entry.time, entry.signer, text)
    if _element(message, members[entry.sender].name) != element:
        return None
    if not hmac.compare_digest(_message_hash(conversation.bytes, message), entry.hash):
        return None
    return message
