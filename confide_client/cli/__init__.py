"""``confide-chat``: the Python client as a command-line chat.

    confide-chat --email you@example.org    # sign in and chat
    confide-chat --accept                   # accept an invitation (the link is asked for)
    confide-chat --recover                  # forgot password: the recovery key sets a new one
    confide-chat verify-export FILE         # check an export: nothing changed, signed by whom

The server is reached before the password is asked for. Keys are made and used here; the
server receives what the browser would send. The state folder (``--state``) keeps the
identities of the people you write with, to warn when one changes, and the messages not
yet delivered, which are sent at the next start: Ctrl-C, a crash or a server that is down
loses none of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from confide_client.cli.chat import HELP, Chat, refused_for_now
from confide_client.cli.exporting import verify_export_main
from confide_client.cli.onboarding import (
    accept_agreement_if_asked,
    recover,
    server_and_token,
    sign_up,
)
from confide_client.cli.screen import Screen, make_screen
from confide_client.cli.text import printable
from confide_client.client import ConfideClient
from confide_client.errors import (
    ClientError,
    ConnectionLostError,
    InvalidRequestError,
    InvitationInvalidError,
    InvitationKeyMismatchError,
    KeysError,
    RateLimitedError,
    SecondFactorInvalidError,
    SecondFactorRequiredError,
    ServerRefusedError,
    SessionEndedError,
    StateFileError,
    UnauthenticatedError,
)
from confide_client.state import StateFolder, default_state_folder

__all__ = ["EXIT", "main"]

DEFAULT_URL = "http://127.0.0.1:8000"
# What the server answers a recovery it refuses (docs/protocol.md, "Password recovery").
RECOVERY_REFUSALS = frozenset({"recovery_challenge_invalid", "recovery_proof_invalid"})

# What the command's exit status means (also in its --help).
EXIT = {
    0: "ended normally (/quit, or the end of input)",
    1: "an error the chat could not go on from",
    2: "wrong use of the command line",
    3: "signing in was refused (wrong email, password, second factor or recovery key, too"
    " many attempts, session ended)",
    4: "the invitation link is not valid (used, expired, revoked, unknown or cut short), or"
    " the server gave another key than the therapist's the link names",
    5: "the state folder cannot be read or written, or others may change it",
    69: "the server could not be reached",
    130: "interrupted (Ctrl-C); messages not yet delivered are kept",
}


class Stop(Exception):
    """Ends the chat with an exit status, after saying why."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def complain(line: str) -> None:
    """An error on standard error, shown as :meth:`Screen.say` shows text."""
    print(printable(line), file=sys.stderr, flush=True)


def parser() -> argparse.ArgumentParser:
    epilog = "exit status:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in EXIT.items())
    made = argparse.ArgumentParser(
        prog="confide-chat",
        description="End-to-end encrypted messages with your therapist or your clients.",
        epilog=f"{HELP}\n\nconfide-chat verify-export FILE checks an export (see its --help)."
        f"\n\n{epilog}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    who = made.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="your account's email address: sign in and chat")
    who.add_argument(
        "--accept",
        metavar="LINK",
        nargs="?",
        const="",
        help="an invitation link a therapist gave you: make your account, then chat"
        " (without LINK, it is asked for, and stays out of the shell's history and the"
        " list of processes)",
    )
    who.add_argument(
        "--recover",
        metavar="EMAIL",
        nargs="?",
        const="",
        help="you forgot your password: set a new one with your recovery key, then chat"
        " (without EMAIL, it is asked for)",
    )
    made.add_argument(
        "--url",
        help=f"the portal's address (default: the invitation link's, else {DEFAULT_URL})",
    )
    made.add_argument(
        "--state",
        type=Path,
        default=default_state_folder(),
        help="the folder of the peers' identities and undelivered messages (default: %(default)s)",
    )
    return made


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    if given[:1] == ["verify-export"]:
        return verify_export_main(given[1:])
    args = parser().parse_args(given)
    try:
        token = None
        url = args.url or DEFAULT_URL
        if args.accept is not None:
            link_url, token = server_and_token(args.accept or input("Invitation link: "))
            url = args.url or link_url
        state = StateFolder(args.state)
    except ValueError as exc:
        complain(f"! {exc}")
        return 2
    except EOFError:
        complain("! No invitation link given.")
        return 2
    except KeyboardInterrupt:
        return 130
    except StateFileError as exc:
        complain(f"! {exc.message} ({exc.code})")
        return 5
    chat: list[Chat] = []
    try:
        return asyncio.run(run(url, args.email, token, state, chat, args.recover))
    except KeyboardInterrupt:
        # Ctrl-C outside the input line (while signing in, say).
        if chat and (note := leaving(chat[0], state)):
            print(printable(note), flush=True)
        return 130


async def run(
    url: str,
    email: str | None,
    token: str | None,
    state: StateFolder,
    holder: list[Chat],
    recovering: str | None = None,
) -> int:
    client = ConfideClient(url, state=state, backfill=False)
    chat = Chat(client, make_screen(lambda: chat.status()))
    holder.append(chat)
    screen = chat.screen
    try:
        async with client:
            with screen.active():
                try:
                    await begin(client, screen, email, token, recovering)
                    if not await accept_agreement_if_asked(client, screen):
                        screen.say("Nothing is sent without the agreement. Goodbye.")
                        return 0
                    await client.connect()
                    await chat.refresh()
                    chat.show_list()
                    await chat.show_start()
                    screen.say("Type /help for the commands.")
                    await converse(chat)
                except Stop as stop:
                    if stop.message:
                        screen.say(f"! {stop.message}")
                    return stop.status
                except KeyboardInterrupt:
                    status = 130
                except EOFError:
                    status = 0
                else:
                    status = 0
                if note := leaving(chat, state):
                    screen.say(note)
                return status
    except StateFileError as exc:
        complain(f"! {exc.message} ({exc.code})")
        return 5
    except SessionEndedError as exc:
        complain(f"! {exc.message}; sign in again. ({exc.code})")
        return 3
    except ClientError as exc:
        complain(f"! {exc.message} ({exc.code})")
        return 1


async def begin(
    client: ConfideClient,
    screen: Screen,
    email: str | None,
    token: str | None,
    recovering: str | None = None,
) -> None:
    """Reaches the server, then signs in (or up, or recovers the account of ``recovering``):
    the password is asked only of a server that answers."""
    try:
        await client.reach()
    except ConnectionLostError as exc:
        raise Stop(69, f"{exc.message}. Is it running, and is the address right?") from None
    try:
        if token is not None:
            if await sign_up(client, token, screen) is None:
                raise Stop(0)
            return
        if recovering is not None:
            try:
                await recover(client, recovering, screen)
            except KeysError as exc:
                raise Stop(3, f"{exc.message} ({exc.code})") from None
            except ServerRefusedError as exc:
                if exc.code not in RECOVERY_REFUSALS:
                    raise
                raise Stop(3, f"{exc.message} ({exc.code})") from None
            return
        if email is None:
            raise Stop(2, "Give --email or --accept.")
        password = await screen.ask(f"Password for {email} at {client.server_url}: ", secret=True)

        async def second_factor(methods: list[str]) -> str:
            # Asked only of an account that has one; again after a wrong code.
            return await screen.ask(
                "Code from your authenticator app (or a recovery code): ", secret=True
            )

        await client.sign_in(email, password, second_factor=second_factor)
    except (InvitationInvalidError, InvitationKeyMismatchError) as exc:
        raise Stop(4, f"{exc.message} ({exc.code})") from None
    except InvalidRequestError as exc:
        if exc.code != "invitation_link_incomplete":
            raise
        raise Stop(4, f"{exc.message} ({exc.code})") from None
    except RateLimitedError as exc:
        raise Stop(3, refused_for_now(exc)) from None
    except (UnauthenticatedError, SecondFactorInvalidError, SecondFactorRequiredError) as exc:
        raise Stop(3, f"{exc.message} ({exc.code})") from None


async def converse(chat: Chat) -> None:
    """Until /quit or the end of input: typed lines, incoming messages, events."""
    client, screen = chat.client, chat.screen

    async def show_incoming() -> None:
        async for message in client.incoming():
            if message.conversation not in {c.id for c in chat.conversations}:
                await chat.refresh()
            chat.show(message)

    async def show_events() -> None:
        while True:
            chat.on_event(await client.events.get())

    tasks = [asyncio.create_task(show_incoming()), asyncio.create_task(show_events())]
    try:
        while True:
            if not await chat.handle(await screen.ask()):
                return
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def leaving(chat: Chat, state: StateFolder) -> str | None:
    """What is not yet delivered, and that it is kept (``None`` when nothing waits)."""
    client = chat.client
    waiting = len(client.outbox)
    if not waiting or client.account is None:
        return None
    where = state.outbox_path(client.server_url, client.account.id)
    return f"{waiting} message(s) not yet delivered: kept in {where}, and sent at your next start."
