"""The HTTP bodies of second factors (docs/protocol.md, "Second factors"): the second step
of a sign-in, and enrolling, listing and removing an authenticator app (TOTP, RFC 6238),
passkeys (WebAuthn) and recovery codes.

WebAuthn's own objects (the options a browser passes to ``navigator.credentials`` and the
credential it answers with) travel as the JSON the WebAuthn Level 3 specification defines
(``PublicKeyCredential.toJSON()`` and ``parseCreationOptionsFromJSON``); they are checked
by the ``webauthn`` library on the server, not re-described here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, RootModel, model_validator

from protocol.common import Strict, Time
from protocol.http import AuthSecret, UserAnswer

__all__ = [
    "FactorsAnswer",
    "Method",
    "PasskeyFinishRequest",
    "PasskeyItem",
    "PasskeyOptionsAnswer",
    "PasskeyRegisteredAnswer",
    "RemoveFactorRequest",
    "SecondFactorRequest",
    "SecondFactorRequiredAnswer",
    "SignInAnswer",
    "TotpBeginAnswer",
    "TotpConfirmAnswer",
    "TotpConfirmRequest",
    "TotpItem",
]

# Six digits from an authenticator app; spaces people type between groups are the
# client's to remove.
TotpCode = Annotated[str, Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]
# A recovery code as shown ("k7qm-2xwd-9rfa-c3hv"), in any case, with or without dashes.
RecoveryCodeText = Annotated[
    str, Field(min_length=16, max_length=24, pattern=r"^[0-9A-Za-z]{4}(-?[0-9A-Za-z]{4}){3}$")
]
# A WebAuthn credential as the browser's ``toJSON()`` writes it (the body limit bounds it).
WebAuthnJson = dict[str, Any]
PasskeyName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Method = Literal["totp", "webauthn", "recovery_code"]


def _exactly_one(model: Strict, *names: str) -> None:
    given = [name for name in names if getattr(model, name) is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of {', '.join(names)}")


# --- requests -----------------------------------------------------------------------------


class SecondFactorRequest(Strict):
    """``POST /api/auth/signin/second-factor``: one proof of the second factor, after a
    sign-in answered ``second_factor_required``."""

    totp: TotpCode | None = None
    recovery_code: RecoveryCodeText | None = None
    webauthn: WebAuthnJson | None = None

    @model_validator(mode="after")
    def _one_proof(self) -> SecondFactorRequest:
        _exactly_one(self, "totp", "recovery_code", "webauthn")
        return self


class TotpConfirmRequest(Strict):
    """``POST /api/2fa/totp/confirm``: a code from the app just set up."""

    code: TotpCode


class PasskeyFinishRequest(Strict):
    """``POST /api/2fa/webauthn/register/finish``: the credential
    ``navigator.credentials.create`` made, and a name its owner will recognise."""

    credential: WebAuthnJson
    name: PasskeyName


class RemoveFactorRequest(Strict):
    """``POST /api/2fa/remove``: which factor (the authenticator app, or a passkey by its
    id), proved by a fresh code from the app or by the password's authentication secret."""

    factor: Literal["totp", "passkey"]
    passkey_id: Annotated[int, Field(ge=1)] | None = None
    totp: TotpCode | None = None
    auth_secret: AuthSecret | None = None

    @model_validator(mode="after")
    def _one_proof(self) -> RemoveFactorRequest:
        _exactly_one(self, "totp", "auth_secret")
        if (self.factor == "passkey") != (self.passkey_id is not None):
            raise ValueError("passkey_id names the passkey to remove, and only a passkey")
        return self


# --- answers ------------------------------------------------------------------------------


class SecondFactorRequiredAnswer(Strict):
    """``POST /api/auth/signin`` for an account with a second factor, when the secret is
    right: nobody is signed in yet and no key material is sent. The second step
    (``POST /api/auth/signin/second-factor``) must follow within ``expires_in_s``."""

    second_factor_required: Literal[True] = True
    methods: list[Method]
    expires_in_s: int


class SignInAnswer(RootModel[UserAnswer | SecondFactorRequiredAnswer]):
    """What ``POST /api/auth/signin`` answers to a right secret: the account, or that a
    second factor must follow."""


class PasskeyOptionsAnswer(Strict):
    """WebAuthn options with a new, single-use challenge: for ``navigator.credentials.get``
    (``POST /api/auth/signin/passkey-options``) or ``.create``
    (``POST /api/2fa/webauthn/register/begin``)."""

    options: WebAuthnJson


class TotpBeginAnswer(Strict):
    """``POST /api/2fa/totp/begin``: a new secret, pending until a code confirms it. ``uri``
    is the ``otpauth://`` URI an app reads from a QR code; ``secret`` is the same secret in
    base32, to type where a camera cannot be used."""

    secret: str
    uri: str
    digits: int
    period_s: int


class TotpItem(Strict):
    confirmed_at: Time


class PasskeyItem(Strict):
    id: int
    name: str
    created_at: Time
    last_used_at: Time | None


class FactorsAnswer(Strict):
    """``GET /api/2fa``: the account's second factors. ``required``: the account's role
    must have one (therapists and admins) before anything else."""

    totp: TotpItem | None
    passkeys: list[PasskeyItem]
    recovery_codes_left: int
    required: bool


class TotpConfirmAnswer(Strict):
    """``POST /api/2fa/totp/confirm``: the app is the account's second factor. The ten
    recovery codes are shown once and never again (the server keeps only their hashes)."""

    factors: FactorsAnswer
    recovery_codes: list[str]


class PasskeyRegisteredAnswer(Strict):
    """``POST /api/2fa/webauthn/register/finish``: the passkey is a second factor; the
    recovery codes come with the account's first factor only, else null."""

    factors: FactorsAnswer
    passkey: PasskeyItem
    recovery_codes: list[str] | None
