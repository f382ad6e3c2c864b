"""The stored form of a client's authentication secret."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password

SECRET = "q3Zr9m1Yx4kP0aT8sJ2vB6nC5wE7uH1gL3dF9oR2iM0"


def test_a_stored_secret_verifies_and_a_different_one_does_not() -> None:
    encoded = make_password(SECRET)
    assert encoded.startswith("confide_blake2b$")
    assert SECRET not in encoded
    assert check_password(SECRET, encoded)
    assert not check_password(SECRET[:-1] + "1", encoded)


def test_the_same_secret_is_stored_differently_for_each_account() -> None:
    assert make_password(SECRET) != make_password(SECRET)
