"""``confide-chat --accept`` sends the password to the server an invitation link names, so
it refuses a link whose readable part could differ from where it leads: a user name before
the host, or plain http to another machine."""

from __future__ import annotations

import pytest

from confide_client.cli.onboarding import server_and_token


@pytest.mark.parametrize(
    ("link", "server"),
    [
        ("https://portal.example.org/invite#tok3n", "https://portal.example.org"),
        ("https://portal.example.org:8443/invite#tok3n", "https://portal.example.org:8443"),
        ("  http://127.0.0.1:8000/invite#tok3n\n", "http://127.0.0.1:8000"),
        ("http://localhost:8000/invite#tok3n", "http://localhost:8000"),
        ("http://[::1]:8000/invite#tok3n", "http://[::1]:8000"),
    ],
)
def test_a_link_gives_its_server_and_token(link: str, server: str) -> None:
    assert server_and_token(link) == (server, "tok3n")


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("https://portal.example.org@evil.example/invite#tok3n", "names a user before its host"),
        ("https://portal.example.org:443@evil.example/invite#t", "names a user before its host"),
        ("https://a:b@portal.example.org/invite#tok3n", "names a user before its host"),
        ("http://portal.example.org/invite#tok3n", "starts with https://"),
        ("http://10.0.0.5/invite#tok3n", "starts with https://"),
        ("https://portal.example.org/invite", "looks like https://"),
        ("ftp://portal.example.org/invite#tok3n", "looks like https://"),
        ("portal.example.org/invite#tok3n", "looks like https://"),
    ],
)
def test_a_misleading_or_broken_link_is_refused_before_anything_is_sent(
    link: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        server_and_token(link)
