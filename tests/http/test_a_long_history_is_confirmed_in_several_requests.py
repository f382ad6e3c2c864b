"""A history longer than one request holds (``MAX_RECOVERY_ENVELOPES`` envelopes): the
therapist's browser gives the envelopes in batches, each kept with the request, and the
last batch confirms. Every epoch reaches the client; a confirmation that still lacks some
is refused and says how many."""

from __future__ import annotations

import pytest

from protocol.limits import MAX_RECOVERY_ENVELOPES
from tests.http.assisted import (
    add_epoch,
    ask,
    confirm,
    pending_of,
    rewrap,
    stage,
    stored_envelopes,
)
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

EPOCHS = MAX_RECOVERY_ENVELOPES + 30


def test_a_history_of_many_epochs_arrives_whole(world: Practice5, browser_for: BrowserFor) -> None:
    clara, theo = world.client, world.therapist
    for epoch in range(1, EPOCHS):
        add_epoch(world.chat, epoch, theo if epoch % 2 else clara)
    asked = ask(clara.user.email)
    recovery = pending_of(clara)
    envelopes = rewrap(theo, world.chat.id, asked.public)
    browser = browser_for(theo)

    too_many = confirm(browser, recovery.pk, envelopes[: MAX_RECOVERY_ENVELOPES + 1], by=theo)
    whole = confirm(browser, recovery.pk, envelopes, by=theo)
    first = stage(browser, recovery.pk, envelopes[:MAX_RECOVERY_ENVELOPES])
    early = confirm(browser, recovery.pk, envelopes[MAX_RECOVERY_ENVELOPES:-1], by=theo)
    last = confirm(browser, recovery.pk, envelopes[MAX_RECOVERY_ENVELOPES:], by=theo)

    assert (too_many.status, too_many.code) == (400, "bad_request")
    assert (whole.status, whole.code) == (413, "body_too_large")
    assert first.json() == {
        "recovery": recovery.pk,
        "staged": MAX_RECOVERY_ENVELOPES,
        "missing": EPOCHS - MAX_RECOVERY_ENVELOPES,
    }
    assert (early.status, early.code) == (400, "bad_envelopes")
    assert f"missing for 1 of the {EPOCHS} epochs" in early.json()["error"]["message"]
    assert last.status == 200, last.content
    held = stored_envelopes(clara.id)
    assert [epoch for _, epoch, _, _ in held] == list(range(EPOCHS))
    assert {wrapper for _, _, wrapper, _ in held} == {theo.id}
