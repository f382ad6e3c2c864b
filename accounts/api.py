"""The JSON API's plumbing: request bodies as typed schemas, errors as documented codes."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from pydantic import BaseModel, ValidationError

from messaging.errors import (
    BadRequestError,
    ErrorCode,
    ForbiddenError,
    MessagingError,
    UnauthenticatedError,
    UnavailableError,
)
from portal.accounts.models import User

log = logging.getLogger(__name__)

P = ParamSpec("P")
M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES = 64 * 1024


def parse_body(request: HttpRequest, schema: type[M]) -> M:
    """The request's JSON body as ``schema``, or ``BadRequestError`` saying what is wrong."""
    too_large = BadRequestError(f"The request body may be at most {MAX_BODY_BYTES} bytes.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequestError("The Content-Length header is not a number.") from None
    if declared > MAX_BODY_BYTES:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(body) > MAX_BODY_BYTES:
        raise too_large
    try:
        return schema.model_validate_json(body or b"{}")
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadRequestError(f"Invalid request: {where}: {first['msg']}") from None


def signed_in_user(request: HttpRequest) -> User:
    """The request's account; views behind ``@api(auth=True)`` always have one."""
    user = request.user
    if not isinstance(user, User):
        raise UnauthenticatedError("Sign in first.")
    return user


def error_response(exc: MessagingError) -> JsonResponse:
    return JsonResponse({"error": exc.to_json()}, status=exc.http_status)


def api(
    *, methods: tuple[str, ...], auth: bool = True, roles: tuple[str, ...] | None = None
) -> Callable[[Callable[Concatenate[HttpRequest, P], Any]], Callable[..., JsonResponse]]:
    """Wraps a view: method check, authentication, role check, JSON result, errors as codes."""

    def decorate(view: Callable[Concatenate[HttpRequest, P], Any]) -> Callable[..., JsonResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> JsonResponse:
            if request.method not in methods:
                response = JsonResponse(
                    {
                        "error": {
                            "code": str(ErrorCode.METHOD_NOT_ALLOWED),
                            "message": f"Use {' or '.join(methods)}.",
                        }
                    },
                    status=405,
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                if auth and not request.user.is_authenticated:
                    raise UnauthenticatedError("Sign in first.")
                if roles is not None and getattr(request.user, "role", None) not in roles:
                    raise ForbiddenError("Your role may not do this.")
                result = view(request, *args, **kwargs)
            except MessagingError as exc:
                return error_response(exc)
            except (OperationalError, InterfaceError):
                log.warning("database unavailable during an API request")
                return error_response(UnavailableError("The database is unavailable."))
            except Exception:
                log.exception("unexpected error in %s", view.__name__)
                return error_response(MessagingError("Unexpected server error."))
            if isinstance(result, JsonResponse):
                return result
            return JsonResponse(result, json_dumps_params={"separators": (",", ":")})

        return wrapped

    return decorate


__all__ = ["api", "error_response", "parse_body", "signed_in_user"]
