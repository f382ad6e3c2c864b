"""``confide-chat verify-export FILE`` accepts an intact export signed by someone trusted,
and refuses, with a non-zero exit status and a clear line, a changed byte, a removed
message and a stranger's signature; its exit statuses are those documented."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from confide_client.cli.exporting import VERIFY_EXIT, verify_parser
from crypto import (
    ExportMember,
    ExportMessage,
    IdentityKeyPair,
    b64encode,
    format_safety_number,
    make_export,
    safety_number,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "client" / "exports.rst").read_text()
CLIENT, THERAPIST, STRANGER = (IdentityKeyPair.generate() for _ in range(3))


def _export(signer: IdentityKeyPair = CLIENT, therapist: IdentityKeyPair = THERAPIST) -> bytes:
    return make_export(
        signer,
        uuid.uuid4(),
        client=ExportMember("Clara", CLIENT.public),
        therapist=ExportMember("Theo", therapist.public),
        messages=[
            ExportMessage(1, "client", 1_796_300_000_000, CLIENT.public.sign_key, "Hello"),
            ExportMessage(2, "therapist", 1_796_300_060_000, therapist.public.sign_key, "Hi"),
        ],
        exported_at=1_796_300_120_000,
    )


def _verify(file: Path, *args: str, state: Path) -> subprocess.CompletedProcess[str]:
    state.mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "confide_client.cli",
            "verify-export",
            str(file),
            *args,
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.fixture
def fingerprint() -> list[str]:
    return ["--fingerprint", b64encode(CLIENT.public.fingerprint())]


def test_an_intact_export_is_verified(tmp_path: Path, fingerprint: list[str]) -> None:
    file = tmp_path / "export.html"
    file.write_bytes(_export())
    done = _verify(file, *fingerprint, state=tmp_path / "state")
    assert done.returncode == 0, done.stderr
    assert "Verified: 2 messages between Clara and Theo, exported by Clara (client)" in done.stdout
    number = format_safety_number(safety_number(CLIENT.public, THERAPIST.public))
    by_number = _verify(file, "--safety-number", number, state=tmp_path / "state")
    assert by_number.returncode == 0, by_number.stderr


def test_a_changed_byte_is_refused_naming_the_message(
    tmp_path: Path, fingerprint: list[str]
) -> None:
    file = tmp_path / "export.html"
    file.write_bytes(_export().replace(b">Hello<", b">Jello<"))
    done = _verify(file, *fingerprint, state=tmp_path / "state")
    assert done.returncode == 6
    assert "! Not verified: The export was changed after it was signed: message 1 was changed" in (
        done.stderr
    )


def test_a_removed_message_is_refused(tmp_path: Path, fingerprint: list[str]) -> None:
    text = _export().decode()
    element = re.search(r'<li[^>]*id="m2".*?</li>\n', text, re.DOTALL)
    assert element is not None
    file = tmp_path / "export.html"
    file.write_text(text.replace(element.group(0), ""))
    done = _verify(file, *fingerprint, state=tmp_path / "state")
    assert done.returncode == 6
    assert "message 2 is missing" in done.stderr


def test_a_strangers_signature_is_refused(tmp_path: Path, fingerprint: list[str]) -> None:
    file = tmp_path / "export.html"
    file.write_bytes(_export(STRANGER, STRANGER))
    done = _verify(file, *fingerprint, state=tmp_path / "state")
    assert done.returncode == 6
    assert "signed by an identity you do not know" in done.stderr


def test_a_missing_file_and_a_bad_fingerprint(tmp_path: Path) -> None:
    assert _verify(tmp_path / "none.html", state=tmp_path / "state").returncode == 66
    file = tmp_path / "export.html"
    file.write_bytes(_export())
    assert _verify(file, "--fingerprint", "not+b64", state=tmp_path / "state").returncode == 2


def test_the_exit_statuses_are_documented(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        verify_parser().parse_args(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for code, meaning in VERIFY_EXIT.items():
        assert f"{code} {meaning}" in shown
    table = dict(re.findall(r"^(\d{1,3})\s{2,}(.+)$", DOC, re.MULTILINE))
    assert {int(code): text for code, text in table.items()} == VERIFY_EXIT
