"""How the server stores what a client proves its password with.

The client never sends its password. It runs Argon2id locally and sends a
32-byte *authentication secret* derived from the result (crypto/SPEC.md,
"Password derivation"). A slow hash on the server would add nothing: guessing
the password from a stolen database already costs one Argon2id per guess,
because the wrapped key bundle stored beside the account is protected by the
same derivation. What the server must add is that a stolen database does not
let anyone sign in: the stored value is a salted BLAKE2b of the secret, and
a 256-bit secret cannot be recovered from that.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise


class AuthSecretHasher(BasePasswordHasher):
    """Salted BLAKE2b-256 of a high-entropy authentication secret."""

    algorithm = "confide_blake2b"

    def encode(self, password: str, salt: str) -> str:
        if not password or not salt or "$" in salt:
            raise ValueError("An authentication secret and a salt without '$' are required.")
        digest = hashlib.blake2b(
            password.encode("utf-8"),
            digest_size=32,
            key=salt.encode("ascii"),
            person=b"confide-auth",
        ).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, salt, digest = encoded.split("$", 2)
        if algorithm != self.algorithm:
            raise ValueError("not an authentication-secret hash")
        return {"algorithm": algorithm, "salt": salt, "hash": digest}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        candidate = self.encode(password, decoded["salt"])
        return hmac.compare_digest(candidate.encode("ascii"), encoded.encode("ascii"))

    def safe_summary(self, encoded: str) -> dict[str | StrPromise, Any]:
        decoded = self.decode(encoded)
        return {
            gettext_noop("algorithm"): decoded["algorithm"],
            gettext_noop("salt"): mask_hash(decoded["salt"], show=2),
            gettext_noop("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None
