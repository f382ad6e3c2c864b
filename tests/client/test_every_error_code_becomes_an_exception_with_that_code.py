"""Every code of ``protocol.errors.ErrorCode`` becomes a ServerRefusedError whose ``code`` is
that code, of the class the client has for it where it has one; the client keeps no table
of codes of its own."""

from __future__ import annotations

import pytest

from confide_client.errors import (
    AgreementRequiredError,
    BadCiphertextError,
    ConversationClosedError,
    ForbiddenError,
    InvitationInvalidError,
    NotFoundError,
    OverloadedError,
    RateLimitedError,
    SecondFactorInvalidError,
    ServerRefusedError,
    StaleEpochError,
    UnauthenticatedError,
    UnavailableError,
    error_from_server,
    known_code,
)
from protocol.errors import ErrorCode

CLASSES: dict[ErrorCode, type[ServerRefusedError]] = {
    ErrorCode.UNAUTHENTICATED: UnauthenticatedError,
    ErrorCode.FORBIDDEN: ForbiddenError,
    ErrorCode.AGREEMENT_REQUIRED: AgreementRequiredError,
    ErrorCode.NOT_FOUND: NotFoundError,
    ErrorCode.INVITATION_INVALID: InvitationInvalidError,
    ErrorCode.CONVERSATION_CLOSED: ConversationClosedError,
    ErrorCode.STALE_EPOCH: StaleEpochError,
    ErrorCode.BAD_CIPHERTEXT: BadCiphertextError,
    ErrorCode.RATE_LIMITED: RateLimitedError,
    ErrorCode.OVERLOADED: OverloadedError,
    ErrorCode.UNAVAILABLE: UnavailableError,
    ErrorCode.SECOND_FACTOR_INVALID: SecondFactorInvalidError,
}


@pytest.mark.parametrize("code", list(ErrorCode))
def test_each_code_becomes_an_exception_carrying_that_code(code: ErrorCode) -> None:
    error = error_from_server(code, "said the server", {})
    assert isinstance(error, ServerRefusedError)
    assert type(error) is CLASSES.get(code, ServerRefusedError)
    assert error.code == code
    assert known_code(error.code) is code


@pytest.mark.parametrize("kind", list(dict.fromkeys(CLASSES.values())))
def test_each_class_names_a_code_of_the_protocol(kind: type[ServerRefusedError]) -> None:
    assert known_code(kind.code) is not None
