"""A small command-line chat on the Python client.

    python -m confide_client.chat --url http://127.0.0.1:8000 --email you@example.org

The password is read without echo. Typed lines are sent, sealed, to the current
conversation; incoming messages are verified, decrypted and printed as they arrive.
Commands: ``/list``, ``/use N``, ``/history``, ``/read``, ``/safety``, ``/quit``.

The peers' public identities are kept in ``--state`` (by default
``~/.local/state/confide/seen-identities.json``, mode 0600), and a warning is printed
when one differs from what was seen before, in this run or an earlier one.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from confide_client.client import ConfideClient
from confide_client.errors import ClientError
from confide_client.identities import IdentityFile, SeenIdentities, default_identity_file
from confide_client.records import ConversationSummary, PeerKeyChanged, ReceivedMessage

HELP = "Commands: /list, /use N, /history, /read, /safety, /quit. Other lines are sent."
HISTORY_LINES = 20


class Chat:
    """The chat's state: which conversation is current, and who is who."""

    def __init__(self, client: ConfideClient, write: Callable[[str], None]) -> None:
        self.client = client
        self.write = write
        self.conversations: list[ConversationSummary] = []
        self.current: uuid.UUID | None = None
        self.names: dict[int, str] = {}

    @property
    def me(self) -> int:
        return self.client.account.id if self.client.account is not None else 0

    async def refresh(self) -> None:
        self.conversations = await self.client.conversations()
        for conversation in self.conversations:
            for member in conversation.members:
                self.names[member.id] = member.display_name
        if self.current is None and self.conversations:
            self.current = self.conversations[0].id

    def title(self, conversation: ConversationSummary) -> str:
        others = [m.display_name for m in conversation.members if m.id != self.me]
        return ", ".join(others) or "(just you)"

    def show_list(self) -> None:
        if not self.conversations:
            self.write("No conversations yet.")
        for number, conversation in enumerate(self.conversations, start=1):
            mark = "*" if conversation.id == self.current else " "
            unread = f", {conversation.unread} unread" if conversation.unread else ""
            self.write(
                f"{mark}{number}. {self.title(conversation)} ({conversation.status}{unread})"
            )

    def line_for(self, message: ReceivedMessage) -> str:
        who = "you" if message.sender_id == self.me else self.names.get(message.sender_id, "?")
        number = next(
            (n for n, c in enumerate(self.conversations, 1) if c.id == message.conversation), 0
        )
        when = message.sent_at.strftime("%H:%M")
        return f"[{number}] {when} {who}: {message.text}"

    async def show_history(self) -> None:
        if self.current is None:
            return
        page = await self.client.history(self.current, limit=HISTORY_LINES)
        for message in page.messages:
            self.write(self.line_for(message))

    async def handle(self, line: str) -> bool:
        """Acts on one typed line; False when the chat should end."""
        text = line.strip()
        if not text:
            return True
        if text == "/quit":
            return False
        if text == "/list":
            await self.refresh()
            self.show_list()
        elif text.startswith("/use "):
            self.use(text[5:].strip())
        elif text == "/history":
            await self.show_history()
        elif text == "/read":
            await self.mark_read()
        elif text == "/safety":
            self.show_safety()
        elif text.startswith("/"):
            self.write(HELP)
        elif self.current is None:
            self.write("No conversation to write to.")
        else:
            await self.client.send_text(self.current, text)
        return True

    def use(self, choice: str) -> None:
        if choice.isdigit() and 1 <= int(choice) <= len(self.conversations):
            self.current = self.conversations[int(choice) - 1].id
            self.write(f"Writing to {self.title(self.conversations[int(choice) - 1])}.")
        else:
            self.write("No such conversation; /list shows them.")

    async def mark_read(self) -> None:
        if self.current is not None:
            seq = self.client.position(self.current)
            if seq:
                await self.client.mark_read(self.current, seq)

    def key_changed(self, event: PeerKeyChanged) -> str:
        name = self.names.get(event.user_id, f"member {event.user_id}")
        return (
            f"! The security key of {name} has changed since this computer last saw it. "
            "This happens when they set up their account again, or if someone is "
            "interfering. Compare the safety number with them in person (/safety)."
        )

    def show_safety(self) -> None:
        for conversation in self.conversations:
            if conversation.id != self.current:
                continue
            for member in conversation.members:
                if member.id != self.me:
                    number = self.client.safety_number(conversation.id, member.id)
                    self.write(f"Safety number with {member.display_name}: {number}")


async def run(
    url: str,
    email: str,
    password: str,
    read_line: Callable[[], str] = sys.stdin.readline,
    write: Callable[[str], None] = print,
    seen_identities: SeenIdentities | None = None,
) -> None:
    """Signs in, shows the conversations and recent messages, then chats until EOF."""
    async with ConfideClient(url, backfill=False, seen_identities=seen_identities) as client:
        await client.sign_in(email, password)
        chat = Chat(client, write)
        await client.connect()
        await chat.refresh()
        chat.show_list()
        await chat.show_history()
        write(HELP)

        async def show_warnings() -> None:
            while True:
                event = await client.events.get()
                if isinstance(event, PeerKeyChanged):
                    write(chat.key_changed(event))

        async def show_incoming() -> None:
            async for message in client.incoming():
                if message.conversation not in {c.id for c in chat.conversations}:
                    await chat.refresh()
                write(chat.line_for(message))

        printer = asyncio.create_task(show_incoming())
        warner = asyncio.create_task(show_warnings())
        lines = _read_lines_in_background(read_line)
        try:
            while True:
                line = await lines.get()
                if not line:
                    break
                try:
                    if not await chat.handle(line):
                        break
                except ClientError as exc:
                    write(f"! {exc.message} ({exc.code})")
        finally:
            printer.cancel()
            warner.cancel()


def _read_lines_in_background(read_line: Callable[[], str]) -> asyncio.Queue[str]:
    """Typed lines, read by a daemon thread: a blocked read never keeps the program from
    exiting (as a worker of the event loop's executor would, after Ctrl-C)."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        while True:
            line = read_line()
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:  # the chat has ended
                return
            if not line:
                return

    threading.Thread(target=pump, name="confide-chat-input", daemon=True).start()
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m confide_client.chat", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server's address")
    parser.add_argument("--email", required=True, help="the account's email address")
    parser.add_argument(
        "--state",
        type=Path,
        default=default_identity_file(),
        help="the file of peers' public identities seen so far (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        seen = IdentityFile(args.state)
    except ClientError as exc:
        print(f"! {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    password = getpass.getpass(f"Password for {args.email}: ")
    try:
        asyncio.run(run(args.url, args.email, password, seen_identities=seen))
    except ClientError as exc:
        print(f"! {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
