"""A reconnect storm claims socket leases faster than Redis answers: more claims at once
than the process keeps connections to Redis. Each gets its answer instead of failing the
handshake (redis-py's default pool raised "Too many connections" beyond its size, the
socket was dropped, and its client came back later: a restart with 10,000 sockets took 53
to 61 s to bring them all back instead of 44 to 45). The claims now share a pipeline
(tests/messaging/test_leases_claimed_together_go_in_one_pipeline.py), and still fit a
pool of two."""

from __future__ import annotations

import asyncio
import uuid

from messaging.limits import _RedisLeases


async def test_more_claims_at_once_than_connections_all_get_an_answer(redis_url: str) -> None:
    leases = _RedisLeases(redis_url, f"confide-test-{uuid.uuid4().hex}", max_connections=2)
    try:
        claims = [leases.claim(user_id, f"channel-{user_id}", 10, 1_000.0) for user_id in range(60)]
        answers = await asyncio.wait_for(asyncio.gather(*claims), timeout=20)
        assert answers == [True] * 60
        # and the pool never grew past its size
        assert len(leases.client.connection_pool._in_use_connections) == 0
        assert len(leases.client.connection_pool._available_connections) <= 2
    finally:
        for user_id in range(60):
            await leases.release(user_id, f"channel-{user_id}")
        await leases.client.aclose()
