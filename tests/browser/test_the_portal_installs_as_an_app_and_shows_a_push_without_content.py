"""The installable app in Chromium: the page links a valid web app manifest with PNG icons
a phone can use; the service worker registers, controls the portal from ``/`` and caches
nothing; and a push delivered through the DevTools protocol makes it show a notification
that says only that a secure message waits, whatever the payload said."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from tests.browser.pages import Watched
from tests.browser.server import Server

WORKER_READY = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const worker = navigator.serviceWorker;
  if (!worker.controller) {
    await new Promise((resolve) => worker.addEventListener('controllerchange', resolve));
  }
  return {
    scope: registration.scope,
    script: navigator.serviceWorker.controller.scriptURL,
    caches: (await caches.keys()).length,
  };
}"""

NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const shown = await registration.getNotifications();
  return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
}"""


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_page_links_a_manifest_a_phone_can_install_from(
    server: Server, new_page: Callable[..., Watched]
) -> None:
    watched = new_page()
    page = watched.page
    page.goto(server.url)
    href = page.locator('link[rel="manifest"]').get_attribute("href")
    assert href == "/manifest.webmanifest"

    reply = page.request.get(server.url + href)

    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/manifest+json")
    manifest: dict[str, Any] = reply.json()
    assert manifest["name"] == manifest["short_name"] == "Confide"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    pngs = {icon["sizes"]: icon["src"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert set(pngs) >= {"192x192", "512x512"}
    for sizes, src in pngs.items():
        icon = page.request.get(server.url + src)
        assert icon.status == 200
        width, height = png_size(icon.body())
        assert f"{width}x{height}" == sizes
    watched.assert_clean()


def test_the_service_worker_controls_the_portal_and_caches_nothing(
    server: Server, new_page: Callable[..., Watched]
) -> None:
    watched = new_page()
    page = watched.page
    page.goto(server.url)

    state = page.evaluate(WORKER_READY)

    assert state["scope"] == server.url + "/"
    assert state["script"] == server.url + "/service-worker.js"
    assert state["caches"] == 0
    script = page.request.get(server.url + "/service-worker.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "no-cache" in script.headers["cache-control"]
    assert "script-src 'self'" in script.headers["content-security-policy"]
    watched.assert_clean()


def test_a_push_shows_only_that_a_secure_message_waits(
    server: Server, new_page: Callable[..., Watched]
) -> None:
    watched = new_page()
    page = watched.page
    page.context.grant_permissions(["notifications"], origin=server.url)
    page.goto(server.url)
    page.evaluate(WORKER_READY)
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    ours: list[dict[str, Any]] = []
    for _ in range(50):  # the registrations are reported as events after enable
        ours = [r for r in registrations if r["scopeURL"] == server.url + "/"]
        if ours:
            break
        page.wait_for_timeout(100)
    registration = ours[-1]
    assert not registration["isDeleted"]

    # What a push service holding a name and a sentence would send; none of it may show.
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": server.url,
            "registrationId": registration["registrationId"],
            "data": '{"from": "Casey Client", "text": "I feel anxious tonight"}',
        },
    )

    shown: list[dict[str, str]] = []
    for _ in range(50):
        shown = page.evaluate(NOTIFICATIONS)
        if shown:
            break
        page.wait_for_timeout(100)
    assert shown == [
        {
            "title": "Confide",
            "body": "A secure message is waiting",
            "tag": "confide-message-waiting",
        }
    ]
    watched.assert_clean()
