"""The channel layer's Redis replies are parsed by hiredis, the C parser that redis-py uses
when it is installed: 9 to 25% more messages a second at saturation here, measured
(docs/performance.md). A dependency change that lost it would cost that silently."""

from __future__ import annotations

import redis.utils


def test_redis_py_parses_replies_with_hiredis() -> None:
    assert redis.utils.HIREDIS_AVAILABLE, "hiredis is not installed: see pyproject.toml"
