"""Second factors of sign-in (docs/threat-model.md, "Second factors"): an authenticator
app (TOTP, RFC 6238, with ``pyotp``), passkeys (WebAuthn, with ``webauthn``) and ten
single-use recovery codes.

Therapists and admins must have one before anything else; clients may add one. An account
with a confirmed factor signs in in two steps (``accounts.factors.pending``), and its
wrapped key bundle is sent only after the second.
"""

from __future__ import annotations

from accounts.models import Passkey, Role, TotpDevice, User
from protocol.factors import Method

__all__ = ["STAFF_ROLES", "has_second_factor", "methods_of", "needs_enrolment"]

# The roles that must have a second factor: they hold many clients' conversations, or
# run the practice.
STAFF_ROLES = frozenset({Role.THERAPIST, Role.ADMIN})


def methods_of(user: User) -> list[Method]:
    """The second factors ``user`` can sign in with; empty when they have none (recovery
    codes count only beside a factor they stand in for)."""
    methods: list[Method] = []
    if TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists():
        methods.append("totp")
    if Passkey.objects.filter(user=user).exists():
        methods.append("webauthn")
    if methods:
        methods.append("recovery_code")
    return methods


def has_second_factor(user: User) -> bool:
    return (
        TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
        or Passkey.objects.filter(user=user).exists()
    )


def needs_enrolment(user: User) -> bool:
    """Whether ``user`` must enrol a second factor before anything else."""
    return user.role in STAFF_ROLES and not has_second_factor(user)
