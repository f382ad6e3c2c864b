"""The Confide end-to-end encryption protocol on PyNaCl (libsodium).

Pure: imports only the standard library and PyNaCl. The formats, derivations and the
checks a receiver must make are specified in ``crypto/SPEC.md``; known-answer vectors shared
with the browser implementation live in ``crypto/vectors``.

Every failure raises a subclass of :class:`CryptoError`. Nonces, ephemeral keys and fresh
secrets are made inside the package; no public function accepts them.
"""

from __future__ import annotations

from .account import (
    RecoveryMaterial,
    SignUpMaterial,
    make_recovery_material,
    make_sign_up_material,
)
from .bundle import (
    BUNDLE_SIZE,
    BUNDLE_VERSION,
    BundleKind,
    WrappingKey,
    parse_bundle,
    unwrap_identity,
    wrap_identity,
)
from .conversation import (
    ENVELOPE_SIZE,
    ENVELOPE_VERSION,
    ROTATE_AFTER_MESSAGES,
    ROTATE_AFTER_SECONDS,
    ConversationKey,
    EnvelopeInfo,
    epoch_needs_rotation,
    parse_envelope,
    unwrap_conversation_key,
    verify_envelope,
    wrap_conversation_key,
)
from .encoding import b64decode, b64encode
from .errors import (
    BindingError,
    CryptoError,
    DecryptionError,
    FormatError,
    SignatureError,
    UnsupportedVersionError,
    WeakKeyError,
    WeakParametersError,
)
from .identity import IDENTITY_VERSION, PUBLIC_IDENTITY_SIZE, IdentityKeyPair, PublicIdentity
from .kdf import (
    DEFAULT_KDF_PARAMS,
    KdfParams,
    PasswordKeys,
    check_served_params,
    derive_password_keys,
    new_salt,
)
from .message import (
    HEADER_SIZE,
    MESSAGE_OVERHEAD,
    MESSAGE_VERSION,
    MessageInfo,
    open_message,
    open_text,
    parse_message,
    seal_message,
    seal_text,
    verify_message,
)
from .padding import MAX_PLAINTEXT, pad, padded_size, unpad
from .recovery import (
    RECOVERY_CHALLENGE_SIZE,
    RecoveryClaim,
    RecoveryKey,
    recovery_statement,
    sign_recovery,
    verify_recovery,
)
from .safety import (
    check_invitation_therapist,
    fingerprint,
    format_identity_number,
    format_safety_number,
    identity_number,
    identity_qr_payload,
    invitation_fragment,
    parse_invitation_fragment,
    safety_number,
    safety_qr_payload,
    verify_identity_qr,
    verify_safety_qr,
)
from .succession import (
    SUCCESSION_SIZE,
    SUCCESSION_VERSION,
    Succession,
    sign_succession,
    verify_succession,
)

__all__ = [
    "BUNDLE_SIZE",
    "BUNDLE_VERSION",
    "DEFAULT_KDF_PARAMS",
    "ENVELOPE_SIZE",
    "ENVELOPE_VERSION",
    "HEADER_SIZE",
    "IDENTITY_VERSION",
    "MAX_PLAINTEXT",
    "MESSAGE_OVERHEAD",
    "MESSAGE_VERSION",
    "PUBLIC_IDENTITY_SIZE",
    "RECOVERY_CHALLENGE_SIZE",
    "ROTATE_AFTER_MESSAGES",
    "ROTATE_AFTER_SECONDS",
    "SUCCESSION_SIZE",
    "SUCCESSION_VERSION",
    "BindingError",
    "BundleKind",
    "ConversationKey",
    "CryptoError",
    "DecryptionError",
    "EnvelopeInfo",
    "FormatError",
    "IdentityKeyPair",
    "KdfParams",
    "MessageInfo",
    "PasswordKeys",
    "PublicIdentity",
    "RecoveryClaim",
    "RecoveryKey",
    "RecoveryMaterial",
    "SignUpMaterial",
    "SignatureError",
    "Succession",
    "UnsupportedVersionError",
    "WeakKeyError",
    "WeakParametersError",
    "WrappingKey",
    "b64decode",
    "b64encode",
    "check_invitation_therapist",
    "check_served_params",
    "derive_password_keys",
    "epoch_needs_rotation",
    "fingerprint",
    "format_identity_number",
    "format_safety_number",
    "identity_number",
    "identity_qr_payload",
    "invitation_fragment",
    "make_recovery_material",
    "make_sign_up_material",
    "new_salt",
    "open_message",
    "open_text",
    "pad",
    "parse_invitation_fragment",
    "padded_size",
    "parse_bundle",
    "parse_envelope",
    "parse_message",
    "recovery_statement",
    "safety_number",
    "safety_qr_payload",
    "seal_message",
    "seal_text",
    "sign_recovery",
    "sign_succession",
    "unpad",
    "unwrap_conversation_key",
    "unwrap_identity",
    "verify_envelope",
    "verify_message",
    "verify_identity_qr",
    "verify_recovery",
    "verify_safety_qr",
    "verify_succession",
    "wrap_conversation_key",
    "wrap_identity",
]
