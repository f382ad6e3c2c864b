"""Creates a therapist in a practice of their own, the way an operator would.

Run as ``python -m tests.integration.make_therapist`` with a stack's environment; reads
``{"email", "display_name", "practice", "password"}`` (or a list of them) as JSON on stdin,
not the command line, where other processes could read the password, and prints
``{"id": ...}`` (or a list). The keys are made as a browser makes them at sign-up, exactly
as ``confide seed_demo`` does.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()

    from crypto import b64encode
    from portal.accounts.models import Practice, Role, User
    from portal.client.keys import make_sign_up_material

    def create(request: dict[str, str]) -> dict[str, int]:
        material = make_sign_up_material(request["password"])
        practice = Practice.objects.create(name=request["practice"])
        user = User.objects.create_user(
            request["email"],
            auth_secret=b64encode(material.auth_secret),
            display_name=request["display_name"],
            role=Role.THERAPIST,
            practice=practice,
            kdf_salt=material.salt,
            kdf_opslimit=material.params.opslimit,
            kdf_memlimit=material.params.memlimit,
            public_identity=material.public_identity.to_bytes(),
            key_bundle=material.key_bundle,
            recovery_bundle=material.recovery_bundle,
        )
        return {"id": user.pk}

    requests = json.load(sys.stdin)
    if isinstance(requests, list):
        print(json.dumps([create(request) for request in requests]))
    else:
        print(json.dumps(create(requests)))


if __name__ == "__main__":
    main()
