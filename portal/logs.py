"""Logging that says what happened without a traceback where nothing went wrong here."""

from __future__ import annotations

import logging

# uvicorn logs this with a traceback, though it closes the socket with 1007 as it should:
# a client that sent bad bytes is not a bug of the server's.
_CLIENT_FAULTS = frozenset({"Invalid UTF-8 sequence received from client."})


class ClientFaultsWithoutTraceback(logging.Filter):
    """Keeps the line, at WARNING, and drops the traceback of a client's fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() in _CLIENT_FAULTS:
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        return True
