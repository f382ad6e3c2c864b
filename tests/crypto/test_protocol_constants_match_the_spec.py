"""Labels, sizes and error names in the code agree with crypto/SPEC.md."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import crypto
import crypto.errors
from crypto import _labels

SPEC = (Path(crypto.__file__).resolve().parent / "SPEC.md").read_text(encoding="utf-8")


def test_every_label_is_distinct_ascii_and_versioned() -> None:
    assert len(set(_labels.ALL_LABELS)) == len(_labels.ALL_LABELS)
    for label in _labels.ALL_LABELS:
        assert label.isascii()
        assert label.startswith(b"confide/v1/")
    defined = {
        value
        for name, value in vars(_labels).items()
        if name.isupper() and isinstance(value, bytes)
    }
    assert defined == set(_labels.ALL_LABELS)


def test_every_label_appears_in_the_spec() -> None:
    for label in _labels.ALL_LABELS:
        assert f'"{label.decode()}"' in SPEC, label


def test_every_error_class_is_described_in_the_spec() -> None:
    for name, obj in vars(crypto.errors).items():
        if inspect.isclass(obj) and issubclass(obj, Exception):
            assert f"`{name}`" in SPEC, name


def test_the_errors_form_one_hierarchy() -> None:
    from crypto.errors import (
        BindingError,
        CryptoError,
        DecryptionError,
        FormatError,
        SignatureError,
        UnsupportedVersionError,
        WeakKeyError,
    )

    assert issubclass(UnsupportedVersionError, FormatError)
    for error in (FormatError, DecryptionError, SignatureError, BindingError, WeakKeyError):
        assert error.__bases__ == (CryptoError,)
    assert CryptoError.__bases__ == (Exception,)


def test_the_documented_sizes_hold() -> None:
    assert crypto.PUBLIC_IDENTITY_SIZE == 129
    assert crypto.BUNDLE_SIZE == 106
    assert crypto.ENVELOPE_SIZE == 253
    assert crypto.HEADER_SIZE == 93
    assert crypto.MESSAGE_OVERHEAD == 173
    assert crypto.MAX_PLAINTEXT == 2**20 - 4
    assert crypto.SUCCESSION_SIZE == 347
    for size in ("129", "106", "253", "93", "173", "1048572", "347"):
        assert size in SPEC


def test_the_public_api_is_exported() -> None:
    for name in crypto.__all__:
        assert hasattr(crypto, name), name
    assert (Path(crypto.__file__).resolve().parent / "py.typed").exists()


def _skipped_in_the_spec() -> set[str]:
    start = SPEC.index("The skipped characters are exactly these")
    section = SPEC[start : SPEC.index("An underscore, a full stop", start)]
    # The prose names U+001C and U+001F as a range's ends; both are in the lists too.
    return {chr(int(code, 16)) for code in re.findall(r"U\+([0-9A-F]{4})\b", section)}


def test_a_typed_recovery_key_skips_exactly_the_characters_the_spec_lists() -> None:
    from crypto.recovery import SKIPPED_IN_RECOVERY_KEY

    listed = _skipped_in_the_spec()
    assert len(listed) == 44
    assert listed == SKIPPED_IN_RECOVERY_KEY
    # The whitespace part is what Python calls whitespace today.
    assert {chr(c) for c in range(0x110000) if chr(c).isspace()} <= listed
