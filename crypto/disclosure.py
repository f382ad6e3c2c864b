"""Disclosure records: a therapist's account of one disclosure outside the conversation,
sealed to the conversation and signed by the therapist (crypto/SPEC.md, "Disclosure
records").

::

    header = 0x01 || conversation_id(16) || u32(epoch) || recorder_sign_pk(32)
             || disclosure_id(16) || nonce(24)                               (93 bytes)
    dk     = H(epoch_key, "confide/v1/disclosure-key")
    ct     = AEAD(dk, nonce, pad(description), ad = "confide/v1/disclosure" || header)
    sig    = Ed25519-Sign(recorder_sign_sk, "confide/v1/disclosure-sig" || header || ct)
    record = header || ct || sig

The layout is a version-1 message's, but every derivation has labels of its own: the key,
the associated data and the signature. So a disclosure opened as a message (or a message
as a disclosure) fails its signature, and one re-signed by a member who holds the signing
key fails decryption. ``description`` is the canonical JSON of
:class:`DisclosureDescription`.
"""

from __future__ import annotations

import dataclasses
import datetime
import hmac
import json
import re
import uuid

from . import _labels
from ._fields import (
    ID_SIZE,
    Reader,
    check_epoch,
    check_version,
    coerce_id,
    require_bytes,
    require_type,
    u32,
)
from ._primitives import (
    NONCE_SIZE,
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    TAG_SIZE,
    aead_decrypt,
    aead_encrypt,
    h,
    new_nonce,
    verify_detached,
)
from .conversation import ConversationKey
from .errors import BindingError, FormatError
from .identity import IdentityKeyPair, PublicIdentity
from .padding import BUCKETS, pad, padded_size, unpad

__all__ = [
    "DISCLOSURE_HEADER_SIZE",
    "DISCLOSURE_OVERHEAD",
    "DISCLOSURE_VERSION",
    "LEGAL_BASES",
    "MAX_DESCRIPTION",
    "MAX_DISCLOSURE_SIZE",
    "DisclosureDescription",
    "DisclosureInfo",
    "open_disclosure",
    "parse_disclosure",
    "seal_disclosure",
    "verify_disclosure",
]

DISCLOSURE_VERSION = 0x01
DISCLOSURE_HEADER_SIZE = 1 + ID_SIZE + 4 + PUBLIC_KEY_SIZE + ID_SIZE + NONCE_SIZE  # 93
DISCLOSURE_OVERHEAD = DISCLOSURE_HEADER_SIZE + TAG_SIZE + SIGNATURE_SIZE  # 173
# The longest description: the UTF-8 of its JSON fills at most an 8192-byte bucket.
MAX_DESCRIPTION = 8192 - 4
MAX_DISCLOSURE_SIZE = padded_size(MAX_DESCRIPTION) + DISCLOSURE_OVERHEAD  # 8365
_SIZES = frozenset(
    bucket + DISCLOSURE_OVERHEAD for bucket in BUCKETS if bucket <= padded_size(MAX_DESCRIPTION)
)

LEGAL_BASES: tuple[str, ...] = (
    "duty_to_protect",
    "mandated_report",
    "court_order",
    "client_authorised",
    "other_law",
)
_FIELDS = ("disclosed_on", "legal_basis", "recipient", "information", "purpose")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Control characters other than the line feed, and DEL: never part of a description, so
# that JSON escapes only '"', '\' and the line feed, the same in every language.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _check_date(value: object, what: str) -> datetime.date:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise FormatError(f"{what} must be a date, not {type(value).__name__}")
    return value


def _parse_date(text: object) -> datetime.date:
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise FormatError("The date of a disclosure must be written YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise FormatError(
            f"The date of a disclosure is not a day of the calendar: {text}"
        ) from None


def _check_basis(value: object, what: str) -> str:
    if not isinstance(value, str) or value not in LEGAL_BASES:
        raise FormatError(f"{what} must be one of {', '.join(LEGAL_BASES)}")
    return value


def _check_text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise FormatError(f"The {name} of a disclosure must be a str, not {type(value).__name__}")
    if not value:
        raise FormatError(f"The {name} of a disclosure is empty")
    if _CONTROL.search(value):
        raise FormatError(f"The {name} of a disclosure holds a control character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError(f"The {name} of a disclosure is not valid Unicode") from None
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class DisclosureDescription:
    """What the therapist records of one disclosure: the day it was made, its legal basis
    (one of :data:`LEGAL_BASES`), to whom, what was disclosed and why. The three texts are
    at least one character each, with no control character but the line feed; their repr
    is hidden. Raises :class:`FormatError` for any other value."""

    disclosed_on: datetime.date
    legal_basis: str
    recipient: str = dataclasses.field(repr=False)
    information: str = dataclasses.field(repr=False)
    purpose: str = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        _check_date(self.disclosed_on, "The date of a disclosure")
        _check_basis(self.legal_basis, "The legal basis of a disclosure")
        for name in ("recipient", "information", "purpose"):
            _check_text(getattr(self, name), name)

    def to_json(self) -> bytes:
        """The canonical encoding: UTF-8 JSON, members in this order, no whitespace."""
        fields = {
            "disclosed_on": self.disclosed_on.isoformat(),
            "legal_basis": self.legal_basis,
            "recipient": self.recipient,
            "information": self.information,
            "purpose": self.purpose,
        }
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> DisclosureDescription:
        """Reads a description; :class:`FormatError` unless ``data`` is exactly the
        canonical encoding of one."""
        try:
            fields = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise FormatError("The disclosure's description is not UTF-8 JSON") from None
        if not isinstance(fields, dict) or list(fields) != list(_FIELDS):
            raise FormatError(
                "The disclosure's description must be an object of exactly "
                + ", ".join(_FIELDS)
                + ", in that order"
            )
        for name in ("recipient", "information", "purpose"):
            _check_text(fields[name], name)
        description = cls(
            _parse_date(fields["disclosed_on"]),
            _check_basis(fields["legal_basis"], "The legal basis of a disclosure"),
            fields["recipient"],
            fields["information"],
            fields["purpose"],
        )
        if description.to_json() != data:
            raise FormatError("The disclosure's description is not in its canonical form")
        return description


@dataclasses.dataclass(frozen=True, slots=True)
class DisclosureInfo:
    """The public header fields of a disclosure record, and its padded size."""

    version: int
    conversation_id: bytes
    epoch: int
    recorder_sign_pk: bytes
    disclosure_id: bytes
    padded_size: int

    @property
    def conversation_uuid(self) -> uuid.UUID:
        return uuid.UUID(bytes=self.conversation_id)

    @property
    def disclosure_uuid(self) -> uuid.UUID:
        return uuid.UUID(bytes=self.disclosure_id)


@dataclasses.dataclass(frozen=True, slots=True)
class _Record:
    info: DisclosureInfo
    header: bytes
    nonce: bytes
    ciphertext: bytes
    signature: bytes


def _split(record: bytes) -> _Record:
    data = require_bytes(record, "A disclosure record")
    check_version(data, DISCLOSURE_VERSION, "disclosure record")
    if len(data) not in _SIZES:
        raise FormatError(
            f"A disclosure record must be {DISCLOSURE_OVERHEAD} bytes longer than a padding "
            f"bucket from 256 to 8192; this one is {len(data)} bytes long"
        )
    reader = Reader(data)
    reader.take(1)
    conversation_id = reader.take(ID_SIZE)
    epoch = reader.take_u32()
    recorder = reader.take(PUBLIC_KEY_SIZE)
    disclosure_id = reader.take(ID_SIZE)
    nonce = reader.take(NONCE_SIZE)
    ciphertext = reader.take(len(data) - DISCLOSURE_HEADER_SIZE - SIGNATURE_SIZE)
    info = DisclosureInfo(
        DISCLOSURE_VERSION,
        conversation_id,
        epoch,
        recorder,
        disclosure_id,
        len(ciphertext) - TAG_SIZE,
    )
    return _Record(info, data[:DISCLOSURE_HEADER_SIZE], nonce, ciphertext, reader.rest())


def _verify(parsed: _Record, recorder: PublicIdentity) -> None:
    verify_detached(
        recorder.sign_key,
        _labels.DISCLOSURE_SIG + parsed.header + parsed.ciphertext,
        parsed.signature,
        "The disclosure record's signature does not verify under the expected recorder's key",
    )
    if not hmac.compare_digest(parsed.info.recorder_sign_pk, recorder.sign_key):
        raise BindingError("The disclosure record names another recorder than the expected one")


def _key(key: ConversationKey) -> bytes:
    return h(key._key, _labels.DISCLOSURE_KEY)


def seal_disclosure(
    description: DisclosureDescription,
    key: ConversationKey,
    conversation_id: bytes | uuid.UUID,
    epoch: int,
    recorder: IdentityKeyPair,
    disclosure_id: bytes | uuid.UUID,
) -> bytes:
    """Pad, encrypt under the epoch's disclosure key and sign a description.

    Raises :class:`FormatError` for a description whose encoding is over
    ``MAX_DESCRIPTION`` (8188) bytes, a bad id, an epoch outside ``u32`` or an argument of
    the wrong type. ``disclosure_id`` must be fresh for every record (a random UUID).
    """
    description = require_type(description, DisclosureDescription, "The description")
    encoded = description.to_json()
    if len(encoded) > MAX_DESCRIPTION:
        raise FormatError(
            f"A disclosure's description may be at most {MAX_DESCRIPTION} bytes of UTF-8 "
            f"JSON, not {len(encoded)}"
        )
    key = require_type(key, ConversationKey, "The conversation key")
    conversation = coerce_id(conversation_id, "The conversation id")
    epoch = check_epoch(epoch)
    recorder = require_type(recorder, IdentityKeyPair, "The recorder")
    record_id = coerce_id(disclosure_id, "The disclosure id")
    return _seal_encoded(encoded, key, conversation, epoch, recorder, record_id)


def _seal_encoded(
    encoded: bytes,
    key: ConversationKey,
    conversation: bytes,
    epoch: int,
    recorder: IdentityKeyPair,
    record_id: bytes,
) -> bytes:
    """Seal already encoded bytes; the arguments are already checked (the vectors use it
    to forge authentic records whose description is not canonical)."""
    nonce = new_nonce()
    header = (
        bytes([DISCLOSURE_VERSION])
        + conversation
        + u32(epoch)
        + recorder.sign_key
        + record_id
        + nonce
    )
    ciphertext = aead_encrypt(_key(key), nonce, pad(encoded), _labels.DISCLOSURE + header)
    return header + ciphertext + recorder._sign(_labels.DISCLOSURE_SIG + header + ciphertext)


def open_disclosure(
    record: bytes,
    key: ConversationKey,
    recorder: PublicIdentity,
    conversation_id: bytes | uuid.UUID,
    epoch: int,
    disclosure_id: bytes | uuid.UUID,
    disclosed_on: datetime.date,
    legal_basis: str,
) -> DisclosureDescription:
    """Verify, decrypt and read a disclosure record.

    ``disclosed_on`` and ``legal_basis`` are the plain metadata the server gave with it.
    Checks, in this order, raising at the first failure: version
    (:class:`UnsupportedVersionError`) and length (:class:`FormatError`); the arguments
    (:class:`FormatError`); the signature under ``recorder``'s key
    (:class:`SignatureError`); that the header names ``recorder``, the conversation, the
    epoch and the disclosure id (:class:`BindingError`); decryption
    (:class:`DecryptionError`); padding and the description (:class:`FormatError`); that
    the description's date and legal basis are the server's (:class:`BindingError`).
    """
    parsed = _split(record)
    key = require_type(key, ConversationKey, "The conversation key")
    recorder = require_type(recorder, PublicIdentity, "The recorder")
    conversation = coerce_id(conversation_id, "The conversation id")
    epoch = check_epoch(epoch)
    record_id = coerce_id(disclosure_id, "The disclosure id")
    expected_date = _check_date(disclosed_on, "The expected date")
    expected_basis = _check_basis(legal_basis, "The expected legal basis")
    _verify(parsed, recorder)
    info = parsed.info
    if not hmac.compare_digest(info.conversation_id, conversation):
        raise BindingError("The disclosure record belongs to another conversation")
    if info.epoch != epoch:
        raise BindingError(f"The disclosure record is for epoch {info.epoch}, not epoch {epoch}")
    if not hmac.compare_digest(info.disclosure_id, record_id):
        raise BindingError("The disclosure record carries another disclosure id than expected")
    padded = aead_decrypt(
        _key(key),
        parsed.nonce,
        parsed.ciphertext,
        _labels.DISCLOSURE + parsed.header,
        "The disclosure record could not be decrypted: the epoch key is wrong or it was altered",
    )
    description = DisclosureDescription.from_json(unpad(padded))
    if description.disclosed_on != expected_date:
        raise BindingError("The sealed date of the disclosure is not the one the server gave")
    if description.legal_basis != expected_basis:
        raise BindingError(
            "The sealed legal basis of the disclosure is not the one the server gave"
        )
    return description


def parse_disclosure(record: bytes) -> DisclosureInfo:
    """Read a record's public header, checking only its version and length.

    Warning: nothing is authenticated; use :func:`verify_disclosure` before trusting it.
    """
    return _split(record).info


def verify_disclosure(record: bytes, recorder: PublicIdentity) -> DisclosureInfo:
    """Check a record's shape and signature without any key (for the server).

    Raises :class:`UnsupportedVersionError`/:class:`FormatError` for a bad shape,
    :class:`SignatureError` if not signed by ``recorder``, :class:`BindingError` if the
    header names another recorder. The caller still compares conversation, epoch and id.
    """
    parsed = _split(record)
    _verify(parsed, require_type(recorder, PublicIdentity, "The recorder"))
    return parsed.info
