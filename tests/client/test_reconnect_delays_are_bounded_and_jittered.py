"""Reconnect delays grow exponentially up to a bound, vary at random below it, and start
again from the beginning after a connection that worked."""

from __future__ import annotations

import pytest

from confide_client.backoff import Backoff


def test_delays_grow_and_never_pass_the_bound() -> None:
    backoff = Backoff(initial=0.1, maximum=2.0, jitter=0.0)
    delays = [backoff.next_delay() for _ in range(10)]
    assert delays[:5] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])
    assert delays[5:] == pytest.approx([2.0] * 5)


def test_jitter_keeps_each_delay_between_its_floor_and_ceiling() -> None:
    delays = []
    for _ in range(200):
        backoff = Backoff(initial=1.0, maximum=1.0, jitter=0.5)
        delays.append(backoff.next_delay())
    assert all(0.5 <= delay <= 1.0 for delay in delays)
    assert len(set(delays)) > 100  # random, not one fixed value


def test_reset_starts_from_the_initial_delay_again() -> None:
    backoff = Backoff(initial=0.1, maximum=5.0, jitter=0.0)
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.1)


def test_many_attempts_do_not_overflow() -> None:
    backoff = Backoff(initial=0.1, maximum=3.0, jitter=0.0)
    backoff.attempts = 10_000
    assert backoff.next_delay() == pytest.approx(3.0)


@pytest.mark.parametrize(
    "options",
    [{"initial": 0.0}, {"initial": 5.0, "maximum": 1.0}, {"factor": 0.5}, {"jitter": 1.5}],
)
def test_nonsensical_settings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**options)
