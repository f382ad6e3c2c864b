"""Behaviour shared by every type that holds secret key material.

Secret types hide their bytes in ``repr``/``str``, refuse to be pickled or copied (a copy of
a key in a cache, a log or a task queue is a leak), compare in constant time and are not
hashable (a hash of a secret is derived from it and may end up in a log or a dict dump).

Warning: Python cannot wipe memory reliably; the bytes live until the garbage collector
frees them. Keep secret objects short-lived and never convert them to ``str``.
"""

from __future__ import annotations

import hmac
from typing import NoReturn


class Secret:
    """Mixin for secret-holding types; subclasses implement :meth:`_secret_material`."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def _secret_material(self) -> bytes:
        raise NotImplementedError

    def _public_repr(self) -> str:
        """Non-secret fields shown by ``repr``; empty by default."""
        return ""

    def __repr__(self) -> str:
        public = self._public_repr()
        prefix = f"{public}, " if public else ""
        return f"{type(self).__name__}({prefix}secret=<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._secret_material(), other._secret_material())

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"{type(self).__name__} holds secret key material and cannot be pickled or copied"
        )

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        self.__reduce__()
