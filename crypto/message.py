"""Messages: padded, encrypted under the epoch's message key, and signed by the sender.

::

    header = 0x01 || conversation_id(16) || u32(epoch) || sender_sign_pk(32)
             || client_message_id(16) || nonce(24)                           (93 bytes)
    mk     = H(epoch_key, "confide/v1/message-key")
    ct     = AEAD(mk, nonce, pad(plaintext), ad = "confide/v1/message" || header)
    sig    = Ed25519-Sign(sender_sign_sk, "confide/v1/message-sig" || header || ct)
    wire   = header || ct || sig

The wire size is the padded size plus 173 bytes (93 header, 16 tag, 64 signature).
"""

from __future__ import annotations

import dataclasses
import hmac
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
    new_nonce,
    verify_detached,
)
from .conversation import ConversationKey
from .errors import BindingError, FormatError
from .identity import IdentityKeyPair, PublicIdentity
from .padding import BUCKETS, MAX_PADDED, MIN_PADDED, pad, unpad

__all__ = [
    "HEADER_SIZE",
    "MESSAGE_OVERHEAD",
    "MESSAGE_VERSION",
    "MessageInfo",
    "open_message",
    "open_text",
    "parse_message",
    "seal_message",
    "seal_text",
    "verify_message",
]

MESSAGE_VERSION = 0x01
HEADER_SIZE = 1 + ID_SIZE + 4 + PUBLIC_KEY_SIZE + ID_SIZE + NONCE_SIZE  # 93
MESSAGE_OVERHEAD = HEADER_SIZE + TAG_SIZE + SIGNATURE_SIZE  # 173
_WIRE_SIZES = frozenset(bucket + MESSAGE_OVERHEAD for bucket in BUCKETS)


@dataclasses.dataclass(frozen=True, slots=True)
class MessageInfo:
    """The public header fields of a message, and its padded plaintext size."""

    version: int
    conversation_id: bytes
    epoch: int
    sender_sign_pk: bytes
    client_message_id: bytes
    padded_size: int

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
    check_version(data, MESSAGE_VERSION, "message")
    if len(data) not in _WIRE_SIZES:
        raise FormatError(
            f"A message must be {MESSAGE_OVERHEAD} bytes longer than a padding bucket (a power "
            f"of two from {MIN_PADDED} to {MAX_PADDED}); this one is {len(data)} bytes long"
        )
    reader = Reader(data)
    version = reader.take(1)[0]
    conversation_id = reader.take(ID_SIZE)
    epoch = reader.take_u32()
    sender = reader.take(PUBLIC_KEY_SIZE)
    client_message_id = reader.take(ID_SIZE)
    nonce = reader.take(NONCE_SIZE)
    ciphertext = reader.take(len(data) - HEADER_SIZE - SIGNATURE_SIZE)
    signature = reader.rest()
    info = MessageInfo(
        version=version,
        conversation_id=conversation_id,
        epoch=epoch,
        sender_sign_pk=sender,
        client_message_id=client_message_id,
        padded_size=len(ciphertext) - TAG_SIZE,
    )
    return _Message(info, data[:HEADER_SIZE], nonce, ciphertext, signature)


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
) -> bytes:
    """Pad, encrypt (XChaCha20-Poly1305, random 24-byte nonce) and sign a message.

    Returns ``len(pad(plaintext)) + 173`` bytes. Raises :class:`FormatError` for a plaintext
    over ``MAX_PLAINTEXT`` (1048572) bytes, a bad id, an epoch outside ``u32`` or an
    argument of the wrong type.

    Warning: ``client_message_id`` must be fresh for every new message (a random UUID); the
    server deduplicates on it, so reusing one makes a new message look like a resend.
    """
    padded = pad(require_bytes(plaintext, "The plaintext"))
    key = require_type(key, ConversationKey, "The conversation key")
    conversation = coerce_id(conversation_id, "The conversation id")
    epoch = check_epoch(epoch)
    sender = require_type(sender, IdentityKeyPair, "The sender")
    message_id = coerce_id(client_message_id, "The client message id")
    return _seal_padded(padded, key, conversation, epoch, sender, message_id)


def _seal_padded(
    padded: bytes,
    key: ConversationKey,
    conversation: bytes,
    epoch: int,
    sender: IdentityKeyPair,
    message_id: bytes,
) -> bytes:
    """Encrypt and sign an already padded plaintext; arguments are already checked."""
    nonce = new_nonce()
    header = (
        bytes([MESSAGE_VERSION]) + conversation + u32(epoch) + sender.sign_key + message_id + nonce
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
    return seal_message(encoded, key, conversation_id, epoch, sender, client_message_id)


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
