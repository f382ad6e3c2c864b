"""``/.well-known/security.txt`` names the operator's contact (RFC 9116: Contact and an
Expires within a year), or is absent when none is configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import Client, override_settings


@override_settings(CONFIDE_SECURITY_CONTACT="mailto:security@practice.example")
def test_security_txt_names_the_contact_and_expires_within_a_year() -> None:
    answer = Client().get("/.well-known/security.txt")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/plain; charset=utf-8"
    fields = dict(line.split(": ", 1) for line in answer.content.decode().splitlines())
    assert fields["Contact"] == "mailto:security@practice.example"
    assert fields["Canonical"] == "http://testserver/.well-known/security.txt"
    expires = datetime.fromisoformat(fields["Expires"])
    assert timedelta(days=30) < expires - datetime.now(UTC) < timedelta(days=365)


@override_settings(CONFIDE_SECURITY_CONTACT="")
def test_without_a_contact_there_is_no_security_txt() -> None:
    assert Client().get("/.well-known/security.txt").status_code == 404
