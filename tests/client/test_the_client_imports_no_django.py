"""The client runs wherever the project's dependencies are installed: importing it must not
import Django (which would need the server's settings)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import portal.client
import portal.client.chat
loaded = sorted(name for name in sys.modules if name == "django" or name.startswith("django."))
print(",".join(loaded))
"""


def test_importing_the_client_and_its_chat_loads_no_django_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.strip() == ""
