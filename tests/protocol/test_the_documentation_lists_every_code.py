"""docs/protocol.md is the protocol's prose: its tables list every error code with the
status the protocol gives it, and every close code."""

from __future__ import annotations

import re
from pathlib import Path

from protocol.errors import ERRORS, RESEND, CloseCode

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def test_every_error_code_is_documented_with_its_status() -> None:
    documented = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", DOC, re.MULTILINE))
    assert documented == {str(code): str(spec.status) for code, spec in ERRORS.items()}


def test_every_close_code_is_documented() -> None:
    documented = {int(code) for code in re.findall(r"^\| (\d{4}) \|", DOC, re.MULTILINE)}
    assert documented == {int(code) for code in CloseCode}


def test_the_documented_resend_codes_are_the_protocols() -> None:
    marked = set(re.findall(r"^\| `([a-z_]+)` \| \d{3} \| \*resend\*", DOC, re.MULTILINE))
    assert marked == {str(code) for code in RESEND}
