"""The channel layer without Redis (one process): a channel gets what is sent to it, a group
reaches each of its members once and nobody else, a discarded or cancelled channel gets
nothing more, and a channel that is not read loses its events, not the server's memory:
one ``layer.reset`` says so."""

from __future__ import annotations

import asyncio

import pytest

from messaging.layer import RESET, FanoutChannelLayer
from tests.messaging.conftest import MakeLayers
from tests.messaging.layers import Reader, resets

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def layer(make_layers: MakeLayers) -> FanoutChannelLayer:
    (made,) = make_layers(capacity=10)
    return made


async def test_a_message_sent_to_a_channel_reaches_that_channel_only(
    layer: FanoutChannelLayer, readers: list[Reader]
) -> None:
    first, second = await layer.new_channel(), await layer.new_channel()
    readers += [Reader(layer, first), Reader(layer, second)]
    await layer.send(first, {"type": "note", "n": 1})
    await layer.send(first, {"type": "note", "n": 2})
    assert await readers[0].settled() == [{"type": "note", "n": 1}, {"type": "note", "n": 2}]
    assert readers[1].events == []


async def test_a_group_send_reaches_every_member_once_and_nobody_else(
    layer: FanoutChannelLayer, readers: list[Reader]
) -> None:
    members = [await layer.new_channel() for _ in range(3)]
    outsider = await layer.new_channel()
    for channel in members:
        await layer.group_add("user.1", channel)
    await layer.group_add("user.1", members[0])  # added twice: still one member
    await layer.group_add("user.2", outsider)
    readers += [Reader(layer, channel) for channel in [*members, outsider]]

    await layer.group_send("user.1", {"type": "deliver", "text": "x"})

    for reader in readers[:3]:
        assert await reader.settled() == [{"type": "deliver", "text": "x"}]
    assert readers[3].events == []


async def test_a_discarded_channel_gets_nothing_more(
    layer: FanoutChannelLayer, readers: list[Reader]
) -> None:
    staying, leaving = await layer.new_channel(), await layer.new_channel()
    for channel in (staying, leaving):
        await layer.group_add("user.1", channel)
    readers += [Reader(layer, staying), Reader(layer, leaving)]
    await layer.group_discard("user.1", leaving)
    await layer.group_send("user.1", {"type": "deliver", "n": 1})
    assert await readers[0].settled() == [{"type": "deliver", "n": 1}]
    assert readers[1].events == []

    await layer.group_discard("user.1", staying)
    assert "user.1" not in layer.groups  # no empty group is kept
    await layer.group_send("user.1", {"type": "deliver", "n": 2})
    assert await readers[0].settled() == [{"type": "deliver", "n": 1}]


async def test_a_channel_whose_receive_is_cancelled_is_forgotten(
    layer: FanoutChannelLayer, readers: list[Reader]
) -> None:
    gone, other = await layer.new_channel(), await layer.new_channel()
    for group in ("user.1", "user.2"):
        await layer.group_add(group, gone)
    await layer.group_add("user.1", other)
    reader = Reader(layer, gone)
    readers.append(Reader(layer, other))
    await asyncio.sleep(0.05)  # the reader is waiting in receive
    await reader.stop()

    assert gone not in layer.channels
    assert layer.groups == {"user.1": {other}}
    await layer.group_send("user.2", {"type": "deliver", "n": 1})
    await layer.group_send("user.1", {"type": "deliver", "n": 2})
    assert await readers[0].settled() == [{"type": "deliver", "n": 2}]
    assert gone not in layer.channels  # a send to a forgotten channel does not revive it


async def test_an_unread_channel_keeps_at_most_its_capacity_then_gets_one_reset(
    layer: FanoutChannelLayer, readers: list[Reader]
) -> None:
    channel = await layer.new_channel()
    await layer.group_add("user.1", channel)
    sizes = []
    for n in range(35):  # capacity 10
        await layer.group_send("user.1", {"type": "deliver", "n": n})
        sizes.append(layer.channels[channel].queue.qsize())
    assert max(sizes) <= layer.capacity

    reader = Reader(layer, channel)
    readers.append(reader)
    events = await reader.settled()
    assert resets(events) == 1
    assert events[-1] == RESET
    before = events[:-1]
    assert len(before) <= layer.capacity
    assert before == sorted(before, key=lambda e: e["n"])

    # Read again: delivery goes on as before, with no further reset.
    for n in range(100, 105):
        await layer.group_send("user.1", {"type": "deliver", "n": n})
    events = await reader.at_least(len(before) + 1 + 5)
    assert events[len(before) + 1 :] == [{"type": "deliver", "n": n} for n in range(100, 105)]
    assert resets(await reader.settled()) == 1


async def test_an_overflow_resets_only_the_channel_that_overflowed(
    layer: FanoutChannelLayer, readers: list[Reader]
) -> None:
    slow, fast = await layer.new_channel(), await layer.new_channel()
    for channel in (slow, fast):
        await layer.group_add("user.1", channel)
    fast_reader = Reader(layer, fast)
    readers.append(fast_reader)
    for n in range(25):
        await layer.group_send("user.1", {"type": "deliver", "n": n})
        await asyncio.sleep(0)  # the fast reader keeps up
    assert await fast_reader.settled() == [{"type": "deliver", "n": n} for n in range(25)]
    readers.append(Reader(layer, slow))
    assert resets(await readers[-1].settled()) == 1


async def test_group_send_many_keeps_the_order_of_each_channel(
    make_layers: MakeLayers, readers: list[Reader]
) -> None:
    (layer,) = make_layers(capacity=2000)
    channels = [await layer.new_channel() for _ in range(3)]
    for index, channel in enumerate(channels):
        await layer.group_add(f"user.{index}", channel)
    await layer.group_add("user.all", channels[0])
    readers += [Reader(layer, channel) for channel in channels]
    items = [(f"user.{n % 3}", {"type": "deliver", "n": n}) for n in range(900)]
    items += [("user.all", {"type": "deliver", "n": 1000 + n}) for n in range(50)]
    await layer.group_send_many(items)

    expected = [[n for n in range(900) if n % 3 == i] for i in range(3)]
    expected[0] += list(range(1000, 1050))
    for reader, numbers in zip(readers, expected, strict=True):
        await reader.at_least(len(numbers))
        assert [e["n"] for e in await reader.settled()] == numbers


async def test_a_message_that_is_not_a_dict_is_refused(layer: FanoutChannelLayer) -> None:
    channel = await layer.new_channel()
    await layer.group_add("user.1", channel)
    with pytest.raises(TypeError):
        await layer.group_send("user.1", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await layer.send(channel, ["text"])  # type: ignore[arg-type]
    assert layer.channels[channel].queue.empty()
