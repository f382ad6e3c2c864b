"""Pin records (crypto/SPEC.md, "Pins"): where every client of a person finds the peer
identities the person has seen and verified, so that a key the server serves after the
next sign-in is compared with what they saw before, in any browser.

The server keeps one record per person and cannot read or make one: each is sealed by the
person's client under a key only their identity derives. It checks a record's shape, that
it is sealed for the account's identity, and that its counter follows the one it replaces
(``previous``), in a transaction holding the row, so that two clients writing at once do
not lose a pin: the second is answered ``pins_changed`` and merges and writes again.
"""

from __future__ import annotations

import hmac

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

import crypto
from accounts.api import api, parse_body, signed_in_user
from accounts.models import PinRecord, User
from protocol.errors import BadRequestError, PinsChangedError
from protocol.http import PinsAnswer, PinsRequest

__all__ = ["pins", "write_pins"]


def _answer(row: PinRecord | None) -> PinsAnswer:
    if row is None:
        return PinsAnswer(record=None, counter=0)
    return PinsAnswer(record=crypto.b64encode(bytes(row.record)), counter=row.counter)


def write_pins(user: User, record: bytes, previous: int) -> PinRecord:
    """Keeps ``record`` as the user's pin record in place of the one with counter
    ``previous`` (0: none). ``BadRequestError`` for a record that is malformed, sealed for
    another identity, or whose counter is not ``previous + 1``; ``PinsChangedError`` when
    the record kept is not the one with counter ``previous``."""
    try:
        info = crypto.parse_pins(record)
    except crypto.CryptoError as exc:
        raise BadRequestError(f"The pin record is malformed: {exc}") from None
    own = crypto.PublicIdentity.from_bytes(bytes(user.public_identity)).sign_key
    if not hmac.compare_digest(info.sign_pk, own):
        raise BadRequestError("The pin record is sealed for another identity than yours.")
    if info.counter != previous + 1:
        raise BadRequestError(
            f"The pin record's counter is {info.counter}; the next after {previous} is "
            f"{previous + 1}."
        )
    changed = PinsChangedError(
        "Your pins were written by another of your sessions meanwhile: read them again, "
        "merge, and write."
    )
    try:
        with transaction.atomic():
            row = PinRecord.objects.select_for_update().filter(user=user).first()
            if (row.counter if row is not None else 0) != previous:
                raise changed
            if row is None:
                row = PinRecord(user=user)
            row.counter, row.record, row.written_at = info.counter, record, timezone.now()
            row.save()
    except IntegrityError:
        # Two first records at once on a database without the row to lock: one is kept.
        raise changed from None
    return row


@api(methods=("GET", "PUT"))
def pins(request: HttpRequest) -> PinsAnswer:
    """``GET``: the person's pin record and its counter. ``PUT`` (``PinsRequest``): a new
    record in place of the one with counter ``previous``; answers what is kept."""
    user = signed_in_user(request)
    if request.method == "PUT":
        body = parse_body(request, PinsRequest)
        try:
            record = crypto.b64decode(body.record)
        except crypto.CryptoError as exc:
            raise BadRequestError(f"The pin record is not base64url: {exc}") from None
        return _answer(write_pins(user, record, body.previous))
    return _answer(PinRecord.objects.filter(user=user).first())
