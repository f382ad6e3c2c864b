"""An invitation link carries its therapist's fingerprint (crypto/SPEC.md, "Invitation
links"). A server that answers the invitation's lookup with another key in the therapist's
place (here, the answer rewritten on its way to the page) gets no account and no envelope:
the page says not to use the link and sends nothing. A link without the fingerprint is
refused before any request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from playwright.sync_api import Route

from confide_client import ConfideClient
from crypto import IdentityKeyPair, b64encode
from tests.browser.conftest import Demo
from tests.browser.pages import Watched, check_accessibility, expect, screenshot
from tests.browser.peers import as_user
from tests.browser.server import Server


def test_another_therapists_key_in_the_lookup_makes_nothing(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    name = f"Jordan {uuid.uuid4().hex[:6]}"

    async def invite(therapist: ConfideClient) -> tuple[int, str]:
        invitation = await therapist.create_invitation(name)
        return invitation.id, invitation.fragment

    invitation_id, fragment = as_user(
        server.url, demo.therapist.email, demo.therapist.password, invite
    )
    impostor = b64encode(IdentityKeyPair.generate().public.to_bytes())

    def substitute(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        body["therapist"]["public_identity"] = impostor
        route.fulfill(response=answer, body=json.dumps(body))

    watched = new_page(390, 844)
    page = watched.page
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.route("**/api/invitations/lookup", substitute)
    page.goto(f"{server.url}/invite#{fragment}")
    expect(page.get_by_role("heading", name="Do not use this invitation")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("is not the one in your invitation link")
    expect(page.get_by_label("Choose a password")).to_have_count(0)
    screenshot(page, "invitation-with-another-therapists-key")
    check_accessibility(page, "an invitation refused for another key")
    assert [url for url in posted if "/api/invitations/" in url] == [
        f"{server.url}/api/invitations/lookup"
    ]

    # Nothing was made: the invitation is still pending, and its link works unaltered.
    async def state(therapist: ConfideClient) -> str:
        [listed] = [i for i in await therapist.invitations() if i.id == invitation_id]
        return listed.state

    assert as_user(server.url, demo.therapist.email, demo.therapist.password, state) == "pending"
    page.unroute("**/api/invitations/lookup")
    page.goto(f"{server.url}/")
    page.goto(f"{server.url}/invite#{fragment}")
    expect(page.get_by_role("heading", name="Dr. Dana Demo invited you")).to_be_visible()


def test_a_link_without_the_fingerprint_is_refused_before_any_request(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    async def invite(therapist: ConfideClient) -> str:
        return (await therapist.create_invitation("Kai")).token

    token = as_user(server.url, demo.therapist.email, demo.therapist.password, invite)
    watched = new_page(1280, 800)
    page = watched.page
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.goto(f"{server.url}/invite#{token}")
    expect(page.get_by_role("heading", name="This invitation cannot be used")).to_be_visible()
    expect(page.get_by_text("copied incompletely")).to_be_visible()
    assert not [url for url in posted if "/api/invitations/" in url]
