"""Secret-holding objects never show, pickle, copy or hash their secret bytes."""

from __future__ import annotations

import base64
import copy
import pickle
from collections.abc import Callable

import pytest

from crypto import (
    ConversationKey,
    IdentityKeyPair,
    KdfParams,
    PasswordKeys,
    RecoveryKey,
    WrappingKey,
    derive_password_keys,
)
from crypto._secret import Secret

SMALL = KdfParams(opslimit=2, memlimit=32 * 1024 * 1024)


def _password_keys() -> PasswordKeys:
    return derive_password_keys("correct horse", bytes(16), SMALL)


FACTORIES: dict[str, Callable[[], Secret]] = {
    "IdentityKeyPair": IdentityKeyPair.generate,
    "ConversationKey": ConversationKey.generate,
    "RecoveryKey": RecoveryKey.generate,
    "WrappingKey": lambda: RecoveryKey.generate().wrapping_key(),
    "PasswordKeys": _password_keys,
}


def secret_spellings(secret: bytes) -> list[str]:
    """Every way the secret could leak into text: hex, base64 and base32 variants."""
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        base64.b32encode(secret).decode().rstrip("="),
        repr(secret),
    ]


def leaks(text: str, secret: bytes) -> bool:
    """Whether ``text`` holds any 12-character window of any spelling of ``secret``."""
    for spelling in secret_spellings(secret):
        for start in range(len(spelling) - 11):
            if spelling[start : start + 12] in text:
                return True
    return False


def renderings(obj: object) -> list[str]:
    """Every way an object is commonly turned into text, logging's %-style included."""
    percent = "%s %r" % (obj, obj)  # noqa: UP031 - the old style is what logging uses
    return [repr(obj), str(obj), f"{obj}", f"{obj!r}", percent, format(obj, "")]


@pytest.mark.parametrize("kind", FACTORIES)
def test_repr_and_str_never_contain_the_secret_bytes(kind: str) -> None:
    obj = FACTORIES[kind]()
    material = obj._secret_material()
    for text in renderings(obj):
        assert "<hidden>" in text
        assert kind in text
        assert not leaks(text, material)
        for part in (material[:32], material[32:]):
            if part:
                assert not leaks(text, part)


def test_identity_repr_shows_only_a_short_public_prefix() -> None:
    identity = IdentityKeyPair.generate()
    assert repr(identity) == (
        f"IdentityKeyPair(sign_public={identity.sign_key[:2].hex()}…, secret=<hidden>)"
    )


def test_the_recovery_display_form_is_not_in_the_repr() -> None:
    recovery = RecoveryKey.generate()
    display = recovery.display()
    for text in renderings(recovery):
        assert display not in text
        assert display.replace("-", "")[:12] not in text


def test_password_keys_hide_the_auth_secret_and_kek() -> None:
    keys = _password_keys()
    for text in renderings(keys) + renderings(keys.kek):
        assert not leaks(text, keys.auth_secret)
        assert not leaks(text, keys.kek._secret_material())
    assert keys.auth_secret_b64() == base64.urlsafe_b64encode(keys.auth_secret).decode()[:43]


@pytest.mark.parametrize("kind", FACTORIES)
def test_secrets_cannot_be_pickled_or_copied(kind: str) -> None:
    obj = FACTORIES[kind]()
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="cannot be pickled or copied"):
            pickle.dumps(obj, protocol=protocol)
    with pytest.raises(TypeError):
        copy.copy(obj)
    with pytest.raises(TypeError):
        copy.deepcopy(obj)


@pytest.mark.parametrize("kind", FACTORIES)
def test_secrets_are_not_hashable(kind: str) -> None:
    with pytest.raises(TypeError):
        hash(FACTORIES[kind]())


def test_secrets_compare_by_value_and_only_with_their_own_type() -> None:
    raw = bytes(range(32))
    assert ConversationKey(raw) == ConversationKey(raw)
    assert ConversationKey(raw) != ConversationKey(bytes(32))
    assert WrappingKey(raw) != ConversationKey(raw)
    assert ConversationKey(raw) != raw
    identity = IdentityKeyPair.generate()
    assert IdentityKeyPair(identity._secret_material()) == identity


def test_secret_types_have_no_instance_dict_to_dump() -> None:
    for factory in FACTORIES.values():
        assert not hasattr(factory(), "__dict__")
