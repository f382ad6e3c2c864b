"""The JSON API's plumbing for every app's views: request bodies read with the models of
``protocol.http``, answers written from them, and errors as the documented codes."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from pydantic import BaseModel, ValidationError

from accounts.factors import needs_enrolment
from accounts.models import User
from protocol.common import MAX_NESTING, as_json, describe, nests_deeper_than
from protocol.errors import (
    ApiError,
    BadRequestError,
    BodyTooLargeError,
    CsrfFailedError,
    ForbiddenError,
    MethodNotAllowedError,
    SecondFactorEnrolmentRequiredError,
    UnauthenticatedError,
    UnavailableError,
)
from protocol.http import ErrorBody
from protocol.limits import MAX_BODY_BYTES

log = logging.getLogger(__name__)

P = ParamSpec("P")
M = TypeVar("M", bound=BaseModel)


def read_body(request: HttpRequest, limit: int, too_large: BodyTooLargeError) -> bytes:
    """The request's body, refused with ``too_large`` past ``limit`` bytes, whatever its
    Content-Length says. portal/bodies.py refuses such bodies before Django reads them; this
    is for every other way in."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequestError("The Content-Length header is not a number.") from None
    if declared > limit:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(body) > limit:
        raise too_large
    return body


def parse_body(request: HttpRequest, schema: type[M]) -> M:
    """The request's JSON body as ``schema``, or ``BadRequestError`` saying what is wrong."""
    body = read_body(
        request,
        MAX_BODY_BYTES,
        BodyTooLargeError(f"The request body may be at most {MAX_BODY_BYTES} bytes."),
    )
    if nests_deeper_than(body, MAX_NESTING):
        raise BadRequestError(f"Invalid request: nested deeper than {MAX_NESTING} levels")
    try:
        return schema.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise BadRequestError(f"Invalid request: {describe(exc)}") from None


def signed_in_user(request: HttpRequest) -> User:
    """The request's account; views behind ``@api(auth=True)`` always have one."""
    user = request.user
    if not isinstance(user, User):
        raise UnauthenticatedError("Sign in first.")
    return user


def error_response(exc: ApiError) -> JsonResponse:
    body = ErrorBody.of(exc).model_dump(mode="json", exclude_none=True)
    return no_store(JsonResponse(body, status=exc.http_status))


def no_store(response: JsonResponse) -> JsonResponse:
    """Answers of the API are about one person (some carry their wrapped keys): no cache,
    shared or the browser's own, keeps them."""
    response["Cache-Control"] = "no-store"
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """Django's CSRF failure, as the API's error (``CSRF_FAILURE_VIEW``) rather than its
    HTML page; the reason stays in the server's log."""
    log.info("CSRF check failed: %s", reason)
    if settings.CSRF_COOKIE_SECURE and not request.is_secure():
        # Its cookies go only over https, so nothing sent over plain http can pass.
        return error_response(
            CsrfFailedError("This server works only over https: open https:// instead of http://.")
        )
    return error_response(
        CsrfFailedError("The CSRF token is missing or wrong: GET /api/csrf, then send it.")
    )


def gate(
    request: HttpRequest, roles: tuple[str, ...] | None, *, before_enrolment: bool = False
) -> User:
    """The checks of a view behind ``@api(auth=True)``, for a view that answers something
    other than JSON: signed in, a second factor for staff, the role. Returns the account."""
    if not request.user.is_authenticated:
        raise UnauthenticatedError("Sign in first.")
    user = signed_in_user(request)
    if not before_enrolment and needs_enrolment(user):
        raise SecondFactorEnrolmentRequiredError(
            "Set up a second factor first (an authenticator app or a passkey): "
            "therapists and admins need one before anything else."
        )
    if roles is not None and user.role not in roles:
        raise ForbiddenError("Your role may not do this.")
    return user


def api(
    *,
    methods: tuple[str, ...],
    auth: bool = True,
    roles: tuple[str, ...] | None = None,
    before_enrolment: bool = False,
) -> Callable[[Callable[Concatenate[HttpRequest, P], BaseModel]], Callable[..., JsonResponse]]:
    """Wraps a view that answers a model of ``protocol.http``: method check,
    authentication, the second-factor gate, role check, the model as JSON, errors as codes.

    The gate: a therapist or admin without a second factor is answered
    ``second_factor_enrolment_required`` by every view with ``auth`` but those marked
    ``before_enrolment`` (``/api/me`` and enrolling a factor).
    """

    def decorate(
        view: Callable[Concatenate[HttpRequest, P], BaseModel],
    ) -> Callable[..., JsonResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> JsonResponse:
            if request.method not in methods:
                response = error_response(MethodNotAllowedError(f"Use {' or '.join(methods)}."))
                response["Allow"] = ", ".join(methods)
                return response
            try:
                if auth:
                    gate(request, roles, before_enrolment=before_enrolment)
                elif roles is not None and getattr(request.user, "role", None) not in roles:
                    raise ForbiddenError("Your role may not do this.")
                answer = view(request, *args, **kwargs)
            except ApiError as exc:
                return error_response(exc)
            except (OperationalError, InterfaceError):
                log.warning("database unavailable during an API request")
                return error_response(UnavailableError("The database is unavailable."))
            except Exception:
                log.exception("unexpected error in %s", view.__name__)
                return error_response(ApiError("Unexpected server error."))
            response = JsonResponse(as_json(answer), json_dumps_params={"separators": (",", ":")})
            return no_store(response)

        return wrapped

    return decorate


__all__ = ["api", "error_response", "gate", "parse_body", "read_body", "signed_in_user"]
