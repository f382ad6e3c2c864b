"""Fixed personas and ids for the crypto tests.

The personas are those of the whole suite (tests/personas.py), here as bare identities made
fresh for each test session: Clara the client, Theo her therapist, Olive another therapist
and Oscar another client.
"""

from __future__ import annotations

import uuid

import pytest

from crypto import ConversationKey, IdentityKeyPair, KdfParams

# Argon2id at the minimum accepted cost: fast enough to call in many tests.
SMALL_KDF_PARAMS = KdfParams(opslimit=2, memlimit=32 * 1024 * 1024)


@pytest.fixture(scope="session")
def clara() -> IdentityKeyPair:
    return IdentityKeyPair.generate(since=None)


@pytest.fixture(scope="session")
def theo() -> IdentityKeyPair:
    return IdentityKeyPair.generate(since=None)


@pytest.fixture(scope="session")
def olive() -> IdentityKeyPair:
    return IdentityKeyPair.generate(since=None)


@pytest.fixture(scope="session")
def oscar() -> IdentityKeyPair:
    return IdentityKeyPair.generate(since=None)


@pytest.fixture
def conversation_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def message_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def epoch_key() -> ConversationKey:
    return ConversationKey.generate()


@pytest.fixture
def small_kdf_params() -> KdfParams:
    return SMALL_KDF_PARAMS
