"""Messages: padded, encrypted under the epoch's message key, and signed by the sender.

::

    header = 0x01 || conversation_id(16) || u32(epoch) || sender_sign_pk(32)
             || client_message_id(16) || nonce(24)                           (93 bytes)
    header = 0x02 || conversation_id(16) || u32(epoch) || sender_sign_pk(32)
             || client_message_id(16) || chain(8) || u32(counter) || u64(sent_at)
             || previous(32) || nonce(24)                                   (145 bytes)
    mk     = H(epoch_key, "confide/v1/message-key")
    ct     = AEAD(mk, nonce, pad(plaintext), ad = "confide/v1/message" || header)
    sig    = Ed25519-Sign(sender_sign_sk, "confide/v1/message-sig" || header || ct)
    wire   = header || ct || sig

The wire size is the padded size plus 173 bytes (version 1: 93 header, 16 tag, 64
signature) or 225 bytes (version 2). Version 2 carries the sender's own order (its chain,
counter and clock, and the reference of the newest message it held), signed, so that a
receiver can tell a withheld or reordered message (crypto/order.py).
"""

from __future__ import annotations

import dataclasses
import hmac
import uuid

from . import _labels, _random
from ._fields import (
    ID_SIZE,
    MAX_SAFE_INTEGER,
    U32_MAX,
    Reader,
    check_epoch,
    check_version,
    coerce_id,
    require_bytes,
    require_length,
    require_type,
    u32,
    u64,
)
from ._primitives import (
    HASH_SIZE,
    NONCE_SIZE,
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    TAG_SIZE,
    aead_decrypt,
    aead_encrypt,
    h_unkeyed,
    new_nonce,
    verify_detached,
)
from .conversation import ConversationKey
from .errors import BindingError, FormatError
from .identity import IdentityKeyPair, PublicIdentity
from .padding import BUCKETS, MAX_PADDED, MIN_PADDED, pad, unpad

__all__ = [
    "CHAIN_SIZE",
    "HEADER_SIZE",
    "HEADER_SIZE_V2",
    "MESSAGE_OVERHEAD",
    "MESSAGE_OVERHEAD_V2",
    "MESSAGE_VERSION",
    "MESSAGE_VERSION_2",
    "MessageInfo",
    "MessageOrder",
    "message_reference",
    "new_chain",
    "open_message",
    "open_text",
    "parse_message",
    "seal_message",
    "seal_text",
    "verify_message",
]

MESSAGE_VERSION = 0x01
MESSAGE_VERSION_2 = 0x02
CHAIN_SIZE = 8
_ORDER_SIZE = CHAIN_SIZE + 4 + 8 + HASH_SIZE  # 52
HEADER_SIZE = 1 + ID_SIZE + 4 + PUBLIC_KEY_SIZE + ID_SIZE + NONCE_SIZE  # 93
HEADER_SIZE_V2 = HEADER_SIZE + _ORDER_SIZE  # 145
MESSAGE_OVERHEAD = HEADER_SIZE + TAG_SIZE + SIGNATURE_SIZE  # 173
MESSAGE_OVERHEAD_V2 = HEADER_SIZE_V2 + TAG_SIZE + SIGNATURE_SIZE  # 225
_HEADER_SIZES = {MESSAGE_VERSION: HEADER_SIZE, MESSAGE_VERSION_2: HEADER_SIZE_V2}
_WIRE_SIZES = {
    version: frozenset(bucket + size + TAG_SIZE + SIGNATURE_SIZE for bucket in BUCKETS)
    for version, size in _HEADER_SIZES.items()
}
NO_PREVIOUS = bytes(HASH_SIZE)


def new_chain() -> bytes:
    """A fresh chain id: 8 random bytes naming one sending session (crypto/SPEC.md)."""
    return _random.random_bytes(CHAIN_SIZE)


def message_reference(wire: bytes) -> bytes:
    """``BLAKE2b-256("confide/v1/message-reference" || wire)``: how a later message names
    this one in its ``previous`` field. Defined for any bytes; nothing is checked."""
    return h_unkeyed(_labels.MESSAGE_REFERENCE + require_bytes(wire, "A message"))


@dataclasses.dataclass(frozen=True, slots=True)
class MessageOrder:
    """A version-2 message's place in its sender's order, signed with it.

    ``chain`` (8 bytes) names the sending session, ``counter`` (1 to 2^32 - 1) counts that
    session's messages in the conversation from 1, ``sent_at`` is the sender's clock in
    milliseconds since 1970-01-01 UTC (0 to 2^53 - 1), and ``previous`` is the
    :func:`message_reference` of the newest message the sender held in the conversation,
    or 32 zero bytes if it held none. Raises :class:`FormatError` for any other value.
    """

    chain: bytes
    counter: int
    sent_at: int
    previous: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "chain", require_length(self.chain, CHAIN_SIZE, "The chain id"))
        for name, value, low, high in (
            ("counter", self.counter, 1, U32_MAX),
            ("sent_at", self.sent_at, 0, MAX_SAFE_INTEGER),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise FormatError(
                    f"The {name} must be an integer from {low} to {high}, not {value!r}"
                )
        object.__setattr__(
            self, "previous", require_length(self.previous, HASH_SIZE, "The previous reference")
        )

    def to_bytes(self) -> bytes:
        """``chain || u32(counter) || u64(sent_at) || previous``, 52 bytes."""
        return self.chain + u32(self.counter) + u64(self.sent_at) + self.previous


@dataclasses.dataclass(frozen=True, slots=True)
class MessageInfo:
    """The public header fields of a message, and its padded plaintext size."""

    version: int
    conversation_id: bytes
    epoch: int
    sender_sign_pk: bytes
    client_message_id: bytes
    padded_size: int
    order: MessageOrder | None = None
    """The sender's order (version 2); None for version 1."""

    @property
    def conversation_uuid(self) -> uuid.UUID:
        """``conversation_id`` as a UUID."""
        return uuid.UUID(bytes=self.conversation_id)

    @property
    def client_message_uuid(self) -> uuid.UUID:
        """``client_message_id`` as a UUID."""
        return uuid.UUID(bytes=self.client_message_id)


@dataclasses.dataclass(frozen=True, slots=True)
class _Message:
    info: MessageInfo
    header: bytes
    nonce: bytes
    ciphertext: bytes
    signature: bytes


def _split(wire: bytes) -> _Message:
    data = require_bytes(wire, "A message")
    version = check_version(data, _HEADER_SIZES, "message")
    header_size = _HEADER_SIZES[version]
    if len(data) not in _WIRE_SIZES[version]:
        overhead = header_size + TAG_SIZE + SIGNATURE_SIZE
        raise FormatError(
            f"A version {version} message must be {overhead} bytes longer than a padding "
            f"bucket (a power of two from {MIN_PADDED} to {MAX_PADDED}); this one is "
            f"{len(data)} bytes long"
        )
    reader = Reader(data)
    reader.take(1)
    conversation_id = reader.take(ID_SIZE)
    epoch = reader.take_u32()
    sender = reader.take(PUBLIC_KEY_SIZE)
    client_message_id = reader.take(ID_SIZE)
    order = None
    if version == MESSAGE_VERSION_2:
        chain = reader.take(CHAIN_SIZE)
        counter = reader.take_u32()
        sent_at = reader.take_u64()
        order = MessageOrder(chain, counter, sent_at, reader.take(HASH_SIZE))
    nonce = reader.take(NONCE_SIZE)
    ciphertext = reader.take(len(data) - header_size - SIGNATURE_SIZE)
    signature = reader.rest()
    info = MessageInfo(
        version=version,
        conversation_id=conversation_id,
        epoch=epoch,
        sender_sign_pk=sender,
        client_message_id=client_message_id,
        padded_size=len(ciphertext) - TAG_SIZE,
        order=order,
    )
    return _Message(info, data[:header_size], nonce, ciphertext, signature)


def _verify(parsed: _Message, sender: PublicIdentity) -> None:
    verify_detached(
        sender.sign_key,
        _labels.MESSAGE_SIG + parsed.header + parsed.ciphertext,
        parsed.signature,
        "The message signature does not verify under the expected sender's signing key",
    )
    if not hmac.compare_digest(parsed.info.sender_sign_pk, sender.sign_key):
        raise BindingError("The message names another sender than the expected one")


def seal_message(
    plaintext: bytes,
    key: ConversationKey,
    conversation_id: bytes | uuid.UUID,
    epoch: int,
    sender: IdentityKeyPair,
    client_message_id: bytes | uuid.UUID,
    order: MessageOrder | None = None,
) -> bytes:
    """Pad, encrypt (XChaCha20-Poly1305, random 24-byte nonce) and sign a message.

    With ``order``, a version-2 message of ``len(pad(plaintext)) + 225`` bytes that carries
    the sender's order; without, a version-1 message of ``len(pad(plaintext)) + 173``
    bytes. Raises :class:`FormatError` for a plaintext over ``MAX_PLAINTEXT`` (1048572)
    bytes, a bad id, an epoch outside ``u32`` or an argument of the wrong type.

    Warning: ``client_message_id`` must be fresh for every new message (a random UUID); the
    server deduplicates on it, so reusing one makes a new message look like a resend.
    """
    padded = pad(require_bytes(plaintext, "The plaintext"))
    key = require_type(key, ConversationKey, "The conversation key")
    conversation = coerce_id(conversation_id, "The conversation id")
    epoch = check_epoch(epoch)
    sender = require_type(sender, IdentityKeyPair, "The sender")
    message_id = coerce_id(client_message_id, "The client message id")
    if order is not None:
        order = require_type(order, MessageOrder, "The message order")
    return _seal_padded(padded, key, conversation, epoch, sender, message_id, order)


def _seal_padded(
    padded: bytes,
    key: ConversationKey,
    conversation: bytes,
    epoch: int,
    sender: IdentityKeyPair,
    message_id: bytes,
    order: MessageOrder | None = None,
) -> bytes:
    """Encrypt and sign an already padded plaintext; arguments are already checked."""
    nonce = new_nonce()
    version, order_bytes = (
        (MESSAGE_VERSION, b"") if order is None else (MESSAGE_VERSION_2, order.to_bytes())
    )
    header = (
        bytes([version])
        + conversation
        + u32(epoch)
        + sender.sign_key
        + message_id
        + order_bytes
        + nonce
    )
    ciphertext = aead_encrypt(key._message_key, nonce, padded, _labels.MESSAGE + header)
    return header + ciphertext + sender._sign(_labels.MESSAGE_SIG + header + ciphertext)


def open_message(
    wire: bytes,
    key: ConversationKey,
    sender: PublicIdentity,
    conversation_id: bytes | uuid.UUID,
    epoch: int,
    client_message_id: bytes | uuid.UUID | None = None,
) -> bytes:
    """Verify, decrypt and unpad a message; return the plaintext.

    Checks, in this order, raising at the first failure: version
    (:class:`UnsupportedVersionError`) and length (:class:`FormatError`); the signature under
    ``sender``'s key (:class:`SignatureError`); that the header names ``sender``, the
    expected conversation and epoch and, if given, the client message id
    (:class:`BindingError`); decryption (:class:`DecryptionError`); padding
    (:class:`FormatError`).
    """
    parsed = _split(wire)
    key = require_type(key, ConversationKey, "The conversation key")
    sender = require_type(sender, PublicIdentity, "The sender")
    conversation = coerce_id(conversation_id, "The conversation id")
    epoch = check_epoch(epoch)
    message_id = (
        None if client_message_id is None else coerce_id(client_message_id, "The client message id")
    )
    _verify(parsed, sender)
    info = parsed.info
    if not hmac.compare_digest(info.conversation_id, conversation):
        raise BindingError("The message belongs to another conversation")
    if info.epoch != epoch:
        raise BindingError(f"The message is for epoch {info.epoch}, not epoch {epoch}")
    if message_id is not None and not hmac.compare_digest(info.client_message_id, message_id):
        raise BindingError("The message carries another client message id than expected")
    padded = aead_decrypt(
        key._message_key,
        parsed.nonce,
        parsed.ciphertext,
        _labels.MESSAGE + parsed.header,
        "The message could not be decrypted: the epoch key is wrong or the ciphertext was altered",
    )
    return unpad(padded)


def parse_message(wire: bytes) -> MessageInfo:
    """Read a message's public header, checking only its version and length.

    Warning: nothing is authenticated; use :func:`verify_message` before trusting a field.
    """
    return _split(wire).info


def verify_message(wire: bytes, sender: PublicIdentity) -> MessageInfo:
    """Check a message's shape and signature without any key (for the server).

    Raises :class:`UnsupportedVersionError`/:class:`FormatError` for a bad shape,
    :class:`SignatureError` if not signed by ``sender``, :class:`BindingError` if the header
    names another sender. The caller still compares conversation, epoch and message id.
    """
    parsed = _split(wire)
    _verify(parsed, require_type(sender, PublicIdentity, "The sender"))
    return parsed.info


def seal_text(
    text: str,
    key: ConversationKey,
    conversation_id: bytes | uuid.UUID,
    epoch: int,
    sender: IdentityKeyPair,
    client_message_id: bytes | uuid.UUID,
    order: MessageOrder | None = None,
) -> bytes:
    """:func:`seal_message` of ``text`` encoded as UTF-8.

    Raises :class:`FormatError` if ``text`` is not a str or not encodable (lone surrogates).
    """
    if not isinstance(text, str):
        raise FormatError(f"The text must be a str, not {type(text).__name__}")
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError("The text is not valid Unicode (it contains a lone surrogate)") from None
    return seal_message(encoded, key, conversation_id, epoch, sender, client_message_id, order)


def open_text(
    wire: bytes,
    key: ConversationKey,
    sender: PublicIdentity,
    conversation_id: bytes | uuid.UUID,
    epoch: int,
    client_message_id: bytes | uuid.UUID | None = None,
) -> str:
    """:func:`open_message`, then strict UTF-8 decoding (invalid UTF-8: :class:`FormatError`)."""
    plaintext = open_message(wire, key, sender, conversation_id, epoch, client_message_id)
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("The message plaintext is not valid UTF-8 text") from None
