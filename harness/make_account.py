"""Creates an account (a therapist or a practice admin) the way an operator would.

Run as ``python -m harness.make_account`` with a stack's environment; reads
``{"email", "display_name", "role", "practice", "password"}`` (or a list of them) as JSON
on stdin, not the command line, where other processes could read the password, and prints
``{"id": ..., "totp_secret": ...}`` (or a list). The practice is the first of that name,
made if there is none. The keys are made as a browser makes them at sign-up, as
``confide seed_demo`` does; a therapist or admin gets an authenticator app, as staff must
have a second factor, whose base32 secret is ``totp_secret`` (null for a client).
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()

    from accounts.factors import STAFF_ROLES, totp
    from accounts.models import Practice, Role, User
    from crypto import make_sign_up_material

    def create(request: dict[str, str]) -> dict[str, int | str | None]:
        material = make_sign_up_material(request["password"])
        practice = Practice.objects.filter(name=request["practice"]).order_by("pk").first()
        if practice is None:
            practice = Practice.objects.create(name=request["practice"])
        user = User.objects.create_account(
            request["email"],
            material,
            display_name=request["display_name"],
            role=Role(request.get("role", Role.THERAPIST)),
            practice=practice,
        )
        secret = totp.enrol_confirmed(user).base32 if user.role in STAFF_ROLES else None
        return {"id": user.pk, "totp_secret": secret}

    requests = json.load(sys.stdin)
    if isinstance(requests, list):
        print(json.dumps([create(request) for request in requests]))
    else:
        print(json.dumps(create(requests)))


if __name__ == "__main__":
    main()
