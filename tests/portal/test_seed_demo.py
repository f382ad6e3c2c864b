"""The demo seed makes ordinary encrypted accounts whose printed passwords open their keys."""

from __future__ import annotations

import re
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

import crypto
from accounts.agreement import current_agreement, has_accepted_current
from accounts.models import User
from confide_client.keys import open_key_bundle
from messaging.models import Conversation, KeyEnvelope

pytestmark = pytest.mark.django_db


def seed(data_dir: Path) -> str:
    out = StringIO()
    with override_settings(DATA_DIR=data_dir):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_printed_passwords_open_the_keys_and_the_conversation(tmp_path: Path) -> None:
    output = seed(tmp_path)
    passwords = dict(re.findall(r"(\S+@demo\.invalid)\s+password: (\S+)", output))
    assert set(passwords) == {
        "therapist@demo.invalid",
        "client@demo.invalid",
        "admin@demo.invalid",
    }
    passwords.pop("admin@demo.invalid")
    conversation = Conversation.objects.get()
    identities = {}
    for email, password in passwords.items():
        user = User.objects.get(email=email)
        expected = crypto.PublicIdentity.from_bytes(bytes(user.public_identity))
        identities[user.pk] = open_key_bundle(
            password,
            bytes(user.kdf_salt),
            crypto.KdfParams(user.kdf_opslimit, user.kdf_memlimit),
            bytes(user.key_bundle),
            expected,
        )
    client = User.objects.get(email="client@demo.invalid")
    keys = []
    for envelope in KeyEnvelope.objects.filter(conversation=conversation):
        keys.append(
            crypto.unwrap_conversation_key(
                bytes(envelope.envelope),
                identities[envelope.recipient_id],
                crypto.PublicIdentity.from_bytes(bytes(client.public_identity)),
                conversation.id,
                0,
            )
        )
    assert len(keys) == 2 and keys[0] == keys[1]


def test_seeding_twice_creates_nothing_new_and_prints_the_same_credentials(
    tmp_path: Path,
) -> None:
    first = seed(tmp_path)
    second = seed(tmp_path)
    assert first == second
    assert User.objects.count() == 3
    assert "Admin      admin@demo.invalid  password: " in first
    credentials = tmp_path / "demo-credentials.txt"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600


def test_the_demo_client_is_shown_the_practices_agreement_before_the_first_message(
    tmp_path: Path,
) -> None:
    seed(tmp_path)

    client = User.objects.get(email="client@demo.invalid")
    assert current_agreement(client.practice_id) is not None
    assert not has_accepted_current(client.pk, client.practice_id)


def test_the_printed_address_is_where_the_server_listens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIDE_PORT", "8123")
    assert "sign in at http://127.0.0.1:8123/ with:" in seed(tmp_path)
    monkeypatch.setenv("CONFIDE_HOST", "localhost")
    monkeypatch.setenv("CONFIDE_PORT", "9000")
    again = seed(tmp_path)  # printed again from the credentials file
    assert again.splitlines()[0] == "Demo practice — sign in at http://localhost:9000/ with:"
    assert again.count("sign in at") == 1
    assert "client@demo.invalid  password: " in again
