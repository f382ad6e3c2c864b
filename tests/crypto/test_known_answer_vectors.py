"""Every vector in crypto/vectors gives exactly its expected result or its expected error.

The runners below compute the intermediate values (shared secrets, derived keys) directly
with PyNaCl, independently of the package, so that a vector also checks the derivations
written in SPEC.md.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.hash
import pytest
from nacl.encoding import RawEncoder

import crypto.errors
import crypto.kdf
from crypto import (
    ConversationKey,
    CryptoError,
    DisclosureDescription,
    IdentityKeyPair,
    KdfParams,
    MessageOrder,
    OrderEntry,
    Pin,
    PublicIdentity,
    RecoveryClaim,
    RecoveryKey,
    WrappingKey,
    b64decode,
    b64encode,
    check_order,
    derive_password_keys,
    epoch_needs_rotation,
    format_identity_number,
    format_safety_number,
    identity_number,
    identity_qr_payload,
    open_disclosure,
    open_message,
    open_pins,
    open_text,
    pad,
    padded_size,
    parse_bundle,
    parse_disclosure,
    parse_message,
    parse_pins,
    recovery_statement,
    safety_number,
    safety_qr_payload,
    seal_disclosure,
    seal_message,
    seal_pins,
    sign_recovery,
    sign_succession,
    unpad,
    unwrap_conversation_key,
    unwrap_identity,
    verify_disclosure,
    verify_envelope,
    verify_identity_qr,
    verify_message,
    verify_recovery,
    verify_safety_qr,
    verify_succession,
    wrap_conversation_key,
    wrap_identity,
)
from crypto._primitives import xwing_decapsulate, xwing_public_key
from crypto._vectorgen.rng import replay_random
from crypto.make_vectors import GENERATORS, VECTOR_DIR
from tests.crypto.attachment_runners import RUNNERS as ATTACHMENT_RUNNERS
from tests.crypto.export_runners import export_make, export_verify

Inputs = dict[str, Any]
Result = dict[str, Any]


def _b(value: str) -> bytes:
    return bytes.fromhex(value)


def _random(inputs: Inputs) -> list[bytes]:
    return [_b(value) for value in inputs["random"]]


def _h(key: bytes, message: bytes) -> bytes:
    return nacl.hash.blake2b(message, digest_size=32, key=key, encoder=RawEncoder)


def _public(identity: PublicIdentity) -> Result:
    return {
        "version": identity.version,
        "sign_pk": identity.sign_key.hex(),
        "enc_pk": identity.enc_key.hex(),
        "xwing_pk": identity.xwing_key.hex() if identity.xwing_key is not None else None,
        "since": identity.since,
        "public_identity": identity.to_bytes().hex(),
        "fingerprint": identity.fingerprint().hex(),
    }


def identity_generate(inputs: Inputs) -> Result:
    with replay_random(_random(inputs)):
        identity = IdentityKeyPair.generate(since=inputs["since"])
    return {"secret": identity._secret_material().hex(), **_public(identity.public)}


def identity_parse(inputs: Inputs) -> Result:
    return _public(PublicIdentity.from_bytes(_b(inputs["public_identity"])))


def kdf_derive(inputs: Inputs) -> Result:
    params = KdfParams(opslimit=inputs["opslimit"], memlimit=inputs["memlimit"])
    password, salt = inputs["password_text"], _b(inputs["salt"])
    keys = derive_password_keys(password, salt, params)
    master = crypto.kdf._derive_master(password, salt, params)
    return {
        "master": master.hex(),
        "auth_secret": keys.auth_secret.hex(),
        "auth_secret_b64": keys.auth_secret_b64(),
        "kek": keys.kek._secret_material().hex(),
    }


def invitation_fragment(inputs: Inputs) -> Result:
    therapist = PublicIdentity.from_bytes(_b(inputs["public_identity"]))
    return {"fragment_text": crypto.invitation_fragment(inputs["token_text"], therapist)}


def invitation_parse(inputs: Inputs) -> Result:
    token, fp = crypto.parse_invitation_fragment(inputs["fragment_text"])
    return {"token_text": token, "fingerprint": fp.hex()}


def invitation_check(inputs: Inputs) -> Result:
    therapist = PublicIdentity.from_bytes(_b(inputs["public_identity"]))
    crypto.check_invitation_therapist(_b(inputs["fingerprint"]), therapist)
    return {}


def kdf_check_served(inputs: Inputs) -> Result:
    served = crypto.check_served_params(KdfParams(inputs["opslimit"], inputs["memlimit"]))
    return {"opslimit": served.opslimit, "memlimit": served.memlimit}


def bundle_wrap(inputs: Inputs) -> Result:
    identity = IdentityKeyPair(_b(inputs["secret"]))
    key = WrappingKey(_b(inputs["wrapping_key"]))
    with replay_random(_random(inputs)):
        # The kind as the vector gives it, not through BundleKind: error vectors give
        # wrongly typed kinds that the function itself must refuse.
        blob = wrap_identity(identity, key, inputs["kind"])
    return {"bundle": blob.hex()}


def bundle_unwrap(inputs: Inputs) -> Result:
    blob = _b(inputs["bundle"])
    identity = unwrap_identity(
        blob,
        WrappingKey(_b(inputs["wrapping_key"])),
        PublicIdentity(_b(inputs["expected_identity"])),
    )
    return {"secret": identity._secret_material().hex(), "kind": int(parse_bundle(blob))}


def recovery_generate(inputs: Inputs) -> Result:
    with replay_random(_random(inputs)):
        recovery = RecoveryKey.generate()
    display = recovery.display()
    return {
        "key": recovery._secret_material().hex(),
        "check": base64.b32decode(display.replace("-", ""))[32:].hex(),
        "display_text": display,
        "wrapping_key": recovery.wrapping_key()._secret_material().hex(),
    }


def recovery_from_display(inputs: Inputs) -> Result:
    return {"key": RecoveryKey.from_display(inputs["display_text"])._secret_material().hex()}


def _claim(inputs: Inputs) -> RecoveryClaim:
    return RecoveryClaim(
        challenge=_b(inputs["challenge"]),
        email=inputs["email_text"],
        salt=_b(inputs["salt"]),
        params=KdfParams(opslimit=inputs["opslimit"], memlimit=inputs["memlimit"]),
        auth_secret=_b(inputs["auth_secret"]),
        key_bundle=_b(inputs["key_bundle"]),
    )


def recovery_prove(inputs: Inputs) -> Result:
    claim = _claim(inputs)
    identity = IdentityKeyPair(_b(inputs["secret"]))
    proof = sign_recovery(identity, claim)
    statement = recovery_statement(claim)
    # The statement as SPEC.md writes it, built here without the package.
    email = inputs["email_text"].encode("utf-8")
    assert statement == b"".join(
        (
            b"confide/v1/recovery-proof\x01",
            claim.challenge,
            len(email).to_bytes(4, "big"),
            email,
            claim.salt,
            inputs["opslimit"].to_bytes(4, "big"),
            inputs["memlimit"].to_bytes(4, "big"),
            nacl.hash.blake2b(claim.auth_secret, digest_size=32, encoder=RawEncoder),
            claim.key_bundle,
        )
    )
    nacl.bindings.crypto_sign_open(proof + statement, identity.sign_key)
    return {"statement": statement.hex(), "proof": proof.hex()}


def recovery_verify_proof(inputs: Inputs) -> Result:
    identity = PublicIdentity(_b(inputs["public_identity"]))
    verify_recovery(identity, _claim(inputs), _b(inputs["proof"]))
    return {}


def envelope_wrap(inputs: Inputs) -> Result:
    recipient = PublicIdentity(_b(inputs["recipient_identity"]))
    with replay_random(_random(inputs)):
        envelope = wrap_conversation_key(
            ConversationKey(_b(inputs["epoch_key"])),
            _b(inputs["conversation_id"]),
            inputs["epoch"],
            recipient,
            IdentityKeyPair(_b(inputs["wrapper_secret"])),
            inputs.get("created_at"),
        )
    eph_sk = _random(inputs)[0]
    eph_pk = nacl.bindings.crypto_scalarmult_base(eph_sk)
    shared = nacl.bindings.crypto_scalarmult(eph_sk, recipient.enc_key)
    return {
        "eph_pk": eph_pk.hex(),
        "shared_secret": shared.hex(),
        "envelope_key": _h(shared, b"confide/v1/envelope" + eph_pk + recipient.enc_key).hex(),
        "envelope": envelope.hex(),
    }


def envelope_unwrap(inputs: Inputs) -> Result:
    key = unwrap_conversation_key(
        _b(inputs["envelope"]),
        IdentityKeyPair(_b(inputs["recipient_secret"]), inputs.get("recipient_since")),
        PublicIdentity(_b(inputs["wrapper_identity"])),
        _b(inputs["conversation_id"]),
        inputs["epoch"],
    )
    return {"epoch_key": key._secret_material().hex()}


def envelope_xwing(inputs: Inputs) -> Result:
    # pyca cannot encapsulate from a given seed: 'eseed' is for implementations that can.
    seed = _b(inputs["seed"])
    return {
        "pk": xwing_public_key(seed).hex(),
        "ss": xwing_decapsulate(seed, _b(inputs["ct"])).hex(),
    }


def envelope_verify(inputs: Inputs) -> Result:
    info = verify_envelope(_b(inputs["envelope"]), PublicIdentity(_b(inputs["wrapper_identity"])))
    return {
        "version": info.version,
        "conversation_id": info.conversation_id.hex(),
        "epoch": info.epoch,
        "recipient_enc_pk": info.recipient_enc_pk.hex(),
        "wrapper_sign_pk": info.wrapper_sign_pk.hex(),
        **(
            {}
            if info.version == 1
            else {
                "created_at": info.created_at,
                "commitment": info.commitment.hex() if info.commitment else None,
            }
        ),
    }


_FLOATS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _number(inputs: Inputs, name: str) -> Any:
    """An input that may be written as ``name_float`` (a number JSON cannot write)."""
    if f"{name}_float" in inputs:
        return _FLOATS[inputs[f"{name}_float"]]
    return inputs[name]


def rotation_needed(inputs: Inputs) -> Result:
    return {
        "rotate": epoch_needs_rotation(
            inputs["messages_in_epoch"],
            _number(inputs, "epoch_age_seconds"),
            inputs["keys_changed"],
        )
    }


def _order(fields: dict[str, Any]) -> MessageOrder:
    return MessageOrder(
        chain=_b(fields["chain"]),
        counter=fields["counter"],
        sent_at=fields["sent_at"],
        previous=_b(fields["previous"]),
    )


def _order_result(order: MessageOrder | None) -> Result | None:
    if order is None:
        return None
    return {
        "chain": order.chain.hex(),
        "counter": order.counter,
        "sent_at": order.sent_at,
        "previous": order.previous.hex(),
    }


def message_seal(inputs: Inputs) -> Result:
    epoch_key = _b(inputs["epoch_key"])
    with replay_random(_random(inputs)):
        order = _order(inputs["order"]) if "order" in inputs else None
        wire = seal_message(
            _b(inputs["plaintext"]),
            ConversationKey(epoch_key),
            _b(inputs["conversation_id"]),
            inputs["epoch"],
            IdentityKeyPair(_b(inputs["sender_secret"])),
            _b(inputs["client_message_id"]),
            order,
        )
    # The reference as SPEC.md writes it, computed here without the package.
    reference = nacl.hash.blake2b(
        b"confide/v1/message-reference" + wire, digest_size=32, encoder=RawEncoder
    )
    assert crypto.message_reference(wire) == reference
    return {
        "message_key": _h(epoch_key, b"confide/v1/message-key").hex(),
        "padded_size": parse_message(wire).padded_size,
        "wire": wire.hex(),
        "reference": reference.hex(),
    }


def _open_arguments(inputs: Inputs) -> tuple[Any, ...]:
    message_id = inputs["client_message_id"]
    return (
        _b(inputs["wire"]),
        ConversationKey(_b(inputs["epoch_key"])),
        PublicIdentity(_b(inputs["sender_identity"])),
        _b(inputs["conversation_id"]),
        inputs["epoch"],
        None if message_id is None else _b(message_id),
    )


def message_open(inputs: Inputs) -> Result:
    return {"plaintext": open_message(*_open_arguments(inputs)).hex()}


def message_open_text(inputs: Inputs) -> Result:
    return {"plaintext_text": open_text(*_open_arguments(inputs))}


def message_verify(inputs: Inputs) -> Result:
    info = verify_message(_b(inputs["wire"]), PublicIdentity(_b(inputs["sender_identity"])))
    return {
        "version": info.version,
        "conversation_id": info.conversation_id.hex(),
        "epoch": info.epoch,
        "sender_sign_pk": info.sender_sign_pk.hex(),
        "client_message_id": info.client_message_id.hex(),
        "padded_size": info.padded_size,
        "order": _order_result(info.order),
    }


def _description(fields: dict[str, Any]) -> DisclosureDescription:
    return DisclosureDescription(
        _date(fields["disclosed_on_text"]),
        fields["legal_basis_text"],
        fields["recipient_text"],
        fields["information_text"],
        fields["purpose_text"],
    )


def _date(text: Any) -> Any:
    """A date from the vector's text; text that is not one is given as it is, to be refused."""
    try:
        return datetime.date.fromisoformat(text) if re.fullmatch(r"[0-9-]{10}", text) else text
    except (TypeError, ValueError):
        return text


def _description_fields(description: DisclosureDescription) -> Result:
    return {
        "disclosed_on_text": description.disclosed_on.isoformat(),
        "legal_basis_text": description.legal_basis,
        "recipient_text": description.recipient,
        "information_text": description.information,
        "purpose_text": description.purpose,
    }


def disclosure_describe(inputs: Inputs) -> Result:
    return {"description": _description(inputs).to_json().hex()}


def disclosure_seal(inputs: Inputs) -> Result:
    epoch_key = _b(inputs["epoch_key"])
    description = _description(inputs["description"])
    with replay_random(_random(inputs)):
        record = seal_disclosure(
            description,
            ConversationKey(epoch_key),
            _b(inputs["conversation_id"]),
            inputs["epoch"],
            IdentityKeyPair(_b(inputs["recorder_secret"])),
            _b(inputs["disclosure_id"]),
        )
    return {
        "disclosure_key": _h(epoch_key, b"confide/v1/disclosure-key").hex(),
        "padded_size": parse_disclosure(record).padded_size,
        "record": record.hex(),
    }


def disclosure_open(inputs: Inputs) -> Result:
    description = open_disclosure(
        _b(inputs["record"]),
        ConversationKey(_b(inputs["epoch_key"])),
        PublicIdentity(_b(inputs["recorder_identity"])),
        _b(inputs["conversation_id"]),
        inputs["epoch"],
        _b(inputs["disclosure_id"]),
        _date(inputs["disclosed_on_text"]),
        inputs["legal_basis_text"],
    )
    return {"description": _description_fields(description)}


def disclosure_verify(inputs: Inputs) -> Result:
    info = verify_disclosure(_b(inputs["record"]), PublicIdentity(_b(inputs["recorder_identity"])))
    return {
        "version": info.version,
        "conversation_id": info.conversation_id.hex(),
        "epoch": info.epoch,
        "recorder_sign_pk": info.recorder_sign_pk.hex(),
        "disclosure_id": info.disclosure_id.hex(),
        "padded_size": info.padded_size,
    }


def order_check(inputs: Inputs) -> Result:
    entries = [
        OrderEntry(
            seq=entry["seq"],
            sender=entry["sender"],
            reference=_b(entry["reference"]),
            order=None if entry["order"] is None else _order(entry["order"]),
        )
        for entry in inputs["entries"]
    ]
    return {
        "notices": [
            {
                "kind": notice.kind,
                "seq": notice.seq,
                "sender": notice.sender,
                "chain": None if notice.chain is None else notice.chain.hex(),
                "first": notice.first,
                "last": notice.last,
                "after": notice.after,
                "before": notice.before,
            }
            for notice in check_order(entries, inputs["from_start"])
        ]
    }


def _pin(fields: dict[str, Any]) -> Pin:
    return Pin(
        user_id=fields["user_id"],
        fingerprint=_b(fields["fingerprint"]),
        verified=fields["verified"],
        at=fields["at"],
    )


def _pin_result(pin: Pin) -> Result:
    return {
        "user_id": pin.user_id,
        "fingerprint": pin.fingerprint.hex(),
        "verified": pin.verified,
        "at": pin.at,
    }


def pins_seal(inputs: Inputs) -> Result:
    identity = IdentityKeyPair(_b(inputs["secret"]))
    with replay_random(_random(inputs)):
        record = seal_pins(identity, inputs["counter"], [_pin(p) for p in inputs["pins"]])
    return {"pins_key": _h(_b(inputs["secret"]), b"confide/v1/pins").hex(), "record": record.hex()}


def pins_open(inputs: Inputs) -> Result:
    opened = open_pins(_b(inputs["record"]), IdentityKeyPair(_b(inputs["secret"])))
    return {"counter": opened.counter, "pins": [_pin_result(pin) for pin in opened.pins]}


def pins_parse(inputs: Inputs) -> Result:
    info = parse_pins(_b(inputs["record"]))
    return {"sign_pk": info.sign_pk.hex(), "counter": info.counter}


def padding_pad(inputs: Inputs) -> Result:
    return {"padded": pad(_b(inputs["data"])).hex()}


def padding_size(inputs: Inputs) -> Result:
    return {"padded_size": padded_size(inputs["length"])}


def padding_unpad(inputs: Inputs) -> Result:
    return {"data": unpad(_b(inputs["padded"])).hex()}


def _pair(inputs: Inputs) -> tuple[PublicIdentity, PublicIdentity]:
    return PublicIdentity(_b(inputs["identity_a"])), PublicIdentity(_b(inputs["identity_b"]))


def safety_compute(inputs: Inputs) -> Result:
    a, b = _pair(inputs)
    number = safety_number(a, b)
    return {
        "fingerprint_a": a.fingerprint().hex(),
        "fingerprint_b": b.fingerprint().hex(),
        "safety_number_text": number,
        "formatted_text": format_safety_number(number),
        "qr_payload": safety_qr_payload(a, b).hex(),
    }


def safety_verify_qr(inputs: Inputs) -> Result:
    verify_safety_qr(_b(inputs["qr_payload"]), *_pair(inputs))
    return {}


def safety_identity_number(inputs: Inputs) -> Result:
    identity = PublicIdentity(_b(inputs["identity"]))
    number = identity_number(identity)
    return {
        "fingerprint": identity.fingerprint().hex(),
        "identity_number_text": number,
        "formatted_text": format_identity_number(number),
        "qr_payload": identity_qr_payload(identity).hex(),
    }


def safety_verify_identity_qr(inputs: Inputs) -> Result:
    verify_identity_qr(_b(inputs["qr_payload"]), PublicIdentity(_b(inputs["identity"])))
    return {}


def succession_sign(inputs: Inputs) -> Result:
    confirmer = IdentityKeyPair(_b(inputs["confirmer_secret"]))
    succession = sign_succession(
        confirmer,
        user_id=inputs["user_id"],
        confirmer_id=inputs["confirmer_id"],
        confirmed_at=inputs["confirmed_at"],
        previous_identity=PublicIdentity(_b(inputs["previous_identity"])),
        new_identity=PublicIdentity(_b(inputs["new_identity"])),
    )
    # The body and the signed statement as SPEC.md writes them, built here without the package.
    identities = (_b(inputs["previous_identity"]), _b(inputs["new_identity"]))
    body = b"".join(
        (
            b"\x01" if all(identity[0] == 1 for identity in identities) else b"\x02",
            inputs["user_id"].to_bytes(8, "big"),
            inputs["confirmer_id"].to_bytes(8, "big"),
            inputs["confirmed_at"].to_bytes(8, "big"),
            _b(inputs["previous_identity"]),
            _b(inputs["new_identity"]),
        )
    )
    statement = b"confide/v1/identity-succession" + body
    assert succession[: len(body)] == body
    nacl.bindings.crypto_sign_open(succession[len(body) :] + statement, confirmer.sign_key)
    return {"statement": statement.hex(), "succession": succession.hex()}


def succession_verify(inputs: Inputs) -> Result:
    stated = verify_succession(
        _b(inputs["succession"]),
        PublicIdentity(_b(inputs["confirmer_identity"])),
        user_id=inputs["user_id"],
        confirmer_id=inputs["confirmer_id"],
        new_identity=PublicIdentity(_b(inputs["new_identity"])),
    )
    return {
        "user_id": stated.user_id,
        "confirmer_id": stated.confirmer_id,
        "confirmed_at": stated.confirmed_at,
        "previous_identity": stated.previous_identity.to_bytes().hex(),
        "new_identity": stated.new_identity.to_bytes().hex(),
    }


def encoding_round_trip(inputs: Inputs) -> Result:
    data = _b(inputs["data"])
    text = b64encode(data)
    if b64decode(text) != data:
        pytest.fail("decoding the encoded text does not give the data back")
    return {"text": text}


def encoding_decode(inputs: Inputs) -> Result:
    return {"data": b64decode(inputs["text"]).hex()}


RUNNERS: dict[tuple[str, str], Callable[[Inputs], Result]] = {
    ("export", "make"): export_make,
    ("export", "verify"): export_verify,
    ("identity", "generate"): identity_generate,
    ("identity", "parse"): identity_parse,
    ("kdf", "derive"): kdf_derive,
    ("kdf", "check_served"): kdf_check_served,
    ("invitation", "fragment"): invitation_fragment,
    ("invitation", "parse"): invitation_parse,
    ("invitation", "check"): invitation_check,
    ("bundle", "wrap"): bundle_wrap,
    ("bundle", "unwrap"): bundle_unwrap,
    ("recovery", "generate"): recovery_generate,
    ("recovery", "from_display"): recovery_from_display,
    ("recovery", "prove"): recovery_prove,
    ("recovery", "verify_proof"): recovery_verify_proof,
    ("envelope", "wrap"): envelope_wrap,
    ("envelope", "unwrap"): envelope_unwrap,
    ("envelope", "verify"): envelope_verify,
    ("rotation", "needs_rotation"): rotation_needed,
    ("message", "seal"): message_seal,
    ("message", "open"): message_open,
    ("message", "open_text"): message_open_text,
    ("message", "verify"): message_verify,
    ("envelope", "xwing"): envelope_xwing,
    ("order", "check"): order_check,
    ("pins", "seal"): pins_seal,
    ("pins", "open"): pins_open,
    ("pins", "parse"): pins_parse,
    ("padding", "pad"): padding_pad,
    ("padding", "padded_size"): padding_size,
    ("padding", "unpad"): padding_unpad,
    ("safety", "compute"): safety_compute,
    ("safety", "verify_qr"): safety_verify_qr,
    ("safety", "identity_number"): safety_identity_number,
    ("safety", "verify_identity_qr"): safety_verify_identity_qr,
    ("succession", "sign"): succession_sign,
    ("succession", "verify"): succession_verify,
    ("encoding", "round_trip"): encoding_round_trip,
    ("encoding", "decode"): encoding_decode,
    ("disclosure", "describe"): disclosure_describe,
    ("disclosure", "seal"): disclosure_seal,
    ("disclosure", "open"): disclosure_open,
    ("disclosure", "verify"): disclosure_verify,
    ("disclosure", "open_as_message"): message_open,
    **ATTACHMENT_RUNNERS,
}


def _vector_files() -> list[Path]:
    return sorted(VECTOR_DIR.glob("*.json"))


def _vectors() -> list[Any]:
    cases = []
    for path in _vector_files():
        document = json.loads(path.read_text(encoding="ascii"))
        for vector in document["vectors"]:
            cases.append(pytest.param(path.stem, vector, id=f"{path.stem}:{vector['name']}"))
    return cases


@pytest.mark.parametrize(("file", "vector"), _vectors())
def test_each_vector_gives_exactly_its_expected_result(file: str, vector: dict[str, Any]) -> None:
    run = RUNNERS[(file, vector["operation"])]
    if "error" in vector:
        expected_error = getattr(crypto.errors, vector["error"])
        with pytest.raises(CryptoError) as caught:
            run(vector["inputs"])
        assert type(caught.value) is expected_error, str(caught.value)
    else:
        assert run(vector["inputs"]) == vector["expected"]


def test_every_vector_file_is_generated_and_run() -> None:
    assert sorted(path.name for path in _vector_files()) == sorted(GENERATORS)
    files_with_runners = {file for file, _ in RUNNERS}
    assert files_with_runners == {path.stem for path in _vector_files()}


def test_every_vector_names_one_outcome_and_a_known_error() -> None:
    for path in _vector_files():
        document = json.loads(path.read_text(encoding="ascii"))
        assert set(document) == {"description", "encoding", "vectors"}
        for vector in document["vectors"]:
            assert ("error" in vector) != ("expected" in vector), vector["name"]
            if "error" in vector:
                assert issubclass(getattr(crypto.errors, vector["error"]), CryptoError)
