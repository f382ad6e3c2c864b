"""/metrics counts what a process does (messages stored and refused, ack times, sockets,
batches, sign-in failures, jobs) for Prometheus, answers only the addresses the operator
allows, and holds no content, no email and no user or conversation id."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from websockets.asyncio.client import connect

from confide_client import ConfideClient, UnauthenticatedError
from harness.servers import LiveServer, Stack
from tests.integration.helpers import messages_from
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")


def scrape(server: LiveServer) -> dict[str, float]:
    """Every sample of /metrics, by name and labels."""
    answer = httpx.get(f"{server.url}/metrics", timeout=5, trust_env=False)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    samples: dict[str, float] = {}
    for line in answer.text.splitlines():
        if line.startswith("#") or not line:
            continue
        found = SAMPLE.match(line)
        assert found, line
        samples[found.group(1) + (found.group(2) or "")] = float(found.group(3))
    return samples


def label_values(server: LiveServer) -> set[str]:
    """The values of every label of the portal's own metrics (but a histogram's buckets)."""
    text = httpx.get(f"{server.url}/metrics", timeout=5, trust_env=False).text
    return {
        value
        for line in text.splitlines()
        if line.startswith("confide_")
        for name, value in re.findall(r'(\w+)="([^"]*)"', line)
        if name != "le"
    }


async def test_a_conversation_and_a_wrong_password_are_counted_without_naming_anyone(
    stack: Stack,
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]],
) -> None:
    client_persona, conversation = await new_pair()
    before = scrape(server)
    therapist = await open_client(server.url, personas.therapist)
    client = await open_client(server.url, client_persona)
    await therapist.connect()
    await client.connect()
    during = scrape(server)
    assert during["confide_sockets_open"] == before["confide_sockets_open"] + 2

    canary = f"metrics canary {uuid.uuid4()}"
    for n in range(3):
        await client.send_text(conversation, f"{canary} {n}")
    await messages_from(therapist, client_persona.user_id, 3)
    with pytest.raises(UnauthenticatedError):
        await (await open_client(server.url)).sign_in(client_persona.email, "not the password")
    after = scrape(server)

    assert after["confide_messages_stored_total"] == before["confide_messages_stored_total"] + 3
    assert after["confide_ack_seconds_count"] == before["confide_ack_seconds_count"] + 3
    assert after["confide_ack_seconds_sum"] > before["confide_ack_seconds_sum"]
    assert after["confide_write_batch_size_sum"] >= before["confide_write_batch_size_sum"] + 3
    failures = 'confide_signin_failures_total{reason="password"}'
    assert after[failures] == before[failures] + 1
    assert 'confide_jobs{status="ready"}' in after
    assert "confide_jobs_oldest_due_seconds" in after
    assert 'confide_layer_resets_total{reason="queue_full"}' in after

    text = httpx.get(f"{server.url}/metrics", timeout=5, trust_env=False).text
    assert "canary" not in text
    people = [personas.therapist, client_persona]
    named = {str(conversation), conversation.hex, *(p.email for p in people)}
    named |= {str(p.user_id) for p in people}
    labels = label_values(server)
    assert {"password", "ready", "not_found"} <= labels  # what a label may be
    assert not named & labels, named & labels


async def test_a_refused_message_is_counted_by_its_code(
    server: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    client = await open_client(server.url, personas.client)
    cookie = client._http.cookie("sessionid")
    url = server.url.replace("http://", "ws://") + "/ws"
    headers = {"Origin": server.url, "Cookie": f"sessionid={cookie}"}
    before = scrape(server)
    async with connect(url, additional_headers=headers) as ws:
        assert '"ready"' in str(await ws.recv())
        frame = {
            "type": "send",
            "ref": "r1",
            "conversation": str(uuid.uuid4()),  # nobody's
            "client_message_id": str(uuid.uuid4()),
            "epoch": 0,
            "ciphertext": base64.urlsafe_b64encode(b"\x02" + bytes(99)).decode().rstrip("="),
        }
        await ws.send(json.dumps(frame))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert answer["type"] == "error", answer
    code = answer["code"]
    key = f'confide_messages_refused_total{{code="{code}"}}'
    assert scrape(server)[key] == before[key] + 1, answer
    assert (
        scrape(server)["confide_messages_stored_total"] == before["confide_messages_stored_total"]
    )


def test_metrics_are_a_404_to_addresses_not_allowed(
    stack: Stack, live_servers: Callable[..., list[LiveServer]]
) -> None:
    (closed,) = live_servers(1, stack, {"CONFIDE_METRICS_ALLOW_IPS": "192.0.2.0/24"})
    answer = httpx.get(f"{closed.url}/metrics", timeout=5, trust_env=False)
    assert answer.status_code == 404
    assert "confide_" not in answer.text
    (nobody,) = live_servers(1, stack, {"CONFIDE_METRICS_ALLOW_IPS": ""})
    assert httpx.get(f"{nobody.url}/metrics", timeout=5, trust_env=False).status_code == 404
