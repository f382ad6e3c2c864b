"""The single source of randomness of the ``crypto`` package.

Every nonce, ephemeral key and fresh secret in the package comes from :func:`random_bytes`,
which reads the operating system's CSPRNG through PyNaCl. Modules call it as
``_random.random_bytes(n)`` (an attribute look-up at call time) so that the known-answer
vector generator can substitute a deterministic source for the duration of a generation run.

Warning: substituting this function anywhere but in the vector generator and its tests
destroys every security property of the package.
"""

from __future__ import annotations

import nacl.utils

from .errors import FormatError

__all__ = ["random_bytes"]


def random_bytes(n: int) -> bytes:
    """Return ``n`` bytes from the operating system's CSPRNG (``nacl.utils.random``).

    Raises :class:`~crypto.errors.FormatError` if ``n`` is not a positive integer.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise FormatError(f"The number of random bytes must be a positive integer, not {n!r}")
    return nacl.utils.random(n)
