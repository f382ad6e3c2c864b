"""Read the latest messages of the first conversation and send one, following its state.

    python docs/client/examples/read_and_send.py https://portal.example.org you@example.org "Hello"

The state folder (``~/.local/state/confide`` by default) keeps the message until the server
acknowledges it: if this program is stopped before that, the next run sends it again, with
the same id and bytes. A client who has not accepted the practice's messaging agreement is
shown it first; the message waits, and goes once it is accepted.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import uuid
from collections.abc import Callable

from confide_client import (
    Agreement,
    AgreementRequiredError,
    ConfideClient,
    MessageState,
    MessageStatus,
    StateFolder,
)


def ask_on_the_terminal(agreement: Agreement) -> bool:
    print(agreement.text)
    return input(f"Accept version {agreement.version}? [y/N] ").strip().lower() == "y"


async def read_and_send(
    url: str,
    email: str,
    password: str,
    text: str,
    *,
    state: StateFolder | None = None,
    accept: Callable[[Agreement], bool] = ask_on_the_terminal,
) -> list[str]:
    """The conversation's last messages, then how the new one fared."""
    async with ConfideClient(url, state=state or StateFolder()) as client:
        me = await client.sign_in(email, password)
        # Connecting also sends whatever an earlier run left in the outbox.
        await client.connect()
        conversation = (await client.conversations())[0]
        page = await client.history(conversation.id, limit=10)
        lines = [
            f"{'you' if m.sender_id == me.id else 'them'} ({m.sent_at:%H:%M}): {m.text}"
            for m in page.messages
        ]
        try:
            seq = await client.send_text(conversation.id, text, timeout=30)
        except AgreementRequiredError as refused:
            # Not lost: the message waits in the outbox for the acceptance.
            message_id = uuid.UUID(refused.data["client_message_id"])
            agreement = await client.agreement()
            if not accept(agreement):
                client.discard(conversation.id, message_id)
                return [*lines, "Not sent: the agreement was not accepted."]
            await client.accept_agreement(agreement.version)
            seq = await sent(client, message_id)
        lines.append(f"Sent as message {seq}.")
        return lines


async def sent(client: ConfideClient, message_id: uuid.UUID) -> int:
    """Waits for the message's ``sent`` state, reading the client's events."""
    while True:
        event = await client.next_event(timeout=30)
        if isinstance(event, MessageStatus) and event.client_message_id == message_id:
            if event.state is MessageState.SENT and event.seq is not None:
                return event.seq
            if event.state is MessageState.FAILED:
                raise RuntimeError(f"The server refused the message: {event.reason}")


def main() -> None:
    url, email, text = sys.argv[1], sys.argv[2], sys.argv[3]
    password = getpass.getpass(f"Password for {email}: ")
    for line in asyncio.run(read_and_send(url, email, password, text)):
        print(line)


if __name__ == "__main__":
    main()
