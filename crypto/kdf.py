"""Password derivation: Argon2id, then two independent subkeys.

::

    master      = Argon2id(NFC(password) as UTF-8, salt(16), opslimit, memlimit, 32 bytes)
    auth_secret = H(master, "confide/v1/auth")      sent to the server, never the password
    kek         = H(master, "confide/v1/key-wrap")  wraps the private identity; never sent

The server stores ``auth_secret`` under its own password hasher. Knowing ``auth_secret``
does not give ``kek``: both are independent BLAKE2b outputs of ``master``.
"""

from __future__ import annotations

import dataclasses
import unicodedata

import nacl.pwhash.argon2id

from . import _labels, _random
from ._fields import require_length, require_type
from ._primitives import KEY_SIZE, h
from ._secret import Secret
from .bundle import WrappingKey
from .encoding import b64encode
from .errors import FormatError, WeakParametersError

__all__ = [
    "DEFAULT_KDF_PARAMS",
    "MAX_MEMLIMIT",
    "MAX_OPSLIMIT",
    "MIN_MEMLIMIT",
    "MIN_OPSLIMIT",
    "SALT_SIZE",
    "KdfParams",
    "PasswordKeys",
    "check_served_params",
    "derive_password_keys",
    "new_salt",
]

MIB = 1024 * 1024
SALT_SIZE = 16
MIN_OPSLIMIT = 2
MAX_OPSLIMIT = 10
MIN_MEMLIMIT = 32 * MIB
MAX_MEMLIMIT = 256 * MIB


@dataclasses.dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost parameters: ``opslimit`` passes and ``memlimit`` bytes of memory.

    The parameters travel from the server to every new browser of the user, so both bounds
    matter: the minimum keeps a hostile server from downgrading the derivation (which would
    make the password cheap to guess from ``auth_secret``), the maximum keeps it from
    freezing a phone. Raises :class:`FormatError` unless ``2 <= opslimit <= 10`` and
    ``32 MiB <= memlimit <= 256 MiB`` with ``memlimit`` a whole number of KiB.
    """

    opslimit: int
    memlimit: int

    def __post_init__(self) -> None:
        for name, value, low, high in (
            ("opslimit", self.opslimit, MIN_OPSLIMIT, MAX_OPSLIMIT),
            ("memlimit", self.memlimit, MIN_MEMLIMIT, MAX_MEMLIMIT),
        ):
            if isinstance(value, bool) or not isinstance(value, int):
                raise FormatError(f"The Argon2id {name} must be an integer, not {value!r}")
            if not low <= value <= high:
                raise FormatError(f"The Argon2id {name} must be from {low} to {high}, not {value}")
        if self.memlimit % 1024:
            raise FormatError(
                f"The Argon2id memlimit must be a whole number of KiB, not {self.memlimit}"
            )


DEFAULT_KDF_PARAMS = KdfParams(opslimit=3, memlimit=64 * MIB)


def check_served_params(params: KdfParams, floor: KdfParams = DEFAULT_KDF_PARAMS) -> KdfParams:
    """``params`` as served by the server for an existing account, if they are no cheaper
    than ``floor`` in passes and in memory; run before anything is derived from them.

    The floor is the client's own sign-up default: an account made by a client never has
    less, so a server that serves less is asking for a password that is cheaper to guess
    from what it receives. Raises :class:`WeakParametersError` naming both sides (and
    :class:`FormatError` when either argument is not a :class:`KdfParams`).
    """
    params = require_type(params, KdfParams, "The served KDF parameters")
    floor = require_type(floor, KdfParams, "The KDF floor")
    if params.opslimit < floor.opslimit or params.memlimit < floor.memlimit:
        raise WeakParametersError(
            f"The server asked for a cheaper password derivation ({_cost(params)}) than this "
            f"client allows (at least {_cost(floor)}); the password was not used"
        )
    return params


def _cost(params: KdfParams) -> str:
    passes = "pass" if params.opslimit == 1 else "passes"
    return f"{params.opslimit} {passes}, {params.memlimit // MIB} MiB"


class PasswordKeys(Secret):
    """The two keys derived from a password; both are secrets and hidden by ``repr``."""

    __slots__ = ("_auth_secret", "_kek")

    def __init__(self, auth_secret: bytes, kek: WrappingKey) -> None:
        self._auth_secret = require_length(auth_secret, KEY_SIZE, "The auth secret")
        self._kek = require_type(kek, WrappingKey, "The key-encryption key")

    @property
    def auth_secret(self) -> bytes:
        """The 32-byte secret sent to the server at sign-up and login, in place of the
        password. Treat it as a password: never log it."""
        return self._auth_secret

    def auth_secret_b64(self) -> str:
        """``auth_secret`` in the transport encoding (base64url, no padding, 43 chars)."""
        return b64encode(self._auth_secret)

    @property
    def kek(self) -> WrappingKey:
        """The key-encryption key that wraps the private identity; it never leaves the client."""
        return self._kek

    def _secret_material(self) -> bytes:
        return self._auth_secret + self._kek._secret_material()


def new_salt() -> bytes:
    """A fresh random 16-byte Argon2id salt, made once per user at sign-up."""
    return _random.random_bytes(SALT_SIZE)


def derive_password_keys(password: str, salt: bytes, params: KdfParams) -> PasswordKeys:
    """Derive ``auth_secret`` and ``kek`` from a password with Argon2id (32-byte master).

    The password is NFC-normalised and encoded as UTF-8 first, so the same password typed
    on different systems gives the same keys. Costs about 0.1 s at the default parameters.

    Raises :class:`FormatError` for an empty or non-string password, a password that is not
    valid Unicode text (lone surrogates), a salt that is not 16 bytes, or ``params`` that
    are not a :class:`KdfParams`.
    """
    master = _derive_master(password, salt, params)
    return PasswordKeys(h(master, _labels.AUTH), WrappingKey(h(master, _labels.KEY_WRAP)))


def _derive_master(password: str, salt: bytes, params: KdfParams) -> bytes:
    """The 32-byte Argon2id master key, after checking every argument."""
    if not isinstance(password, str):
        raise FormatError(f"The password must be a str, not {type(password).__name__}")
    if not password:
        raise FormatError("The password must not be empty")
    salt = require_length(salt, SALT_SIZE, "The salt")
    params = require_type(params, KdfParams, "The KDF parameters")
    try:
        encoded = unicodedata.normalize("NFC", password).encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError("The password is not valid Unicode text") from None
    return nacl.pwhash.argon2id.kdf(
        KEY_SIZE, encoded, salt, opslimit=params.opslimit, memlimit=params.memlimit
    )
