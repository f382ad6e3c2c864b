"""Every exit status of ``confide-chat`` is in its ``--help`` and in docs/client/chat.rst,
with the same meaning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from confide_client.cli import EXIT, parser

DOC = (Path(__file__).resolve().parents[2] / "docs" / "client" / "chat.rst").read_text()


def test_the_help_lists_every_exit_status_and_the_default_address(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for code, meaning in EXIT.items():
        assert f"{code} {meaning}" in shown
    assert "http://127.0.0.1:8000" in shown


def test_the_documentation_lists_the_same_exit_statuses() -> None:
    table = dict(re.findall(r"^(\d{1,3})\s{2,}(.+)$", DOC, re.MULTILINE))
    assert {
        int(code): " ".join(text.replace("``", "").split()) for code, text in table.items()
    } == {code: " ".join(meaning.split()) for code, meaning in EXIT.items()}
