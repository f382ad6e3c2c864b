"""When Redis goes away the channel layer may lose events; it must say so rather than lose
them silently. A private redis-server (never the shared one) is killed and started again on
the same port:

- every channel of a process whose subscription broke gets a ``layer.reset`` once the
  subscription is back, however quickly Redis returned;
- nothing raises into the caller of ``group_send`` (or ``group_add``) meanwhile, and
  nothing waits for Redis;
- a publication that could not be made resets its group on the other processes once Redis
  answers, even if nothing else is published afterwards;
- afterwards delivery between the processes goes on as before.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis.asyncio as redis

from harness.faults import TcpProxy
from harness.private_services import PrivateRedis
from messaging.layer import RESET
from tests.conftest import require_programs
from tests.messaging.conftest import MakeLayers
from tests.messaging.layers import Reader, resets, until_subscribed
from tests.waiting import until

pytestmark = pytest.mark.timeout(40)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    require_programs([] if shutil.which("redis-server") else ["redis-server"])
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


async def quickly(action: object, within: float = 1.0) -> None:
    """Runs an awaitable that must neither raise nor wait for Redis."""
    started = time.monotonic()
    await asyncio.wait_for(action, within)  # type: ignore[arg-type]
    assert time.monotonic() - started < within


async def test_a_subscription_that_redis_drops_resets_every_channel_of_its_process(
    private_redis: PrivateRedis, make_layers: MakeLayers, readers: list[Reader]
) -> None:
    """Redis stays up but closes the subscribers' connections (as it does to a subscriber
    that falls behind its output buffer limit): whatever was published meanwhile is lost,
    so a quiet reconnection is not enough."""
    first, second = make_layers(private_redis.url, private_redis.url)
    prefix = first.prefix
    mine, theirs = await first.new_channel(), await second.new_channel()
    await first.group_add("user.1", mine)
    await second.group_add("user.1", theirs)
    readers += [Reader(first, mine), Reader(second, theirs)]
    await until_subscribed(private_redis.url, f"{prefix}:g:user.1", 2)

    admin = redis.Redis.from_url(private_redis.url)
    try:
        assert await admin.client_kill_filter(_type="pubsub") == 2
    finally:
        await admin.aclose()

    for reader in readers:
        await until(reset_reached(reader), 10)
    await until_subscribed(private_redis.url, f"{prefix}:g:user.1", 2)
    await second.group_send("user.1", {"type": "deliver", "n": 1})
    assert (await readers[0].at_least(2))[-1] == {"type": "deliver", "n": 1}
    assert await readers[0].settled() == [RESET, {"type": "deliver", "n": 1}]


def reset_reached(reader: Reader) -> Callable[[], bool]:
    return lambda: RESET in reader.events


@pytest.mark.parametrize("down_for", [0.0, 1.5], ids=["restarted at once", "down a while"])
async def test_every_channel_of_a_process_gets_a_reset_once_redis_is_back(
    down_for: float,
    private_redis: PrivateRedis,
    make_layers: MakeLayers,
    readers: list[Reader],
) -> None:
    first, second = make_layers(private_redis.url, private_redis.url)
    prefix = first.prefix
    mine = await first.new_channel()
    theirs, lonely = await second.new_channel(), await second.new_channel()
    await first.group_add("user.1", mine)
    await second.group_add("user.1", theirs)
    await second.group_add("user.2", lonely)
    readers += [Reader(first, mine), Reader(second, theirs), Reader(second, lonely)]
    await until_subscribed(private_redis.url, f"{prefix}:g:user.1", 2)

    private_redis.kill()
    joining = await second.new_channel()
    if down_for:
        await asyncio.sleep(0.05)
        # Nothing raises into the callers, nor waits for Redis, while it is down.
        await quickly(first.group_send("user.1", {"type": "deliver", "n": 1}))
        await quickly(second.group_send_many([("user.2", {"type": "deliver", "n": 2})]))
        await quickly(second.group_add("user.3", joining))
        await quickly(first.send(theirs, {"type": "deliver", "n": 3}))
        await asyncio.sleep(down_for)
    # Started in a thread: the layers' reconnect attempts run meanwhile.
    await asyncio.to_thread(private_redis.start)
    if not down_for:
        await second.group_add("user.3", joining)

    for reader in readers:
        await until(reset_reached(reader), 10)
    await until_subscribed(private_redis.url, f"{prefix}:g:user.3", 1)
    await until_subscribed(private_redis.url, f"{prefix}:g:user.1", 2)
    readers.append(Reader(second, joining))

    # Delivery goes on: each process hears the other's publications again, once each.
    settled = [len(await reader.settled(quiet=0.3)) for reader in readers]
    await first.group_send("user.1", {"type": "deliver", "n": 10})
    await first.group_send("user.3", {"type": "deliver", "n": 11})
    await readers[0].at_least(settled[0] + 1)
    await readers[1].at_least(settled[1] + 1)
    await readers[3].at_least(settled[3] + 1)
    # (The group of the publication made while Redis was down may get one more reset.)
    tails = [
        [e for e in (await reader.settled(quiet=0.3))[n:] if e != RESET]
        for reader, n in zip(readers, settled, strict=True)
    ]
    assert tails == [
        [{"type": "deliver", "n": 10}],
        [{"type": "deliver", "n": 10}],
        [],
        [{"type": "deliver", "n": 11}],
    ]


async def test_a_publication_that_could_not_be_made_resets_its_group_elsewhere(
    redis_url: str,
    make_layers: MakeLayers,
    readers: list[Reader],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only the publishing process loses Redis (a broken path between it and Redis); the
    other keeps its subscription, so only the publication's own group can tell it."""
    network = TcpProxy(int(redis_url.rsplit(":", 1)[1].split("/", 1)[0]))
    await network.start()
    try:
        database = redis_url.rsplit("/", 1)[1]
        publisher, listener = make_layers(f"redis://127.0.0.1:{network.port}/{database}", redis_url)
        prefix = listener.prefix
        mine = await publisher.new_channel()
        member, other = await listener.new_channel(), await listener.new_channel()
        await publisher.group_add("user.9", mine)
        await listener.group_add("user.1", member)
        await listener.group_add("user.2", other)
        readers += [Reader(publisher, mine), Reader(listener, member), Reader(listener, other)]
        await until_subscribed(redis_url, f"{prefix}:g:user.1", 1)
        await until_subscribed(redis_url, f"{prefix}:g:user.9", 1)

        network.refuse = True
        network.drop_connections()
        await quickly(publisher.group_send("user.1", {"type": "deliver", "n": 1}))
        await until(lambda: "channel layer publish failed" in caplog.text, 10)
        network.refuse = False

        # Nothing more is published: the reset must go out by itself once Redis answers.
        await readers[1].at_least(1, timeout=10)
        assert readers[1].events == [RESET]
        assert resets(await readers[0].at_least(1, timeout=10)) == 1  # its own subscription broke
        assert await readers[2].settled(quiet=0.4) == []  # its group published nothing
        assert await readers[1].settled(quiet=0.2) == [RESET]

        await until_subscribed(redis_url, f"{prefix}:g:user.9", 1)
        await publisher.group_send("user.1", {"type": "deliver", "n": 2})
        assert (await readers[1].at_least(2))[1:] == [{"type": "deliver", "n": 2}]
    finally:
        await network.close()
