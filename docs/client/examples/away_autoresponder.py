"""While the therapist is away, answer each incoming message once with a fixed text.

    python docs/client/examples/away_autoresponder.py https://portal.example.org \\
        therapist@example.org 2026-08-01T00:00+02:00 2026-08-15T00:00+02:00

The portal has no availability settings yet, so the away window is given here, as two
times with their UTC offset: a message is answered when the server stored it within the
window. The replies are sealed like any message (the server never sees the text). Each
message is answered once: one reply per message id, kept in memory, and ``backfill=False``
so that a restart does not answer again what arrived before it; a reply queued before a
crash is sent by the next run from the state folder, with the same id, so it is not
doubled either.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from confide_client import ConfideClient, StateFolder

REPLY = (
    "Thank you for your message. I am away until {until:%A %d %B} and will read it when "
    "I am back. If you are in crisis, call or text 988, or 911 in an emergency."
)


async def autorespond(
    url: str,
    email: str,
    password: str,
    *,
    away_from: datetime,
    away_until: datetime,
    reply: str = REPLY,
    state: StateFolder | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    stop_after: int | None = None,
    check_every: float = 5.0,
) -> int:
    """Answers until the window is over (looking at the clock at least every
    ``check_every`` seconds) or after ``stop_after`` replies; returns how many messages it
    answered."""
    if away_from.tzinfo is None or away_until.tzinfo is None:
        raise ValueError("Give the away window with its UTC offset")
    answered: set[uuid.UUID] = set()
    async with ConfideClient(url, backfill=False, state=state or StateFolder()) as client:
        me = await client.sign_in(email, password)
        await client.connect()
        while now() < away_until and (stop_after is None or len(answered) < stop_after):
            try:
                message = await client.next_message(timeout=check_every)
            except TimeoutError:
                continue  # look at the clock again
            if message.sender_id == me.id or message.client_message_id in answered:
                continue  # never answer oneself (nor one's own replies), nor twice
            if not away_from <= message.sent_at < away_until:
                continue
            answered.add(message.client_message_id)
            # Queued, not awaited: a slow ack does not hold up the next message.
            await client.queue_text(message.conversation, reply.format(until=away_until))
        # Give the replies still in the outbox a moment; any left go at the next start.
        for _ in range(50):
            if not len(client.outbox):
                break
            await asyncio.sleep(0.1)
    return len(answered)


def main() -> None:
    url, email = sys.argv[1], sys.argv[2]
    away_from, away_until = datetime.fromisoformat(sys.argv[3]), datetime.fromisoformat(sys.argv[4])
    password = getpass.getpass(f"Password for {email}: ")
    count = asyncio.run(
        autorespond(url, email, password, away_from=away_from, away_until=away_until)
    )
    print(f"Answered {count} messages.")


if __name__ == "__main__":
    main()
