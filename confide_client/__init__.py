"""The Python client: does on this machine what the browser does in the page.

It holds the keys and does all encryption with ``crypto``; the server only
ever receives what this package produces. The tests, the benchmark, the demo
seed and the command-line chat use it. It imports no Django, so it runs on any
machine with the project's dependencies.
"""

from confide_client.backoff import Backoff
from confide_client.client import ClientStats, ConfideClient
from confide_client.errors import (
    ClientClosedError,
    ClientError,
    ConnectionLostError,
    InvalidRequestError,
    KeysError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ReplyTimeoutError,
    ServerRefusedError,
    SessionEndedError,
    StaleEpochError,
    StateFileError,
    UnauthenticatedError,
)
from confide_client.identities import IdentityFile, SeenIdentities
from confide_client.records import (
    Account,
    ClientEvent,
    ConversationSummary,
    EpochStarted,
    HistoryPage,
    Invitation,
    InvitationDetails,
    Member,
    PeerKeyChanged,
    ReadReceipt,
    ReceivedMessage,
    RejectedMessage,
    SignUp,
    Typing,
    UnmatchedError,
)

__all__ = [
    "Account",
    "Backoff",
    "ClientClosedError",
    "ClientError",
    "ClientEvent",
    "ClientStats",
    "ConfideClient",
    "ConnectionLostError",
    "ConversationSummary",
    "EpochStarted",
    "HistoryPage",
    "IdentityFile",
    "InvalidRequestError",
    "Invitation",
    "InvitationDetails",
    "KeysError",
    "Member",
    "NotFoundError",
    "PeerKeyChanged",
    "ProtocolError",
    "RateLimitedError",
    "ReadReceipt",
    "ReceivedMessage",
    "RejectedMessage",
    "SeenIdentities",
    "ReplyTimeoutError",
    "ServerRefusedError",
    "SessionEndedError",
    "SignUp",
    "StaleEpochError",
    "StateFileError",
    "Typing",
    "UnauthenticatedError",
    "UnmatchedError",
]
