"""Sign-in without the password ever reaching the server (crypto/SPEC.md, "Password derivation").

1. ``POST /api/auth/params`` gives the salt and Argon2id parameters for an email
   (for an unknown email, stable made-up ones, so the answer reveals nothing);
2. the client derives its authentication secret and key-encryption key;
3. ``POST /api/auth/signin`` with the authentication secret opens a session and
   returns the wrapped key bundle, which only the key-encryption key opens.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from pydantic import BaseModel, ConfigDict, Field

import crypto
from messaging.errors import RateLimitedError, UnauthenticatedError
from portal.accounts.models import User, normalise_email
from portal.accounts.signals import sockets_to_close
from portal.api import api, parse_body, signed_in_user

# Control characters (NUL above all, which PostgreSQL refuses) are never part of a name.
Email = Annotated[
    str,
    Field(min_length=3, max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"),
]
AuthSecret = Annotated[str, Field(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")]


class ParamsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    email: Email


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    email: Email
    auth_secret: AuthSecret


def user_json(user: User, *, with_keys: bool = False) -> dict[str, Any]:
    """How the API shows an account; key material only to its owner."""
    body: dict[str, Any] = {
        "id": user.pk,
        "display_name": user.display_name,
        "role": user.role,
        "public_identity": crypto.b64encode(bytes(user.public_identity)),
    }
    if with_keys:
        body.update(
            email=user.email,
            practice={"id": user.practice_id, "name": user.practice.name},
            kdf=kdf_json(bytes(user.kdf_salt), user.kdf_opslimit, user.kdf_memlimit),
            key_bundle=crypto.b64encode(bytes(user.key_bundle)),
        )
    return body


def kdf_json(salt: bytes, opslimit: int, memlimit: int) -> dict[str, Any]:
    return {
        "salt": crypto.b64encode(salt),
        "opslimit": opslimit,
        "memlimit": memlimit,
        "algorithm": "argon2id13",
    }


def stand_in_salt(email: str) -> bytes:
    """A salt for an email with no account: stable, so asking twice gives the same answer."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"confide/kdf-salt/" + email.encode(), hashlib.sha256).digest()[:16]


@api(methods=("GET",), auth=False)
def csrf(request: HttpRequest) -> dict[str, Any]:
    """Sets the CSRF cookie; every POST must echo it in ``X-CSRFToken``."""
    return {"csrf_token": get_token(request)}


@api(methods=("POST",), auth=False)
def params(request: HttpRequest) -> dict[str, Any]:
    body = parse_body(request, ParamsRequest)
    email = normalise_email(body.email)
    user = User.objects.filter(email=email).only("kdf_salt", "kdf_opslimit", "kdf_memlimit").first()
    if user is None:
        defaults = crypto.DEFAULT_KDF_PARAMS
        return kdf_json(stand_in_salt(email), defaults.opslimit, defaults.memlimit)
    return kdf_json(bytes(user.kdf_salt), user.kdf_opslimit, user.kdf_memlimit)


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def _throttle_keys(request: HttpRequest, email: str) -> list[str]:
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    return [f"confide:signin:email:{digest}", f"confide:signin:ip:{_client_ip(request)}"]


def check_sign_in_allowed(keys: list[str]) -> None:
    limit: int = settings.CONFIDE_SIGNIN_ATTEMPTS
    for key in keys:
        if (cache.get(key) or 0) >= limit:
            raise RateLimitedError(
                "Too many sign-in attempts; try again later.",
                retry_after_s=settings.CONFIDE_SIGNIN_WINDOW_SECONDS,
            )


def count_failure(keys: list[str]) -> None:
    window: int = settings.CONFIDE_SIGNIN_WINDOW_SECONDS
    for key in keys:
        cache.add(key, 0, window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window)


@api(methods=("POST",), auth=False)
def signin(request: HttpRequest) -> dict[str, Any]:
    body = parse_body(request, SignInRequest)
    email = normalise_email(body.email)
    keys = _throttle_keys(request, email)
    check_sign_in_allowed(keys)
    user = authenticate(request, username=email, password=body.auth_secret)
    if not isinstance(user, User):
        count_failure(keys)
        raise UnauthenticatedError("The email or password is wrong.")
    login(request, user)
    return {"user": user_json(user, with_keys=True)}


@api(methods=("POST",), auth=False)
def signout(request: HttpRequest) -> dict[str, Any]:
    """Ends the session and closes the websockets opened with it."""
    user_id = request.user.pk if request.user.is_authenticated else None
    session_key = request.session.session_key
    logout(request)
    if user_id is not None:
        sockets_to_close(user_id, session_key)
    return {"ok": True}


@api(methods=("GET",))
def me(request: HttpRequest) -> dict[str, Any]:
    return {"user": user_json(signed_in_user(request), with_keys=True)}
