"""The runners of crypto/vectors/export.json (crypto/SPEC.md, "Exports"), for
test_known_answer_vectors.py. The hashes are computed here with hashlib, independently of
the package, from the encodings SPEC.md writes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from crypto import (
    ExportMember,
    ExportMessage,
    IdentityKeyPair,
    PublicIdentity,
    b64decode,
    make_export,
    verify_export,
)

Inputs = dict[str, Any]
Result = dict[str, Any]

START = b"<!--confide-export-manifest\n"
ROLE = {"client": 1, "therapist": 2}


def _message(fields: dict[str, Any]) -> ExportMessage:
    signer = fields["signer"]
    return ExportMessage(
        seq=fields["seq"],
        sender=fields["sender"],
        time=fields["time"],
        signer=None if signer is None else bytes.fromhex(signer),
        text=fields["text_text"],
    )


def _member(fields: dict[str, Any]) -> ExportMember:
    return ExportMember(fields["name_text"], PublicIdentity(bytes.fromhex(fields["identity"])))


def _hash(conversation: bytes, fields: dict[str, Any]) -> bytes:
    """message_hash as SPEC.md writes it, without the package."""
    text = b"" if fields["text_text"] is None else fields["text_text"].encode()
    signer = bytes(32) if fields["signer"] is None else bytes.fromhex(fields["signer"])
    return hashlib.sha256(
        b"confide/v1/export-message"
        + conversation
        + fields["seq"].to_bytes(8, "big")
        + bytes([ROLE[fields["sender"]]])
        + fields["time"].to_bytes(8, "big")
        + bytes([0 if fields["text_text"] is None else 1])
        + signer
        + len(text).to_bytes(4, "big")
        + text
    ).digest()


def export_make(inputs: Inputs) -> Result:
    exporter = IdentityKeyPair(bytes.fromhex(inputs["exporter_secret"]), inputs["exporter_since"])
    conversation = bytes.fromhex(inputs["conversation_id"])
    messages = inputs["messages"]
    made = make_export(
        exporter,
        conversation,
        client=_member(inputs["client"]),
        therapist=_member(inputs["therapist"]),
        messages=[_message(fields) for fields in messages],
        exported_at=inputs["exported_at"],
    )
    start = made.rindex(START)
    manifest = json.loads(made[start + len(START) : -5])
    assert b64decode(manifest["document"]) == hashlib.sha256(made[:start]).digest()
    hashes = [_hash(conversation, fields).hex() for fields in messages]
    assert [b64decode(item["hash"]).hex() for item in manifest["messages"]] == hashes
    return {
        "file_text": made.decode(),
        "document_hash_b64": manifest["document"],
        "message_hashes": hashes,
        "signature_b64": manifest["signature"],
    }


def export_verify(inputs: Inputs) -> Result:
    data = bytes.fromhex(inputs["file"]) if "file" in inputs else inputs["file_text"].encode()
    verified = verify_export(
        data,
        trusted=[PublicIdentity(bytes.fromhex(value)) for value in inputs["trusted"]],
        fingerprints=[bytes.fromhex(value) for value in inputs["fingerprints"]],
        safety_numbers=inputs["safety_numbers"],
    )
    return {
        "conversation_id": verified.conversation_id.bytes.hex(),
        "exporter": verified.exporter,
        "exported_at": verified.exported_at,
        "safety_number_text": verified.safety_number,
        "messages": [
            {
                "seq": message.seq,
                "sender": message.sender,
                "time": message.time,
                "signer": None if message.signer is None else message.signer.hex(),
                "text_text": message.text,
            }
            for message in verified.messages
        ],
    }


__all__ = ["export_make", "export_verify"]
