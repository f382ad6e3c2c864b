"""Helpers of the practice administration tests: setup links as an admin's browser asks
for them, and the bodies a new staff member's browser sends."""

from __future__ import annotations

from typing import Any

import crypto
from crypto import SignUpMaterial, make_sign_up_material
from tests.http.conftest import PASSWORD, Browser
from tests.personas import TEST_KDF, Person


def staff_material(password: str = PASSWORD) -> SignUpMaterial:
    return make_sign_up_material(password, TEST_KDF)


def setup_accept_body(
    token: str, material: SignUpMaterial, display_name: str = "Wren", **changes: Any
) -> dict[str, Any]:
    """The body of ``POST /api/setup/accept``, right unless ``changes`` say not."""
    body: dict[str, Any] = {
        "token": token,
        "display_name": display_name,
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


def new_setup_link(
    admin: Person,
    email: str = "wren@practice.invalid",
    role: str = "therapist",
    display_name: str = "Wren",
) -> dict[str, Any]:
    """Ada asks for a setup link through the API; its answer (``token``, ``id``, ...)."""
    reply = (
        Browser()
        .sign_in_as(admin)
        .post(
            "/api/admin/setup-links", {"role": role, "email": email, "display_name": display_name}
        )
    )
    assert reply.status == 200, reply.content
    return reply.json()
