"""Moving a published identity to version 2 (crypto/SPEC.md, "Version 2: an X-Wing key for
envelopes"): at their first sign-in after the change, a person whose identity is of
version 1 publishes the version-2 form of the same keys, so that the epochs that follow
are wrapped with X-Wing.

The server takes it only in place of the version-1 identity it certifies the keys of
(same signing and encryption keys), never as a change of keys: a version-2 identity's
fingerprint is the version-1 one's, so nobody's pins or safety numbers move. Whoever
publishes first wins; a second session answered with the identity already published
adopts it (its clients check that it certifies their own keys).
"""

from __future__ import annotations

import hmac
import logging
import time

from django.db import transaction
from django.dispatch import Signal
from django.http import HttpRequest

import crypto
from accounts.api import api, parse_body, signed_in_user
from accounts.models import User
from audit.log import record
from protocol.audit import AuditKind
from protocol.errors import BadRequestError
from protocol.http import IdentityAnswer, IdentityRequest

__all__ = ["identity_upgraded", "publish_identity"]

log = logging.getLogger(__name__)

# Sent after the commit with ``user_id``: the person's identity moved to version 2.
identity_upgraded = Signal()

# How far from the server's clock a new identity's ``since`` may be, either way: a time far
# ahead would let keys wrapped without X-Wing count as history for longer; one far behind
# would have the person refuse keys made for them before they published it.
_CLOCK_SKEW_MS = 5 * 60 * 1000


def _parse(text: str) -> crypto.PublicIdentity:
    try:
        return crypto.PublicIdentity.from_bytes(crypto.b64decode(text))
    except crypto.CryptoError as exc:
        raise BadRequestError(f"The public identity is not valid: {exc}") from None


def upgrade_identity(user_id: int, new: crypto.PublicIdentity) -> crypto.PublicIdentity:
    """Publishes ``new`` (version 2) in place of the user's version-1 identity of the same
    keys; answers the identity published afterwards (the one already there, if it is of
    version 2 already). ``BadRequestError`` for another version, other keys or a time
    more than 5 minutes from the server's clock."""
    if new.version != crypto.IDENTITY_VERSION_2:
        raise BadRequestError("Only a version-2 identity can be published in place of one.")
    now = time.time() * 1000
    if abs((new.since or 0) - now) > _CLOCK_SKEW_MS:
        raise BadRequestError(
            "The identity's time is more than 5 minutes from the server's clock: check this "
            "device's clock."
        )
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .only("public_identity", "email", "practice_id")
            .get(pk=user_id)
        )
        current = crypto.PublicIdentity.from_bytes(bytes(user.public_identity))
        same_keys = hmac.compare_digest(current.sign_key, new.sign_key) and hmac.compare_digest(
            current.enc_key, new.enc_key
        )
        if not same_keys:
            raise BadRequestError(
                "The identity certifies other keys than your published one: only the same "
                "keys can move to version 2."
            )
        if current.version == crypto.IDENTITY_VERSION_2:
            return current
        User.objects.filter(pk=user_id).update(public_identity=new.to_bytes())
        transaction.on_commit(lambda: identity_upgraded.send(sender=User, user_id=user_id))
        record(
            AuditKind.IDENTITY_CHANGED,
            actor=user,
            subject=f"user:{user_id}",
            details={"version": new.version, "why": "upgrade"},
        )
    log.info("identity of user %s moved to version 2", user_id)
    return new


@api(methods=("POST",))
def publish_identity(request: HttpRequest) -> IdentityAnswer:
    """``POST /api/me/identity`` (``IdentityRequest``): the version-2 form of the person's
    own keys; answers the identity published (``IdentityAnswer``)."""
    user = signed_in_user(request)
    body = parse_body(request, IdentityRequest)
    published = upgrade_identity(user.pk, _parse(body.public_identity))
    return IdentityAnswer(public_identity=crypto.b64encode(published.to_bytes()))
