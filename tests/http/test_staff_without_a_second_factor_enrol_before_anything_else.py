"""A therapist or admin without a second factor is signed in, but every endpoint that
needs a sign-in answers ``second_factor_enrolment_required`` until they enrol one, except
``/api/me`` and the enrolment itself; signing out and the endpoints anyone may call stay
open. Enrolling one ends it."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.http.conftest import Browser
from tests.http.test_http_authorisation import ENDPOINTS, Endpoint
from tests.http.two_step import enrol_app, enrol_passkey, first_step
from tests.personas import Person, Practice5, make_person

pytestmark = pytest.mark.django_db

# Answered before enrolment: the account itself and enrolling a factor.
BEFORE_ENROLMENT = {
    "api-me",
    "api-2fa",
    "api-2fa-totp-begin",
    "api-2fa-totp-confirm",
    "api-2fa-webauthn-register-begin",
    "api-2fa-webauthn-register-finish",
}
# What needs a sign-in (a signed-out browser is refused) and is not enrolment.
GATED = [
    e for e in ENDPOINTS if e.expected["signed out"] == 401 and e.route not in BEFORE_ENROLMENT
]
OPEN = [e for e in ENDPOINTS if e.expected["signed out"] != 401]


@pytest.fixture(params=[Role.THERAPIST, Role.ADMIN], ids=["therapist", "admin"])
def newcomer(world: Practice5, request: pytest.FixtureRequest) -> Person:
    return make_person(world.practice, request.param, "Quinn", totp=False)


@pytest.mark.parametrize("endpoint", GATED, ids=[e.label for e in GATED])
def test_every_other_endpoint_asks_for_enrolment(
    world: Practice5, newcomer: Person, endpoint: Endpoint
) -> None:
    reply = endpoint.call(Browser().sign_in_as(newcomer), world)

    assert (reply.status, reply.code) == (403, "second_factor_enrolment_required")
    assert "second factor" in reply.json()["error"]["message"]


@pytest.mark.parametrize("endpoint", OPEN, ids=[e.label for e in OPEN])
def test_what_anyone_may_call_stays_open(
    world: Practice5, newcomer: Person, endpoint: Endpoint
) -> None:
    reply = endpoint.call(Browser().sign_in_as(newcomer), world)

    assert reply.status == endpoint.expected["Theo"], reply.content


def test_me_says_enrolment_is_required(world: Practice5, newcomer: Person) -> None:
    browser = Browser().sign_in_as(newcomer)

    me = browser.get("/api/me").json()["user"]

    assert me["second_factor_enrolment_required"] is True
    assert browser.get("/api/2fa").json()["required"] is True


def test_the_sign_in_answer_says_so_too(world: Practice5, newcomer: Person) -> None:
    reply = first_step(Browser(), newcomer)

    assert reply.json()["user"]["second_factor_enrolment_required"] is True


def test_an_authenticator_app_opens_everything(world: Practice5, newcomer: Person) -> None:
    browser = Browser().sign_in_as(newcomer)

    enrol_app(browser)

    assert browser.get("/api/conversations").status == 200
    assert browser.get("/api/me").json()["user"]["second_factor_enrolment_required"] is False


def test_a_passkey_opens_everything(world: Practice5, newcomer: Person) -> None:
    browser = Browser().sign_in_as(newcomer)

    _, reply = enrol_passkey(browser)

    assert reply.status == 200
    assert browser.get("/api/conversations").status == 200


def test_clients_need_no_second_factor(world: Practice5) -> None:
    browser = Browser().sign_in_as(world.client)

    assert browser.get("/api/me").json()["user"]["second_factor_enrolment_required"] is False
    assert browser.get("/api/2fa").json()["required"] is False
    assert browser.get("/api/conversations").status == 200
