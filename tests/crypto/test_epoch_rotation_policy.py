"""A new epoch starts when keys change, after 100 messages, or after 7 days."""

from __future__ import annotations

import math

import pytest

from crypto import ROTATE_AFTER_MESSAGES, ROTATE_AFTER_SECONDS, FormatError, epoch_needs_rotation


def test_the_policy_constants_are_100_messages_and_7_days() -> None:
    assert ROTATE_AFTER_MESSAGES == 100
    assert ROTATE_AFTER_SECONDS == 7 * 24 * 3600


@pytest.mark.parametrize(
    ("messages", "age", "keys_changed", "rotate"),
    [
        (0, 0.0, False, False),
        (99, 0.0, False, False),
        (100, 0.0, False, True),
        (5000, 0.0, False, True),
        (0, ROTATE_AFTER_SECONDS - 1, False, False),
        (0, ROTATE_AFTER_SECONDS, False, True),
        (0, 0, True, True),
    ],
)
def test_rotation_happens_exactly_at_the_limits(
    messages: int, age: float, keys_changed: bool, rotate: bool
) -> None:
    assert epoch_needs_rotation(messages, age, keys_changed) is rotate


@pytest.mark.parametrize(
    ("messages", "age", "message"),
    [
        (-1, 0.0, "message count cannot be negative"),
        (0, -0.5, "must be a finite, non-negative number"),
        (0, math.nan, "must be a finite, non-negative number"),
        (0, math.inf, "must be a finite, non-negative number"),
        (1.5, 0.0, "message count must be an integer"),
    ],
)
def test_impossible_inputs_are_refused(messages: int, age: float, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        epoch_needs_rotation(messages, age, False)
