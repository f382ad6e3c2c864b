"""Conversation keys, their envelopes (one per member per epoch) and the rotation policy.

Envelope, 253 bytes::

    body = 0x01 || conversation_id(16) || u32(epoch) || recipient_enc_pk(32)
           || wrapper_sign_pk(32) || eph_pk(32) || nonce(24) || ct(48)
    shared = X25519(eph_sk, recipient_enc_pk)                 (all zeros: rejected)
    k      = H(shared, "confide/v1/envelope" || eph_pk || recipient_enc_pk)
    ct     = AEAD(k, nonce, epoch_key(32), ad = body up to and including nonce)
    sig    = Ed25519-Sign(wrapper_sign_sk, "confide/v1/envelope-sig" || body)
    envelope = body || sig(64)

Version 2 (293 bytes) signs the epoch's creation time and a commitment to its key, so that
a reader can tell an old epoch presented as current, and every member of an epoch holds
the key its commitment names::

    body = 0x02 || conversation_id(16) || u32(epoch) || u64(created_at) || commitment(32)
           || recipient_enc_pk(32) || wrapper_sign_pk(32) || eph_pk(32) || nonce(24) || ct(48)
    commitment = H(epoch_key, "confide/v1/key-commitment")

Version 3 (1,381 bytes) wraps the key with X-Wing (X25519 + ML-KEM-768) to the recipient's
version-2 identity, so that a copy of the database kept for a future quantum computer
does not open it; it signs what version 2 signs::

    body = 0x03 || conversation_id(16) || u32(epoch) || u64(created_at) || commitment(32)
           || recipient_enc_pk(32) || wrapper_sign_pk(32) || xwing_ct(1120) || nonce(24)
           || ct(48)
    (shared, xwing_ct) = X-Wing.Encaps(recipient_xwing_pk)
    k  = H(shared, "confide/v1/envelope-xwing")

A reader whose identity is version 2 refuses a version-2 envelope created 5 minutes or
more after the time its identity holds the X-Wing key from (a downgrade).
"""

from __future__ import annotations

import dataclasses
import hmac
import math
import uuid

from . import _labels, _random
from ._fields import (
    ID_SIZE,
    MAX_SAFE_INTEGER,
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
    KEY_SIZE,
    NONCE_SIZE,
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    TAG_SIZE,
    XWING_CIPHERTEXT_SIZE,
    aead_decrypt,
    aead_encrypt,
    h,
    new_nonce,
    verify_detached,
    x25519,
    x25519_base,
    xwing_encapsulate,
)
from ._secret import Secret
from .errors import BindingError, DowngradeError, FormatError
from .identity import IdentityKeyPair, PublicIdentity

__all__ = [
    "DOWNGRADE_GRACE_MS",
    "ENVELOPE_SIZE",
    "ENVELOPE_SIZE_V2",
    "ENVELOPE_VERSION",
    "ENVELOPE_VERSION_2",
    "ENVELOPE_VERSION_3",
    "ENVELOPE_SIZE_V3",
    "ROTATE_AFTER_MESSAGES",
    "ROTATE_AFTER_SECONDS",
    "ConversationKey",
    "EnvelopeInfo",
    "epoch_needs_rotation",
    "parse_envelope",
    "unwrap_conversation_key",
    "verify_envelope",
    "wrap_conversation_key",
]

ENVELOPE_VERSION = 0x01
ENVELOPE_VERSION_2 = 0x02
_CT_SIZE = KEY_SIZE + TAG_SIZE
_AD_SIZE = 1 + ID_SIZE + 4 + 3 * PUBLIC_KEY_SIZE + NONCE_SIZE  # 141
_BODY_SIZE = _AD_SIZE + _CT_SIZE  # 189
ENVELOPE_SIZE = _BODY_SIZE + SIGNATURE_SIZE  # 253
_EPOCH_FIELDS = 8 + HASH_SIZE  # created_at, commitment: 40
ENVELOPE_SIZE_V2 = ENVELOPE_SIZE + _EPOCH_FIELDS  # 293
ENVELOPE_VERSION_3 = 0x03
ENVELOPE_SIZE_V3 = ENVELOPE_SIZE_V2 - PUBLIC_KEY_SIZE + XWING_CIPHERTEXT_SIZE  # 1381
_SIZES = {
    ENVELOPE_VERSION: ENVELOPE_SIZE,
    ENVELOPE_VERSION_2: ENVELOPE_SIZE_V2,
    ENVELOPE_VERSION_3: ENVELOPE_SIZE_V3,
}

ROTATE_AFTER_MESSAGES = 100
ROTATE_AFTER_SECONDS = 7 * 24 * 60 * 60
# How long after an identity holds its X-Wing key a version-2 envelope to it may still have
# been made: the wrapper's clock and the owner's differ, and a wrapper may have read the
# members just before the owner published (crypto/SPEC.md, "Version 3").
DOWNGRADE_GRACE_MS = 5 * 60 * 1000


class ConversationKey(Secret):
    """The 32-byte key of one conversation epoch (secret).

    Messages are encrypted under ``H(key, "confide/v1/message-key")``, never under the key
    itself. Raises :class:`FormatError` if not exactly 32 bytes.

    Warning: there must be exactly one key per (conversation, epoch). If two members start
    the same epoch concurrently with different keys, each will fail to open the other's
    messages; whoever stores envelopes must accept only the first key for an epoch.
    """

    __slots__ = ("_key", "_message_key")

    def __init__(self, key: bytes) -> None:
        self._key = require_length(key, KEY_SIZE, "The conversation key")
        self._message_key = h(self._key, _labels.MESSAGE_KEY)

    @classmethod
    def generate(cls) -> ConversationKey:
        """A new epoch key of 32 random bytes."""
        return cls(_random.random_bytes(KEY_SIZE))

    def _secret_material(self) -> bytes:
        return self._key

    def commitment(self) -> bytes:
        """``H(key, "confide/v1/key-commitment")``: names this key without revealing it."""
        return h(self._key, _labels.KEY_COMMITMENT)


@dataclasses.dataclass(frozen=True, slots=True)
class EnvelopeInfo:
    """The public fields of an envelope; readable without any key.

    ``created_at`` (milliseconds since 1970, by the creator's clock) and ``commitment``
    are those of versions 2 and 3; None for version 1. Version 3 wraps with X-Wing."""

    version: int
    conversation_id: bytes
    epoch: int
    recipient_enc_pk: bytes
    wrapper_sign_pk: bytes
    created_at: int | None = None
    commitment: bytes | None = None

    @property
    def conversation_uuid(self) -> uuid.UUID:
        """``conversation_id`` as a UUID."""
        return uuid.UUID(bytes=self.conversation_id)


@dataclasses.dataclass(frozen=True, slots=True)
class _Envelope:
    info: EnvelopeInfo
    eph_pk: bytes  # the X-Wing ciphertext, for version 3
    nonce: bytes
    ciphertext: bytes
    ad: bytes
    body: bytes
    signature: bytes


def _split(envelope: bytes) -> _Envelope:
    data = require_bytes(envelope, "An envelope")
    version = check_version(data, _SIZES, "envelope")
    require_length(data, _SIZES[version], f"A version {version} envelope")
    extra = len(data) - ENVELOPE_SIZE
    reader = Reader(data)
    reader.take(1)
    conversation_id = reader.take(ID_SIZE)
    epoch = reader.take_u32()
    created_at = commitment = None
    if version != ENVELOPE_VERSION:
        created_at = reader.take_u64()
        if created_at > MAX_SAFE_INTEGER:
            raise FormatError("The epoch's creation time is above 2^53 - 1")
        commitment = reader.take(HASH_SIZE)
    info = EnvelopeInfo(
        version=version,
        conversation_id=conversation_id,
        epoch=epoch,
        recipient_enc_pk=reader.take(PUBLIC_KEY_SIZE),
        wrapper_sign_pk=reader.take(PUBLIC_KEY_SIZE),
        created_at=created_at,
        commitment=commitment,
    )
    eph_pk = reader.take(
        XWING_CIPHERTEXT_SIZE if version == ENVELOPE_VERSION_3 else PUBLIC_KEY_SIZE
    )
    nonce = reader.take(NONCE_SIZE)
    ciphertext = reader.take(_CT_SIZE)
    signature = reader.rest()
    ad_end, body_end = _AD_SIZE + extra, _BODY_SIZE + extra
    return _Envelope(info, eph_pk, nonce, ciphertext, data[:ad_end], data[:body_end], signature)


def _verify(parsed: _Envelope, wrapper: PublicIdentity) -> None:
    verify_detached(
        wrapper.sign_key,
        _labels.ENVELOPE_SIG + parsed.body,
        parsed.signature,
        "The envelope signature does not verify under the expected wrapper's signing key",
    )
    if not hmac.compare_digest(parsed.info.wrapper_sign_pk, wrapper.sign_key):
        raise BindingError("The envelope names another wrapper than the expected one")


def _envelope_key(shared: bytes, eph_pk: bytes, recipient_enc_pk: bytes) -> bytes:
    return h(shared, _labels.ENVELOPE + eph_pk + recipient_enc_pk)


def wrap_conversation_key(
    key: ConversationKey,
    conversation_id: bytes | uuid.UUID,
    epoch: int,
    recipient: PublicIdentity,
    wrapper: IdentityKeyPair,
    created_at: int | None = None,
) -> bytes:
    """Wrap an epoch key to one member and sign it: a 253-byte envelope, or with
    ``created_at`` (the epoch's creation, milliseconds since 1970, 0 to 2^53 - 1) a
    293-byte version-2 envelope that also signs that time and the key's commitment, or, to
    a version-2 identity, a 1,381-byte version-3 envelope that wraps with X-Wing.

    X25519 from a fresh ephemeral key to the recipient's key (version 3: X-Wing
    encapsulation to its X-Wing key), a BLAKE2b-derived wrapping key, XChaCha20-Poly1305
    with a random 24-byte nonce (drawn after the ephemeral key), and an Ed25519 signature by
    ``wrapper``. Wrap to every member, the wrapper included.

    Raises :class:`FormatError` for a bad id, an epoch outside ``u32``, an argument of the
    wrong type, or no ``created_at`` for a version-2 recipient (a verified
    :class:`PublicIdentity` never has a weak key).
    """
    key = require_type(key, ConversationKey, "The conversation key")
    conversation = coerce_id(conversation_id, "The conversation id")
    epoch = check_epoch(epoch)
    recipient = require_type(recipient, PublicIdentity, "The recipient")
    wrapper = require_type(wrapper, IdentityKeyPair, "The wrapper")
    epoch_fields = b""
    version = ENVELOPE_VERSION
    if created_at is not None:
        if (
            isinstance(created_at, bool)
            or not isinstance(created_at, int)
            or not 0 <= created_at <= MAX_SAFE_INTEGER
        ):
            raise FormatError(
                f"The epoch's creation time must be an integer from 0 to 2^53 - 1, "
                f"not {created_at!r}"
            )
        epoch_fields = u64(created_at) + key.commitment()
        version = ENVELOPE_VERSION_2
    if recipient.xwing_key is not None:
        if created_at is None:
            raise FormatError(
                "An envelope to a version-2 identity signs the epoch's creation time: "
                "created_at is required"
            )
        version = ENVELOPE_VERSION_3
        shared, eph_pk = xwing_encapsulate(recipient.xwing_key)
        wrapping_key = h(shared, _labels.ENVELOPE_XWING)
    else:
        eph_sk = _random.random_bytes(KEY_SIZE)
        eph_pk = x25519_base(eph_sk)
        shared = x25519(eph_sk, recipient.enc_key, "recipient's encryption key")
        wrapping_key = _envelope_key(shared, eph_pk, recipient.enc_key)
    nonce = new_nonce()
    ad = (
        bytes([version])
        + conversation
        + u32(epoch)
        + epoch_fields
        + recipient.enc_key
        + wrapper.sign_key
        + eph_pk
        + nonce
    )
    ciphertext = aead_encrypt(wrapping_key, nonce, key._secret_material(), ad)
    body = ad + ciphertext
    return body + wrapper._sign(_labels.ENVELOPE_SIG + body)


def unwrap_conversation_key(
    envelope: bytes,
    recipient: IdentityKeyPair,
    wrapper: PublicIdentity,
    conversation_id: bytes | uuid.UUID,
    epoch: int,
) -> ConversationKey:
    """Verify and open an envelope addressed to ``recipient``.

    Checks, in this order, raising at the first failure: version
    (:class:`UnsupportedVersionError`) and length (:class:`FormatError`); the signature under
    ``wrapper``'s key (:class:`SignatureError`); that the envelope names ``wrapper``, the
    expected conversation and epoch, and ``recipient``'s key (:class:`BindingError`); for a
    recipient whose public identity is version 2, that a version-2 envelope was created
    before its ``since`` and 5 minutes (:class:`DowngradeError`); that the ephemeral key
    (the X25519 part of the X-Wing ciphertext) is not a low-order point
    (:class:`WeakKeyError`); decryption
    (:class:`DecryptionError`); the key commitment (:class:`BindingError`).
    """
    parsed = _split(envelope)
    recipient = require_type(recipient, IdentityKeyPair, "The recipient")
    wrapper = require_type(wrapper, PublicIdentity, "The wrapper")
    conversation = coerce_id(conversation_id, "The conversation id")
    epoch = check_epoch(epoch)
    _verify(parsed, wrapper)
    info = parsed.info
    if not hmac.compare_digest(info.conversation_id, conversation):
        raise BindingError("The envelope belongs to another conversation")
    if info.epoch != epoch:
        raise BindingError(f"The envelope is for epoch {info.epoch}, not epoch {epoch}")
    if not hmac.compare_digest(info.recipient_enc_pk, recipient.enc_key):
        raise BindingError("The envelope is wrapped to another recipient's key")
    since = recipient.public.since
    if (
        since is not None
        and info.version == ENVELOPE_VERSION_2
        and info.created_at is not None
        and info.created_at >= since + DOWNGRADE_GRACE_MS
    ):
        raise DowngradeError(
            "The envelope wraps the key with X25519 alone for an epoch begun after the "
            "recipient's identity held an X-Wing key: the wrapper was given an older identity"
        )
    if info.version == ENVELOPE_VERSION_3:
        wrapping_key = h(recipient._xwing_decapsulate(parsed.eph_pk), _labels.ENVELOPE_XWING)
    else:
        shared = recipient._shared_secret(parsed.eph_pk, "envelope's ephemeral key")
        wrapping_key = _envelope_key(shared, parsed.eph_pk, info.recipient_enc_pk)
    epoch_key = aead_decrypt(
        wrapping_key,
        parsed.nonce,
        parsed.ciphertext,
        parsed.ad,
        "The envelope could not be decrypted: its ciphertext was altered or it was not "
        "wrapped to this recipient's key",
    )
    key = ConversationKey(epoch_key)
    if info.commitment is not None and not hmac.compare_digest(info.commitment, key.commitment()):
        raise BindingError("The envelope's key is not the one its commitment names")
    return key


def parse_envelope(envelope: bytes) -> EnvelopeInfo:
    """Read an envelope's public fields, checking only its version and length.

    Warning: nothing is authenticated; use :func:`verify_envelope` before trusting a field.
    """
    return _split(envelope).info


def verify_envelope(envelope: bytes, wrapper: PublicIdentity) -> EnvelopeInfo:
    """Check an envelope's shape and signature without any secret (for the server).

    Raises :class:`UnsupportedVersionError`/:class:`FormatError` for a bad shape,
    :class:`SignatureError` if not signed by ``wrapper``, :class:`BindingError` if it names
    another wrapper. The caller still compares conversation, epoch and recipient.
    """
    parsed = _split(envelope)
    _verify(parsed, require_type(wrapper, PublicIdentity, "The wrapper"))
    return parsed.info


def epoch_needs_rotation(
    messages_in_epoch: int, epoch_age_seconds: float, keys_changed: bool
) -> bool:
    """Whether a sender must start a new epoch before sending the next message.

    True if any member's keys changed since the epoch began, the epoch already holds
    ``ROTATE_AFTER_MESSAGES`` (100) messages, or it is ``ROTATE_AFTER_SECONDS`` (7 days)
    old. Checked in this order, each a :class:`FormatError`: ``messages_in_epoch`` must be
    an integer from 0 to 2^53 - 1 (not a bool, not a float); ``epoch_age_seconds`` a
    number (int or float, not a bool) that is finite and not negative (clamp clock skew
    before calling); ``keys_changed`` exactly ``True`` or ``False`` (not 0, 1 or None).
    """
    if isinstance(messages_in_epoch, bool) or not isinstance(messages_in_epoch, int):
        raise FormatError(f"The message count must be an integer, not {messages_in_epoch!r}")
    if messages_in_epoch < 0:
        raise FormatError(f"The message count cannot be negative ({messages_in_epoch})")
    if messages_in_epoch > MAX_SAFE_INTEGER:
        raise FormatError(
            f"The message count must be at most 2^53 - 1 ({MAX_SAFE_INTEGER}), "
            f"not {messages_in_epoch}"
        )
    if isinstance(epoch_age_seconds, bool) or not isinstance(epoch_age_seconds, int | float):
        raise FormatError(f"The epoch age must be a number, not {epoch_age_seconds!r}")
    if not math.isfinite(epoch_age_seconds) or epoch_age_seconds < 0:
        raise FormatError(
            f"The epoch age must be a finite, non-negative number of seconds, "
            f"not {epoch_age_seconds!r}"
        )
    if not isinstance(keys_changed, bool):
        raise FormatError(f"Whether keys changed must be True or False, not {keys_changed!r}")
    return (
        keys_changed
        or messages_in_epoch >= ROTATE_AFTER_MESSAGES
        or epoch_age_seconds >= ROTATE_AFTER_SECONDS
    )
