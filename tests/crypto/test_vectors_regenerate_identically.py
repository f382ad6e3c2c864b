"""Running the vector generator again reproduces the committed files byte for byte."""

from __future__ import annotations

import pytest

from crypto.make_vectors import VECTOR_DIR, generate_all, main


def test_regenerating_the_vectors_reproduces_every_file_byte_for_byte() -> None:
    for name, text in generate_all().items():
        assert (VECTOR_DIR / name).read_bytes() == text.encode("ascii"), name


def test_the_check_mode_reports_no_difference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0
    assert capsys.readouterr().err == ""


def test_generation_leaves_the_real_randomness_source_in_place() -> None:
    import crypto._random
    from crypto._random import random_bytes

    generate_all()
    assert crypto._random.random_bytes is random_bytes
    assert crypto._random.random_bytes(16) != crypto._random.random_bytes(16)
