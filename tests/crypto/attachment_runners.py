"""The runners of crypto/vectors/attachment.json (crypto/SPEC.md, "Attachments" and
"Message content"), for test_known_answer_vectors.py. The stream's length and digest are
computed here from SPEC.md's formulas with hashlib, independently of the package."""

from __future__ import annotations

import hashlib
import math
import uuid
from typing import Any

from crypto import (
    AttachmentOpener,
    AttachmentReference,
    MessageContent,
    attachment_ciphertext_size,
    decode_content,
    encode_content,
    open_attachment,
    seal_attachment,
)
from crypto._vectorgen.rng import replay_random

Inputs = dict[str, Any]
Result = dict[str, Any]


def _b(value: str) -> bytes:
    return bytes.fromhex(value)


def _reference(fields: dict[str, Any]) -> AttachmentReference:
    return AttachmentReference(
        uuid.UUID(bytes=_b(fields["attachment_id"])),
        _b(fields["key"]),
        _b(fields["digest"]),
        fields["size"],
        fields["name_text"],
        fields["type_text"],
    )


def _fields(reference: AttachmentReference) -> Result:
    return {
        "attachment_id": reference.attachment_id.bytes.hex(),
        "key": reference.key.hex(),
        "digest": reference.digest.hex(),
        "size": reference.size,
        "name_text": reference.name,
        "type_text": reference.type,
    }


def attachment_seal(inputs: Inputs) -> Result:
    with replay_random([_b(value) for value in inputs["random"]]):
        sealed = seal_attachment(_b(inputs["file"]), inputs["name_text"], inputs["type_text"])
    stream = sealed.stream
    digest = hashlib.blake2b(b"confide/v1/attachment-digest" + stream, digest_size=32).digest()
    assert sealed.sealer.digest == digest
    size = len(_b(inputs["file"]))
    assert len(stream) == 1 + 24 + 512 + 17 + size + 17 * math.ceil(size / 65536)
    return {
        "key": sealed.sealer.key.hex(),
        "digest": digest.hex(),
        "stream_size": len(stream),
        "stream": stream.hex(),
    }


def attachment_open(inputs: Inputs) -> Result:
    stream = _b(inputs["stream"])
    reference = _reference(inputs["reference"])
    pieces = inputs.get("pieces")
    if pieces is None:
        return {"file": open_attachment(stream, reference).hex()}
    opener = AttachmentOpener(reference)
    out, offset = [], 0
    for length in [*pieces, len(stream)]:
        out.append(opener.feed(stream[offset : offset + length]))
        offset += length
    opener.finish()
    return {"file": b"".join(out).hex()}


def attachment_ciphertext_size_of(inputs: Inputs) -> Result:
    return {"stream_size": attachment_ciphertext_size(inputs["size"])}


def content_encode(inputs: Inputs) -> Result:
    content = MessageContent(
        inputs["text_text"], tuple(_reference(fields) for fields in inputs["attachments"])
    )
    return {"content": encode_content(content).hex()}


def content_decode(inputs: Inputs) -> Result:
    content = decode_content(_b(inputs["content"]))
    return {
        "text_text": content.text,
        "attachments": [_fields(reference) for reference in content.attachments],
    }


RUNNERS = {
    ("attachment", "seal"): attachment_seal,
    ("attachment", "open"): attachment_open,
    ("attachment", "ciphertext_size"): attachment_ciphertext_size_of,
    ("attachment", "encode_content"): content_encode,
    ("attachment", "decode_content"): content_decode,
}
