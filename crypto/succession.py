"""Identity successions: a therapist's signed word that a client's identity was replaced.

After an assisted recovery (crypto/SPEC.md, "Assisted recovery") a client's earlier
messages and envelopes are signed by the identity that was replaced. A client accepts that
earlier identity only from a succession that verifies under the public identity of the
therapist who confirmed the recovery, as that client knows it; the server's word alone
never makes an identity acceptable::

    body       = 0x01 || u64(user_id) || u64(confirmer_id) || u64(confirmed_at)
                 || previous_identity(129) || new_identity(129)
    sig        = Ed25519-Sign(confirmer_sign_sk, "confide/v1/identity-succession" || body)
    succession = body || sig(64)

User ids and the confirmation time (seconds since 1970-01-01 UTC) are at most
``2**53 - 1``, so that a browser reads them as exact numbers.

Version 2 is the same with either identity of version 2 (1,353 bytes): each identity's
own version byte gives its length, and the succession is exactly as long as the two::

    body = 0x02 || u64(user_id) || u64(confirmer_id) || u64(confirmed_at)
           || previous_identity || new_identity

A signer makes version 1 when both identities are of version 1, version 2 otherwise.
"""

from __future__ import annotations

import dataclasses

from . import _labels
from ._fields import (
    MAX_SAFE_INTEGER,
    Reader,
    check_version,
    require_bytes,
    require_length,
    require_type,
    u64,
)
from ._primitives import SIGNATURE_SIZE, verify_detached
from .errors import BindingError, FormatError
from .identity import PUBLIC_IDENTITY_SIZE, IdentityKeyPair, PublicIdentity, identity_size

__all__ = [
    "MAX_SUCCESSION_NUMBER",
    "SUCCESSION_SIZE",
    "SUCCESSION_VERSION",
    "SUCCESSION_VERSION_2",
    "Succession",
    "sign_succession",
    "verify_succession",
]

SUCCESSION_VERSION = 0x01
SUCCESSION_VERSION_2 = 0x02
_HEAD_SIZE = 1 + 3 * 8
MAX_SUCCESSION_NUMBER = MAX_SAFE_INTEGER
_BODY_SIZE = 1 + 3 * 8 + 2 * PUBLIC_IDENTITY_SIZE  # 283
SUCCESSION_SIZE = _BODY_SIZE + SIGNATURE_SIZE  # 347


@dataclasses.dataclass(frozen=True, slots=True)
class Succession:
    """What a verified succession states: ``user_id``'s identity ``previous_identity`` was
    replaced by ``new_identity``, as ``confirmer_id`` confirmed at ``confirmed_at``
    (seconds since 1970-01-01 UTC)."""

    user_id: int
    confirmer_id: int
    confirmed_at: int
    previous_identity: PublicIdentity
    new_identity: PublicIdentity


def _number(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatError(f"{what} must be an integer, not {type(value).__name__}")
    if not 0 <= value <= MAX_SUCCESSION_NUMBER:
        raise FormatError(f"{what} must be from 0 to {MAX_SUCCESSION_NUMBER}, not {value}")
    return value


def sign_succession(
    confirmer: IdentityKeyPair,
    *,
    user_id: int,
    confirmer_id: int,
    confirmed_at: int,
    previous_identity: PublicIdentity,
    new_identity: PublicIdentity,
) -> bytes:
    """The succession, signed by ``confirmer``: ``user_id``'s identity
    ``previous_identity`` is replaced by ``new_identity`` (347 bytes when both identities
    are of version 1; version 2 otherwise).

    Raises :class:`FormatError` for an id or a time that is not an integer from 0 to
    ``2**53 - 1``, identities that are not :class:`PublicIdentity`, or a previous identity
    equal to the new one.
    """
    confirmer = require_type(confirmer, IdentityKeyPair, "The confirmer")
    previous = require_type(previous_identity, PublicIdentity, "The previous identity")
    new = require_type(new_identity, PublicIdentity, "The new identity")
    if previous == new:
        raise FormatError("The previous identity and the new one are the same")
    both_v1 = previous.version == 1 and new.version == 1
    body = b"".join(
        (
            bytes([SUCCESSION_VERSION if both_v1 else SUCCESSION_VERSION_2]),
            u64(_number(user_id, "The user id")),
            u64(_number(confirmer_id, "The confirmer id")),
            u64(_number(confirmed_at, "The confirmation time")),
            previous.to_bytes(),
            new.to_bytes(),
        )
    )
    return body + confirmer._sign(_labels.IDENTITY_SUCCESSION + body)


def verify_succession(
    succession: bytes,
    confirmer: PublicIdentity,
    *,
    user_id: int,
    confirmer_id: int,
    new_identity: PublicIdentity,
) -> Succession:
    """Check a succession against the confirmer this reader knows, and what it expects it
    to name; return what it states.

    Raises, in this order: :class:`FormatError` for empty input,
    :class:`UnsupportedVersionError` for a version other than 0x01 or 0x02,
    :class:`FormatError` for a length other than 347 bytes (version 2: than the two
    identities' own versions give, each 0x01 or 0x02), :class:`SignatureError` if it does
    not verify under ``confirmer``'s signing key, :class:`FormatError` for an id or time above
    ``2**53 - 1``, :class:`BindingError` if it names another user, another confirmer or
    another new identity, the errors of :class:`PublicIdentity` for a previous identity
    that is not one, and :class:`FormatError` if the previous identity is the new one.
    """
    user_id = _number(user_id, "The expected user id")
    confirmer_id = _number(confirmer_id, "The expected confirmer id")
    data = require_bytes(succession, "A succession")
    version = check_version(data, (SUCCESSION_VERSION, SUCCESSION_VERSION_2), "succession")
    if version == SUCCESSION_VERSION:
        previous_size = new_size = PUBLIC_IDENTITY_SIZE
        require_length(data, SUCCESSION_SIZE, "A succession")
    else:
        previous_size = _embedded_size(data, _HEAD_SIZE)
        new_size = _embedded_size(data, _HEAD_SIZE + previous_size)
        require_length(
            data, _HEAD_SIZE + previous_size + new_size + SIGNATURE_SIZE, "A version 2 succession"
        )
    confirmer = require_type(confirmer, PublicIdentity, "The confirmer")
    expected_new = require_type(new_identity, PublicIdentity, "The new identity")
    body_size = len(data) - SIGNATURE_SIZE
    body, signature = data[:body_size], data[body_size:]
    verify_detached(
        confirmer.sign_key,
        _labels.IDENTITY_SUCCESSION + body,
        signature,
        "The succession does not verify under the confirming therapist's signing key",
    )
    reader = Reader(body)
    reader.take(1)
    numbers = [reader.take_u64() for _ in range(3)]
    if max(numbers) > MAX_SUCCESSION_NUMBER:
        raise FormatError(f"An id or time of the succession is above {MAX_SUCCESSION_NUMBER}")
    named_user, named_confirmer, confirmed_at = numbers
    if named_user != user_id:
        raise BindingError("The succession names another user than the expected one")
    if named_confirmer != confirmer_id:
        raise BindingError("The succession names another confirmer than the expected one")
    previous_bytes = reader.take(previous_size)
    if reader.take(new_size) != expected_new.to_bytes():
        raise BindingError("The succession names another new identity than the expected one")
    previous = PublicIdentity.from_bytes(previous_bytes)
    if previous == expected_new:
        raise FormatError("The succession's previous identity is its new one")
    return Succession(
        user_id=named_user,
        confirmer_id=named_confirmer,
        confirmed_at=confirmed_at,
        previous_identity=previous,
        new_identity=expected_new,
    )


def _embedded_size(data: bytes, offset: int) -> int:
    """The length of the identity whose version byte is at ``offset``."""
    if offset >= len(data):
        raise FormatError("The succession is truncated")
    version = data[offset]
    if version not in (1, 2):
        raise FormatError(f"The succession holds an identity of unknown version 0x{version:02x}")
    return identity_size(version)
