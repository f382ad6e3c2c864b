"""What an operator's tools ask of a server process: is it alive, is it ready, how is it doing.

Answered in front of Django (``OperatorEndpoints``, portal/asgi.py), so that a probe by
address (``curl http://127.0.0.1:8001/healthz``, a Prometheus scraping each process) needs no
name of ``ALLOWED_HOSTS``, is never redirected to https, and costs no middleware:

* ``GET /healthz``: liveness. Answers without touching anything: the process runs.
* ``GET /readyz``: readiness. 200 when the database answers and, with ``REDIS_URL``, Redis
  does; 503 naming which does not. A load balancer sends traffic by it. Like /metrics it
  asks the services, so it answers only the addresses below (404 to anyone else).
* ``GET /metrics``: Prometheus's text format (prometheus_client), answered only to the
  addresses of ``CONFIDE_METRICS_ALLOW_IPS`` (127.0.0.1 and ::1 by default; empty: to
  nobody), as the server sees the client (behind the proxy, the forwarded address), and
  404 to everyone else. Each process counts its own; Prometheus scrapes each process. No
  label holds content, a user, an address or a conversation (messaging/metrics.py,
  accounts/metrics.py); the job counts below are the database's, the same from every process.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from functools import cache
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from messaging import redis_clients
from portal.asgi_types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

JOB_STATUSES = ("READY", "RUNNING", "FAILED")
PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class OperatorEndpoints:
    """ASGI: ``GET`` (or ``HEAD``) of /healthz, /readyz and /metrics, answered here;
    everything else goes on to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in PATHS:
            await self.app(scope, receive, send)
            return
        if scope.get("method") not in ("GET", "HEAD"):
            await _answer(send, 405, b'{"ok": false}', "application/json")
            return
        if scope["method"] == "HEAD":
            send = _without_body(send)
        path = scope["path"]
        if path == "/healthz":
            await _answer(send, 200, b'{"ok": true}', "application/json")
        elif not from_operator((scope.get("client") or ("", 0))[0]):
            # Each asks the database (and Redis): for the operator's tools only.
            await _answer(send, 404, b'{"ok": false}', "application/json")
        elif path == "/readyz":
            status, body = await readiness()
            await _answer(send, status, json.dumps(body).encode(), "application/json")
        else:
            text = await database_sync_to_async(generate_latest)(REGISTRY)
            await _answer(send, 200, text, CONTENT_TYPE_LATEST)


async def _answer(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head


async def readiness() -> tuple[int, dict[str, Any]]:
    """Readiness: the database and Redis answer (each checked, each named)."""
    checks = {"database": await database_sync_to_async(_database_answers)()}
    if settings.REDIS_URL:
        checks["redis"] = await _redis_answers()
    ready = all(checks.values())
    body = {"ok": ready, **{name: "ok" if good else "unavailable" for name, good in checks.items()}}
    return (200 if ready else 503), body


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    except Exception as exc:  # noqa: BLE001 - any failure is "not ready"
        log.warning("readiness: the database does not answer (%s)", type(exc).__name__)
        connection.close()
        return False


async def _redis_answers() -> bool:
    import redis.asyncio as redis

    client = redis_clients.async_client(
        settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
    )
    try:
        return bool(await client.ping())
    except redis.RedisError as exc:
        log.warning("readiness: Redis does not answer (%s)", type(exc).__name__)
        return False
    finally:
        await redis_clients.close_async(client)


@cache
def _allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(item, strict=False) for item in settings.CONFIDE_METRICS_ALLOW_IPS
    )


def from_operator(client: str) -> bool:
    """Whether ``client`` (the address the server believes) is one the operator allows."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in _allowed_networks())


class JobQueue(Collector):
    """The job queue as the database holds it, read at each scrape (on a database thread):
    jobs by state, and how long the oldest job due has waited for a worker."""

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        jobs = GaugeMetricFamily(
            "confide_jobs", "Jobs in the database by state (all processes).", labels=["status"]
        )
        waited = GaugeMetricFamily(
            "confide_jobs_oldest_due_seconds",
            "How long the oldest job that is due has waited for a worker (0: none waits).",
        )
        return jobs, waited

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The names, without reading the database (the registry asks at registration)."""
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django_tasks_db.models import DBTaskResult

        jobs, waited = self._families()
        try:
            counts = dict(
                DBTaskResult.objects.filter(status__in=JOB_STATUSES)
                .values_list("status")
                .annotate(n=Count("id"))
                .values_list("status", "n")
            )
            now = timezone.now()
            due = DBTaskResult.objects.ready()
            # A job without a delay is due from when it was queued (its run_after is the
            # largest date), one with a delay from its run_after.
            times = [
                due.filter(run_after__lte=now).aggregate(t=Min("run_after"))["t"],
                due.exclude(run_after__lte=now).aggregate(t=Min("enqueued_at"))["t"],
            ]
            oldest = min((t for t in times if t is not None), default=None)
        except Exception as exc:  # noqa: BLE001 - a scrape without the database
            log.warning("metrics: the job queue cannot be read (%s)", type(exc).__name__)
            return
        for status in JOB_STATUSES:
            jobs.add_metric([status.lower()], counts.get(status, 0))
        waited.add_metric([], (now - oldest if oldest else timedelta(0)).total_seconds())
        yield jobs
        yield waited


REGISTRY.register(JobQueue())
