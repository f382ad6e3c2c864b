"""The protocol as a JSON Schema (``protocol/schema.json``) and as the browser's module of
constants (``frontend/static/frontend/src/app/protocol.js``), both generated from this
package and committed.

    python -m protocol.schema           # writes both files
    python -m protocol.schema --check   # exits 1, naming the file, if either is stale

The schema has one definition per frame and body under ``$defs``, entry points under
``frames`` and ``http``, and the error codes with their HTTP status and resend rule under
``errors``; the browser's tests validate what the browser builds against it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from protocol import audit, availability, factors, http, practice
from protocol.errors import ERRORS, RESEND, SESSION_GONE, CloseCode
from protocol.limits import (
    ATTACHMENT_PART_BYTES,
    MAX_BODY_BYTES,
    MAX_CIPHERTEXT_CHARS,
    MAX_ENVELOPES,
    MAX_RECOVERY_ENVELOPES,
    MAX_SYNC,
)
from protocol.to_client import SERVER_FRAME_ADAPTER
from protocol.to_server import CLIENT_FRAME_ADAPTER

__all__ = [
    "JS_PATH",
    "SCHEMA_PATH",
    "VERSION",
    "generated",
    "javascript",
    "main",
    "schema",
    "stale",
]

VERSION = 1
ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"
JS_PATH = ROOT / "frontend" / "static" / "frontend" / "src" / "app" / "protocol.js"

Mode = Literal["validation", "serialization"]

# Request bodies are what a server validates; answers are what it writes.
_REQUESTS: tuple[type[BaseModel], ...] = (
    http.ParamsRequest,
    http.SignInRequest,
    http.AgreementRequest,
    http.InvitationRequest,
    http.TokenRequest,
    http.AcceptRequest,
    http.RecoverBeginRequest,
    http.RecoverFinishRequest,
    http.RenewRequest,
    http.LabelRequest,
    http.ArchiveRequest,
    http.NotificationSettings,
    http.AssistedRecoveryRequest,
    http.RecoveryEnvelopesRequest,
    http.RecoveryConfirmRequest,
    practice.SetupAcceptRequest,
    practice.SetupLinkRequest,
    practice.MemberActiveRequest,
    practice.PracticeSettings,
    practice.PublishAgreementRequest,
    factors.SecondFactorRequest,
    factors.TotpConfirmRequest,
    factors.PasskeyFinishRequest,
    factors.RemoveFactorRequest,
    availability.AvailabilitySettings,
    http.AttachmentRequest,
    http.AttachmentCompleteRequest,
)
_ANSWERS: tuple[type[BaseModel], ...] = (
    http.CsrfAnswer,
    http.OkAnswer,
    http.NotificationSettings,
    http.UserAnswer,
    http.AgreementAnswer,
    http.CurrentAgreementAnswer,
    http.InvitationsAnswer,
    http.InvitationItem,
    http.InvitationAnswer,
    http.LookupAnswer,
    http.AcceptAnswer,
    http.RecoverBeginAnswer,
    http.ConversationsAnswer,
    http.ConversationsPage,
    http.ConversationAnswer,
    http.InboxEntryAnswer,
    http.AssistedRecoveryAnswer,
    http.RecoveriesAnswer,
    http.RecoveryStagedAnswer,
    http.RecoveryDecisionAnswer,
    http.ErrorBody,
    practice.SetupLookupAnswer,
    practice.SetupLinkAnswer,
    practice.SetupLinksAnswer,
    practice.SetupLinkItemAnswer,
    practice.MembersAnswer,
    practice.MemberAnswer,
    practice.AdminInvitationsAnswer,
    practice.AdminInvitationItem,
    practice.PracticeSettingsAnswer,
    practice.AdminAgreementAnswer,
    audit.AuditPage,
    factors.SecondFactorRequiredAnswer,
    factors.PasskeyOptionsAnswer,
    factors.TotpBeginAnswer,
    factors.FactorsAnswer,
    factors.TotpConfirmAnswer,
    factors.PasskeyRegisteredAnswer,
    availability.AvailabilityAnswer,
    availability.TherapistAvailabilityAnswer,
    http.AttachmentAnswer,
)


def schema() -> dict[str, Any]:
    """The whole protocol as one JSON Schema document (draft 2020-12)."""
    inputs: list[tuple[str, Mode, TypeAdapter[Any]]] = [
        ("client_frame", "validation", CLIENT_FRAME_ADAPTER),
        ("server_frame", "serialization", SERVER_FRAME_ADAPTER),
    ]
    inputs += [(model.__name__, "validation", TypeAdapter(model)) for model in _REQUESTS]
    inputs += [(model.__name__, "serialization", TypeAdapter(model)) for model in _ANSWERS]
    refs, document = TypeAdapter.json_schemas(inputs, ref_template="#/$defs/{model}")
    entries = {key: refs[(key, mode)] for key, mode, _ in inputs}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://confide.invalid/protocol/v1",
        "title": "The Confide wire protocol (docs/protocol.md)",
        "version": VERSION,
        "frames": {
            "to_server": entries.pop("client_frame"),
            "to_client": entries.pop("server_frame"),
        },
        "http": entries,
        "errors": {
            str(code): {"status": spec.status, "resend": spec.resend}
            for code, spec in sorted(ERRORS.items())
        },
        "close_codes": {code.name.lower(): int(code) for code in CloseCode},
        "$defs": document["$defs"],
    }


def javascript() -> str:
    """The browser's constants module: the same codes, resend rule and limits."""
    codes = {str(code): spec.status for code, spec in sorted(ERRORS.items())}
    resend = sorted(str(code) for code in RESEND)
    close = {code.name: int(code) for code in CloseCode}
    gone = sorted(int(code) for code in SESSION_GONE)
    limits = {
        "ATTACHMENT_PART_BYTES": ATTACHMENT_PART_BYTES,
        "MAX_BODY_BYTES": MAX_BODY_BYTES,
        "MAX_CIPHERTEXT_CHARS": MAX_CIPHERTEXT_CHARS,
        "MAX_ENVELOPES": MAX_ENVELOPES,
        "MAX_RECOVERY_ENVELOPES": MAX_RECOVERY_ENVELOPES,
        "MAX_SYNC": MAX_SYNC,
    }
    return "\n".join(
        [
            "/**",
            " * The protocol's codes and limits, generated from protocol/ by",
            " * `python -m protocol.schema`: do not edit (a test fails when it is stale).",
            " *",
            " * @module",
            " */",
            "",
            f"export const PROTOCOL_VERSION = {VERSION};",
            "",
            "/** Every error code, with its HTTP status. */",
            f"export const ERROR_STATUS = Object.freeze({_js(codes)});",
            "",
            "/** Codes after which the same bytes are sent again (nothing was stored). */",
            f"export const RESEND = new Set({_js(resend)});",
            "",
            "/** Why the server closed a websocket. */",
            f"export const CLOSE = Object.freeze({_js(close)});",
            "",
            "/** Closes after which reconnecting cannot help: sign in again. */",
            f"export const SESSION_GONE = new Set({_js(gone)});",
            "",
            "/** Limits fixed by the protocol. */",
            f"export const LIMITS = Object.freeze({_js(limits)});",
            "",
        ]
    )


def _js(value: Any) -> str:
    return json.dumps(value, indent=2)


def _schema_text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=False) + "\n"


def generated() -> dict[Path, str]:
    """Each generated file and what it must hold."""
    return {SCHEMA_PATH: _schema_text(), JS_PATH: javascript()}


def stale(outputs: dict[Path, str]) -> list[Path]:
    """The files whose committed text differs from ``outputs``."""
    return [path for path, text in outputs.items() if _read(path) != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m protocol.schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a committed file is stale")
    args = parser.parse_args(argv)
    outputs = generated()
    stale_paths = stale(outputs)
    if args.check:
        for path in stale_paths:
            print(f"{path.relative_to(ROOT)} is stale: run `make protocol`", file=sys.stderr)
        return 1 if stale_paths else 0
    for path in stale_paths:
        path.write_text(outputs[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
