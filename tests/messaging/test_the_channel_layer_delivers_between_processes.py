"""Two processes on one Redis (here two layers in one event loop, with the same prefix):
each delivers the other's group events exactly once, and a process never delivers its own
publication twice (once locally, once more as Redis echoes it back)."""

from __future__ import annotations

import asyncio
import time

import pytest

from messaging.layer import FanoutChannelLayer
from tests.messaging.conftest import MakeLayers
from tests.messaging.layers import Reader, until_subscribed

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def pair(redis_url: str, make_layers: MakeLayers) -> tuple[FanoutChannelLayer, FanoutChannelLayer]:
    first, second = make_layers(redis_url, redis_url, capacity=1000)
    return first, second


async def test_each_process_delivers_the_others_group_events_exactly_once(
    redis_url: str, pair: tuple[FanoutChannelLayer, FanoutChannelLayer], readers: list[Reader]
) -> None:
    first, second = pair
    mine, not_a_member = await first.new_channel(), await first.new_channel()
    theirs = await second.new_channel()
    await first.group_add("user.7", mine)
    await second.group_add("user.7", theirs)
    readers += [Reader(first, mine), Reader(first, not_a_member), Reader(second, theirs)]
    await until_subscribed(redis_url, f"{first.prefix}:g:user.7", 2)

    await first.group_send("user.7", {"type": "deliver", "n": 1})
    await second.group_send("user.7", {"type": "deliver", "n": 2})

    for reader in (readers[0], readers[2]):
        events = await reader.at_least(2)
        assert sorted(e["n"] for e in await reader.settled(quiet=0.4)) == [1, 2]
        assert len(events) == 2
    assert readers[1].events == []


async def test_a_process_with_no_member_of_a_group_delivers_nothing_of_it(
    redis_url: str, pair: tuple[FanoutChannelLayer, FanoutChannelLayer], readers: list[Reader]
) -> None:
    first, second = pair
    mine = await first.new_channel()
    theirs = await second.new_channel()
    await first.group_add("user.1", mine)
    await second.group_add("user.2", theirs)
    readers += [Reader(first, mine), Reader(second, theirs)]
    await until_subscribed(redis_url, f"{first.prefix}:g:user.2", 1)

    await first.group_send("user.2", {"type": "deliver", "n": 1})
    assert await readers[1].at_least(1) == [{"type": "deliver", "n": 1}]
    assert await readers[0].settled(quiet=0.4) == []
    assert await readers[1].settled(quiet=0.2) == [{"type": "deliver", "n": 1}]


async def test_a_send_to_a_channel_of_the_other_process_arrives(
    redis_url: str, pair: tuple[FanoutChannelLayer, FanoutChannelLayer], readers: list[Reader]
) -> None:
    first, second = pair
    theirs = await second.new_channel()
    readers.append(Reader(second, theirs))
    await until_subscribed(redis_url, second.process_topic, 1)
    await first.send(theirs, {"type": "session.revoked", "session_key": None})
    assert await readers[0].at_least(1) == [{"type": "session.revoked", "session_key": None}]


async def test_many_events_in_one_batch_arrive_in_order_at_the_other_process(
    redis_url: str, pair: tuple[FanoutChannelLayer, FanoutChannelLayer], readers: list[Reader]
) -> None:
    first, second = pair
    channels = [await second.new_channel() for _ in range(2)]
    for index, channel in enumerate(channels):
        await second.group_add(f"user.{index}", channel)
    readers += [Reader(second, channel) for channel in channels]
    for index in range(2):
        await until_subscribed(redis_url, f"{first.prefix}:g:user.{index}", 1)

    await first.group_send_many(
        [(f"user.{n % 2}", {"type": "deliver", "n": n}) for n in range(600)]
    )
    for index, reader in enumerate(readers):
        await reader.at_least(300, timeout=10)
        assert [e["n"] for e in await reader.settled()] == list(range(index, 600, 2))


async def test_groups_joined_while_the_subscription_connects_are_subscribed(
    redis_url: str, pair: tuple[FanoutChannelLayer, FanoutChannelLayer], readers: list[Reader]
) -> None:
    first, second = pair
    channel = await first.new_channel()
    readers.append(Reader(first, channel))  # its receive starts the subscription
    for n in range(40):
        await first.group_add(f"user.{n}", channel)
        await asyncio.sleep(0.001)
    for n in range(40):
        await until_subscribed(redis_url, f"{first.prefix}:g:user.{n}", 1, timeout=3)
    await second.group_send_many([(f"user.{n}", {"type": "deliver", "n": n}) for n in range(40)])
    await readers[0].at_least(40)
    assert [e["n"] for e in await readers[0].settled()] == list(range(40))


async def test_a_layer_closes_promptly_whatever_its_subscription_is_doing(
    redis_url: str, make_layers: MakeLayers
) -> None:
    """A cancellation that reaches the subscription while it connects must stop it at
    once; otherwise it goes on reading (or its event loop can never close)."""
    slowest = 0.0
    for attempt in range(40):
        (layer,) = make_layers(redis_url)
        channel = await layer.new_channel()
        reader = Reader(layer, channel)  # its receive starts the subscription
        await asyncio.sleep(attempt * 0.0005)
        await reader.stop()
        started = time.monotonic()
        await asyncio.wait_for(layer.close(), 2)
        slowest = max(slowest, time.monotonic() - started)
    assert slowest < 1.0, f"a close took {slowest:.2f} s"
