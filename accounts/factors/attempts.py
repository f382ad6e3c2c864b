"""The sign-in limits of ``accounts.limits`` over a sign-in in two steps.

"Correct" is everything the account must prove: with a second factor, the secret *and*
the second factor. So a right secret alone is not yet a correct attempt: its hits stay
counted, as a failure's would, and the waiting sign-in keeps their counters' keys
(``hold``). Each second-factor attempt is then counted anew at the same place, so a wrong
code is a failure for the account like a wrong password, under the same limits. When a
second factor passes, ``settle(correct=True, held=...)`` gives back that attempt's hits
and the held ones, remembers the place and earns the known-browser cookie. A sign-in
abandoned after its secret leaves one failure counted.

Those limits spare owners at places they know. Someone who has the password is a guesser
of a six-digit code wherever they are, so wrong second factors are also counted per
account whatever the place (``SecondFactorBudget``): ``CONFIDE_SECOND_FACTOR_FAILURES`` a
``CONFIDE_SECOND_FACTOR_WINDOW_SECONDS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from accounts.counters import give_back, hit
from accounts.limits import SignInAttempt
from accounts.models import User
from protocol.errors import RateLimitedError

__all__ = ["SecondFactorBudget", "TwoStepAttempt"]


class TwoStepAttempt(SignInAttempt):
    """An attempt whose correctness a later request may settle."""

    @classmethod
    def begin(cls, request: HttpRequest, email: str) -> TwoStepAttempt:
        # The limits' own begin, which makes an instance of this class.
        return cast(TwoStepAttempt, super().begin(request, email))

    def hold(self) -> list[str]:
        """The secret was right and a second factor must follow: the hits stay counted,
        and their counters' keys (keyed hashes, no email or address) are returned to be
        given back if the second factor passes."""
        held = list(self._counted)
        self._counted.clear()
        return held

    def withdraw(self) -> None:
        """The attempt was refused before its proof was checked (the second-factor
        budget): like a refusal of the limits themselves, it does not count."""
        self._give_back()

    def settle(self, *, correct: bool, held: Iterable[str] = ()) -> None:
        if correct:
            for key in held:
                give_back(key)
        super().settle(correct=correct)


class SecondFactorBudget:
    """The account's wrong second factors in the window, counted before the proof is
    checked (one atomic step), given back when it passes."""

    def __init__(self, user: User) -> None:
        digest = salted_hmac("confide.second-factor-failures", str(user.pk), algorithm="sha256")
        self._key = f"confide:signin:second-factor:{digest.hexdigest()[:32]}"
        self._window: int = settings.CONFIDE_SECOND_FACTOR_WINDOW_SECONDS

    def spend(self) -> None:
        """Counts a try; ``RateLimitedError`` (and nothing counted) past the budget."""
        allowed: int = settings.CONFIDE_SECOND_FACTOR_FAILURES
        if hit(self._key, self._window) > allowed:
            give_back(self._key)
            raise RateLimitedError(
                "Too many wrong codes for this account; try again later. If they were not "
                "yours, someone has your password: change it once you are signed in.",
                retry_after_s=self._window,
            )

    def refund(self) -> None:
        give_back(self._key)
