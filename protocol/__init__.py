"""The Confide wire protocol: one definition of every websocket frame in both directions,
every HTTP body, every error code and close code, and the limits.

Imports no Django (a contract in pyproject.toml enforces it): the server, the Python
client (``confide_client``) and, through the generated ``protocol/schema.json`` and
``protocol.js``, the browser and its tests all read this package. The prose is
docs/protocol.md.

- :mod:`protocol.common`: field types, the base model, encoding and reading;
- :mod:`protocol.errors`: error codes and what a client may do after each, close codes,
  and the exceptions a server raises to answer with a code;
- :mod:`protocol.to_server`: what a client sends on the websocket;
- :mod:`protocol.to_client`: what a server sends on the websocket;
- :mod:`protocol.http`: the HTTP API's request and answer bodies;
- :mod:`protocol.limits`: the limits;
- :mod:`protocol.schema`: the JSON Schema and the browser's constants, generated.
"""

from protocol.common import MalformedError, encode
from protocol.errors import ERRORS, RESEND, SESSION_GONE, ApiError, CloseCode, ErrorCode
from protocol.limits import Limits
from protocol.to_client import ServerFrame, parse_server_frame
from protocol.to_server import ClientFrame, parse_client_frame

__all__ = [
    "ERRORS",
    "RESEND",
    "SESSION_GONE",
    "ApiError",
    "ClientFrame",
    "CloseCode",
    "ErrorCode",
    "Limits",
    "MalformedError",
    "ServerFrame",
    "encode",
    "parse_client_frame",
    "parse_server_frame",
]
