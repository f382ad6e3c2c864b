"""The socket leases that one process claims or gives back while a pipeline to Redis is in
flight go in the next one (messaging/limits.py): a reconnect storm claims one for every
socket, and gives one back as each ends. Each claim is still decided alone by the
script, so the per-user limit holds exactly however the claims are batched."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import pytest
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError

from messaging.limits import _Lease, _RedisLeases


@pytest.fixture
async def leases(redis_url: str) -> AsyncIterator[_RedisLeases]:
    made = _RedisLeases(redis_url, f"confide-test-{uuid.uuid4().hex}")
    yield made
    keys = [key async for key in made.client.scan_iter(f"{made.prefix}:*")]
    if keys:
        await made.client.delete(*keys)
    await made.client.aclose()


def counted(leases: _RedisLeases) -> list[list[_Lease]]:
    """Every pipeline the leases send, from now on."""
    pipelines: list[list[_Lease]] = []
    send = leases._send

    async def recorded(batch: Sequence[_Lease]) -> list[bool | BaseException]:
        pipelines.append(list(batch))
        return await send(batch)

    leases.pipelines.run = recorded
    return pipelines


async def test_claims_made_together_share_pipelines_and_the_limit_holds_exactly(
    leases: _RedisLeases,
) -> None:
    pipelines = counted(leases)
    # Forty users, five sockets each, a limit of three: three of each user's five.
    claims = [(user, f"c{user}-{n}") for n in range(5) for user in range(40)]
    granted = await asyncio.gather(*(leases.claim(u, c, 3, 1_000.0) for u, c in claims))

    assert sum(len(p) for p in pipelines) == 200
    assert len(pipelines) <= 2, [len(p) for p in pipelines]  # the first alone, at most
    by_user = {
        user: sum(g for (u, _), g in zip(claims, granted, strict=True) if u == user)
        for user in range(40)
    }
    assert set(by_user.values()) == {3}
    # The first three of each user's claims, in the order they were made.
    assert granted == [n < 3 for n in range(5) for _ in range(40)]
    for user in range(3):
        held = await leases.client.zrange(leases.key(user), 0, -1)
        assert sorted(held) == [f"c{user}-{n}".encode() for n in range(3)]


async def test_a_release_in_the_same_pipeline_frees_the_place_for_a_claim_after_it(
    leases: _RedisLeases,
) -> None:
    assert await leases.claim(7, "old", 1, 1_000.0)
    pipelines = counted(leases)
    # Made at once, in this order: the release goes first in the pipeline, so the claim
    # after it finds the place free; the claim after that finds it taken again.
    released, claimed, refused = await asyncio.gather(
        leases.release(7, "old"),
        leases.claim(7, "new", 1, 1_000.0),
        leases.claim(7, "newer", 1, 1_000.0),
    )
    assert released is None
    assert (claimed, refused) == (True, False)
    assert [len(p) for p in pipelines] == [3]
    assert await leases.client.zrange(leases.key(7), 0, -1) == [b"new"]


async def test_a_claim_of_an_expired_lease_holder_is_granted(leases: _RedisLeases) -> None:
    """The script still drops expired leases before counting, claim by claim."""
    assert await leases.claim(9, "crashed", 1, 1_000.0)
    later = 1_000.0 + 91  # past SOCKET_LEASE_SECONDS
    assert await leases.claim(9, "fresh", 1, later)
    assert await leases.client.zrange(leases.key(9), 0, -1) == [b"fresh"]


async def test_redis_failing_a_pipeline_fails_each_of_its_claims_and_the_next_are_sent(
    leases: _RedisLeases,
) -> None:
    send = leases._send
    down = [True]

    async def failing(batch: Sequence[_Lease]) -> list[bool | BaseException]:
        if down[0]:
            raise RedisConnectionError("Connection refused")
        return await send(batch)

    leases.pipelines.run = failing
    failed = await asyncio.gather(
        *(leases.claim(u, f"c{u}", 3, 1_000.0) for u in range(5)), return_exceptions=True
    )
    assert all(isinstance(f, RedisConnectionError) for f in failed), failed
    down[0] = False
    assert (
        await asyncio.gather(*(leases.claim(u, f"c{u}", 3, 1_000.0) for u in range(5)))
        == [True] * 5
    )


async def test_a_claim_sent_again_keeps_its_place_and_takes_no_other(
    leases: _RedisLeases,
) -> None:
    """redis-py sends a pipeline again when its answer is lost: the socket's claim, run
    twice, is granted twice and holds one place (it was refused its own place, which then
    stayed taken for the lease's 90 s)."""
    assert await leases.claim(5, "mine", 1, 1_000.0)
    assert await leases.claim(5, "mine", 1, 1_010.0)
    assert await leases.client.zrange(leases.key(5), 0, -1, withscores=True) == [
        (b"mine", 1_010.0 + 90)
    ]
    assert not await leases.claim(5, "other", 1, 1_010.0)


async def test_claims_that_find_no_script_are_sent_again_once_it_is_loaded(
    leases: _RedisLeases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Redis restarted (or a new Sentinel primary) between the pipeline's check for the
    script and its commands answers each claim NOSCRIPT: they are sent again, not failed."""

    async def no_check(self: Pipeline) -> None:
        return None

    monkeypatch.setattr(Pipeline, "load_scripts", no_check)
    leases.claim_script.sha = "0" * 40  # a script this Redis does not hold
    pipelines = counted(leases)
    granted = await asyncio.gather(
        leases.claim(1, "a", 1, 1_000.0), leases.release(2, "x"), leases.claim(3, "b", 1, 1_000.0)
    )
    assert list(granted) == [True, None, True]
    assert [len(p) for p in pipelines] == [3]  # one batch; its two claims sent again inside
    assert await leases.client.zrange(leases.key(3), 0, -1) == [b"b"]
