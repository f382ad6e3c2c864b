"""Signing up through an invitation proves as much as a correct sign-in: the browser gets
the known-browser cookie and the address is remembered, so a guesser at the same address
(one clinic's Wi-Fi) does not keep the new client out of their first sign-in there."""

from __future__ import annotations

import pytest
from django.conf import settings

import crypto
from tests.http.conftest import Browser, accept_body, invite, make_applicant
from tests.http.signing_in import CAFE, CLINIC, at, known_browser_cookies, sign_in, wrong
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

ACCEPT = "/api/invitations/accept"


def test_a_new_client_signs_in_where_they_signed_up_while_a_guesser_there_is_stopped(
    world: Practice5,
) -> None:
    applicant = make_applicant("nina@client.invalid")
    signed_up_in = Browser(REMOTE_ADDR=CLINIC)
    accepted = signed_up_in.post(ACCEPT, accept_body(invite(world.therapist), applicant))
    assert accepted.status == 200, accepted.content
    assert len(known_browser_cookies(signed_up_in)) == 1
    assert signed_up_in.post("/api/auth/signout").status == 200
    secret = crypto.b64encode(applicant.material.auth_secret)

    guesser = at(CLINIC)
    answers = [wrong(guesser, applicant.email, n).status for n in range(12)]
    assert answers.count(401) == settings.CONFIDE_SIGNIN_PAIR_ATTEMPTS
    assert answers[-1] == 429

    reply = sign_in(signed_up_in, applicant.email, secret)
    assert reply.status == 200, reply.content
    # A browser the account never used, at the guesser's address, waits like the guesser.
    assert sign_in(at(CLINIC), applicant.email, secret).status == 429
    # Elsewhere, a new browser is not held up by the guesses at the clinic.
    assert sign_in(at(CAFE), applicant.email, secret).status == 200
