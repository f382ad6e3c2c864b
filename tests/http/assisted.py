"""What a client and their therapist do in an assisted recovery, as HTTP steps
(crypto/SPEC.md, "Assisted recovery"), for the tests of ``/api/auth/assisted-recovery`` and
``/api/recoveries``."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F

import crypto
from accounts.models import AssistedRecovery, User
from crypto import ConversationKey, IdentityKeyPair, PublicIdentity, SignUpMaterial
from messaging.models import Conversation, KeyEnvelope
from tests.http.conftest import Browser, Reply
from tests.personas import TEST_KDF, Chat, Person, now_ms

REQUEST = "/api/auth/assisted-recovery"
LIST = "/api/recoveries"
NEW_PASSWORD = "a brand new password, long enough"


def new_material(password: str = NEW_PASSWORD) -> SignUpMaterial:
    """What the client's new browser makes: a new identity, password and recovery key."""
    return crypto.make_sign_up_material(password, TEST_KDF)


def request_body(email: str, material: SignUpMaterial, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": email,
        "auth_secret": crypto.b64encode(material.auth_secret),
        "kdf": {
            "salt": crypto.b64encode(material.salt),
            "opslimit": material.params.opslimit,
            "memlimit": material.params.memlimit,
            "algorithm": "argon2id13",
        },
        "public_identity": crypto.b64encode(material.public_identity.to_bytes()),
        "key_bundle": crypto.b64encode(material.key_bundle),
        "recovery_bundle": crypto.b64encode(material.recovery_bundle),
    }
    body.update(changes)
    return body


@dataclass(frozen=True)
class Asked:
    """A request as the client's new browser made it."""

    reply: Reply
    material: SignUpMaterial = field(repr=False)

    @property
    def identity(self) -> IdentityKeyPair:
        return self.material.identity

    @property
    def public(self) -> PublicIdentity:
        return self.material.public_identity


def ask(email: str, browser: Browser | None = None, password: str = NEW_PASSWORD) -> Asked:
    """The client, in a new browser with nothing of the old one, asks for a recovery."""
    material = new_material(password)
    reply = (browser or Browser()).post(REQUEST, request_body(email, material))
    return Asked(reply, material)


def pending_of(person: Person) -> AssistedRecovery:
    return AssistedRecovery.objects.get(client=person.user, state=AssistedRecovery.State.PENDING)


def add_epoch(chat: Chat, epoch: int, wrapper: Person) -> ConversationKey:
    """A new epoch of ``chat``: a key wrapped by ``wrapper`` to each member, as a rekey
    stores it."""
    key = ConversationKey.generate()
    created_at = now_ms()
    for member in chat.members:
        KeyEnvelope.objects.create(
            conversation=chat.conversation,
            epoch=epoch,
            recipient=member.user,
            wrapper=wrapper.user,
            envelope=crypto.wrap_conversation_key(
                key, chat.id, epoch, member.identity.public, wrapper.identity, created_at
            ),
        )
    # As the rekey stores it: the epoch's messages are those numbered after this.
    Conversation.objects.filter(pk=chat.id).update(
        current_epoch=epoch, epoch_start_seq=F("last_seq")
    )
    return key


def held_keys(therapist: Person, conversation: uuid.UUID) -> dict[int, ConversationKey]:
    """Every epoch key the therapist's browser opens from its own envelopes."""
    keys = {}
    for row in KeyEnvelope.objects.filter(conversation_id=conversation, recipient=therapist.user):
        wrapper = User.objects.get(pk=row.wrapper_id)
        keys[row.epoch] = crypto.unwrap_conversation_key(
            bytes(row.envelope),
            therapist.identity,
            PublicIdentity.from_bytes(bytes(wrapper.public_identity)),
            conversation,
            row.epoch,
        )
    return keys


def rewrap(
    therapist: Person,
    conversation: uuid.UUID,
    recipient: PublicIdentity,
    *,
    wrapper: IdentityKeyPair | None = None,
    epochs: list[int] | None = None,
) -> list[str]:
    """What the therapist's browser sends: each epoch key it holds, wrapped to the new
    identity and signed by the therapist (unless ``wrapper`` says otherwise)."""
    keys = held_keys(therapist, conversation)
    return [
        crypto.b64encode(
            crypto.wrap_conversation_key(
                key, conversation, epoch, recipient, wrapper or therapist.identity, now_ms()
            )
        )
        for epoch, key in sorted(keys.items())
        if epochs is None or epoch in epochs
    ]


def succession(
    therapist: Person,
    recovery_id: int,
    *,
    signer: IdentityKeyPair | None = None,
    previous: PublicIdentity | None = None,
    new: PublicIdentity | None = None,
    confirmed_at: int | None = None,
) -> str:
    """What the therapist's browser signs at the confirmation: the client's identity as it
    knows it is replaced by the request's (unless told otherwise)."""
    recovery = AssistedRecovery.objects.select_related("client").get(pk=recovery_id)
    return crypto.b64encode(
        crypto.sign_succession(
            signer or therapist.identity,
            user_id=recovery.client_id,
            confirmer_id=therapist.id,
            confirmed_at=int(time.time()) if confirmed_at is None else confirmed_at,
            previous_identity=previous
            or PublicIdentity.from_bytes(bytes(recovery.client.public_identity)),
            new_identity=new or PublicIdentity.from_bytes(bytes(recovery.public_identity)),
        )
    )


def confirm(
    browser: Browser,
    recovery_id: int,
    envelopes: list[str],
    *,
    by: Person | None = None,
    signed: str | None = None,
) -> Reply:
    """The confirmation, with the succession ``by`` signs (or ``signed`` as it is; neither:
    none)."""
    body: dict[str, Any] = {"envelopes": envelopes}
    if signed is None and by is not None:
        signed = succession(by, recovery_id)
    if signed is not None:
        body["succession"] = signed
    return browser.post(f"/api/recoveries/{recovery_id}/confirm", body)


def stage(browser: Browser, recovery_id: int, envelopes: list[str]) -> Reply:
    return browser.post(f"/api/recoveries/{recovery_id}/envelopes", {"envelopes": envelopes})


def decline(browser: Browser, recovery_id: int) -> Reply:
    return browser.post(f"/api/recoveries/{recovery_id}/decline")


def stored_account(user_id: int) -> dict[str, Any]:
    user = User.objects.get(pk=user_id)
    return {
        "password": user.password,
        "kdf_salt": bytes(user.kdf_salt),
        "kdf_opslimit": user.kdf_opslimit,
        "kdf_memlimit": user.kdf_memlimit,
        "public_identity": bytes(user.public_identity),
        "key_bundle": bytes(user.key_bundle),
        "recovery_bundle": bytes(user.recovery_bundle),
        "keys_changed_at": user.keys_changed_at,
        "identity_recovery": user.identity_recovery_id,
    }


def stored_envelopes(user_id: int) -> list[tuple[str, int, int, bytes]]:
    """The user's envelopes as the database holds them."""
    return sorted(
        (str(row.conversation_id), row.epoch, row.wrapper_id, bytes(row.envelope))
        for row in KeyEnvelope.objects.filter(recipient_id=user_id)
    )


def sign_in_with_password(browser: Browser, email: str, password: str) -> Reply:
    """What the sign-in page does: the parameters, Argon2id, then the secret."""
    params = browser.post("/api/auth/params", {"email": email}).json()
    keys = crypto.derive_password_keys(
        password,
        crypto.b64decode(params["salt"]),
        crypto.KdfParams(params["opslimit"], params["memlimit"]),
    )
    return browser.post("/api/auth/signin", {"email": email, "auth_secret": keys.auth_secret_b64()})
