"""The deployment tests use the integration tests' clients (closed after each test)."""

from __future__ import annotations

from tests.integration.conftest import open_client

__all__ = ["open_client"]
