"""Seeds a demo practice with a therapist, a client and their conversation, and the
practice's admin, and prints how to sign in.

The keys are made here exactly as a browser would make them at sign-up (with
``crypto.make_sign_up_material``), so the demo accounts are ordinary end-to-end encrypted
accounts. The passwords are random per installation, kept in
``CONFIDE_DATA_DIR/demo-credentials.txt`` (mode 0600) and printed each run. The therapist
and the admin must have a second factor: each gets an authenticator app, whose
``otpauth://`` URI (its secret) is kept and printed beside the password, to add to an app
by hand or to compute codes with.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

import crypto
from accounts.factors import STAFF_ROLES, has_second_factor, totp
from accounts.models import Practice, Role, User
from crypto import ConversationKey, SignUpMaterial, make_sign_up_material
from messaging.models import Conversation, KeyEnvelope, Membership

DEMO_PRACTICE = "Demo Practice"
DEMO_ACCOUNTS = [
    ("therapist@demo.invalid", "Dr. Dana Demo", Role.THERAPIST),
    ("client@demo.invalid", "Casey Client", Role.CLIENT),
]
# Made on its own, so that a demo seeded before admins had a console gets one too.
DEMO_ADMIN = ("admin@demo.invalid", "Avery Admin", Role.ADMIN)


HEADER = "Demo practice — sign in at"


def _address() -> str:
    """Where ``confide serve`` listens (CONFIDE_HOST and CONFIDE_PORT, as it reads them)."""
    host = os.environ.get("CONFIDE_HOST", "127.0.0.1")
    port = os.environ.get("CONFIDE_PORT", "8000")
    return f"http://{host}:{port}/"


class Command(BaseCommand):
    help = "Creates the demo practice (a therapist and a client) once, and prints their sign-in."

    def handle(self, *args: Any, **options: Any) -> None:
        credentials_file = Path(settings.DATA_DIR) / "demo-credentials.txt"
        if not User.objects.filter(email=DEMO_ACCOUNTS[0][0]).exists():
            self._create(credentials_file)
        if not User.objects.filter(email=DEMO_ADMIN[0]).exists():
            self._add_admin(credentials_file)
        if credentials_file.exists():
            self._enrol_staff(credentials_file)
        if credentials_file.exists():
            self.stdout.write(f"{HEADER} {_address()} with:")
            kept = credentials_file.read_text(encoding="utf-8").splitlines()
            # Files written before the address followed the settings began with a header.
            self.stdout.write("\n".join(line for line in kept if not line.startswith(HEADER)))
        else:
            self.stdout.write("The demo accounts exist, but their credentials file is gone.")

    def _create(self, credentials_file: Path) -> None:
        lines: list[str] = []
        with transaction.atomic():
            practice = Practice.objects.create(name=DEMO_PRACTICE)
            people: list[tuple[User, SignUpMaterial]] = []
            for email, name, role in DEMO_ACCOUNTS:
                password = secrets.token_urlsafe(12)
                material = make_sign_up_material(password)
                user = User.objects.create_account(
                    email, material, display_name=name, role=role, practice=practice
                )
                people.append((user, material))
                lines.append(f"  {role.label:<10} {email}  password: {password}")
            _start_conversation(practice, therapist=people[0], client=people[1])
        credentials_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")

    def _add_admin(self, credentials_file: Path) -> None:
        therapist = User.objects.filter(email=DEMO_ACCOUNTS[0][0]).first()
        if therapist is None or not credentials_file.exists():
            return
        email, name, role = DEMO_ADMIN
        password = secrets.token_urlsafe(12)
        User.objects.create_account(
            email,
            make_sign_up_material(password),
            display_name=name,
            role=role,
            practice=therapist.practice,
        )
        with credentials_file.open("a", encoding="utf-8") as handle:
            handle.write(f"  {'Admin':<10} {email}  password: {password}\n")

    def _enrol_staff(self, credentials_file: Path) -> None:
        """An authenticator app for each demo therapist and admin without a second factor
        (a demo seeded before staff needed one gets it too)."""
        emails = [email for email, _, role in [*DEMO_ACCOUNTS, DEMO_ADMIN] if role in STAFF_ROLES]
        for user in User.objects.filter(email__in=emails).order_by("pk"):
            if has_second_factor(user):
                continue
            secret = totp.enrol_confirmed(user)
            label = Role(user.role).label.split()[-1].capitalize()
            with credentials_file.open("a", encoding="utf-8") as handle:
                handle.write(f"  {label:<10} {user.email}  authenticator: {secret.uri}\n")


def _start_conversation(
    practice: Practice, therapist: tuple[User, SignUpMaterial], client: tuple[User, SignUpMaterial]
) -> None:
    """What accepting an invitation does: the client makes the epoch-0 key and wraps it."""
    conversation = Conversation.objects.create(practice=practice)
    key = ConversationKey.generate()
    created_at = int(time.time() * 1000)
    client_user, client_material = client
    for user, material in (client, therapist):
        Membership.objects.create(conversation=conversation, user=user)
        KeyEnvelope.objects.create(
            conversation=conversation,
            epoch=0,
            recipient=user,
            wrapper=client_user,
            envelope=crypto.wrap_conversation_key(
                key,
                conversation.id,
                0,
                material.public_identity,
                client_material.identity,
                created_at,
            ),
        )
