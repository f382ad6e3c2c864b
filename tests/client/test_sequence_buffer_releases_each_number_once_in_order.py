"""A conversation's messages are released in sequence order, each number once, and a
number that skips ahead waits for the gap to fill."""

from __future__ import annotations

import pytest

from confide_client.ordering import MAX_AHEAD, SequenceBuffer


def test_messages_in_order_are_released_at_once() -> None:
    buffer: SequenceBuffer[str] = SequenceBuffer()
    assert buffer.offer(1, "a") == ["a"]
    assert buffer.offer(2, "b") == ["b"]
    assert buffer.position == 2
    assert not buffer.has_gap


def test_a_number_already_held_is_ignored() -> None:
    buffer: SequenceBuffer[str] = SequenceBuffer()
    buffer.offer(1, "a")
    buffer.offer(2, "b")
    assert buffer.offer(1, "a again") == []
    assert buffer.offer(2, "b again") == []
    assert buffer.position == 2


def test_a_number_after_a_gap_waits_until_the_gap_is_filled() -> None:
    buffer: SequenceBuffer[str] = SequenceBuffer()
    assert buffer.offer(1, "a") == ["a"]
    assert buffer.offer(3, "c") == []
    assert buffer.offer(4, "d") == []
    assert buffer.has_gap and buffer.waiting == 2
    assert buffer.position == 1
    assert buffer.offer(2, "b") == ["b", "c", "d"]
    assert buffer.position == 4 and not buffer.has_gap


def test_a_number_waiting_behind_a_gap_is_not_taken_twice() -> None:
    buffer: SequenceBuffer[str] = SequenceBuffer()
    buffer.offer(3, "c")
    assert buffer.offer(3, "c again") == []
    assert buffer.waiting == 1
    assert buffer.offer(1, "a") == ["a"]
    assert buffer.offer(2, "b") == ["b", "c"]


def test_a_buffer_can_start_after_messages_it_does_not_want() -> None:
    buffer: SequenceBuffer[str] = SequenceBuffer(position=10)
    assert buffer.offer(10, "old") == []
    assert buffer.offer(11, "new") == ["new"]


def test_skipping_ahead_drops_older_items_and_releases_those_that_follow() -> None:
    buffer: SequenceBuffer[str] = SequenceBuffer()
    buffer.offer(3, "c")
    buffer.offer(5, "e")
    buffer.offer(6, "f")
    assert buffer.skip_to(4) == ["e", "f"]
    assert buffer.position == 6
    assert buffer.skip_to(2) == []
    assert buffer.position == 6


def test_numbers_far_beyond_the_position_are_not_held() -> None:
    buffer: SequenceBuffer[str] = SequenceBuffer()
    assert buffer.offer(MAX_AHEAD + 5, "far") == []
    assert buffer.waiting == 0


def test_a_negative_position_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        SequenceBuffer(-1)
