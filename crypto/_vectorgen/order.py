"""Vectors for reading the sender's order of held messages (crypto/order.py)."""

from __future__ import annotations

import hashlib
from typing import Any

from ..errors import FormatError
from ..message import MessageOrder
from ..order import OrderEntry, OrderNotice, check_order
from .common import JsonObject, document, fails, ok

CLIENT, THERAPIST = 11, 7
# Two sessions of the client (two browser tabs) and one of the therapist.
TAB, OTHER_TAB, DESK = (
    bytes.fromhex("c4a1d2e3f4a5b6c7"),
    bytes.fromhex("5e6f708192a3b4c5"),
    bytes.fromhex("0a1b2c3d4e5f6071"),
)
NOON = 1_796_479_200_000  # 2026-12-05 14:00:00 UTC, in milliseconds
MINUTE = 60_000


def _reference(name: str) -> bytes:
    """A stand-in for a message's reference (the check reads references, not messages)."""
    return hashlib.blake2b(b"order vector/" + name.encode(), digest_size=32).digest()


class _Conversation:
    """Builds consecutive entries: each message names the newest one before it."""

    def __init__(self) -> None:
        self.entries: list[OrderEntry] = []

    def add(
        self,
        name: str,
        sender: int,
        chain: bytes | None,
        counter: int = 0,
        minute: int = 0,
        previous: bytes | None = None,
        reference: bytes | None = None,
    ) -> _Conversation:
        newest = self.entries[-1].reference if self.entries else bytes(32)
        order = None
        if chain is not None:
            order = MessageOrder(
                chain, counter, NOON + minute * MINUTE, newest if previous is None else previous
            )
        entry = OrderEntry(
            seq=len(self.entries) + 1,
            sender=sender,
            reference=_reference(name) if reference is None else reference,
            order=order,
        )
        self.entries.append(entry)
        return self

    def swap(self, a: int, b: int) -> _Conversation:
        """Exchange the messages the server numbered ``a`` and ``b``, keeping the numbers."""
        first, second = self.entries[a - 1], self.entries[b - 1]
        self.entries[a - 1] = OrderEntry(a, second.sender, second.reference, second.order)
        self.entries[b - 1] = OrderEntry(b, first.sender, first.reference, first.order)
        return self

    def drop(self, seq: int) -> _Conversation:
        """Withhold message ``seq``: the server numbers the rest without a gap."""
        kept = [entry for entry in self.entries if entry.seq != seq]
        self.entries = [
            OrderEntry(index + 1, entry.sender, entry.reference, entry.order)
            for index, entry in enumerate(kept)
        ]
        return self


def _entry_json(entry: OrderEntry) -> JsonObject:
    order = entry.order
    return {
        "seq": entry.seq,
        "sender": entry.sender,
        "reference": entry.reference.hex(),
        "order": None
        if order is None
        else {
            "chain": order.chain.hex(),
            "counter": order.counter,
            "sent_at": order.sent_at,
            "previous": order.previous.hex(),
        },
    }


def _notice_json(notice: OrderNotice) -> JsonObject:
    return {
        "kind": notice.kind,
        "seq": notice.seq,
        "sender": notice.sender,
        "chain": None if notice.chain is None else notice.chain.hex(),
        "first": notice.first,
        "last": notice.last,
        "after": notice.after,
        "before": notice.before,
    }


def _check(name: str, comment: str, conversation: _Conversation, from_start: bool) -> JsonObject:
    notices = check_order(conversation.entries, from_start)
    return ok(
        name,
        comment,
        "check",
        {"from_start": from_start, "entries": [_entry_json(e) for e in conversation.entries]},
        {"notices": [_notice_json(notice) for notice in notices]},
    )


def _exchange() -> _Conversation:
    """Client and therapist, three messages each, alternating, all version 2."""
    return (
        _Conversation()
        .add("c1", CLIENT, TAB, 1, 0)
        .add("t1", THERAPIST, DESK, 1, 2)
        .add("c2", CLIENT, TAB, 2, 4)
        .add("t2", THERAPIST, DESK, 2, 6)
        .add("c3", CLIENT, TAB, 3, 8)
        .add("t3", THERAPIST, DESK, 3, 10)
    )


def order_file() -> str:
    vectors: list[JsonObject] = [
        _check("in-order", "Six messages in the order written: nothing to say.", _exchange(), True),
        _check("empty", "No messages.", _Conversation(), True),
        _check(
            "withheld",
            "The server withholds the client's second message (c2) and numbers the rest without "
            "a gap: the client's counter skips from 1 to 3, so one message written between "
            "12:00 and 12:08 did not arrive; and the therapist's t2 answers c2, which the "
            "reader never received.",
            _exchange().drop(3),
            True,
        ),
        _check(
            "withheld-not-from-start",
            "The same, reading only from the second message on: the counter still skips, but "
            "c2 may lie before what is held, so t2's reference alone says nothing.",
            _Conversation()
            .add("c0", CLIENT, TAB, 1, -2)
            .add("c1", CLIENT, TAB, 2, 0)
            .add("t1", THERAPIST, DESK, 1, 2)
            .add("c3", CLIENT, TAB, 4, 8)
            .add("t3", THERAPIST, DESK, 2, 10),
            False,
        ),
        _check(
            "withheld-run",
            "Three messages of one session withheld at once: one notice, counters 2 to 4.",
            _Conversation()
            .add("c1", CLIENT, TAB, 1, 0)
            .add("c5", CLIENT, TAB, 5, 9, previous=_reference("c4")),
            False,
        ),
        _check(
            "swapped",
            "The server swaps c2 and t2: c2 was written before t2 but is numbered after it, "
            "and t2's reference names c2, numbered after t2. One notice, on c2.",
            _exchange().swap(3, 4),
            True,
        ),
        _check(
            "swapped-one-session",
            "Two of the client's messages swapped: the one with counter 2 arrives after 3.",
            _Conversation()
            .add("c1", CLIENT, TAB, 1, 0)
            .add("c2", CLIENT, TAB, 2, 1)
            .add("c3", CLIENT, TAB, 3, 2)
            .swap(2, 3),
            True,
        ),
        _check(
            "answer-numbered-first",
            "The therapist's t1 answers c1 (its previous names c1), but the server numbers t1 "
            "first: c1 was written earlier. Neither session skips.",
            _Conversation()
            .add("t0", THERAPIST, DESK, 1, -5)
            .add("c1", CLIENT, TAB, 1, 0)
            .add("t1", THERAPIST, DESK, 2, 2)
            .swap(2, 3),
            True,
        ),
        _check(
            "repeated",
            "Two different messages in one session's place (counter 2): the second is reported.",
            _Conversation()
            .add("c1", CLIENT, TAB, 1, 0)
            .add("c2", CLIENT, TAB, 2, 1)
            .add("c2-again", CLIENT, TAB, 2, 1, previous=_reference("c1")),
            True,
        ),
        _check(
            "replayed",
            "The same message (same reference) twice under two numbers: a replay, which the "
            "reader shows once; nothing to report here.",
            _Conversation()
            .add("c1", CLIENT, TAB, 1, 0)
            .add("c2", CLIENT, TAB, 2, 1)
            .add("c2", CLIENT, TAB, 2, 1, previous=_reference("c1"), reference=_reference("c2")),
            True,
        ),
        _check(
            "unseen",
            "A message that answers one the reader never received, held from the start.",
            _Conversation()
            .add("c1", CLIENT, TAB, 1, 0)
            .add("t1", THERAPIST, DESK, 1, 3, previous=_reference("never served")),
            True,
        ),
        _check(
            "unseen-not-from-start",
            "The same, not held from the start: what it names may lie before what is held.",
            _Conversation()
            .add("c1", CLIENT, TAB, 1, 0)
            .add("t1", THERAPIST, DESK, 1, 3, previous=_reference("never served")),
            False,
        ),
        _check(
            "session-start-withheld",
            "Held from the start, a session's first message has counter 3: 1 and 2 never "
            "arrived, and nothing says when they were written before 12:04 ('after' null).",
            _Conversation().add("t1", THERAPIST, DESK, 1, 0).add("c3", CLIENT, TAB, 3, 4),
            True,
        ),
        _check(
            "session-start-not-from-start",
            "The same, not held from the start: the earlier counters may lie before.",
            _Conversation().add("t1", THERAPIST, DESK, 1, 0).add("c3", CLIENT, TAB, 3, 4),
            False,
        ),
        _check(
            "two-tabs",
            "The client writes from two tabs, each a session counting from 1, interleaved: "
            "nothing to say.",
            _Conversation()
            .add("a1", CLIENT, TAB, 1, 0)
            .add("b1", CLIENT, OTHER_TAB, 1, 1)
            .add("a2", CLIENT, TAB, 2, 2)
            .add("t1", THERAPIST, DESK, 1, 3)
            .add("b2", CLIENT, OTHER_TAB, 2, 4),
            True,
        ),
        _check(
            "version-1-and-unverified",
            "Entries without an order (version 1, or a message that did not verify) are read "
            "only as references: the therapist's t1 names the version-1 message v1.",
            _Conversation()
            .add("v1", CLIENT, None)
            .add("t1", THERAPIST, DESK, 1, 2)
            .add("bad", CLIENT, None)
            .add("t2", THERAPIST, DESK, 2, 4),
            True,
        ),
    ]
    good = _exchange()
    entries = [_entry_json(entry) for entry in good.entries]
    wrong: list[tuple[str, str, Any, Any]] = [
        ("not-consecutive", "Message 3 left out of the entries.", entries[:2] + entries[3:], True),
        ("from-start-at-2", "from_start, but the first entry is message 2.", entries[1:], True),
        (
            "short-reference",
            "A 31-byte reference.",
            [{**entries[0], "reference": entries[0]["reference"][:62]}],
            True,
        ),
        ("seq-zero", "Message numbers start at 1.", [{**entries[0], "seq": 0}], False),
        ("sender-boolean", "A boolean is not a user id.", [{**entries[0], "sender": True}], True),
        (
            "counter-zero",
            "An order with counter 0.",
            [{**entries[0], "order": {**entries[0]["order"], "counter": 0}}],
            True,
        ),
        ("from-start-not-boolean", "from_start must be a boolean.", entries, 1),
    ]
    for name, comment, bad_entries, from_start in wrong:
        vectors.append(
            fails(
                f"error-{name}",
                comment,
                "check",
                {"from_start": from_start, "entries": bad_entries},
                FormatError,
            )
        )
    return document(
        "Reading the sender's order (SPEC.md, Order): the entries are consecutive held "
        "messages in the server's order, each with its sender's user id, its reference "
        "(here stand-ins) and its version-2 order (null: version 1 or not verified); the "
        "notices are sorted by seq, kind (missing, out_of_order, repeated, unseen), sender, "
        "chain and counter. Times are milliseconds since 1970 by the sender's clock.",
        vectors,
    )
