"""A client pointed at a production process over plain http is told, in words, to use
https: the redirect becomes ``https_required`` in the Python client, and a process that
does not redirect but whose cookies go over https only answers ``csrf_failed`` saying so,
rather than a bare 403."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from confide_client import ClientError, ConfideClient
from harness.servers import LiveServer, Stack
from tests.personas import LivePersonas


async def test_a_redirect_to_https_is_said_as_such(
    stack: Stack, personas: LivePersonas, live_servers: Callable[..., list[LiveServer]]
) -> None:
    (server,) = live_servers(1, stack, {"CONFIDE_SSL_REDIRECT": "true"})
    async with ConfideClient(server.url) as client:
        with pytest.raises(ClientError) as refused:
            await personas.client.sign_in(client)
    assert refused.value.code == "https_required"
    assert refused.value.message == (
        f"This server works only over https: use https://127.0.0.1:{server.port} "
        f"instead of http://127.0.0.1:{server.port}."
    )


async def test_cookies_for_https_only_are_said_to_need_https(
    stack: Stack, personas: LivePersonas, live_servers: Callable[..., list[LiveServer]]
) -> None:
    (server,) = live_servers(1, stack, {"CONFIDE_SECURE_COOKIES": "true"})
    async with ConfideClient(server.url) as client:
        with pytest.raises(ClientError) as refused:
            await personas.client.sign_in(client)
    assert refused.value.code == "csrf_failed"
    assert "works only over https" in refused.value.message
