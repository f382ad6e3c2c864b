"""A server restored from a backup has lost the messages stored after it. A client that
holds them notices (the server lists fewer, or announces a new database generation and where
each conversation was restored to), says so with ``ServerRestored``, follows the
conversation again from there, and sends its own lost messages again under their own ids:
nothing is lost, and nothing is shown twice, even where new messages took the lost numbers.
(The restore of a real backup: tests/integration/test_a_restored_backup_serves_*.py.)"""

from __future__ import annotations

import uuid

import crypto
from confide_client import ConfideClient, ReceivedMessage, ServerRestored
from tests.client.conftest import Practice, SignIn
from tests.client.stand_in_portal import QUICK_KDF
from tests.integration.helpers import event_of
from tests.waiting import until


async def drain(client: ConfideClient, at_least: int = 0) -> list[ReceivedMessage]:
    """The messages the client delivers until none comes for half a second."""
    found = [await client.next_message(5) for _ in range(at_least)]
    while True:
        try:
            found.append(await client.next_message(0.5))
        except TimeoutError:
            return found


async def five_messages(
    practice: Practice, theo: ConfideClient, clara: ConfideClient
) -> list[uuid.UUID]:
    """Two messages, then three: two of Clara's and one of Theo's; returns the last three's
    ids once both hold all five."""
    conversation = practice.conversation
    await clara.send_text(conversation, "one")
    await theo.send_text(conversation, "two")
    ids = [
        await clara.queue_text(conversation, "three"),
        await clara.queue_text(conversation, "four"),
    ]
    await until(lambda: len(practice.portal.stored(conversation)) == 4)
    ids.append(await theo.queue_text(conversation, "five"))
    await until(lambda: theo.position(conversation) == clara.position(conversation) == 5)
    await drain(theo)
    await drain(clara)
    return ids


def stored_ids(practice: Practice) -> list[uuid.UUID]:
    return [m.client_message_id for m in practice.portal.stored(practice.conversation)]


async def test_a_restore_with_a_new_generation_is_said_even_where_new_messages_took_its_numbers(
    practice: Practice, sign_in: SignIn
) -> None:
    theo = await sign_in(practice.therapist)
    clara = await sign_in(practice.client)
    three, four, five = await five_messages(practice, theo, clara)
    kept = stored_ids(practice)[:2]

    # Clara's computer is off while the server is restored and Theo writes on.
    practice.portal.unreachable_for.add(practice.client.id)
    await practice.portal.drop_sockets()
    practice.portal.restore(practice.conversation, 2, epoch=0)
    told_theo = await event_of(theo, ServerRestored)
    assert (told_theo.restored_at, told_theo.held_up_to, told_theo.resent) == (2, 5, (five,))
    await until(lambda: len(practice.portal.stored(practice.conversation)) == 3)
    for text in ("six", "seven", "eight"):
        await theo.send_text(practice.conversation, text)
    assert len(practice.portal.stored(practice.conversation)) == 6  # past Clara's five

    practice.portal.unreachable_for.clear()
    told = await event_of(clara, ServerRestored, timeout=10)
    assert told.conversation == practice.conversation
    assert (told.restored_at, told.held_up_to) == (2, 5)
    assert told.resent == (three, four)
    assert told.generation == practice.portal.generation
    assert told.not_resent == 0

    # Theo's new messages are shown; his lost one and her own, stored again, are not.
    shown = await drain(clara, 3)
    assert [(m.seq, m.text) for m in shown] == [(4, "six"), (5, "seven"), (6, "eight")]
    await until(lambda: len(practice.portal.stored(practice.conversation)) == 8)
    assert stored_ids(practice)[:3] == [*kept, five]
    assert stored_ids(practice)[6:] == [three, four]
    # Theo's client shows his own new ones, and nothing of Clara's twice.
    assert [m.text for m in await drain(theo)] == ["six", "seven", "eight"]
    assert clara.position(practice.conversation) == 8
    assert clara.stats.replays == 3  # Theo's "five" and her own two, back under new numbers


async def test_a_restore_nobody_announced_is_noticed_from_the_numbering(
    practice: Practice, sign_in: SignIn
) -> None:
    theo = await sign_in(practice.therapist)
    clara = await sign_in(practice.client)
    three, four, five = await five_messages(practice, theo, clara)

    # A file copied back by hand: no new generation.
    generation = practice.portal.generation
    practice.portal.restore(practice.conversation, 2, epoch=0, announce=False)
    # Clara reconnects first (were Theo's "five" stored again before she synced, she could
    # only take its number for the end of what was kept: the residual of a restore nobody
    # announced, docs/threat-model.md).
    await practice.portal.drop_sockets(practice.client)

    told = await event_of(clara, ServerRestored, timeout=10)
    assert (told.restored_at, told.held_up_to, told.resent) == (2, 5, (three, four))
    assert told.generation is None and practice.portal.generation == generation
    await until(lambda: len(practice.portal.stored(practice.conversation)) == 4)
    await practice.portal.drop_sockets(practice.therapist)
    told_theo = await event_of(theo, ServerRestored, timeout=10)
    assert (told_theo.restored_at, told_theo.resent) == (4, (five,))
    await until(lambda: len(practice.portal.stored(practice.conversation)) == 5)
    assert sorted(stored_ids(practice)[2:], key=str) == sorted([three, four, five], key=str)
    assert await drain(clara) == [] and await drain(theo) == []


async def test_a_client_that_signs_in_after_the_restore_reads_it_as_it_is(
    practice: Practice, sign_in: SignIn
) -> None:
    theo = await sign_in(practice.therapist)
    clara = await sign_in(practice.client)
    await five_messages(practice, theo, clara)
    practice.portal.restore(practice.conversation, 2, epoch=0)

    later = await sign_in(practice.client)
    assert [m.text for m in await drain(later, 2)] == ["one", "two"]
    while not later.events.empty():
        assert not isinstance(later.events.get_nowait(), ServerRestored)


async def test_a_client_that_held_nothing_lost_says_nothing(
    practice: Practice, sign_in: SignIn
) -> None:
    clara = await sign_in(practice.client)
    await clara.send_text(practice.conversation, "one")
    await drain(clara)
    practice.portal.restore(practice.conversation, 1, epoch=0)  # nothing after the backup
    await practice.portal.drop_sockets()
    await until(lambda: clara.connections >= 2)
    await clara.wait_synced(5)
    while not clara.events.empty():
        assert not isinstance(clara.events.get_nowait(), ServerRestored)


def test_the_chat_says_a_restore_plainly() -> None:
    from confide_client.cli.chat import restored_text

    event = ServerRestored(uuid.uuid4(), 2, 5, (uuid.uuid4(), uuid.uuid4()), 0, "ab" * 16)
    text = restored_text(event)
    assert "restored from a backup" in text
    assert "the last 3 messages" in text and "after #2" in text
    assert "2 of yours are being sent again" in text


async def test_an_epoch_lost_with_the_restore_is_not_written_in_again(
    practice: Practice, sign_in: SignIn
) -> None:
    theo = await sign_in(practice.therapist)
    clara = await sign_in(practice.client)
    await clara.send_text(practice.conversation, "one")
    lost_epoch = await theo.rekey(practice.conversation)
    assert lost_epoch == 1
    await theo.send_text(practice.conversation, "two, in epoch 1")
    await drain(clara, 2)
    lost_key = clara.conversation_key(practice.conversation, 1)._secret_material()

    # Restored to before the new epoch and its message.
    practice.portal.restore(practice.conversation, 1, epoch=0)
    await practice.portal.drop_sockets()
    await event_of(clara, ServerRestored, timeout=10)
    await until(lambda: len(practice.portal.stored(practice.conversation)) == 2)

    # Clara's next message does not go in epoch 0, which the restored server lists as
    # current: it goes in an epoch begun since, with a new key (Theo's, sending his lost
    # message again, or her own), and Theo reads it.
    await clara.send_text(practice.conversation, "three")
    (last,) = practice.portal.stored(practice.conversation)[-1:]
    assert last.epoch >= 1 and last.sender == practice.client.id
    key = clara.conversation_key(practice.conversation, last.epoch)._secret_material()
    assert key != lost_key
    texts = [m.text for m in await drain(theo, 1)]
    assert texts[-1] == "three"


async def test_a_restore_claimed_after_a_key_was_replaced_seals_nothing_to_the_new_key(
    practice: Practice, sign_in: SignIn
) -> None:
    """A server that puts its own key in Theo's place, then claims a restore, gets none of
    Clara's kept messages sealed to that key: they were written to Theo's real one."""
    theo = await sign_in(practice.therapist)
    clara = await sign_in(practice.client)
    await five_messages(practice, theo, clara)
    practice.portal.people[practice.therapist.id].material = crypto.make_sign_up_material(
        "the server's own", QUICK_KDF
    )
    practice.portal.restore(practice.conversation, 2, epoch=0, announce=False)
    await practice.portal.drop_sockets(practice.client)

    told = await event_of(clara, ServerRestored, timeout=10)
    assert (told.restored_at, told.resent, told.not_resent) == (2, (), 2)
    await clara.wait_synced(5)
    assert len(practice.portal.stored(practice.conversation)) == 2


async def test_a_genuine_older_epoch_brought_back_after_a_restore_is_not_written_in(
    practice: Practice, sign_in: SignIn
) -> None:
    theo = await sign_in(practice.therapist)
    clara = await sign_in(practice.client)
    await clara.send_text(practice.conversation, "one")
    await theo.rekey(practice.conversation)  # epoch 1
    await theo.rekey(practice.conversation)  # epoch 2
    await theo.send_text(practice.conversation, "two, in epoch 2")
    await drain(clara, 2)
    conversation = practice.portal.conversations[practice.conversation]
    epoch_one = {k: v for k, v in conversation.envelopes.items() if k[0] == 1}

    # A restore to epoch 0, then epoch 1 (a genuine envelope of before) brought back.
    practice.portal.restore(practice.conversation, 1, epoch=0)
    await practice.portal.drop_sockets(practice.client)
    await event_of(clara, ServerRestored, timeout=10)
    conversation.envelopes.update(epoch_one)
    conversation.epoch = 1
    await clara.conversations()
    assert (await clara.conversation(practice.conversation)).current_epoch == 1

    await clara.send_text(practice.conversation, "three")
    (last,) = practice.portal.stored(practice.conversation)[-1:]
    assert last.sender == practice.client.id and last.epoch == 2  # a new epoch 2, hers
    assert conversation.envelopes[(2, practice.client.id)][0] == practice.client.id
