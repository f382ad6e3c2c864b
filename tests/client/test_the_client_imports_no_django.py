"""The client runs wherever the project's dependencies are installed: importing it must not
import Django (which would need the server's settings) or any package of the server; its
own modules import only ``crypto``, ``protocol``, the standard library and its declared
third-party dependencies."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import confide_client

SERVER_PACKAGES = ("django", "channels", "portal", "accounts", "messaging", "frontend")
NOT_THE_CLIENTS = (*SERVER_PACKAGES, "harness", "tests", "bench")
ALLOWED = {"confide_client", "crypto", "protocol", "httpx", "websockets", "pydantic"}

PROBE = f"""
import sys
import confide_client
import confide_client.cli
server = {SERVER_PACKAGES!r}
loaded = sorted(
    name for name in sys.modules if name.partition(".")[0] in server
)
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


def _imported(path: Path) -> set[str]:
    """The top-level packages one module imports (relative imports are its own package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("confide_client" if node.level else (node.module or "").partition(".")[0])
    return names


def test_the_clients_modules_import_only_crypto_protocol_and_its_dependencies() -> None:
    package = Path(confide_client.__file__).parent
    modules = sorted(package.glob("*.py"))
    assert modules
    for module in modules:
        outside = _imported(module) - ALLOWED - set(sys.stdlib_module_names)
        assert outside == set(), f"{module.name} imports {sorted(outside)}"
        assert not _imported(module) & set(NOT_THE_CLIENTS)
