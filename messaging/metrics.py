"""What messaging counts for Prometheus (portal/health.py serves it): counts and times of
this process only, never content, and no user or conversation id in any label (a label
is only ever one of a few fixed words, or an error code of the protocol)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from protocol.errors import ErrorCode

MESSAGES_STORED = Counter(
    "confide_messages_stored", "Messages stored (a resent duplicate is not counted again)."
)
MESSAGES_REFUSED = Counter(
    "confide_messages_refused", "Messages refused, by the protocol's error code.", ["code"]
)
ACK_SECONDS = Histogram(
    "confide_ack_seconds",
    "From a send frame's arrival to its ack: the time a sender waits for durability.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SOCKETS_OPEN = Gauge("confide_sockets_open", "Signed-in websockets open on this process.")
WRITE_BATCH_SIZE = Histogram(
    "confide_write_batch_size",
    "Messages stored per transaction of the writer (messaging/batching.py).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
SYNC_BATCH_SIZE = Histogram(
    "confide_sync_batch_size",
    "Sync frames read per trip of the sync reader (messaging/services/messages.py).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
LAYER_RESETS = Counter(
    "confide_layer_resets",
    "Sockets told they may have missed events (closed with 1012; clients backfill), by why.",
    ["reason"],
)
for _reason in ("queue_full", "redis_lost", "publish_dropped"):
    LAYER_RESETS.labels(reason=_reason)
for _code in ErrorCode:
    MESSAGES_REFUSED.labels(code=_code.value)
