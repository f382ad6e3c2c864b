"""The chat: conversations, messages and their states, and the commands typed at it.

What happens is shown as it happens, with dates: incoming messages, the state of each of
the person's own messages (sending, sent, read, or not sent and why), a peer's changed
key, and the connection in the status line. On start only the unread messages and the
last few before them are shown; ``/history`` goes further back.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from confide_client import attachments
from confide_client.cli.availability import availability_lines
from confide_client.cli.exporting import export_line
from confide_client.cli.files import (
    file_lines,
    parse_attach,
    parse_save,
    saving_refused,
    sending_refused,
    size_text,
)
from confide_client.cli.onboarding import accept_agreement_if_asked
from confide_client.cli.screen import Screen
from confide_client.client import ConfideClient
from confide_client.errors import ClientError, RateLimitedError
from confide_client.records import (
    ClientEvent,
    ConnectionState,
    ConnectionStatus,
    ConversationSummary,
    Disclosure,
    DisclosureRecorded,
    MessageState,
    MessageStatus,
    OrderWarning,
    PeerKeyChanged,
    ReadReceipt,
    ReceivedMessage,
    RejectedMessage,
    ServerRestored,
    Typing,
)
from crypto import AttachmentReference

__all__ = ["HELP", "Chat"]

HELP = """Commands:
  /list             your conversations            /use N       write to conversation N
  /history          earlier messages              /read        mark everything shown as read
  /status           the connection, and your messages not yet read
  /safety           the safety number to compare with the other person in a session
  /export FILE      the whole conversation as a signed, printable file (HTML)
  /attach FILE... [-- TEXT]    send files (quote names with spaces), with TEXT
  /save N [I] [FOLDER]         save the files of message N (or its file I) into FOLDER
  /disclosures      the accounting of disclosures of the current conversation
  /agreement        (clients) read the practice's messaging agreement, and accept a new one
  /invite NAME      (therapists) a one-time invitation link for a new client
  /invitations      (therapists) your invitations  /revoke ID  withdraw a pending one
  /quit             leave (messages not yet delivered are kept and sent at your next start)
Any other line is sent to the current conversation."""
SHOWN_AT_START = 5
EXCERPT = 40
TYPING_SECONDS = 6.0


def stamp(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def restored_text(event: ServerRestored) -> str:
    """A restore of the server, said plainly: what is gone from it and what happens now."""
    lost = event.held_up_to - event.restored_at
    what = "the last message" if lost == 1 else f"the last {lost} messages"
    said = (
        f"The portal's server says it was restored from a backup: {what} of this conversation"
        f" (after #{event.restored_at}) are no longer on it. This computer still has them."
    )
    if event.resent:
        mine = "one of yours is" if len(event.resent) == 1 else f"{len(event.resent)} of yours are"
        said += f" {mine.capitalize()} being sent again and will show new numbers."
    if event.not_resent:
        said += f" {event.not_resent} older one(s) of yours could not be sent again."
    return said + " The others' come back when their devices reconnect."


def order_warning_text(warning: OrderWarning, names: dict[int, str], me: int | None) -> str:
    """An order warning in calm words, with the sender's own times (crypto/SPEC.md, "Order")."""
    mine = warning.sender_id == me
    who = "you" if mine else names.get(warning.sender_id, f"member {warning.sender_id}")
    before = stamp(warning.written_before) if warning.written_before else "?"
    if warning.kind == "missing":
        count = (warning.last or 0) - (warning.first or 0) + 1
        what = "A message" if count == 1 else f"{count} messages"
        after = warning.written_after
        when = f"between {stamp(after)} and {before}" if after else f"before {before}"
        if mine:
            return f"{what} you wrote {when} did not arrive here; if it mattered, send it again."
        return f"{what} from {who}, written {when}, did not arrive. If it mattered, ask {who}."
    if warning.kind == "out_of_order":
        return (
            f"The message from {who} numbered {warning.seq} was written before the one"
            " above it, but arrived after it."
        )
    if warning.kind == "repeated":
        return f"Two different messages from {who} claim the same place in their order."
    return (
        f"{'You' if mine else who} wrote message {warning.seq} after reading a message that"
        " has not reached this computer."
    )


def said(message: ReceivedMessage) -> str:
    """A message's text, or what it presents when it has none."""
    if message.text or not message.attachments:
        return message.text
    count = len(message.attachments)
    return "(a file)" if count == 1 else f"({count} files)"


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


class Chat:
    """The chat's state: the conversations, the current one, and the texts of the
    person's own messages (to name them when their state changes)."""

    def __init__(self, client: ConfideClient, screen: Screen) -> None:
        self.client = client
        self.screen = screen
        self.conversations: list[ConversationSummary] = []
        self.current: uuid.UUID | None = None
        self.names: dict[int, str] = {}
        # Whether the person was told that a new agreement holds their messages back.
        self.agreement_asked = False
        self.mine: dict[uuid.UUID, str] = {}
        # The files each message shown presents, by conversation and number, for /save.
        self.files: dict[tuple[uuid.UUID, int], tuple[AttachmentReference, ...]] = {}
        self.oldest: dict[uuid.UUID, int] = {}
        self.shown_up_to: dict[uuid.UUID, int] = {}
        self.typing: dict[int, float] = {}

    @property
    def me(self) -> int:
        return self.client.account.id if self.client.account is not None else 0

    # --- the status line ---------------------------------------------------------------

    def status(self) -> str:
        parts = [connection_text(self.client.connection)]
        waiting = sum(
            1
            for status in self._statuses()
            if status.state in (MessageState.PENDING, MessageState.SENDING)
        )
        if waiting:
            parts.append(f"{waiting} waiting to be sent")
        now = time.monotonic()
        typists = [
            self.names.get(u, "someone")
            for u, at in self.typing.items()
            if now - at < TYPING_SECONDS
        ]
        if typists:
            parts.append(f"{', '.join(typists)} typing…")
        current = self._conversation(self.current)
        if current is not None:
            parts.append(f"writing to {self.title(current)}")
        return "  ·  ".join(parts)

    def _statuses(self) -> list[MessageStatus]:
        return [s for c in self.conversations for s in self.client.message_statuses(c.id)]

    # --- conversations -----------------------------------------------------------------

    async def refresh(self) -> None:
        self.conversations = await self.client.conversations()
        for conversation in self.conversations:
            for member in conversation.members:
                self.names[member.id] = member.display_name
        if self.current is None and self.conversations:
            self.current = self.conversations[0].id

    def _conversation(self, conversation_id: uuid.UUID | None) -> ConversationSummary | None:
        return next((c for c in self.conversations if c.id == conversation_id), None)

    def title(self, conversation: ConversationSummary) -> str:
        others = [m.display_name for m in conversation.members if m.id != self.me]
        return ", ".join(others) or "(just you)"

    def show_list(self) -> None:
        if not self.conversations:
            self.screen.say("No conversations yet.")
        for number, conversation in enumerate(self.conversations, start=1):
            mark = "*" if conversation.id == self.current else " "
            unread = f", {conversation.unread} unread" if conversation.unread else ""
            closed = "" if conversation.status == "active" else f", {conversation.status}"
            self.screen.say(f"{mark}{number}. {self.title(conversation)}{unread}{closed}")

    def use(self, choice: str) -> None:
        if choice.isdigit() and 1 <= int(choice) <= len(self.conversations):
            conversation = self.conversations[int(choice) - 1]
            self.current = conversation.id
            self.screen.say(f"Writing to {self.title(conversation)}.")
            self.screen.status_changed()
        else:
            self.screen.say("No such conversation; /list shows them.")

    # --- messages ------------------------------------------------------------------------

    def line_for(self, message: ReceivedMessage) -> str:
        who = "you" if message.sender_id == self.me else self.names.get(message.sender_id, "?")
        where = ""
        if len(self.conversations) > 1 and message.conversation != self.current:
            conversation = self._conversation(message.conversation)
            where = f"[{self.title(conversation) if conversation else '?'}] "
        # A version-2 message carries when its sender wrote it, signed: shown in place of
        # when the server says it arrived.
        return f"{stamp(message.written_at or message.sent_at)} {where}{who}: {said(message)}"

    def lines_for(self, message: ReceivedMessage) -> list[str]:
        """A message's line, and one for each file it presents (kept for ``/save``)."""
        if message.attachments:
            self.files[(message.conversation, message.seq)] = message.attachments
        return [self.line_for(message), *file_lines(message.attachments, message.seq)]

    def show(self, message: ReceivedMessage) -> None:
        """A message, once: pushed, synced and paged copies are the same message."""
        if message.seq <= self.shown_up_to.get(message.conversation, 0):
            return
        self.shown_up_to[message.conversation] = message.seq
        if message.attachments:
            self.files[(message.conversation, message.seq)] = message.attachments
        if message.sender_id == self.me and message.client_message_id in self.mine:
            return  # shown when it was typed; its state follows it
        if message.sender_id == self.me:
            self.mine[message.client_message_id] = said(message)
        for line in self.lines_for(message):
            self.screen.say(line)

    async def show_start(self) -> None:
        """The unread messages of the current conversation and the few before them, and
        the person's own messages still waiting from an earlier run."""
        current = self._conversation(self.current)
        if current is None:
            return
        await self.show_availability(current.id)
        shown = max(current.unread, 0) + SHOWN_AT_START
        page = await self.client.history(current.id, limit=min(shown, 100))
        if page.messages:
            self.oldest[current.id] = page.messages[0].seq
            if page.has_more:
                self.screen.say("(earlier messages: /history)")
        for message in page.messages:
            self.show(message)
        for status in self.client.message_statuses(current.id):
            text = self.mine.get(status.client_message_id)
            if status.state in (MessageState.PENDING, MessageState.SENDING):
                name = f": {excerpt(text)}" if text else ""
                self.screen.say(f"(not yet delivered from your last session{name})")

    async def show_availability(self, conversation: uuid.UUID) -> None:
        """A client's therapist's availability, before they write (nothing for staff)."""
        account = self.client.account
        if account is None or account.role != "client":
            return
        try:
            availability = await self.client.availability(conversation)
        except ClientError:
            return  # the chat works without it; the practice's promise still holds
        if availability is None:
            return
        try:
            lines = availability_lines(availability, account.crisis_lines, datetime.now(UTC))
        except (OverflowError, ValueError):
            return  # times no calendar here can show: the chat goes on without them
        for line in lines:
            self.screen.say(line)

    async def show_history(self) -> None:
        if self.current is None:
            return
        before = self.oldest.get(self.current)
        if before == 1:
            self.screen.say("No earlier messages.")
            return
        page = await self.client.history(self.current, before=before, limit=20)
        if not page.messages:
            self.screen.say("No earlier messages.")
            return
        self.oldest[self.current] = page.messages[0].seq
        self.screen.say(f"-- earlier messages ({len(page.messages)}) --")
        for message in page.messages:
            for line in self.lines_for(message):
                self.screen.say(line)
        self.screen.say("-- end of earlier messages --")

    async def send(self, text: str) -> None:
        if self.current is None:
            self.screen.say("No conversation to write to.")
            return
        client_message_id = await self.client.queue_text(self.current, text)
        self.mine[client_message_id] = text
        self.screen.say(f"{stamp(datetime.now().astimezone())} you: {text}")

    # --- files ----------------------------------------------------------------------------

    async def attach(self, rest: str) -> None:
        """``/attach FILE... [-- TEXT]``: every file is checked (there, readable, not
        empty) before the first is sent; each is encrypted here and uploaded, then one
        message presents them all, with the text."""
        if self.current is None:
            self.screen.say("No conversation to write to.")
            return
        try:
            names, text = parse_attach(rest)
        except ValueError as exc:
            self.screen.say(str(exc))
            return
        conversation = self.current
        try:
            attachments.check_count(names)
            files = [attachments.local_file(name) for name in names]
        except ClientError as exc:
            self.screen.say(f"! {sending_refused(exc, '', None)}")
            return
        references = []
        for file in files:
            self.screen.say(f"Sending {file.name} ({size_text(file.size)})…")
            try:
                references.append(await self.client.upload_attachment(conversation, file.path))
            except ClientError as exc:
                self.screen.say(f"! {sending_refused(exc, file.name, file.size)}")
                if references:
                    self.screen.say(
                        "  No message was sent: the files uploaded before it reach no one."
                    )
                return
        client_message_id = await self.client.queue_text(conversation, text, attachments=references)
        sent = tuple(references)
        self.mine[client_message_id] = text or ", ".join(item.name for item in sent)
        self.screen.say(f"{stamp(datetime.now().astimezone())} you: {text}")
        for line in file_lines(sent, None):
            self.screen.say(line)

    async def files_of(self, conversation: uuid.UUID, seq: int) -> tuple[AttachmentReference, ...]:
        """The files message ``seq`` presents: as shown, or fetched from the history."""
        known = self.files.get((conversation, seq))
        if known is not None:
            return known
        page = await self.client.history(conversation, before=seq + 1, limit=1)
        for message in page.messages:
            if message.seq == seq:
                self.files[(conversation, seq)] = message.attachments
                return message.attachments
        return ()

    async def save(self, rest: str) -> None:
        """``/save N [I] [FOLDER]``: the files of message N (or only its file I), checked and
        saved into FOLDER (the current one by default), never over a file already there."""
        if self.current is None:
            return
        try:
            seq, index, folder = parse_save(rest)
        except ValueError as exc:
            self.screen.say(str(exc))
            return
        files = await self.files_of(self.current, seq)
        if not files:
            self.screen.say(f"Message {seq} presents no file.")
            return
        if index is not None and not 1 <= index <= len(files):
            self.screen.say(f"Message {seq} presents files 1 to {len(files)}.")
            return
        chosen = list(enumerate(files, start=1))
        if index is not None:
            chosen = [chosen[index - 1]]
        where = Path(folder).expanduser()
        for _, item in chosen:
            try:
                saved = await self.client.save_attachment(item, where)
            except ClientError as exc:
                self.screen.say(f"! {saving_refused(exc, item)}")
                continue
            self.screen.say(
                f"Saved {item.name} ({size_text(item.size)}) as {saved.name} in {saved.parent}"
            )

    async def mark_read(self) -> None:
        if self.current is None:
            return
        seq = self.client.position(self.current)
        if not seq:
            self.screen.say("Nothing to mark as read.")
            return
        recorded = await self.client.mark_read(self.current, seq)
        self.screen.say(f"Marked as read up to message {recorded}.")

    def show_status(self) -> None:
        self.screen.say(f"Connection: {connection_text(self.client.connection)}")
        waiting = [s for s in self._statuses() if s.state is not MessageState.READ]
        if not waiting:
            self.screen.say("Every message you sent here has been read.")
        for status in waiting:
            text = self.mine.get(status.client_message_id, "")
            self.screen.say(f"  {state_text(status)}: {excerpt(text)}")

    def show_safety(self) -> None:
        conversation = self._conversation(self.current)
        if conversation is None:
            return
        for member in conversation.members:
            if member.id != self.me:
                number = self.client.safety_number(conversation.id, member.id)
                self.screen.say(f"Safety number with {member.display_name}: {number}")

    # --- the accounting of disclosures ----------------------------------------------------

    async def show_disclosures(self) -> None:
        conversation = self._conversation(self.current)
        if conversation is None:
            return
        records = await self.client.disclosures(conversation.id)
        if not records:
            self.screen.say("No disclosure has been recorded in this conversation.")
        for record in records:
            for line in disclosure_lines(record, self.names):
                self.screen.say(line)

    async def export(self, name: str) -> None:
        """Writes the current conversation to the file ``name`` (crypto/SPEC.md, "Exports")."""
        conversation = self._conversation(self.current)
        if conversation is None:
            return
        if not name:
            self.screen.say("Give the file to write: /export conversation.html")
            return
        path = Path(name).expanduser()
        try:
            verified = await self.client.export_conversation(conversation.id, path)
        except OSError as exc:
            self.screen.say(f"! {path} could not be written: {exc.strerror or exc}")
            return
        self.screen.say(export_line(len(verified.messages), path))

    # --- invitations -----------------------------------------------------------------------

    async def invite(self, name: str) -> None:
        if not name:
            self.screen.say("Give the client's name: /invite Jane Doe")
            return
        invitation = await self.client.create_invitation(name)
        link = self.client.server_url + invitation.path
        self.screen.say(
            f"Invitation {invitation.id} for {name}, until {stamp(invitation.expires_at)}:"
        )
        self.screen.say(f"  {link}")
        self.screen.say("Give it to them yourself, once: anyone with the link can use it.")

    async def list_invitations(self) -> None:
        invitations = await self.client.invitations()
        if not invitations:
            self.screen.say("No invitations.")
        for item in invitations:
            until = stamp(item.expires_at)
            self.screen.say(f"  {item.id:>4}  {item.state:<8}  until {until}  {item.client_name}")

    async def revoke(self, choice: str) -> None:
        if not choice.isdigit():
            self.screen.say("Give the invitation's number: /revoke 12 (/invitations lists them)")
            return
        item = await self.client.revoke_invitation(int(choice))
        self.screen.say(f"Invitation {item.id} for {item.client_name}: {item.state}.")

    # --- what was typed, and what happened -------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Acts on one typed line; False when the chat should end."""
        text = line.strip()
        if not text:
            return True
        command, _, rest = text.partition(" ")
        if command == "/quit":
            return False
        try:
            await self._run(command, rest.strip(), text)
        except RateLimitedError as exc:
            self.screen.say(f"! {refused_for_now(exc)}")
        except ClientError as exc:
            self.screen.say(f"! {exc.message} ({exc.code})")
        return True

    async def _run(self, command: str, rest: str, text: str) -> None:
        if command == "/list":
            await self.refresh()
            self.show_list()
        elif command == "/use":
            self.use(rest)
        elif command == "/history":
            await self.show_history()
        elif command == "/read":
            await self.mark_read()
        elif command == "/status":
            self.show_status()
        elif command == "/agreement":
            await self.agreement()
        elif command == "/safety":
            self.show_safety()
        elif command == "/export":
            await self.export(rest)
        elif command == "/attach":
            await self.attach(rest)
        elif command == "/save":
            await self.save(rest)
        elif command == "/disclosures":
            await self.show_disclosures()
        elif command == "/invite":
            await self.invite(rest)
        elif command == "/invitations":
            await self.list_invitations()
        elif command == "/revoke":
            await self.revoke(rest)
        elif command.startswith("/"):
            for line in HELP.splitlines():
                self.screen.say(line)
        else:
            await self.send(text)

    async def agreement(self) -> None:
        """Shows the practice's current agreement; a client who has not accepted it is
        asked to, and their waiting messages then go."""
        account = self.client.account
        if account is None or account.role != "client":
            self.screen.say("Only clients accept the practice's messaging agreement.")
            return
        if await accept_agreement_if_asked(
            self.client, self.screen, show_accepted=True, later="decide later"
        ):
            self.agreement_asked = False

    def on_event(self, event: ClientEvent) -> None:
        if isinstance(event, ConnectionStatus):
            if event.state is ConnectionState.STOPPED:
                self.screen.say(f"! The connection ended: {event.reason or 'closed'}.")
            self.screen.status_changed()
        elif isinstance(event, MessageStatus):
            text = self.mine.get(event.client_message_id)
            if text is not None and event.state is not MessageState.SENDING:
                self.screen.say(f"  {state_text(event)}: {excerpt(text)}")
            if event.reason == "agreement_required" and not self.agreement_asked:
                self.agreement_asked = True
                self.screen.say(
                    "! Your practice published a new messaging agreement. Your messages wait"
                    " until you accept it: type /agreement to read it."
                )
            self.screen.status_changed()
        elif isinstance(event, ReadReceipt):
            self.screen.status_changed()
        elif isinstance(event, Typing):
            self.typing[event.user_id] = time.monotonic()
            self.screen.status_changed()
        elif isinstance(event, PeerKeyChanged):
            name = self.names.get(event.user_id, f"member {event.user_id}")
            self.screen.say(
                f"! The security key of {name} has changed since this computer last saw it."
                " This happens when they set up their account again, or if someone is"
                " interfering. Compare the safety number with them in person (/safety)."
            )
        elif isinstance(event, RejectedMessage):
            self.screen.say(
                f"! A message from {self.names.get(event.sender_id, '?')} could not be"
                f" verified or opened ({event.reason}); it is not shown."
            )
        elif isinstance(event, OrderWarning):
            self.screen.say("! " + order_warning_text(event, self.names, self.me))
        elif isinstance(event, ServerRestored):
            self.screen.say("! " + restored_text(event))
        elif isinstance(event, DisclosureRecorded):
            self.screen.say(
                "! A disclosure was recorded in the accounting of a conversation:"
                " /disclosures shows it (in that conversation)."
            )


LEGAL_BASES = {
    "duty_to_protect": "Duty to protect or warn",
    "mandated_report": "Mandated report",
    "court_order": "Court order or subpoena",
    "client_authorised": "Authorised by the client",
    "other_law": "Another disclosure required or allowed by law",
}


def disclosure_lines(record: Disclosure, names: dict[int, str]) -> list[str]:
    """One entry of the accounting of disclosures, as the chat shows it; a record that did
    not open is shown with why, never left out."""
    basis = LEGAL_BASES.get(record.legal_basis, record.legal_basis)
    who = names.get(record.recorded_by, f"member {record.recorded_by}")
    recorded = f"recorded by {who}, {stamp(record.recorded_at)}"
    head = f"{record.disclosed_on.isoformat()}  {basis}  ({recorded})"
    description = record.description
    if description is None:
        return [
            head,
            f"  ! This record could not be verified or opened ({record.problem}): its"
            " description is not shown. Ask the practice about it.",
        ]
    return [
        head,
        f"  To: {description.recipient}",
        f"  What was disclosed: {description.information}",
        f"  Purpose: {description.purpose}",
    ]


def connection_text(status: ConnectionStatus) -> str:
    if status.state is ConnectionState.CONNECTED:
        return "● connected"
    if status.state is ConnectionState.RECONNECTING:
        wait = f" in {status.retry_in:.0f} s" if status.retry_in is not None else ""
        return f"○ reconnecting{wait} (attempt {status.attempt})"
    if status.state is ConnectionState.CONNECTING:
        return "○ connecting"
    if status.state is ConnectionState.STOPPED:
        return f"✕ stopped ({status.reason or 'closed'})"
    return "○ offline"


def duration(seconds: float) -> str:
    """A wait as a person reads it: ``0.4 s``, ``12 s``, ``15 min``, ``24 h``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def refused_for_now(exc: RateLimitedError) -> str:
    """A rate-limit refusal with how long to wait."""
    return f"{exc.message} Wait {duration(exc.retry_after)} before trying again. ({exc.code})"


def state_text(status: MessageStatus) -> str:
    if status.state is MessageState.SENT:
        return f"✓ sent (#{status.seq})"
    if status.state is MessageState.READ:
        return "✓✓ read"
    if status.state is MessageState.FAILED:
        return f"! not sent ({status.reason})"
    if status.state is MessageState.PENDING:
        return f"… waiting to be sent ({status.reason})" if status.reason else "… waiting"
    return "… sending"
