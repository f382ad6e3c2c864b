"""A therapist with more clients than one page of the listing (``LISTING_PAGE``, 50) sees
the inbox once the first page is in; the later pages follow and their conversations work
like any other: the oldest client's message opens under its key, a reply goes and is
acknowledged, and a reload on that conversation shows it, not "Conversation not found".

Here every later page's answer is held back for 2 s, so the inbox must show without it.
The test runs on a server of its own: its 60 more clients would push the demo client's
conversation down every other test's inbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from tests.browser.conftest import CLIENT_NAME, demo_accounts
from tests.browser.pages import (
    Watched,
    check_accessibility,
    expect,
    message_items,
    open_conversation,
    screenshot,
    send,
    sign_in,
)
from tests.browser.server import Server, make_server

MORE_CLIENTS = 60
NOTE = "A note from far down the list"

# Every GET of a later page of the listing (``after=``) answers 2 s late; each is counted.
SLOW_LATER_PAGES = """
(() => {
  const fetchNow = window.fetch.bind(window);
  window.laterPages = 0;
  window.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    const answer = fetchNow(input, init);
    if (url.pathname !== '/api/conversations' || !url.searchParams.has('after')) return answer;
    window.laterPages += 1;
    return answer.then((response) => new Promise((done) => setTimeout(() => done(response), 2000)));
  };
})();
"""


@pytest.fixture(scope="module")
def many_clients(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, list[dict[str, str]]]]:
    server = make_server(tmp_path_factory.mktemp("many-clients-server"))
    try:
        server.start()
        noted = json.loads(
            server.stack.manage(
                "-m",
                "tests.browser.many_clients",
                stdin=json.dumps(
                    {
                        "therapist": server.demo["therapist"].email,
                        "clients": MORE_CLIENTS,
                        # One for each run below: a reply moves its conversation to the top.
                        "noted": 2,
                        "note": NOTE,
                    }
                ),
            )
        )
        yield server, noted
    finally:
        server.stop()


@pytest.mark.parametrize(("width", "run"), [(1280, 0), (420, 1)])
def test_the_inbox_shows_with_the_first_page_and_the_rest_follows(
    many_clients: tuple[Server, list[dict[str, str]]],
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
    width: int,
    run: int,
) -> None:
    server, noted = many_clients
    # The oldest conversation not yet written to in this module: in the last page.
    oldest = noted[run]
    demo = demo_accounts(server)
    watched = new_page(width=width, height=900)
    t = watched.page
    t.context.add_init_script(SLOW_LATER_PAGES)
    listings: list[str] = []
    t.on(
        "request",
        lambda request: (
            listings.append(request.url) if "/api/conversations?" in request.url else None
        ),
    )

    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)

    rows = t.locator(".inbox-item")
    expect(rows.first).to_be_visible()
    # The first page is on screen while the later one is still held back.
    expect(rows).to_have_count(50)
    assert t.evaluate("window.laterPages") == 1, "the second page was asked for, and is held"
    expect(t.locator(".inbox-item", has_text=CLIENT_NAME)).to_have_count(1)
    expect(t.locator(".inbox-item", has_text=oldest["name"])).to_have_count(0)
    screenshot(t, f"inbox-first-page-{width}")
    # Then the rest: every client, each once.
    expect(rows).to_have_count(1 + MORE_CLIENTS, timeout=15_000)
    assert [u for u in listings if "after=" not in u] == [
        f"{server.url}/api/conversations?envelopes=current&limit=50"
    ], "listed once at the sign-in, its first page without a cursor"
    check_accessibility(t, f"inbox of {1 + MORE_CLIENTS} clients")

    # The oldest client's conversation came with the last page: its key opens its message.
    open_conversation(t, oldest["name"])
    expect(message_items(t, NOTE)).to_have_count(1)
    reply = f"Thanks for writing ({width})"
    sent_plaintexts.append(reply)
    send(t, reply)
    expect(message_items(t, reply)).to_have_count(1)
    expect(t.locator('.message.mine[data-state="sent"]')).to_have_count(1, timeout=15_000)
    screenshot(t, f"oldest-conversation-{width}")

    # A reload on it waits for the page that holds it.
    t.reload()
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    expect(t.get_by_role("heading", name=oldest["name"])).to_be_visible(timeout=15_000)
    expect(message_items(t, NOTE)).to_have_count(1)
    expect(message_items(t, reply)).to_have_count(1)
    expect(t.get_by_text("Conversation not found")).to_have_count(0)
