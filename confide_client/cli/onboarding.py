"""Before the first message: signing up through an invitation, a forgotten password
replaced with the recovery key, and the agreement.

All happen as in the browser. The keys are made here; the recovery key is shown once and
must be confirmed by typing its last group (the only way back in without the password).
With it, a forgotten password is replaced: the key opens the keys here and is never sent.
A client reads the practice's messaging agreement and accepts it before anything they
write is sent; the server refuses their messages until they do.
"""

from __future__ import annotations

import ipaddress
import textwrap
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from confide_client.cli.screen import Screen
from confide_client.client import ConfideClient
from confide_client.records import Account, SignUp
from crypto import CryptoError, RecoveryKey

__all__ = ["accept_agreement_if_asked", "recover", "server_and_token", "sign_up"]

WIDTH = 78
# As the browser asks (frontend/static/frontend/src/app/views/invite.js).
MIN_PASSWORD = 10


def server_and_token(link: str) -> tuple[str, str]:
    """The server's address and the fragment of an invitation link
    (``https://portal.example.org/invite#<token>.<fingerprint>``: the token and the
    therapist's fingerprint, checked when the invitation is looked up); ``ValueError`` for
    anything else.

    The password is sent to the server the link names, so a link is refused when what a
    person reads of it could differ from where it leads: a user name before the host
    (``https://portal.example.org@elsewhere.example/``), or plain ``http`` to anywhere but
    this machine."""
    parts = urlsplit(link.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or not parts.fragment:
        raise ValueError(
            "An invitation link looks like https://portal.example.org/invite#<token>.<key>"
        )
    if "@" in parts.netloc:
        raise ValueError(
            "This link names a user before its host (…@host), which can make it look like"
            " another site's; ask your therapist for the link again."
        )
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError(
            "An invitation link starts with https:// (plain http is only for a portal on"
            " this machine)."
        )
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")), parts.fragment


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


async def sign_up(client: ConfideClient, token: str, screen: Screen) -> SignUp | None:
    """Accepts the invitation: None if the person stops before the account is made."""
    details = await client.lookup_invitation(token)
    screen.say(f"The portal at {client.server_url}:")
    screen.say(
        f"{details.therapist.display_name} of {details.practice} invites you to message them"
        f" securely. The invitation is for {details.client_name!r} and works until"
        f" {when(details.expires_at)}."
    )
    email = (await screen.ask("Your email address: ")).strip()
    name = (await screen.ask(f"Your name [{details.client_name}]: ")).strip()
    name = name or details.client_name
    password = await new_password(screen, "Choose a password")
    screen.say("Making your keys (this takes a few seconds)...")
    signed_up = await client.accept_invitation(token, email, name, password)
    groups = signed_up.recovery_key.split("-")
    screen.say("")
    screen.say("Your recovery key, shown this once. Write it down and keep it safe: with it,")
    screen.say("and only with it, you can get back in if you forget your password.")
    screen.say("")
    screen.say("    " + " ".join(groups))
    screen.say("")
    while True:
        typed = await screen.ask("To confirm you wrote it down, type its last group: ")
        if typed.strip().upper() == groups[-1]:
            break
        screen.say("That is not its last group; look again.")
    screen.say(f"Welcome, {name}. Your account is made and you are signed in.")
    return signed_up


async def new_password(screen: Screen, what: str) -> str:
    """A password typed twice, of at least ``MIN_PASSWORD`` characters."""
    while True:
        password = await screen.ask(f"{what} ({MIN_PASSWORD} characters or more): ", secret=True)
        if len(password) < MIN_PASSWORD:
            screen.say(f"That is shorter than {MIN_PASSWORD} characters.")
            continue
        if await screen.ask("The same password again: ", secret=True) == password:
            return password
        screen.say("The two passwords differ; again.")


async def recover(client: ConfideClient, email: str, screen: Screen) -> Account:
    """Forgot password: the recovery key sets a new one, and signs in. A mistyped key is
    said at once (its checksum), before anything is sent, and asked for again."""
    screen.say(f"The portal at {client.server_url}:")
    screen.say(
        "Your recovery key, written down when you made your account, sets a new password."
        " It stays on this machine. Every other device signed in to your account will be"
        " signed out."
    )
    email = email.strip() or (await screen.ask("Your email address: ")).strip()
    while True:
        typed = await screen.ask("Your recovery key (dashes and spaces do not matter): ")
        try:
            RecoveryKey.from_display(typed)
        except CryptoError as exc:
            screen.say(f"{exc}. Compare each group with the key you wrote down; again.")
            continue
        break
    password = await new_password(screen, "Choose a new password")
    screen.say("Opening your keys and setting the new password (this takes a few seconds)...")

    async def second_factor(methods: list[str]) -> str:
        # Asked only of an account that has one: the recovery key does not stand for it.
        return await screen.ask(
            "Code from your authenticator app (or a recovery code): ", secret=True
        )

    account = await client.recover_password(email, typed, password, second_factor=second_factor)
    screen.say(
        f"Your new password is set, {account.display_name}, and you are signed in."
        " Your other devices were signed out."
    )
    return account


async def accept_agreement_if_asked(
    client: ConfideClient, screen: Screen, *, show_accepted: bool = False, later: str = "leave"
) -> bool:
    """For a client who has not accepted the practice's current agreement: shows it and
    asks (``later`` says what answering no does). True when accepted (or not asked:
    therapists and admins are not). ``show_accepted`` shows an accepted text too."""
    account = client.account
    if account is None or account.role != "client":
        return True
    agreement = await client.agreement()
    if agreement.accepted_at is not None and not show_accepted:
        return True
    screen.say("")
    screen.say(f"The practice's messaging agreement (version {agreement.version}):")
    for section in agreement.sections:
        screen.say("")
        screen.say(section.heading.upper())
        for paragraph in section.paragraphs:
            for line in textwrap.wrap(paragraph, WIDTH):
                screen.say(line)
    screen.say("")
    if agreement.accepted_at is not None:
        screen.say(f"You accepted this version on {when(agreement.accepted_at)}.")
        return True
    screen.say("Messages are sent only once you accept it.")
    while True:
        answer = (await screen.ask(f"Type 'accept' to accept it, or 'no' to {later}: ")).strip()
        if answer.lower() == "accept":
            await client.accept_agreement(agreement.version)
            screen.say("Accepted. Thank you.")
            return True
        if answer.lower() in ("no", "n", "quit", "/quit"):
            return False
