"""The delivery contract, tested against schedules that hypothesis makes up.

Both members of a conversation send, resend the same bytes, lose an ack with their socket,
drop their socket, reconnect, and the channel layer fails, in any order: it restarts (its
groups and queues are lost without a word, so the sockets open at that moment hear no more
pushes) or it loses Redis for a while (every socket gets a reset and is closed with 1012).
Each member is modelled as the real clients behave (docs/protocol.md, "Delivery
guarantees"): an outbox resent after each reconnect, its own message held from its ack (the
socket that sent it gets no push of it), ordering by sequence number with the client's own
:class:`SequenceBuffer`, a ``sync`` after each reconnect and whenever a number skips ahead.

After every step: no member holds a message twice, every message a member holds is the
one acknowledged under that number, and an acknowledgement never changes. At the end,
once every member has reconnected: every acknowledged message reached every member exactly
once, in order, and the database holds each message sent exactly once.

The real ASGI application runs in process (``WebsocketCommunicator``) on the project's
channel layer without Redis (one process); its ``flush`` is the restart, and its
``reset_all``, which it runs when its Redis subscription breaks, the loss of Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from confide_client.ordering import SequenceBuffer
from messaging.layer import FanoutChannelLayer
from messaging.models import Message
from tests.messaging.conftest import communicator
from tests.messaging.test_send_and_ack import send_frame
from tests.personas import Chat, Person, Practice5, make_chat, make_practice

pytestmark = pytest.mark.django_db(transaction=True)

T = TypeVar("T")
WHO = st.sampled_from(("therapist", "client"))
QUIET = 0.02  # seconds without a frame after which a socket is taken as drained


class Closed(Exception):
    """The server closed the socket."""


async def _cancel_the_rest() -> None:
    """Ends the tasks that outlive the sockets (the writer's queue of this loop)."""
    rest = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


def layer() -> FanoutChannelLayer:
    """The project's layer, in this process only (the test sets it up without Redis)."""
    found = get_channel_layer()
    assert isinstance(found, FanoutChannelLayer) and not found.url
    return found


class Member:
    """One member's client: an outbox, an ordered inbox and at most one socket."""

    def __init__(self, person: Person, cookie: str, chat: Chat) -> None:
        self.person = person
        self.cookie = cookie
        self.chat = chat
        self.socket: WebsocketCommunicator | None = None
        self.inbox: SequenceBuffer[tuple[int, str]] = SequenceBuffer()
        self.held: list[tuple[int, str]] = []
        self.outbox: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        self.acks: dict[str, int] = {}
        self.gap = False
        self._refs = itertools.count(1)

    @property
    def connected(self) -> bool:
        return self.socket is not None

    async def connect(self) -> None:
        self.socket = communicator(self.cookie)
        connected, _ = await self.socket.connect()
        assert connected
        ready = await self.receive()
        assert ready["type"] == "ready", ready
        try:
            await self.sync()
            for frame in list(self.outbox.values()):
                await self.deliver(frame)
        except Closed:
            return

    async def drop(self) -> None:
        """The socket ends without the client reading what was still on its way."""
        assert self.socket is not None
        socket, self.socket = self.socket, None
        await socket.disconnect(code=1006, timeout=5)

    async def receive(self) -> dict[str, Any]:
        """The next frame; raises :class:`Closed` (and forgets the socket) on a close."""
        assert self.socket is not None
        output = await self.socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            socket, self.socket = self.socket, None
            # The closing handshake ends; the consumer hears of it as after any close.
            await socket.disconnect(code=output.get("code", 1000), timeout=5)
            raise Closed(output.get("code"))
        frame: dict[str, Any] = json.loads(output["text"])
        return frame

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.socket is not None
        await self.socket.send_to(text_data=json.dumps(frame))

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Sends a frame and returns its reply; pushes read meanwhile go to the inbox.
        Raises :class:`Closed` if the server closes the socket first."""
        ref = f"r{next(self._refs)}"
        await self.send({**frame, "ref": ref})
        while True:
            reply = await self.receive()
            if reply.get("ref") == ref:
                return reply
            self.on_push(reply)

    def on_push(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "message":
            self.take(frame)

    def take(self, message: dict[str, Any]) -> None:
        seq, cmid = message["seq"], message["client_message_id"]
        self.held.extend(self.inbox.offer(seq, (seq, cmid)))
        self.gap = self.inbox.has_gap

    async def sync(self) -> None:
        while True:
            reply = await self.request(
                {"type": "sync", "after": {str(self.chat.id): self.inbox.position}}
            )
            assert reply["type"] == "sync", reply
            (page,) = reply["conversations"]
            for message in page["messages"]:
                self.take(message)
            if not page["has_more"]:
                self.gap = self.inbox.has_gap
                return

    async def read(self) -> None:
        """Reads what has arrived; syncs if a number skipped ahead."""
        try:
            while self.socket is not None and not await self.socket.receive_nothing(QUIET):
                self.on_push(await self.receive())
            if self.gap and self.socket is not None:
                await self.sync()
        except Closed:
            return

    def write(self, text: str) -> dict[str, Any]:
        message_id, wire = self.chat.seal(self.person, text)
        frame = send_frame(self.chat.id, message_id, wire)
        self.outbox[str(message_id)] = frame
        self.sent.append(frame)
        return frame

    async def deliver(self, frame: dict[str, Any]) -> None:
        """Sends one outbox message; if the socket closes first, it stays in the outbox."""
        try:
            reply = await self.request(frame)
        except Closed:
            return
        assert reply["type"] == "ack", reply
        cmid = frame["client_message_id"]
        assert reply["client_message_id"] == cmid
        # An acknowledgement never changes: a resend gets the same number.
        assert self.acks.setdefault(cmid, reply["seq"]) == reply["seq"], (cmid, reply)
        self.outbox.pop(cmid, None)
        # The socket that sent it gets no push of it: the client holds it from its ack.
        self.take(reply)
        if self.gap:
            with contextlib.suppress(Closed):
                await self.sync()


class DeliveryContract(RuleBasedStateMachine):
    world: Practice5
    cookies: dict[str, str]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        chat = make_chat(self.world.practice, self.world.therapist, self.world.client)
        self.chat = chat
        self.members = {
            "therapist": Member(self.world.therapist, self.cookies["therapist"], chat),
            "client": Member(self.world.client, self.cookies["client"], chat),
        }
        self.written = 0
        for member in self.members.values():
            self.run(member.connect())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def _text(self) -> str:
        self.written += 1
        return f"message {self.written}"

    @rule(who=WHO)
    def send(self, who: str) -> None:
        member = self.members[who]
        frame = member.write(self._text())
        if member.connected:
            self.run(member.deliver(frame))

    @precondition(lambda self: any(m.sent and m.connected for m in self.members.values()))
    @rule(data=st.data())
    def resend(self, data: st.DataObject) -> None:
        who = data.draw(
            st.sampled_from([w for w, m in self.members.items() if m.sent and m.connected])
        )
        member = self.members[who]
        self.run(member.deliver(data.draw(st.sampled_from(member.sent))))

    @rule(who=WHO)
    def send_and_lose_the_ack(self, who: str) -> None:
        """The frame reaches the server; the socket dies before the ack is read."""
        member = self.members[who]
        frame = member.write(self._text())
        if member.socket is not None:
            self.run(member.send({**frame, "ref": "lost"}))
            self.run(member.drop())

    @rule(who=WHO)
    def drop(self, who: str) -> None:
        member = self.members[who]
        if member.connected:
            self.run(member.drop())

    @rule(who=WHO)
    def reconnect(self, who: str) -> None:
        member = self.members[who]
        if not member.connected:
            self.run(member.connect())

    @rule()
    def restart_the_channel_layer(self) -> None:
        self.run(layer().flush())

    @rule()
    def the_channel_layer_loses_redis_for_a_while(self) -> None:
        layer().reset_all()

    @rule(who=WHO)
    def read(self, who: str) -> None:
        member = self.members[who]
        if member.connected:
            self.run(member.read())

    def acknowledged(self) -> dict[str, int]:
        acks: dict[str, int] = {}
        for member in self.members.values():
            for cmid, seq in member.acks.items():
                assert acks.setdefault(cmid, seq) == seq
        return acks

    @invariant()
    def held_once_in_order_as_acknowledged(self) -> None:
        acks = self.acknowledged()
        assert len(set(acks.values())) == len(acks), "two messages acked under one number"
        for member in self.members.values():
            assert [seq for seq, _ in member.held] == list(range(1, len(member.held) + 1))
            cmids = [cmid for _, cmid in member.held]
            assert len(set(cmids)) == len(cmids), "a message held twice"
            for seq, cmid in member.held:
                assert acks.get(cmid, seq) == seq, "held under another number than its ack"

    def teardown(self) -> None:
        try:
            self.run(self._settle())
            self._check_everything_arrived()
        finally:
            self.run(self._close())
            self.run(_cancel_the_rest())
            self.loop.close()

    async def _settle(self) -> None:
        """Every member reconnects (as a client does after a failed ping, or at its periodic
        sync), which resends its outbox and backfills."""
        for member in self.members.values():
            if member.connected:
                await member.drop()
            await member.connect()
        for member in self.members.values():
            await member.read()

    def _check_everything_arrived(self) -> None:
        acks = self.acknowledged()
        sent = {f["client_message_id"] for m in self.members.values() for f in m.sent}
        assert set(acks) == sent, "a message was never acknowledged"
        expected = sorted((seq, cmid) for cmid, seq in acks.items())
        assert [seq for seq, _ in expected] == list(range(1, len(expected) + 1))
        for member in self.members.values():
            assert member.held == expected
        stored = Message.objects.filter(conversation_id=self.chat.id).order_by("seq")
        assert [(m.seq, str(m.client_message_id)) for m in stored] == expected

    async def _close(self) -> None:
        for member in self.members.values():
            if member.connected:
                await member.drop()
        await layer().flush()
        # The database thread's connection would outlive the test database.
        await sync_to_async(connections.close_all)()


# Bounded so that the test takes seconds, not minutes.
BOUNDS = hypothesis_settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_every_acknowledged_message_reaches_every_member_once_in_order(
    transactional_db: None, settings: Any
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "messaging.layer.FanoutChannelLayer", "CONFIG": {"url": ""}}
    }
    # The schedules send faster than a person; the limits are tested elsewhere.
    settings.CONFIDE_MESSAGE_RATE = 10_000
    settings.CONFIDE_MESSAGE_BURST = 10_000
    settings.CONFIDE_MAX_SOCKETS_PER_USER = 1_000
    # The loop runs only during a step: between steps it stands still, which the server's
    # measure of its own lateness (messaging/load.py) would take for overload on a busy
    # machine and answer with ``overloaded`` (tested in
    # test_a_late_event_loop_refuses_new_messages.py).
    settings.CONFIDE_MAX_LOOP_LAG_MS = 600_000
    world = make_practice()
    DeliveryContract.world = world
    DeliveryContract.cookies = {
        "therapist": world.therapist.session_cookie(),
        "client": world.client.session_cookie(),
    }
    run_state_machine_as_test(DeliveryContract, settings=BOUNDS)
