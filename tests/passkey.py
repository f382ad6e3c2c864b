"""A software authenticator for the tests: it makes a P-256 credential and answers
WebAuthn challenges exactly as a browser passes an authenticator's answer on (the JSON of
``PublicKeyCredential.toJSON()``), so the server's checks run on real signatures. The
HTTP tests enrol it through the API; the live personas' Python clients sign in with it
(``tests.personas``), a second factor with no time step to wait for.

The browser tests use Chromium's own virtual authenticator instead.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

import crypto

ORIGIN = "http://testserver"
RP_ID = "testserver"

# Authenticator data flags: user present, user verified, attested credential data.
_UP, _UV, _AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return crypto.b64encode(data)


@dataclass
class SoftAuthenticator:
    """One credential, made on ``create``; its counter grows with every assertion."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()), repr=False
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    sign_count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answer_at(self, base_url: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """What ``ConfideClient.sign_in`` takes as ``passkey`` for the portal at
        ``base_url``: the assertion for the options it is given."""
        origin = base_url.rstrip("/")
        return lambda options: self.get(options, origin=origin)

    def _rp_hash(self, origin: str) -> bytes:
        # The portal's host name is the relying party (accounts.factors.passkeys).
        rp_id = urlsplit(origin).hostname or RP_ID
        return hashlib.sha256(rp_id.encode()).digest()

    def public_key(self) -> bytes:
        """The credential's public key as a COSE key, as the server stores it."""
        return self._cose_key()

    def _client_data(self, kind: str, challenge: str, origin: str) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        return json.dumps(data).encode()

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def create(self, options: dict[str, Any], origin: str = ORIGIN) -> dict[str, Any]:
        """The credential ``navigator.credentials.create(options)`` would give."""
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attested = (
            bytes(16)
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self._cose_key()
        )
        auth_data = (
            self._rp_hash(origin) + bytes([_UP | _UV | _AT]) + self.sign_count.to_bytes(4, "big")
        ) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "attestationObject": b64(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(self, options: dict[str, Any], origin: str = ORIGIN) -> dict[str, Any]:
        """The assertion ``navigator.credentials.get(options)`` would give."""
        with self._lock:
            self.sign_count += 1
            count = self.sign_count
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = self._rp_hash(origin) + bytes([_UP | _UV]) + count.to_bytes(4, "big")
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
                "userHandle": None,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
