"""What every message of the protocol is made of: the field types, the base models, and
turning a model into the JSON text that crosses the wire and back.

Binary values travel as base64url without padding (crypto/SPEC.md); ids of users are
integers, ids of conversations and messages UUIDs in their canonical text form; times are
ISO 8601 with a UTC offset, written exactly as Python's ``isoformat`` writes them.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
)

__all__ = [
    "B64",
    "Epoch",
    "MalformedError",
    "Ref",
    "Seq",
    "Strict",
    "Time",
    "UserId",
    "encode",
    "read",
]

# A request's correlation id, echoed in its reply or error.
Ref = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
# base64url without padding.
B64 = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]
# A sequence number: 0 means "none yet", messages start at 1.
Seq = Annotated[int, Field(ge=0, le=2**62)]
Epoch = Annotated[int, Field(ge=0, le=2**32 - 1)]
UserId = Annotated[int, Field(ge=1)]
# Written as ``datetime.isoformat()`` writes it ("+00:00", not "Z"), so that two times
# of one server compare as text in the order they happened.
Time = Annotated[
    AwareDatetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    Field(json_schema_extra={"format": "date-time"}),
]


def _schema_extra(schema: dict[str, Any], model: type[Any]) -> None:
    """A frame's ``type`` has a default in Python (its model says it), but on the wire it
    is never optional; a model's ``EXAMPLES`` go into its schema."""
    if "type" in schema.get("properties", {}):
        required = schema.setdefault("required", [])
        if "type" not in required:
            required.insert(0, "type")
    examples = getattr(model, "EXAMPLES", ())
    if examples:
        schema["examples"] = [dict(example) for example in examples]


class Strict(BaseModel):
    """Every model of the protocol: unknown fields are an error, not ignored, and no value
    is coerced from another JSON type."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, json_schema_extra=_schema_extra
    )


class MalformedError(ValueError):
    """A message does not have the shape the protocol defines; ``str()`` says where."""


T = TypeVar("T")


def read(adapter: TypeAdapter[T], data: str | bytes) -> T:
    """``data`` (JSON text) read as ``adapter``'s type, or ``MalformedError`` naming the
    first field that is wrong (never the value, which may be a secret)."""
    try:
        return adapter.validate_json(data)
    except ValidationError as exc:
        raise MalformedError(describe(exc)) from None


def describe(exc: ValidationError, whole: str = "body") -> str:
    """The first error of a validation, as ``where: what`` without the offending value
    (``whole`` names the place when the error is not in one field)."""
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or whole
    return f"{where}: {first['msg']}"


def encode(model: BaseModel) -> str:
    """The JSON text of a frame: compact, and without the optional fields left unset (a
    frame never carries ``null``)."""
    return model.model_dump_json(exclude_none=True)


def as_json(model: BaseModel) -> dict[str, Any]:
    """The JSON value of an HTTP body (``null`` kept: a body may say "none")."""
    data: dict[str, Any] = model.model_dump(mode="json")
    return data
