"""Gives existing accounts a passkey (a WebAuthn credential the tests hold in software),
as if each had added it in the web portal, so that the tests' clients sign in with it.

Run as ``python -m harness.add_passkey`` with a stack's environment; reads
``[{"email", "credential_id", "public_key"}, ...]`` as JSON on stdin (the id and the COSE
public key in base64url) and prints ``{"added": n}``.
"""

from __future__ import annotations

import base64
import json
import os
import sys


def _bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()

    from accounts.models import Passkey, User

    requests = json.load(sys.stdin)
    for request in requests:
        Passkey.objects.create(
            user=User.objects.get(email=request["email"]),
            credential_id=_bytes(request["credential_id"]),
            public_key=_bytes(request["public_key"]),
            name="Test passkey",
        )
    print(json.dumps({"added": len(requests)}))


if __name__ == "__main__":
    main()
