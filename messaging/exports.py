"""``POST /api/conversations/<id>/exports``: a member says they exported the conversation
(crypto/SPEC.md, "Exports"; docs/protocol.md). The export itself never reaches the server;
the audit log records who, which conversation and how many messages."""

from __future__ import annotations

import uuid

from django.http import HttpRequest

from accounts.api import api, parse_body, signed_in_user
from accounts.models import Role
from messaging.services.exports import record_export
from protocol import http


@api(methods=("POST",), roles=(Role.CLIENT, Role.THERAPIST))
def conversation_export(request: HttpRequest, conversation_id: uuid.UUID) -> http.ExportAnswer:
    """A member of the conversation made an export of ``messages`` messages on their side."""
    body = parse_body(request, http.ExportRequest)
    at = record_export(signed_in_user(request), conversation_id, body.messages, request)
    return http.ExportAnswer(recorded_at=at)
