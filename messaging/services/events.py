"""The one place events leave the server, and only after the commit of what they announce.

An event is a frame of ``protocol.to_client``, encoded once and sent to the channel-layer
group of each user it concerns (every socket of that user, in any process). Services call
:func:`publish` once their transaction has committed (a database call that returned has
committed), or :func:`publish_on_commit` from inside a transaction. The layer is at most
once: a lost event is made up by the client's next ``sync`` or listing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from messaging.layer import EXCEPT
from protocol import encode
from protocol.to_client import ToClient

log = logging.getLogger(__name__)


class Event(NamedTuple):
    """A frame for every socket of some users; with ``except_channel``, not for that one
    socket (the sender of a message, whose ack says all it needs)."""

    user_ids: Iterable[int]
    frame: ToClient
    except_channel: str | None = None


def user_group(user_id: int) -> str:
    """The channel-layer group that reaches every socket of one user."""
    return f"user.{user_id}"


async def publish(user_ids: Iterable[int], frame: ToClient) -> None:
    """Sends ``frame`` to every socket of each user (best effort)."""
    await publish_many([Event(user_ids, frame)])


async def publish_many(events: Sequence[Event]) -> None:
    """Sends each event, every frame encoded once for all the sockets it reaches."""
    items: list[tuple[str, dict[str, Any]]] = []
    for user_ids, frame, except_channel in events:
        event: dict[str, Any] = {"type": "deliver", "text": encode(frame)}
        if except_channel is not None:
            event[EXCEPT] = except_channel
        items.extend((user_group(user_id), event) for user_id in user_ids)
    await _send(items, "an event")


def publish_on_commit(user_ids: Iterable[int], frame: ToClient) -> None:
    """From synchronous code: publishes ``frame`` once the current transaction commits
    (at once outside a transaction), and never if it rolls back."""
    users = tuple(user_ids)
    event = {"type": "deliver", "text": encode(frame)}
    items = [(user_group(user_id), event) for user_id in users]
    transaction.on_commit(lambda: async_to_sync(_send)(items, "an event", wait=True))


def end_sessions_from_sync(user_id: int, session_key: str | None = None) -> None:
    """:func:`end_sessions` from synchronous code (a view, a signal, a command)."""
    async_to_sync(end_sessions)(user_id, session_key)


async def end_sessions(user_id: int, session_key: str | None = None) -> None:
    """Closes the user's sockets in every process (only those of one session, when it is
    given). Waits until the event has left, since it may come from a command whose event
    loop ends right after. Sockets also re-check their sessions on their own
    (``sessions.SessionWatch``), should this event be lost."""
    event = {"type": "session.revoked", "session_key": session_key}
    await _send([(user_group(user_id), event)], "a session's end", wait=True)


def agreement_changed_from_sync(user_ids: Iterable[int]) -> None:
    """Tells every socket of each user that their practice published a new messaging
    agreement (``services.agreements``): each asks the database again before its client's
    next send. From synchronous code, after the commit of the new version; waits until
    the event has left, as :func:`end_sessions` does."""
    event = {"type": "agreement.changed"}
    items = [(user_group(user_id), event) for user_id in user_ids]
    async_to_sync(_send)(items, "a new agreement", wait=True)


async def _send(items: list[tuple[str, dict[str, Any]]], what: str, *, wait: bool = False) -> None:
    """Hands the events to the channel layer; with ``wait``, returns once they have left
    this process (for senders whose event loop may end right after)."""
    layer = get_channel_layer()
    if layer is None or not items:
        return
    try:
        if wait and hasattr(layer, "group_send_waiting"):
            if not await layer.group_send_waiting(items):
                log.warning("the channel layer has not yet sent %s", what)
        elif hasattr(layer, "group_send_many"):
            await layer.group_send_many(items)
        else:
            for group, event in items:
                await layer.group_send(group, event)
    except Exception:  # the layer is only a notification path; the commit already happened
        log.warning("the channel layer could not send %s", what, exc_info=True)
