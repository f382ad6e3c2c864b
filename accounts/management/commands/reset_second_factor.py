"""Takes away an account's second factors: ``confide reset_second_factor EMAIL``.

For a therapist or admin who lost their authenticator app, their passkeys and their ten
recovery codes: with none of them nothing else can let them in, by design. Check who is
asking first, as for any reset (in person, or by calling them back on the number the
practice has); the reset alone lets no one in, since the password is still needed, and a
therapist or admin must set up a new second factor before anything else at their next
sign-in. Their keys, conversations and password are not touched.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.factors import STAFF_ROLES
from accounts.models import Passkey, RecoveryCode, TotpDevice, User, normalise_email
from audit.log import record
from protocol.audit import AuditKind

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Removes every second factor (app, passkeys, recovery codes) of an account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", metavar="EMAIL")

    def handle(self, *args: Any, **options: Any) -> None:
        email = normalise_email(options["email"])
        with transaction.atomic():
            user = User.objects.select_for_update().filter(email=email).first()
            if user is None:
                raise CommandError(f"No account with the email: {email}")
            apps, _ = TotpDevice.objects.filter(user=user).delete()
            passkeys, _ = Passkey.objects.filter(user=user).delete()
            RecoveryCode.objects.filter(user=user).delete()
            record(
                AuditKind.SECOND_FACTOR_REMOVED,
                practice_id=user.practice_id,
                subject=f"user:{user.pk}",
                details={"method": "all", "apps": apps, "passkeys": passkeys, "by": "operator"},
            )
        log.info("second factors of user %s removed by the operator", user.pk)
        then = (
            "they sign in with their password and set up a new one before anything else."
            if user.role in STAFF_ROLES
            else "they sign in with their password alone until they set up a new one."
        )
        self.stdout.write(
            f"Removed {apps} authenticator app(s), {passkeys} passkey(s) and the recovery "
            f"codes of {email}; {then}"
        )
