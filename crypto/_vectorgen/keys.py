"""Vectors for identities, password derivation, key bundles and recovery keys."""

from __future__ import annotations

import unicodedata
from dataclasses import replace as replaced

from .. import _labels
from .._fields import u64
from .._primitives import aead_encrypt, h
from ..bundle import BundleKind, WrappingKey, wrap_identity
from ..errors import (
    BindingError,
    CryptoError,
    DecryptionError,
    FormatError,
    SignatureError,
    UnsupportedVersionError,
    WeakKeyError,
)
from ..identity import IdentityKeyPair
from ..kdf import (
    DEFAULT_KDF_PARAMS,
    KdfParams,
    _derive_master,
    check_served_params,
    derive_password_keys,
)
from ..recovery import (
    SKIPPED_IN_RECOVERY_KEY,
    RecoveryClaim,
    RecoveryKey,
    recovery_statement,
    sign_recovery,
)
from .common import (
    LOW_ORDER_POINTS,
    NO_DRAW,
    PERSONA_SINCE,
    JsonObject,
    document,
    fails,
    flip,
    identity_secret,
    ok,
    persona,
    persona_v2,
    replace,
)
from .rng import deterministic_random


def _identity_expected(identity: IdentityKeyPair) -> JsonObject:
    public = identity.public
    return {
        "version": public.version,
        "sign_pk": identity.sign_key.hex(),
        "enc_pk": identity.enc_key.hex(),
        "xwing_pk": public.xwing_key.hex() if public.xwing_key is not None else None,
        "since": public.since,
        "public_identity": public.to_bytes().hex(),
        "fingerprint": public.fingerprint().hex(),
    }


def identity_file() -> str:
    vectors: list[JsonObject] = []
    for name in ("client", "therapist"):
        with deterministic_random(f"persona/{name}") as rng:
            identity = IdentityKeyPair.generate(since=None)
        vectors.append(
            ok(
                f"generate-{name}",
                "Generation draws the Ed25519 seed, then the X25519 secret key; with no "
                "'since' the public identity is version 1: 0x01 || sign_pk || enc_pk || "
                "self-signature.",
                "generate",
                {"random": [value.hex() for value in rng.drawn], "since": None},
                {"secret": identity_secret(identity).hex(), **_identity_expected(identity)},
            )
        )
        with deterministic_random(f"persona/{name}") as rng:
            identity = IdentityKeyPair.generate(since=PERSONA_SINCE)
        vectors.append(
            ok(
                f"generate-v2-{name}",
                "The same draws with 'since': a version-2 identity, 0x02 || sign_pk || "
                "enc_pk || xwing_pk || u64(since) || self-signature, where xwing_pk is the "
                "X-Wing public key of the seed H(sign_seed, 'confide/v1/xwing-seed').",
                "generate",
                {"random": [value.hex() for value in rng.drawn], "since": PERSONA_SINCE},
                {"secret": identity_secret(identity).hex(), **_identity_expected(identity)},
            )
        )
    client = persona("client")
    good = client.public.to_bytes()

    def parse_fails(name: str, comment: str, data: bytes, error: type[CryptoError]) -> JsonObject:
        return fails(name, comment, "parse", {"public_identity": data.hex()}, error)

    vectors.append(
        ok(
            "parse-valid",
            "A valid public identity parses to its keys.",
            "parse",
            {"public_identity": good.hex()},
            _identity_expected(client),
        )
    )
    vectors += [
        parse_fails("parse-empty", "Empty input.", b"", FormatError),
        parse_fails("parse-truncated", "One byte short (128 bytes).", good[:-1], FormatError),
        parse_fails("parse-over-long", "One extra byte (130 bytes).", good + b"\x00", FormatError),
        parse_fails(
            "parse-unknown-version",
            "Version byte 0x03.",
            replace(good, 0, b"\x03"),
            UnsupportedVersionError,
        ),
        parse_fails(
            "parse-version-1-marked-2",
            "A valid version-1 identity with its version byte set to 0x02: too short for "
            "version 2 (1,353 bytes).",
            replace(good, 0, b"\x02"),
            FormatError,
        ),
        parse_fails(
            "parse-flipped-version",
            "Version byte flipped to 0x00.",
            flip(good, 0),
            UnsupportedVersionError,
        ),
        parse_fails(
            "parse-flipped-sign-pk", "A byte of sign_pk flipped.", flip(good, 5), SignatureError
        ),
        parse_fails(
            "parse-flipped-enc-pk", "A byte of enc_pk flipped.", flip(good, 40), SignatureError
        ),
        parse_fails(
            "parse-flipped-signature",
            "A byte of the signature flipped.",
            flip(good, 100),
            SignatureError,
        ),
        parse_fails(
            "parse-enc-pk-of-another-identity",
            "The client's sign_pk and signature with the therapist's enc_pk.",
            replace(good, 33, persona("therapist").enc_key),
            SignatureError,
        ),
    ]
    for point_name, point in LOW_ORDER_POINTS.items():
        signed = b"\x01" + client.sign_key + point
        forged = signed + client._sign(_labels.IDENTITY + signed)
        vectors.append(
            parse_fails(
                f"parse-low-order-enc-pk-{point_name}",
                f"Correctly self-signed, but enc_pk is the low-order point u = {point_name}.",
                forged,
                WeakKeyError,
            )
        )
    vectors += _identity_v2_vectors()
    return document(
        "Public identities (129 bytes, version 2: 1,353 bytes) and identity generation. "
        "'generate' replays 'random' through IdentityKeyPair.generate(since); 'parse' is "
        "PublicIdentity.from_bytes(). 'since' and 'xwing_pk' are null for version 1.",
        vectors,
    )


def _identity_v2_vectors() -> list[JsonObject]:
    client = persona_v2("client")
    good = client.public.to_bytes()
    body_end = len(good) - 64

    def signed(body: bytes) -> bytes:
        return body + client._sign(_labels.IDENTITY + body)

    def parse_fails(name: str, comment: str, data: bytes, error: type[CryptoError]) -> JsonObject:
        return fails(name, comment, "parse", {"public_identity": data.hex()}, error)

    mlkem_size = 1184
    out_of_range = b"\xff" * 384 + good[65 + 384 : body_end]
    return [
        ok(
            "parse-v2-valid",
            "A valid version-2 identity parses to its keys and time; its fingerprint is "
            "the one of its version-1 form (sign_pk and enc_pk only).",
            "parse",
            {"public_identity": good.hex()},
            _identity_expected(client),
        ),
        parse_fails("parse-v2-truncated", "One byte short (1,352 bytes).", good[:-1], FormatError),
        parse_fails(
            "parse-v2-over-long", "One extra byte (1,354 bytes).", good + b"\x00", FormatError
        ),
        parse_fails(
            "parse-v2-flipped-xwing-pk",
            "A byte of xwing_pk flipped.",
            flip(good, 65 + 700),
            SignatureError,
        ),
        parse_fails(
            "parse-v2-flipped-since",
            "A byte of since flipped.",
            flip(good, body_end - 1),
            SignatureError,
        ),
        parse_fails(
            "parse-v2-since-above-2-53",
            "Correctly self-signed, but since is 2^53 (above 2^53 - 1).",
            signed(good[: 65 + 1216] + u64(2**53)),
            FormatError,
        ),
        parse_fails(
            "parse-v2-mlkem-out-of-range",
            "Correctly self-signed, but the first 256 coefficients of the ML-KEM key are "
            "4095, above q - 1 = 3328 (FIPS 203's modulus check).",
            signed(good[:65] + out_of_range[:mlkem_size] + good[65 + mlkem_size : body_end]),
            WeakKeyError,
        ),
        parse_fails(
            "parse-v2-low-order-xwing-x25519",
            "Correctly self-signed, but the X25519 part of xwing_pk is the low-order point u = 0.",
            signed(good[: 65 + mlkem_size] + bytes(32) + good[65 + 1216 : body_end]),
            WeakKeyError,
        ),
    ]


SALT = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
SMALL = KdfParams(opslimit=2, memlimit=32 * 1024 * 1024)


def _kdf_ok(name: str, comment: str, password: str, params: KdfParams) -> JsonObject:
    keys = derive_password_keys(password, SALT, params)
    return ok(
        name,
        comment,
        "derive",
        {
            "password_text": password,
            "salt": SALT.hex(),
            "opslimit": params.opslimit,
            "memlimit": params.memlimit,
        },
        {
            "master": _derive_master(password, SALT, params).hex(),
            "auth_secret": keys.auth_secret.hex(),
            "auth_secret_b64": keys.auth_secret_b64(),
            "kek": keys.kek._secret_material().hex(),
        },
    )


def _kdf_fails(
    name: str, comment: str, password: str, salt: bytes, opslimit: int, memlimit: int
) -> JsonObject:
    inputs: JsonObject = {
        "password_text": password,
        "salt": salt.hex(),
        "opslimit": opslimit,
        "memlimit": memlimit,
    }
    return fails(name, comment, "derive", inputs, FormatError)


def kdf_file() -> str:
    mib = 1024 * 1024
    composed = "caf\u00e9 \u00e0 l'heure"
    decomposed = unicodedata.normalize("NFD", composed)
    vectors = [
        _kdf_ok(
            "ascii-small-params",
            "ASCII password, opslimit 2, memlimit 32 MiB.",
            "correct horse battery staple",
            SMALL,
        ),
        _kdf_ok("nfc-password", "Precomposed (NFC) non-ASCII password.", composed, SMALL),
        _kdf_ok(
            "nfd-password-normalised",
            "The same password typed in decomposed form (NFD) gives the same keys as "
            "'nfc-password': passwords are NFC-normalised before UTF-8 encoding.",
            decomposed,
            SMALL,
        ),
        _kdf_ok(
            "default-params",
            "The default parameters: opslimit 3, memlimit 64 MiB.",
            "correct horse battery staple",
            DEFAULT_KDF_PARAMS,
        ),
        _kdf_fails("empty-password", "The empty password is refused.", "", SALT, 2, 32 * mib),
        _kdf_fails(
            "lone-high-surrogate-password",
            "A password that is not valid Unicode text (a high surrogate with no low one after "
            "it) is refused, not replaced with U+FFFD or encoded as CESU-8.",
            "pass\ud800word",
            SALT,
            2,
            32 * mib,
        ),
        _kdf_fails(
            "lone-low-surrogate-password",
            "A low surrogate with no high one before it, at the end.",
            "password\udc00",
            SALT,
            2,
            32 * mib,
        ),
        _kdf_fails(
            "reversed-surrogate-pair-password",
            "A low surrogate then a high one is two lone surrogates, not a pair.",
            "pass\udc00\ud800word",
            SALT,
            2,
            32 * mib,
        ),
        _kdf_fails("short-salt", "A 15-byte salt.", "pw", SALT[:15], 2, 32 * mib),
        _kdf_fails("long-salt", "A 17-byte salt.", "pw", SALT + b"\x10", 2, 32 * mib),
        _kdf_fails(
            "opslimit-too-low", "opslimit 1 is below the minimum of 2.", "pw", SALT, 1, 32 * mib
        ),
        _kdf_fails(
            "opslimit-too-high", "opslimit 11 is above the maximum of 10.", "pw", SALT, 11, 32 * mib
        ),
        _kdf_fails(
            "memlimit-too-low",
            "memlimit 16 MiB is below the minimum of 32 MiB.",
            "pw",
            SALT,
            2,
            16 * mib,
        ),
        _kdf_fails(
            "memlimit-too-high",
            "memlimit 512 MiB is above the maximum of 256 MiB.",
            "pw",
            SALT,
            2,
            512 * mib,
        ),
        _kdf_fails(
            "memlimit-not-whole-kib",
            "memlimit must be a multiple of 1024 bytes.",
            "pw",
            SALT,
            2,
            32 * mib + 1,
        ),
        *_served_vectors(),
    ]
    return document(
        "Password derivation: master = Argon2id(NFC(password) as UTF-8, salt, opslimit, "
        "memlimit, 32), auth_secret = H(master, 'confide/v1/auth'), kek = H(master, "
        "'confide/v1/key-wrap'). memlimit is in bytes. 'check_served' is the floor a client "
        "applies to the parameters a server serves for an existing account, before deriving: "
        "its own sign-up default, opslimit 3 and memlimit 64 MiB.",
        vectors,
    )


def _served_vectors() -> list[JsonObject]:
    mib = 1024 * 1024

    def served(name: str, comment: str, opslimit: int, memlimit: int) -> JsonObject:
        inputs: JsonObject = {"opslimit": opslimit, "memlimit": memlimit}
        try:
            params = check_served_params(KdfParams(opslimit, memlimit))
        except CryptoError as exc:
            return fails(name, comment, "check_served", inputs, type(exc))
        return ok(
            name,
            comment,
            "check_served",
            inputs,
            {"opslimit": params.opslimit, "memlimit": params.memlimit},
        )

    return [
        served("served-default", "The sign-up default is accepted.", 3, 64 * mib),
        served("served-more-passes", "More passes than the floor are accepted.", 4, 64 * mib),
        served("served-more-memory", "More memory than the floor is accepted.", 3, 128 * mib),
        served("served-maximum", "The format's maximum is accepted.", 10, 256 * mib),
        served(
            "served-fewer-passes",
            "2 passes are valid parameters but below the floor of 3.",
            2,
            64 * mib,
        ),
        served(
            "served-less-memory",
            "32 MiB is valid but below the floor of 64 MiB, even with more passes.",
            10,
            32 * mib,
        ),
        served(
            "served-one-kib-short",
            "One KiB below the floor's memory.",
            3,
            64 * mib - 1024,
        ),
        served("served-both-lower", "The format's minimum: below the floor on both.", 2, 32 * mib),
        served("served-out-of-bounds", "1 pass is not valid parameters at all.", 1, 64 * mib),
    ]


def _bundle_inputs(blob: bytes, key: bytes, expected_identity: bytes) -> JsonObject:
    return {
        "bundle": blob.hex(),
        "wrapping_key": key.hex(),
        "expected_identity": expected_identity.hex(),
    }


def bundle_file() -> str:
    client = persona("client")
    therapist = persona("therapist")
    password_key = h(b"fixed password-derived key for vectors".ljust(32, b"."), b"kek")
    recovery = RecoveryKey(h(b"fixed recovery key for vectors..".ljust(32, b"."), b"rk"))
    recovery_key = recovery.wrapping_key()._secret_material()
    vectors: list[JsonObject] = []
    blobs: dict[BundleKind, bytes] = {}
    for kind, key in ((BundleKind.PASSWORD, password_key), (BundleKind.RECOVERY, recovery_key)):
        label = kind.name.lower()
        with deterministic_random(f"bundle/{label}") as rng:
            blob = wrap_identity(client, WrappingKey(key), kind)
        blobs[kind] = blob
        vectors.append(
            ok(
                f"wrap-{label}",
                f"Wrapping the client's identity with a {label} key (kind {int(kind)}); "
                "'random' is the nonce.",
                "wrap",
                {
                    "secret": identity_secret(client).hex(),
                    "wrapping_key": key.hex(),
                    "kind": int(kind),
                    "random": [value.hex() for value in rng.drawn],
                },
                {"bundle": blob.hex()},
            )
        )
    blob = blobs[BundleKind.PASSWORD]
    public = client.public.to_bytes()
    vectors.append(
        ok(
            "unwrap-password",
            "The password bundle unwraps to the client's identity.",
            "unwrap",
            _bundle_inputs(blob, password_key, public),
            {"secret": identity_secret(client).hex(), "kind": 1},
        )
    )

    def unwrap_fails(
        name: str,
        comment: str,
        data: bytes,
        error: type[CryptoError],
        key: bytes = password_key,
        expected: bytes = public,
    ) -> JsonObject:
        return fails(name, comment, "unwrap", _bundle_inputs(data, key, expected), error)

    # A bundle whose AD names the client but whose plaintext is the therapist's identity.
    nonce = blob[2:26]
    forged_ct = aead_encrypt(
        password_key,
        nonce,
        identity_secret(therapist),
        _labels.KEY_BUNDLE + b"\x01\x01" + client.sign_key,
    )
    another_identity = b"\x01\x01" + nonce + forged_ct
    vectors += [
        unwrap_fails(
            "wrong-key",
            "A different wrapping key (wrong password).",
            blob,
            DecryptionError,
            key=recovery_key,
        ),
        unwrap_fails(
            "other-identity-expected",
            "The bundle is the client's, but the therapist's identity is expected.",
            blob,
            DecryptionError,
            expected=therapist.public.to_bytes(),
        ),
        unwrap_fails("empty", "Empty input.", b"", FormatError),
        unwrap_fails("truncated", "105 bytes.", blob[:-1], FormatError),
        unwrap_fails("over-long", "107 bytes.", blob + b"\x00", FormatError),
        unwrap_fails(
            "unknown-version", "Version 0x02.", replace(blob, 0, b"\x02"), UnsupportedVersionError
        ),
        unwrap_fails(
            "flipped-version", "Version flipped to 0x00.", flip(blob, 0), UnsupportedVersionError
        ),
        unwrap_fails("unknown-kind", "Kind 0x03.", replace(blob, 1, b"\x03"), FormatError),
        unwrap_fails("flipped-kind-to-zero", "Kind flipped to 0x00.", flip(blob, 1), FormatError),
        unwrap_fails(
            "kind-changed-to-recovery",
            "Kind changed from 0x01 to 0x02: the kind is in the associated data.",
            replace(blob, 1, b"\x02"),
            DecryptionError,
        ),
        unwrap_fails("flipped-nonce", "A nonce byte flipped.", flip(blob, 10), DecryptionError),
        unwrap_fails(
            "flipped-ciphertext", "A ciphertext byte flipped.", flip(blob, 50), DecryptionError
        ),
        unwrap_fails("flipped-tag", "A tag byte flipped.", flip(blob, 100), DecryptionError),
        unwrap_fails(
            "keys-of-another-identity",
            "Authentic for the client's sign_pk, but the plaintext is the therapist's keys.",
            another_identity,
            BindingError,
        ),
        unwrap_fails(
            "expected-identity-not-signed",
            "The expected identity is not a valid public identity (its signature byte flipped): "
            "it is parsed, and refused, before the bundle is opened.",
            blob,
            SignatureError,
            expected=flip(public, 100),
        ),
        unwrap_fails(
            "expected-identity-truncated",
            "The expected identity is 128 bytes.",
            blob,
            FormatError,
            expected=public[:-1],
        ),
    ]
    bad_kinds: tuple[tuple[str, str, object], ...] = (
        ("wrap-kind-zero", "Kind 0x00 is not a bundle kind.", 0),
        ("wrap-kind-three", "Kind 0x03 is not a bundle kind.", 3),
        (
            "wrap-kind-boolean",
            "A boolean is not a kind, though some languages count it as 1.",
            True,
        ),
        ("wrap-kind-text", "The text '1' is not a kind.", "1"),
    )
    for name, comment, bad_kind in bad_kinds:
        vectors.append(
            fails(
                name,
                comment + NO_DRAW,
                "wrap",
                {
                    "secret": identity_secret(client).hex(),
                    "wrapping_key": password_key.hex(),
                    "kind": bad_kind,
                    "random": [],
                },
                FormatError,
            )
        )
    return document(
        "Key bundles (106 bytes): 0x01 || kind || nonce(24) || AEAD(wrapping_key, nonce, "
        "sign_seed || enc_sk, 'confide/v1/key-bundle' || 0x01 || kind || sign_pk). "
        "'unwrap' takes the expected public identity (129 bytes).",
        vectors,
    )


def recovery_file() -> str:
    vectors: list[JsonObject] = []
    with deterministic_random("recovery/generate") as rng:
        recovery = RecoveryKey.generate()
    key = recovery._secret_material()
    display = recovery.display()
    vectors.append(
        ok(
            "generate",
            "'random' is the 32-byte key; display is base32(key || check) in groups of 4.",
            "generate",
            {"random": [value.hex() for value in rng.drawn]},
            {
                "key": key.hex(),
                "check": h(key, _labels.RECOVERY_CHECK)[:3].hex(),
                "display_text": display,
                "wrapping_key": recovery.wrapping_key()._secret_material().hex(),
            },
        )
    )
    compact = display.replace("-", "")
    accepted = {
        "from-display-canonical": ("The displayed form.", display),
        "from-display-lower-case": ("Lower case is accepted.", display.lower()),
        "from-display-no-separators": ("Without dashes.", compact),
        "from-display-spaces": (
            "Spaces instead of dashes, with surrounding whitespace.",
            "  " + display.replace("-", " ") + "\n",
        ),
        "from-display-typographic-dashes": (
            "En dashes, as a phone's keyboard writes for '--', and a minus sign.",
            display.replace("-", "\u2013", 6).replace("-", "\u2212"),
        ),
        "from-display-every-skipped-character": (
            "Each of the characters a reader skips (SPEC.md, Recovery key: whitespace, dashes, "
            "invisible characters), one between each pair of key characters.",
            _interleave(compact, sorted(SKIPPED_IN_RECOVERY_KEY)),
        ),
    }
    for name, (comment, text) in accepted.items():
        vectors.append(
            ok(name, comment, "from_display", {"display_text": text}, {"key": key.hex()})
        )
    mistyped = compact[:10] + ("B" if compact[10] != "B" else "C") + compact[11:]
    rejected = {
        "from-display-mistyped": (
            "One character changed: the checksum catches the typo.",
            mistyped,
        ),
        "from-display-invalid-character": (
            "The digit 1 is not in the base32 alphabet.",
            "1" + compact[1:],
        ),
        "from-display-too-short": ("55 characters.", compact[:-1]),
        "from-display-too-long": ("57 characters.", compact + "A"),
        "from-display-empty": ("Empty input.", ""),
        "from-display-only-separators": ("Only dashes and spaces.", "---- ----"),
        "from-display-underscore": (
            "An underscore is not a dash: only the listed characters are skipped.",
            display.replace("-", "_"),
        ),
        "from-display-hyphen-bullet": (
            "U+2043 HYPHEN BULLET looks like a dash but is not one of the listed characters.",
            display.replace("-", "\u2043"),
        ),
        "from-display-full-width-letter": (
            "A full-width letter (U+FF21) is not upper-cased or folded to 'A'.",
            "\uff21" + compact[1:],
        ),
        "from-display-kelvin-sign": (
            "U+212A KELVIN SIGN: only ASCII letters are upper-cased, so it is not 'K'.",
            "\u212a" + compact[1:],
        ),
        "from-display-dotless-i": (
            "U+0131 dotless i, which some languages upper-case to 'I', is refused.",
            "\u0131" + compact[1:],
        ),
    }
    for name, (comment, text) in rejected.items():
        vectors.append(fails(name, comment, "from_display", {"display_text": text}, FormatError))
    vectors += _proof_vectors()
    return document(
        "Recovery keys: check = H(key, 'confide/v1/recovery-check')[0:3]; display = RFC 4648 "
        "base32 (upper case, no padding) of key || check, in 14 groups of 4 joined by '-'; "
        "wrapping key = H(key, 'confide/v1/recovery-wrap'). Recovery proofs: "
        "Ed25519-Sign(sign_sk, 'confide/v1/recovery-proof' || 0x01 || challenge || "
        "u32(len(e)) || e || salt || u32(opslimit) || u32(memlimit) || "
        "BLAKE2b-256(auth_secret) || key_bundle), e = UTF-8(email).",
        vectors,
    )


def _interleave(text: str, separators: list[str]) -> str:
    """``text`` with ``separators`` placed one after each character, cycling through them."""
    return "".join(char + separators[i % len(separators)] for i, char in enumerate(text))


def _claim_inputs(claim: RecoveryClaim) -> JsonObject:
    return {
        "challenge": claim.challenge.hex(),
        "email_text": claim.email,
        "salt": claim.salt.hex(),
        "opslimit": claim.params.opslimit,
        "memlimit": claim.params.memlimit,
        "auth_secret": claim.auth_secret.hex(),
        "key_bundle": claim.key_bundle.hex(),
    }


def _proof_vectors() -> list[JsonObject]:
    client = persona("client")
    therapist = persona("therapist")
    kek = WrappingKey(h(b"fixed new password key for proofs".ljust(32, b"."), b"kek"))
    with deterministic_random("recovery/new-bundle"):
        key_bundle = wrap_identity(client, kek, BundleKind.PASSWORD)
    with deterministic_random("recovery/other-kind"):
        recovery_kind = wrap_identity(client, kek, BundleKind.RECOVERY)
    claim = RecoveryClaim(
        challenge=h(b"fixed recovery challenge".ljust(32, b"."), b"challenge"),
        email="clara@practice.invalid",
        salt=h(b"fixed new salt for proofs".ljust(32, b"."), b"salt")[:16],
        params=DEFAULT_KDF_PARAMS,
        auth_secret=h(b"fixed new auth secret for proofs".ljust(32, b"."), b"auth"),
        key_bundle=key_bundle,
    )
    unicode_claim = RecoveryClaim(
        challenge=claim.challenge,
        email="zo\u00eb@praxis.invalid",
        salt=claim.salt,
        params=KdfParams(opslimit=2, memlimit=32 * 1024 * 1024),
        auth_secret=claim.auth_secret,
        key_bundle=key_bundle,
    )
    vectors: list[JsonObject] = []
    for name, comment, signed in (
        ("prove", "The client's identity signs its new password material.", claim),
        (
            "prove-unicode-email",
            "The email enters as UTF-8, exactly as sent (not normalised); minimum parameters.",
            unicode_claim,
        ),
    ):
        vectors.append(
            ok(
                name,
                comment,
                "prove",
                {"secret": identity_secret(client).hex(), **_claim_inputs(signed)},
                {
                    "statement": recovery_statement(signed).hex(),
                    "proof": sign_recovery(client, signed).hex(),
                },
            )
        )
    proof = sign_recovery(client, claim)

    def verify(
        claim: RecoveryClaim = claim,
        proof: bytes = proof,
        identity: bytes = client.public.to_bytes(),
    ) -> JsonObject:
        return {"public_identity": identity.hex(), "proof": proof.hex(), **_claim_inputs(claim)}

    vectors.append(
        ok("verify-proof", "The proof verifies under the identity.", "verify_proof", verify(), {})
    )
    altered = {
        "verify-proof-other-challenge": (
            "Another challenge.",
            replaced(claim, challenge=flip(claim.challenge, 0)),
        ),
        "verify-proof-other-email": (
            "The email in another case: signed as sent, compared byte for byte.",
            replaced(claim, email="Clara@practice.invalid"),
        ),
        "verify-proof-other-salt": ("Another salt.", replaced(claim, salt=flip(claim.salt, 15))),
        "verify-proof-other-opslimit": (
            "Another opslimit.",
            replaced(claim, params=KdfParams(4, claim.params.memlimit)),
        ),
        "verify-proof-other-memlimit": (
            "Another memlimit.",
            replaced(claim, params=KdfParams(claim.params.opslimit, claim.params.memlimit + 1024)),
        ),
        "verify-proof-other-auth-secret": (
            "Another authentication secret.",
            replaced(claim, auth_secret=flip(claim.auth_secret, 31)),
        ),
        "verify-proof-other-key-bundle": (
            "Another nonce in the key bundle.",
            replaced(claim, key_bundle=flip(key_bundle, 2)),
        ),
    }
    for name, (comment, other) in altered.items():
        vectors.append(fails(name, comment, "verify_proof", verify(claim=other), SignatureError))
    vectors += [
        fails(
            "verify-proof-flipped",
            "One bit of the proof flipped.",
            "verify_proof",
            verify(proof=flip(proof, 10)),
            SignatureError,
        ),
        fails(
            "verify-proof-other-identity",
            "A proof checked under another identity (the therapist's).",
            "verify_proof",
            verify(identity=therapist.public.to_bytes()),
            SignatureError,
        ),
        fails(
            "verify-proof-signed-by-another-identity",
            "The same material signed by another identity.",
            "verify_proof",
            verify(proof=sign_recovery(therapist, claim)),
            SignatureError,
        ),
        fails(
            "verify-proof-truncated",
            "A proof of 63 bytes.",
            "verify_proof",
            verify(proof=proof[:-1]),
            FormatError,
        ),
        fails(
            "verify-proof-recovery-kind-bundle",
            "The new bundle must be a password bundle (kind 0x01), checked before the proof.",
            "verify_proof",
            verify(claim=replaced(claim, key_bundle=recovery_kind)),
            FormatError,
        ),
        fails(
            "verify-proof-short-challenge",
            "A challenge of 31 bytes.",
            "verify_proof",
            verify(claim=replaced(claim, challenge=claim.challenge[:31])),
            FormatError,
        ),
        fails(
            "verify-proof-empty-email",
            "An empty email.",
            "verify_proof",
            verify(claim=replaced(claim, email="")),
            FormatError,
        ),
        fails(
            "prove-short-salt",
            "A salt of 15 bytes is refused before signing.",
            "prove",
            {
                "secret": identity_secret(client).hex(),
                **_claim_inputs(replaced(claim, salt=claim.salt[:15])),
            },
            FormatError,
        ),
    ]
    return vectors
