"""A small stand-in for the server's websocket on 127.0.0.1, for the client's socket tests.
(Its sibling ``stand_in_portal.py`` extends it to a whole portal, HTTP API and websocket on
one port, for the tests that drive a ``ConfideClient`` end to end: sign-in, the agreement,
invitations, the outbox on disk, the connection's and messages' states.)

It reads every frame the client sends with the server's own parser
(``protocol.to_server.parse_client_frame``), so a test that talks to it also proves the
client sends only frames of the protocol, and it answers with frames built from
``protocol.to_client`` unless a test tells it to send something else:

* ``ping``: ``pong``;
* ``read`` of seq 1: held back, answered only after the next reply, so that two replies
  come in the opposite order of their requests;
* ``read`` of another seq: ``read_ok``, then whatever was held;
* any frame naming :data:`STRANGER`: ``not_found``;
* ``typing``: the texts in ``pushes`` (one ``typing`` event unless told otherwise);
* ``history``: what ``history`` returns (an empty page unless told otherwise).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection

from protocol.common import encode
from protocol.errors import ErrorCode
from protocol.limits import Limits
from protocol.to_client import (
    ErrorFrame,
    HistoryReply,
    PongFrame,
    ReadOkFrame,
    ReadyFrame,
    TypingEvent,
)
from protocol.to_server import HistoryFrame, PingFrame, ReadFrame, TypingFrame, parse_client_frame

# The database generation the stand-in announces.
GENERATION = "0" * 32
USER = 7
CONVERSATION = uuid.UUID("6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b")
# A conversation that is not the user's.
STRANGER = uuid.UUID("0b7e54a2-5f0c-4d59-9d8e-2f5c1a7b3e90")
LIMITS = Limits(
    max_frame_bytes=4096, message_rate=100, message_burst=100, history_page=100, max_sockets=10
)
TYPING = encode(TypingEvent(conversation=CONVERSATION, user=1))


def empty_page(frame: HistoryFrame) -> list[str]:
    reply = HistoryReply(
        ref=frame.ref, conversation=frame.conversation, messages=[], has_more=False, last_seq=0
    )
    return [encode(reply)]


class StandIn:
    """The server's side of each connection; ``headers`` records each handshake."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.end_session = False
        self.pushes: list[str] = [TYPING]
        self.history: Callable[[HistoryFrame], list[str]] = empty_page
        self._held: list[str] = []

    async def handle(self, socket: ServerConnection) -> None:
        self.headers.append(dict(socket.request.headers) if socket.request else {})
        if self.end_session:
            await socket.close(4401)
            return
        await socket.send(encode(ReadyFrame(user=USER, limits=LIMITS, generation=GENERATION)))
        async for text in socket:
            for reply in self.answer(text):
                await socket.send(reply)

    def answer(self, text: str | bytes) -> list[str]:
        frame = parse_client_frame(text)
        if getattr(frame, "conversation", None) == STRANGER:
            error = ErrorFrame(ref=frame.ref, code=ErrorCode.NOT_FOUND, message="No such one.")
            return [encode(error)]
        if isinstance(frame, TypingFrame):
            return list(self.pushes)
        if isinstance(frame, ReadFrame) and frame.seq == 1:
            self._held.append(
                encode(ReadOkFrame(ref=frame.ref, conversation=frame.conversation, seq=1))
            )
            return []
        replies: list[str] = []
        if isinstance(frame, PingFrame):
            replies.append(encode(PongFrame(ref=frame.ref)))
        elif isinstance(frame, ReadFrame):
            replies.append(
                encode(ReadOkFrame(ref=frame.ref, conversation=frame.conversation, seq=frame.seq))
            )
        elif isinstance(frame, HistoryFrame):
            replies.extend(self.history(frame))
        replies.extend(self._held)
        self._held.clear()
        return replies
