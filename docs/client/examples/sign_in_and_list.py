"""Sign in and list the conversations: who is in each, how many messages are unread.

python docs/client/examples/sign_in_and_list.py https://portal.example.org you@example.org
"""

from __future__ import annotations

import asyncio
import getpass
import sys

from confide_client import ConfideClient
from confide_client.second_factor import SecondFactor


def ask_code(methods: list[str]) -> str:
    return getpass.getpass("Code from your authenticator app (or a recovery code): ")


async def list_conversations(
    url: str, email: str, password: str, second_factor: SecondFactor | None = None
) -> list[str]:
    """One line per conversation, after a line saying who signed in."""
    async with ConfideClient(url) as client:
        # The password derives the keys here; only an authentication secret is sent. An
        # account with a second factor is asked for its code (only then).
        me = await client.sign_in(email, password, second_factor=second_factor)
        lines = [f"Signed in as {me.display_name} ({me.role}) at {me.practice_name}"]
        for conversation in await client.conversations():
            others = ", ".join(m.display_name for m in conversation.members if m.id != me.id)
            lines.append(
                f"{others}: {conversation.unread} unread of {conversation.last_seq} "
                f"({conversation.status})"
            )
        return lines


def main() -> None:
    url, email = sys.argv[1], sys.argv[2]
    password = getpass.getpass(f"Password for {email}: ")
    for line in asyncio.run(list_conversations(url, email, password, ask_code)):
        print(line)


if __name__ == "__main__":
    main()
