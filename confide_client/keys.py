"""Key material a client opens at sign-in, and the conversation keys it holds (the keys
made at sign-up are ``crypto.make_sign_up_material``)."""

from __future__ import annotations

import uuid

from crypto import (
    ConversationKey,
    IdentityKeyPair,
    KdfParams,
    PasswordKeys,
    PublicIdentity,
    derive_password_keys,
    unwrap_identity,
)


def open_key_bundle(
    password: str, salt: bytes, params: KdfParams, bundle: bytes, expected: PublicIdentity
) -> IdentityKeyPair:
    """The private identity from its password-wrapped bundle.

    Raises ``crypto.DecryptionError`` on a wrong password.
    """
    return unwrap_key_bundle(derive_password_keys(password, salt, params), bundle, expected)


def unwrap_key_bundle(
    keys: PasswordKeys, bundle: bytes, expected: PublicIdentity
) -> IdentityKeyPair:
    """:func:`open_key_bundle` with keys already derived (sign-in derives them once, for the
    authentication secret and the key-encryption key together).

    Raises ``crypto.DecryptionError`` on a wrong password, ``crypto.BindingError`` if the
    bundle holds keys other than ``expected``.
    """
    return unwrap_identity(bundle, keys.kek, expected)


class KeyRing:
    """The conversation keys this client has unwrapped, per (conversation, epoch).

    Holds secrets: its ``repr`` shows only how many keys it holds.
    """

    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: dict[tuple[uuid.UUID, int], ConversationKey] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing({len(self._keys)} keys)"

    def add(self, conversation: uuid.UUID, epoch: int, key: ConversationKey) -> None:
        self._keys[(conversation, epoch)] = key

    def get(self, conversation: uuid.UUID, epoch: int) -> ConversationKey | None:
        return self._keys.get((conversation, epoch))

    def has(self, conversation: uuid.UUID, epoch: int) -> bool:
        return (conversation, epoch) in self._keys

    def forget_after(self, conversation: uuid.UUID, epoch: int) -> int:
        """Drops the conversation's keys of epochs after ``epoch`` (a restored server
        numbers its next epochs again); returns how many."""
        gone = [key for key in self._keys if key[0] == conversation and key[1] > epoch]
        for key in gone:
            del self._keys[key]
        return len(gone)

    def clear(self) -> None:
        self._keys.clear()
