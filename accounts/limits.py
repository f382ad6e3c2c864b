"""Sign-in limits that stop guessers, not owners (docs/threat-model.md, "Online password
guessing").

Where an attempt comes from is settled before its secret is checked, from what the
request carries:

* a **known browser** carries this account's known-browser cookie, which a successful
  sign-in sets (``KnownBrowser``). Only that browser's own failures count against it:
  ``CONFIDE_SIGNIN_PAIR_ATTEMPTS`` per ``CONFIDE_SIGNIN_WINDOW_SECONDS``.
* a **known address** is one the account signed in from within
  ``CONFIDE_SIGNIN_KNOWN_ADDRESS_DAYS`` (an IPv6 address counts as its /64). Only the
  failures for this account at this address count: the same pair limit.
* **anywhere else**, three limits: the pair limit; the account's ceiling,
  ``CONFIDE_SIGNIN_EMAIL_ATTEMPTS`` per ``CONFIDE_SIGNIN_EMAIL_WINDOW_SECONDS`` from all
  such places together (against a guesser with many addresses); and the address's,
  ``CONFIDE_SIGNIN_ATTEMPTS`` per window whatever the email (against one machine guessing
  many accounts), sized so that a practice behind one address is not held up by one
  person's typing.

So failures for other accounts at an address, or for this account elsewhere, never refuse
the owner at a place it knows. Whether an attempt is refused depends only on the counts,
never on whether its secret is right: a refusal tells a guesser nothing, and costs no
check. Each attempt is counted before its secret is checked, in one atomic step per
counter (``accounts/counters.py``), so parallel attempts cannot slip under a limit; a
correct attempt is given back, a wrong one stays counted until its window ends.

Counters and remembered addresses are kept in the cache under keyed hashes (HMAC under
``SECRET_KEY``), so the cache holds no email or address in the clear.
"""

from __future__ import annotations

import functools
import ipaddress
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from accounts.counters import give_back, hit
from accounts.metrics import SIGNIN_FAILURES
from accounts.models import User
from protocol.errors import RateLimitedError

# The known-browser cookie is sent only with sign-in requests.
KNOWN_BROWSER_PATH = "/api/auth/signin"
KNOWN_BROWSER_PREFIX = "confide_known_"


def client_network(request: HttpRequest) -> str:
    """The address an attempt is counted against: the IPv4 address, or the IPv6 /64 (one
    subscriber's usual allocation, whose addresses a guesser could rotate through for
    free)."""
    raw = str(request.META.get("REMOTE_ADDR", ""))
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def counter_key(kind: str, *parts: str) -> str:
    """The cache key of a counter or a mark about ``parts`` (an email, a network, ...): a
    keyed hash, so the cache holds no email or address in the clear."""
    digest = salted_hmac("confide.signin-limits", "\0".join(parts), algorithm="sha256")
    return f"confide:signin:{kind}:{digest.hexdigest()[:32]}"


def _known_days() -> int:
    days: int = settings.CONFIDE_SIGNIN_KNOWN_ADDRESS_DAYS
    return days


@dataclass(frozen=True)
class KnownBrowser:
    """The cookie a browser gets when an account signs in on it: a random nonce, signed
    (Django's signed cookies: HMAC-SHA256 under ``SECRET_KEY``, with a timestamp) with a
    salt that names the account and its current secret. It cannot be made without the key,
    does not verify under another account's name, and lapses when the account's secret
    changes or after ``CONFIDE_SIGNIN_KNOWN_ADDRESS_DAYS``. One cookie per account (a
    shared computer keeps each person's), named by a keyed hash of the account's id."""

    user: User
    nonce: str = field(repr=False)

    @staticmethod
    def name(user: User) -> str:
        digest = salted_hmac("confide.known-browser.name", str(user.pk), algorithm="sha256")
        return KNOWN_BROWSER_PREFIX + digest.hexdigest()[:16]

    @staticmethod
    def _salt(user: User) -> str:
        return f"confide.known-browser.{user.pk}.{user.get_session_auth_hash()}"

    @classmethod
    def of(cls, request: HttpRequest, user: User) -> KnownBrowser | None:
        """The browser's cookie for ``user``, if it carries a valid one."""
        days = _known_days()
        if days == 0:
            return None
        nonce = request.get_signed_cookie(
            cls.name(user), default=None, salt=cls._salt(user), max_age=days * 86400
        )
        return cls(user, nonce) if nonce else None

    @classmethod
    def new(cls, user: User) -> KnownBrowser:
        return cls(user, secrets.token_urlsafe(16))

    @property
    def failures_key(self) -> str:
        return counter_key("browser", str(self.user.pk), self.nonce)

    def set_on(self, response: HttpResponse) -> None:
        response.set_signed_cookie(
            self.name(self.user),
            self.nonce,
            salt=self._salt(self.user),
            max_age=_known_days() * 86400,
            path=KNOWN_BROWSER_PATH,
            secure=settings.SECURE_COOKIES,
            httponly=True,
            samesite="Strict",
        )


@dataclass(frozen=True)
class _Limit:
    key: str
    # None: counted, never refusing. A failure at a known address still counts toward
    # that address's limit, which refuses only attempts for accounts that do not know it.
    attempts: int | None
    window_s: int


# The cookie a successful attempt earned, until the view's answer is made.
_earned: weakref.WeakKeyDictionary[HttpRequest, KnownBrowser] = weakref.WeakKeyDictionary()


class SignInAttempt:
    """One sign-in attempt under the limits. In the view::

        attempt = SignInAttempt.begin(request, email)  # rate_limited over a limit
        user = authenticate(...)
        attempt.settle(correct=...)                     # before answering

    ``correct`` means everything the account must prove: today its secret; once accounts
    have a second factor, the secret *and* the second factor. An attempt with a right
    secret and a wrong or missing second factor is a failure and counts.
    """

    def __init__(self, request: HttpRequest, email: str) -> None:
        self._request = request
        self._email = email
        network = client_network(request)
        self._known_address_key = counter_key("known", email, network)
        self._browser = self._known_browser(request, email)
        self.place = self._place()
        self._limits = self._limits_for(email, network)
        self._counted: list[str] = []

    @classmethod
    def begin(cls, request: HttpRequest, email: str) -> SignInAttempt:
        """Counts the attempt; ``RateLimitedError`` (and nothing counted) over a limit."""
        attempt = cls(request, email)
        attempt._count()
        return attempt

    def _place(self) -> str:
        """``"known browser"``, ``"known address"`` or ``"elsewhere"``."""
        if self._browser is not None:
            return "known browser"
        if _known_days() > 0 and cache.get(self._known_address_key) is not None:
            return "known address"
        return "elsewhere"

    @staticmethod
    def _known_browser(request: HttpRequest, email: str) -> KnownBrowser | None:
        # The account is looked up only for a request that carries some known-browser
        # cookie: a guesser without one costs no query.
        if not any(name.startswith(KNOWN_BROWSER_PREFIX) for name in request.COOKIES):
            return None
        account = User.objects.filter(email=email).only("pk", "password").first()
        return KnownBrowser.of(request, account) if account is not None else None

    def _limits_for(self, email: str, network: str) -> list[_Limit]:
        window: int = settings.CONFIDE_SIGNIN_WINDOW_SECONDS
        pair: int = settings.CONFIDE_SIGNIN_PAIR_ATTEMPTS
        if self._browser is not None:
            return [_Limit(self._browser.failures_key, pair, window)]
        pair_limit = _Limit(counter_key("pair", email, network), pair, window)
        per_address: int = settings.CONFIDE_SIGNIN_ATTEMPTS
        address_key = counter_key("address", network)
        if self.place == "known address":
            return [pair_limit, _Limit(address_key, None, window)]
        per_account: int = settings.CONFIDE_SIGNIN_EMAIL_ATTEMPTS
        account_window: int = settings.CONFIDE_SIGNIN_EMAIL_WINDOW_SECONDS
        return [
            pair_limit,
            _Limit(counter_key("account", email), per_account, account_window),
            _Limit(address_key, per_address, window),
        ]

    def _count(self) -> None:
        for limit in self._limits:
            count = hit(limit.key, limit.window_s)
            if limit.attempts is not None and count > limit.attempts:
                give_back(limit.key)
                self._give_back()
                SIGNIN_FAILURES.labels(reason="rate_limited").inc()
                raise RateLimitedError(
                    "Too many sign-in attempts; try again later.", retry_after_s=limit.window_s
                )
            self._counted.append(limit.key)

    def _give_back(self) -> None:
        for key in self._counted:
            give_back(key)
        self._counted.clear()

    def settle(self, *, correct: bool) -> None:
        """After the check. A wrong attempt stays counted. A correct one is given back,
        its address is remembered for the account, and its browser gets (or renews) the
        known-browser cookie, which ``sets_known_browser`` puts on the answer."""
        if not correct:
            self._counted.clear()
            return
        self._give_back()
        days = _known_days()
        if days == 0:
            return
        account = User.objects.filter(email=self._email).only("pk", "password").first()
        if account is None:
            return
        cache.set(self._known_address_key, True, days * 86400)
        _earned[self._request] = self._browser or KnownBrowser.new(account)


def remember_place(request: HttpRequest, user: User) -> None:
    """After an account proved itself some other way than a sign-in (signing up through a
    link, a recovery): its address is remembered, and the browser earns the known-browser
    cookie, as after a correct sign-in; so the first sign-in in the browser the person
    signed up in is never refused because a guesser failed at the same address."""
    days = _known_days()
    if days == 0:
        return
    cache.set(counter_key("known", user.email, client_network(request)), True, days * 86400)
    _earned[request] = KnownBrowser.new(user)


def sets_known_browser(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Puts the known-browser cookie a successful attempt earned on the view's answer."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        browser = _earned.pop(request, None)
        if browser is not None and response.status_code == 200:
            browser.set_on(response)
        return response

    return wrapped


__all__ = [
    "KnownBrowser",
    "SignInAttempt",
    "client_network",
    "counter_key",
    "remember_place",
    "sets_known_browser",
]
