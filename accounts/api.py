"""The JSON API's plumbing for every app's views: request bodies read with the models of
``protocol.http``, answers written from them, and errors as the documented codes."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from pydantic import BaseModel, ValidationError

from accounts.models import User
from protocol.common import MAX_NESTING, as_json, describe, nests_deeper_than
from protocol.errors import (
    ApiError,
    BadRequestError,
    ForbiddenError,
    MethodNotAllowedError,
    UnauthenticatedError,
    UnavailableError,
)
from protocol.http import ErrorBody
from protocol.limits import MAX_BODY_BYTES

log = logging.getLogger(__name__)

P = ParamSpec("P")
M = TypeVar("M", bound=BaseModel)


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
    return JsonResponse(body, status=exc.http_status)


def api(
    *, methods: tuple[str, ...], auth: bool = True, roles: tuple[str, ...] | None = None
) -> Callable[[Callable[Concatenate[HttpRequest, P], BaseModel]], Callable[..., JsonResponse]]:
    """Wraps a view that answers a model of ``protocol.http``: method check,
    authentication, role check, the model as JSON, errors as codes."""

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
                if auth and not request.user.is_authenticated:
                    raise UnauthenticatedError("Sign in first.")
                if roles is not None and getattr(request.user, "role", None) not in roles:
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
            return JsonResponse(as_json(answer), json_dumps_params={"separators": (",", ":")})

        return wrapped

    return decorate


__all__ = ["api", "error_response", "parse_body", "signed_in_user"]
