"""What every message of the protocol is made of: the field types, the base models, and
turning a model into the JSON text that crosses the wire and back.

Binary values travel as base64url without padding (crypto/SPEC.md); ids of users are
integers, ids of conversations and messages UUIDs in their canonical text form; times are
ISO 8601 with a UTC offset, written exactly as Python's ``isoformat`` writes them.
"""

from __future__ import annotations

import json
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
    "MAX_NESTING",
    "B64",
    "Epoch",
    "MalformedError",
    "Ref",
    "Seq",
    "Strict",
    "Time",
    "UserId",
    "encode",
    "loads",
    "nests_deeper_than",
    "read",
]

# Levels of arrays and objects in one frame or body: deeper ones are refused before any
# parser recurses into them (the deepest frame, rekey, nests three).
MAX_NESTING = 32

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


def nests_deeper_than(text: str | bytes, limit: int) -> bool:
    """Whether JSON ``text`` opens more than ``limit`` arrays or objects inside each other.

    Cheap where it matters: text with no more than ``limit`` brackets in all cannot nest
    deeper, so ordinary frames are not scanned; only a suspicious one is walked once,
    brackets inside strings ignored.
    """
    data = text.encode() if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def loads(text: str | bytes) -> Any:
    """JSON ``text`` as Python values, for text that failed its model and is read only for
    what can still be trusted of it (a ``ref``, an error body); ``None`` when it is not
    JSON or nests deeper than ``MAX_NESTING`` (Python's ``json`` would raise
    ``RecursionError`` from about 1,000 levels, which no caller expects)."""
    if nests_deeper_than(text, MAX_NESTING):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def read(adapter: TypeAdapter[T], data: str | bytes) -> T:
    """``data`` (JSON text) read as ``adapter``'s type, or ``MalformedError`` naming the
    first field that is wrong (never the value, which may be a secret)."""
    if nests_deeper_than(data, MAX_NESTING):
        raise MalformedError(f"body: nested deeper than {MAX_NESTING} levels")
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
