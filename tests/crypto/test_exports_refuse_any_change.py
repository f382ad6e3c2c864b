"""An export verifies as made, and any change to it is refused, naming what changed
(crypto/SPEC.md, "Exports")."""

from __future__ import annotations

import re
import uuid

import pytest

from crypto import (
    BindingError,
    CryptoError,
    ExportMember,
    ExportMessage,
    FormatError,
    IdentityKeyPair,
    SignatureError,
    format_safety_number,
    make_export,
    safety_number,
    verify_export,
)

CONVERSATION = uuid.UUID("6f1c7a3e-2d5b-4c8e-9a0b-1c2d3e4f5a6b")
T0 = 1_796_300_000_000


@pytest.fixture(scope="module")
def people() -> dict[str, IdentityKeyPair]:
    return {name: IdentityKeyPair.generate() for name in ("client", "therapist", "stranger")}


def _export(people: dict[str, IdentityKeyPair], exporter: str = "client", **names: str) -> bytes:
    client, therapist = people["client"], people[names.get("as_therapist", "therapist")]
    return make_export(
        people[exporter],
        CONVERSATION,
        client=ExportMember("Clara", client.public),
        therapist=ExportMember("Theo", therapist.public),
        messages=[
            ExportMessage(1, "client", T0, client.public.sign_key, "I'm not sleeping <again>."),
            ExportMessage(2, "therapist", T0 + 60_000, therapist.public.sign_key, "Thank you."),
            ExportMessage(3, "client", T0 + 120_000, client.public.sign_key, "See you & bye"),
        ],
        exported_at=T0 + 180_000,
    )


def _element(file: bytes, seq: int) -> str:
    found = re.search(rf'<li[^>]*id="m{seq}".*?</li>\n', file.decode(), re.DOTALL)
    assert found is not None
    return found.group(0)


def test_an_export_verifies_as_made(people: dict[str, IdentityKeyPair]) -> None:
    file = _export(people)
    verified = verify_export(file, trusted=[people["client"].public])
    assert verified.exporter == "client"
    assert verified.conversation_id == CONVERSATION
    assert [m.text for m in verified.messages] == [
        "I'm not sleeping <again>.",
        "Thank you.",
        "See you & bye",
    ]
    # HTML in a message is text in the document, and the document runs nothing.
    assert b"&lt;again&gt;" in file and b"<again>" not in file
    assert b"<script" not in file and b"src=" not in file and b"href=" not in file
    # The therapist checks it with the safety number they compared in session.
    number = safety_number(people["client"].public, people["therapist"].public)
    assert verify_export(file, safety_numbers=[format_safety_number(number)]).messages


def test_one_byte_changed_anywhere_is_refused(people: dict[str, IdentityKeyPair]) -> None:
    file = _export(people)
    trusted = [people["client"].public]
    for offset in range(len(file)):
        changed = bytearray(file)
        changed[offset] ^= 0x01
        with pytest.raises(CryptoError):
            verify_export(bytes(changed), trusted=trusted)


def test_a_changed_message_is_named(people: dict[str, IdentityKeyPair]) -> None:
    file = _export(people).replace(b"Thank you.", b"Thank yov.")
    with pytest.raises(BindingError, match=r"message 2 was changed$"):
        verify_export(file, trusted=[people["client"].public])


def test_a_removed_message_is_named(people: dict[str, IdentityKeyPair]) -> None:
    file = _export(people)
    removed = file.decode().replace(_element(file, 2), "").encode()
    with pytest.raises(BindingError, match=r"message 2 is missing$"):
        verify_export(removed, trusted=[people["client"].public])


def test_an_added_message_is_named(people: dict[str, IdentityKeyPair]) -> None:
    file = _export(people)
    third = _element(file, 3)
    fourth = third.replace('"m3"', '"m4"').replace('"3"', '"4"').replace("#3", "#4")
    added = file.decode().replace(third, third + fourth).encode()
    with pytest.raises(BindingError, match=r"message 4 was added$"):
        verify_export(added, trusted=[people["client"].public])


def test_a_manifest_signed_by_someone_else_is_refused(people: dict[str, IdentityKeyPair]) -> None:
    # A stranger makes an export naming themselves the therapist and signs it.
    forged = _export(people, exporter="stranger", as_therapist="stranger")
    with pytest.raises(BindingError, match="signed by an identity you do not know"):
        verify_export(forged, trusted=[people["client"].public, people["therapist"].public])
    # The same file is fine for whoever trusts the stranger: the check is of trust, not form.
    assert verify_export(forged, trusted=[people["stranger"].public]).exporter == "therapist"


def test_a_manifest_changed_without_signing_again_is_refused(
    people: dict[str, IdentityKeyPair],
) -> None:
    file = _export(people)
    changed = file.replace(b'"exporter":"client"', b'"exporter":"therapist"')
    assert changed != file
    with pytest.raises(SignatureError, match="its signature does not verify"):
        verify_export(changed, trusted=[people["therapist"].public])


def test_only_a_member_can_make_one(people: dict[str, IdentityKeyPair]) -> None:
    with pytest.raises(FormatError, match="neither member"):
        _export(people, exporter="stranger")
