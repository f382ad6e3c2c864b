"""The server's Redis clients, made from ``REDIS_URL``: one Redis, or the primary of a
Redis Sentinel set, which follows the primary through a failover.

``REDIS_URL`` takes any URL redis-py reads (``redis://``, ``rediss://``, ``unix://``), or

    redis+sentinel://[[username]:password@]host[:port][,host[:port]...]/service[/db][?sentinel_password=...]

naming the sentinels (port 26379 unless given), the service they monitor (the name in
their ``sentinel monitor`` line) and the database number (0 unless given). The password
is the Redis servers'; ``sentinel_password`` is the sentinels' own, when they ask for one.
Every client asks a sentinel for the primary's address before it connects, and again
after a connection to it is lost, so a failover costs the server what a restart of Redis
does (messaging/layer.py, "redis_lost"): nothing is lost that the clients do not fetch
again (docs/operations.md, "Redis Sentinel").

redis-py's own Sentinel support does the work; this module only reads the URL, for the
channel layer, the socket leases, the readiness check and Django's cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_PORT = 26379


class RedisUrlError(ValueError):
    """``REDIS_URL`` names a Sentinel set in a way this module cannot read."""


@dataclass(frozen=True)
class SentinelSet:
    """What a ``redis+sentinel://`` URL names. The passwords never appear in ``repr``."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)

    def redis_options(self) -> dict[str, Any]:
        """Options of the connections to the primary."""
        options: dict[str, Any] = {"db": self.db}
        if self.username is not None:
            options["username"] = self.username
        if self.password is not None:
            options["password"] = self.password
        return options

    def sentinel_options(self, socket_timeout: float | None) -> dict[str, Any]:
        """Options of the connections to the sentinels themselves."""
        options: dict[str, Any] = {"socket_timeout": socket_timeout or 5}
        if self.sentinel_password is not None:
            options["password"] = self.sentinel_password
        return options


def sentinel_set(url: str) -> SentinelSet | None:
    """The Sentinel set ``url`` names, or ``None`` for a URL of one Redis. Raises
    :class:`RedisUrlError` for a malformed ``redis+sentinel://`` URL; its message never
    repeats the URL's text, which may hold a password."""
    if not url.startswith(f"{SENTINEL_SCHEME}:"):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        raise RedisUrlError(_UNREADABLE) from None
    if "@" in parts.path or "@" in parts.query or "@" in parts.fragment:
        raise RedisUrlError(_UNREADABLE)  # a password with an unencoded / ? or #
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    sentinels = tuple(_host_and_port(item) for item in hostlist.split(",") if item)
    if not sentinels:
        raise RedisUrlError("A redis+sentinel:// URL names at least one sentinel (host:port).")
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not path or len(path) > 2:
        raise RedisUrlError(
            "A redis+sentinel:// URL ends with /service or /service/db, the service being "
            "the name the sentinels monitor."
        )
    db = 0
    if len(path) == 2:
        if not _is_number(path[1]):
            raise RedisUrlError("The database of a redis+sentinel:// URL is a number.")
        db = int(path[1])
    # Read by hand, not with parse_qs: that takes "+" for a space, as in a form.
    query: dict[str, str] = {}
    for pair in filter(None, parts.query.split("&")):
        name, _, value = pair.partition("=")
        query[unquote(name)] = unquote(value)
    unknown = set(query) - {"sentinel_password"}
    if unknown:
        named = ", ".join(sorted(unknown))
        raise RedisUrlError(f"A redis+sentinel:// URL takes only sentinel_password, not {named}.")
    sentinel_password = query.get("sentinel_password")
    return SentinelSet(sentinels, path[0], db, username, password, sentinel_password)


# Said of a URL that does not read as one: its text is never repeated, since what is cut
# short there may be a password.
_UNREADABLE = (
    "A redis+sentinel:// URL must read as [[username]:password@]host[:port][,host[:port]...]"
    "/service[/db]; percent-encode any / ? # @ : or % in the username and password."
)


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _host_and_port(item: str) -> tuple[str, int]:
    if item.startswith("["):  # [IPv6]:port
        host, _, rest = item[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = item.partition(":")
    host = unquote(host)
    if not host:
        raise RedisUrlError("A sentinel of a redis+sentinel:// URL has no host. " + _UNREADABLE)
    if port_text and not _is_number(port_text):
        raise RedisUrlError("A sentinel's port is a number. " + _UNREADABLE)
    port = int(port_text) if port_text else SENTINEL_PORT
    if not 0 < port < 65536:
        raise RedisUrlError("A sentinel's port is between 1 and 65535.")
    return host, port


def async_client(
    url: str,
    *,
    socket_timeout: float | None = None,
    socket_connect_timeout: float | None = None,
    max_connections: int | None = None,
) -> Any:
    """A ``redis.asyncio.Redis`` for ``url``. With ``max_connections``, a connection beyond
    that many waits (up to 10 s) for one to come back, for one Redis. A Sentinel set's pool
    is redis-py's, which does not wait: a command beyond its 100 connections at once fails
    ("Too many connections"; redis-py has no waiting pool for Sentinel)."""
    import redis.asyncio as redis
    from redis.asyncio.sentinel import Sentinel

    timeouts: dict[str, Any] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_connect_timeout,
    }
    target = sentinel_set(url)
    if target is None:
        if max_connections is None:
            return redis.Redis.from_url(url, **timeouts)
        return redis.Redis(
            connection_pool=redis.BlockingConnectionPool.from_url(
                url, max_connections=max_connections, timeout=10, **timeouts
            )
        )
    return _primary(Sentinel, target, **timeouts)


def sync_client(url: str, *, socket_timeout: float | None = None) -> Any:
    """A ``redis.Redis`` for ``url`` (for code off the event loop)."""
    import redis
    from redis.sentinel import Sentinel

    target = sentinel_set(url)
    if target is None:
        return redis.Redis.from_url(url, socket_timeout=socket_timeout)
    return _primary(Sentinel, target, socket_timeout=socket_timeout)


def _primary(sentinel_class: Any, target: SentinelSet, **options: Any) -> Any:
    """A client of the set's primary, asking the sentinels where it is (redis-py's
    ``Sentinel``, of its asyncio flavour or not)."""
    sentinel = sentinel_class(
        target.sentinels, sentinel_kwargs=target.sentinel_options(options.get("socket_timeout"))
    )
    return sentinel.master_for(target.service, **options, **target.redis_options())


async def close_async(client: Any) -> None:
    """Closes a client of :func:`async_client`, and with a Sentinel set its connections to
    the sentinels too."""
    await client.aclose()
    for sentinel in _sentinels_of(client):
        await sentinel.aclose()


def close_sync(client: Any) -> None:
    """Closes a client of :func:`sync_client`, and with a Sentinel set its connections to
    the sentinels too."""
    client.close()
    for sentinel in _sentinels_of(client):
        sentinel.close()


def _sentinels_of(client: Any) -> list[Any]:
    manager = getattr(client.connection_pool, "sentinel_manager", None)
    return list(manager.sentinels) if manager is not None else []


class CachePool:
    """The ``pool_class`` of Django's Redis cache for a Sentinel set. Django splits its
    ``LOCATION`` at commas into several servers, so the URL comes as the option
    ``sentinel_url`` (portal/settings.py) and ``LOCATION`` only names the service."""

    @classmethod
    def from_url(cls, location: str, *, sentinel_url: str, **options: Any) -> Any:
        from redis.sentinel import Sentinel, SentinelConnectionPool

        target = sentinel_set(sentinel_url)
        if target is None:
            raise RedisUrlError("CachePool is for a redis+sentinel:// URL.")
        sentinel = Sentinel(
            target.sentinels, sentinel_kwargs=target.sentinel_options(options.get("socket_timeout"))
        )
        return SentinelConnectionPool(  # type: ignore[no-untyped-call]
            target.service, sentinel, **target.redis_options(), **options
        )
