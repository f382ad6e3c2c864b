"""Sign-in in Chromium, from the click to the conversation on screen, with keys wrapped
with X25519 alone and with X-Wing (crypto/SPEC.md, "Version 3: wrapped with X-Wing").

Run from the repository root (Debian's Chromium and the test extra installed)::

    .venv/bin/python bench/browser_signin.py [--conversations 150] [--epochs 1 20] [--runs 5]

For each number of epochs, two embedded stacks are seeded with one client in
``--conversations`` conversations (each with a therapist of its own), every conversation
with that many epochs, each epoch's key wrapped to both members:

- ``X25519``: the client's identity is of version 1 and its envelopes of version 2, as
  every account was before X-Wing. Its first sign-in publishes the X-Wing key of the same
  keys (``POST /api/me/identity``); the later ones read the same envelopes as before.
- ``X-Wing``: version-2 identities and version-3 envelopes, as every account made now.

Each run is a fresh browser context (nothing cached but the HTTP cache of the static
files, which the first run fills), signing in with the password (Argon2id at the default
parameters, as a person would) and timed until the conversation list or the conversation
is on screen, that is, after every envelope of the listing was opened. The listing's size
is read from the response (the web client lists each conversation's current envelope
only, ``?envelopes=current``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def seed(request: dict[str, Any]) -> dict[str, Any]:
    """In the stack's own process (``-m bench.browser_signin seed``): the client, their
    therapists and conversations, every envelope wrapped with real keys."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    import uuid
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    import crypto
    from accounts.agreement import accept_agreement, current_agreement
    from accounts.models import Practice, Role, User
    from messaging.models import Conversation, KeyEnvelope, Membership, Message

    xwing = request["xwing"]
    messages = request.get("messages", 0)
    since: int | None = int(time.time() * 1000) - 86_400_000 if xwing else None
    conversations, epochs = request["conversations"], request["epochs"]
    keys = crypto.derive_password_keys(
        request["password"], salt := crypto.new_salt(), crypto.DEFAULT_KDF_PARAMS
    )
    client_identity = crypto.IdentityKeyPair.generate(since=since)

    def user(email: str, role: str, identity: crypto.IdentityKeyPair, **more: Any) -> User:
        return User.objects.create_user(
            email,
            display_name=email.split("@")[0].replace("-", " ").title(),
            role=role,
            practice=practice,
            public_identity=identity.public.to_bytes(),
            **more,
        )

    with transaction.atomic():
        practice = Practice.objects.create(name=f"Bench practice {secrets.token_hex(3)}")
        agreement = current_agreement(practice.pk)
        assert agreement is not None
        client = user(
            "bench-client@bench.invalid",
            Role.CLIENT,
            client_identity,
            auth_secret=keys.auth_secret_b64(),
            kdf_salt=salt,
            kdf_opslimit=crypto.DEFAULT_KDF_PARAMS.opslimit,
            kdf_memlimit=crypto.DEFAULT_KDF_PARAMS.memlimit,
            key_bundle=crypto.wrap_identity(client_identity, keys.kek, crypto.BundleKind.PASSWORD),
            recovery_bundle=b"",
        )
        accept_agreement(client, agreement.version)
        envelopes = []
        for index in range(conversations):
            identity = crypto.IdentityKeyPair.generate(since=since)
            therapist = user(
                f"bench-therapist-{index}@bench.invalid",
                Role.THERAPIST,
                identity,
                kdf_salt=b"",
                kdf_opslimit=2,
                kdf_memlimit=32 * 1024 * 1024,
                key_bundle=b"",
                recovery_bundle=b"",
            )
            conversation = Conversation.objects.create(practice=practice, current_epoch=epochs - 1)
            members = ((client, client_identity.public), (therapist, identity.public))
            for member, _ in members:
                Membership.objects.create(conversation=conversation, user=member)
            started = int(time.time() * 1000) - epochs * 60_000
            rows = []
            for epoch in range(epochs):
                key = crypto.ConversationKey.generate()
                # ``messages`` of history spread over the epochs, from the therapist: sealed
                # for real in the first conversation (the one the run opens), the others
                # random bytes of the same length (listed, never opened).
                for seq in _epoch_seqs(messages, epochs, epoch):
                    client_message_id = uuid.uuid4()
                    sealed = (
                        crypto.seal_text(
                            f"Message {seq} of a long history, a sentence or two long.",
                            key,
                            conversation.id,
                            epoch,
                            identity,
                            client_message_id,
                        )
                        if index == 0
                        else secrets.token_bytes(317)
                    )
                    rows.append(
                        Message(
                            conversation=conversation,
                            seq=seq,
                            client_message_id=client_message_id,
                            epoch=epoch,
                            sender=therapist,
                            ciphertext=sealed,
                        )
                    )
                created_at = started + epoch * 60_000 if xwing else started - 86_400_000
                for member, public in members:
                    envelopes.append(
                        KeyEnvelope(
                            conversation=conversation,
                            epoch=epoch,
                            recipient=member,
                            wrapper=therapist,
                            envelope=crypto.wrap_conversation_key(
                                key, conversation.id, epoch, public, identity, created_at
                            ),
                        )
                    )
            Message.objects.bulk_create(rows, batch_size=2000)
            if messages:
                # The history's conversation the newest, first in the list.
                # (A version from before ``epoch_start_seq`` runs this too, for comparison.)
                fields = {field.name for field in Conversation._meta.fields}
                start = _epoch_seqs(messages, epochs, epochs - 1).start - 1
                Conversation.objects.filter(pk=conversation.pk).update(
                    last_seq=messages,
                    last_message_at=timezone.now() - timedelta(minutes=index),
                    **({"epoch_start_seq": start} if "epoch_start_seq" in fields else {}),
                )
        KeyEnvelope.objects.bulk_create(envelopes, batch_size=2000)
    return {"email": client.email, "identity_version": client_identity.public.version}


def _epoch_seqs(messages: int, epochs: int, epoch: int) -> range:
    """The numbers of an epoch's messages when ``messages`` are spread evenly over them."""
    each = messages // epochs
    last = messages if epoch == epochs - 1 else each * (epoch + 1)
    return range(each * epoch + 1, last + 1)


def _open_and_scroll(page: Any, scroll_back: int) -> tuple[float, float]:
    """From the inbox: the click on the first conversation until its newest message is on
    screen, then scrolling to the top until ``scroll_back`` more messages are drawn."""
    started = time.perf_counter()
    page.locator(".inbox-list a").first.click()
    page.locator("li.message .message-text").last.wait_for(timeout=120_000)
    opened = time.perf_counter() - started
    rows = page.locator("li.message")
    wanted = rows.count() + scroll_back
    started = time.perf_counter()
    deadline = time.perf_counter() + 600
    while rows.count() < wanted:
        before = rows.count()
        page.evaluate("document.querySelector('.messages').scrollTop = 0")
        # (Polled from here: the page's CSP refuses a predicate sent as a string.)
        while rows.count() <= before:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{before} messages drawn, {wanted} wanted")
            time.sleep(0.005)
    return opened, time.perf_counter() - started


def _sign_in_once(
    browser: Any, url: str, email: str, password: str, conversations: int, scroll_back: int = 0
) -> dict[str, Any]:
    """The sign-in's time (until the inbox shows, and until every conversation of the
    listing's pages is in it) and what its listing fetched; with ``scroll_back``, then the
    time to open the first conversation and to scroll back that many messages."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    listed: list[Any] = []

    def on_response(response: Any) -> None:
        # Read once the sign-in is over: a handler that waits for a body of megabytes
        # holds up the events after it.
        if urlsplit(response.url).path == "/api/conversations" and response.request.method == "GET":
            listed.append(response)

    page.on("response", on_response)
    page.goto(url + "/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    started = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    page.locator(":is(.conversation, .inbox):visible").first.wait_for(timeout=300_000)
    elapsed = time.perf_counter() - started
    # Then every conversation of the listing's later pages in the list.
    rows = page.locator(".inbox-list a")
    deadline = time.perf_counter() + 300
    while conversations > 1 and rows.count() < conversations:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{rows.count()} conversations listed, {conversations} wanted")
        time.sleep(0.005)
    whole = time.perf_counter() - started
    opened = scrolled = None
    if scroll_back:
        opened, scrolled = _open_and_scroll(page, scroll_back)
    # The sign-in's listing: its pages up to the one that names no next.
    pages = []
    for response in listed:
        pages.append(response)
        if response.json().get("next") is None:
            break
    result = {
        "elapsed": elapsed,
        "whole": whole,
        "bytes": sum(len(response.body()) for response in pages),
        "first_page_bytes": len(pages[0].body()) if pages else 0,
        "pages": len(pages),
        "listings": len(listed),
        "opened": opened,
        "scrolled": scrolled,
    }
    context.close()
    return result


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def measure(
    browser: Any,
    conversations: int,
    epochs: int,
    xwing: bool,
    runs: int,
    messages: int = 0,
    scroll_back: int = 0,
) -> dict[str, Any]:
    from harness.servers import make_embedded_stack

    with tempfile.TemporaryDirectory(prefix="confide-signin-") as data_dir:
        stack = make_embedded_stack(Path(data_dir))
        password = secrets.token_urlsafe(16)
        request = {
            "conversations": conversations,
            "epochs": epochs,
            "xwing": xwing,
            "password": password,
            "messages": messages,
        }
        seeded = json.loads(
            stack.manage(
                "-m", "bench.browser_signin", "seed", stdin=json.dumps(request), timeout=3600
            )
        )
        server = stack.start_server()
        try:
            runs_seen = [
                _sign_in_once(
                    browser, server.url, seeded["email"], password, conversations, scroll_back
                )
                for _ in range(runs)
            ]
            published = bytes(
                stack.query_one(
                    "SELECT public_identity FROM accounts_user WHERE email = ?", seeded["email"]
                )
            )[0]
        finally:
            stack.stop_servers()
    return {
        "conversations": conversations,
        "epochs": epochs,
        "envelopes": "X-Wing" if xwing else "X25519",
        "first_s": round(runs_seen[0]["elapsed"], 3),
        "later_median_s": _median([r["elapsed"] for r in runs_seen[1:] or runs_seen]),
        "whole_listing_median_s": _median([r["whole"] for r in runs_seen]),
        "listing_bytes": runs_seen[-1]["bytes"],
        "first_page_bytes": runs_seen[-1]["first_page_bytes"],
        "listing_pages": runs_seen[-1]["pages"],
        "listings_fetched": max(r["listings"] for r in runs_seen),
        "messages": messages,
        "open_median_s": _median([r["opened"] for r in runs_seen if r["opened"] is not None]),
        "scroll_back": scroll_back,
        "scroll_median_s": _median([r["scrolled"] for r in runs_seen if r["scrolled"] is not None]),
        "identity_version_before": seeded["identity_version"],
        "identity_version_after": published,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=150)
    parser.add_argument("--epochs", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--runs", type=int, default=5, help="sign-ins per stack (>= 2)")
    parser.add_argument(
        "--messages", type=int, default=0, help="history per conversation, over its epochs"
    )
    parser.add_argument(
        "--scroll-back", type=int, default=1000, help="messages scrolled back (with --messages)"
    )
    parser.add_argument(
        "--xwing-only", action="store_true", help="only keys wrapped with X-Wing (as now)"
    )
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from harness.browser import CHROMIUM, CHROMIUM_ARGS

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for epochs in args.epochs:
                for xwing in (True,) if args.xwing_only else (False, True):
                    rows.append(
                        measure(
                            browser,
                            args.conversations,
                            epochs,
                            xwing,
                            max(2, args.runs),
                            args.messages,
                            args.scroll_back if args.messages else 0,
                        )
                    )
                    print(json.dumps(rows[-1]), flush=True)
        finally:
            browser.close()
    print(f"\n{platform.processor() or platform.machine()}, Chromium, {args.runs} sign-ins each")
    print(
        "| conversations × epochs × messages | envelopes | first sign-in | later (median)"
        " | every page in (median) | listing: first page, all pages | open | scroll back |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        opened, scrolled = row["open_median_s"], row["scroll_median_s"]
        back = row["scroll_back"]
        print(
            f"| {row['conversations']} × {row['epochs']} × {row['messages']}"
            f" | {row['envelopes']} | {row['first_s']:.2f} s | {row['later_median_s']:.2f} s"
            f" | {row['whole_listing_median_s']:.2f} s"
            f" | {row['first_page_bytes'] / 1e6:.2f} MB, {row['listing_bytes'] / 1e6:.2f} MB"
            f" in {row['listing_pages']} ({row['listings_fetched']} fetched)"
            f" | {'—' if opened is None else f'{opened:.2f} s'}"
            f" | {'—' if scrolled is None else f'{scrolled:.2f} s ({back})'} |"
        )
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["seed"]:
        json.dump(seed(json.load(sys.stdin)), sys.stdout)
        sys.exit(0)
    sys.exit(main())
