"""Database generations: what a client needs to notice that the server went back in time.

A restore from a backup moves the database back: the messages acknowledged after the
backup are gone from it, while the members' clients still hold them. So that nothing is
lost or silently renumbered, the database names its **generation**: a random token the
server announces in every socket's ``ready`` frame. A new one begins

* when the database is restored with ``confide restore``, or declared restored by the
  operator with ``confide generation --new`` (after a restore made any other way);
* on its own, when a server process starts on a database whose physical identity differs
  from the one its generation was begun on: on PostgreSQL the database's OID (a new one
  for every ``createdb``, so for every restore into a fresh database), its cluster's
  system identifier and timeline (a new timeline for every point-in-time recovery). A
  move to a new server (a dump restored elsewhere) also begins one, which costs the
  clients nothing but a check.

When a generation begins, every conversation's last sequence number is kept with it (the
point it was restored to). A ``sync`` page tells a client that number (``restored_at``):
a client whose last ``ready`` named an earlier generation and which holds messages
numbered after it holds messages the server lost. It says so, and uploads again the ones
it sent itself (docs/protocol.md, "Restores").
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from channels.db import database_sync_to_async
from django.db import DatabaseError, connection, transaction

from messaging.models import Conversation, Generation, GenerationStart
from messaging.services.common import chunks

__all__ = [
    "CurrentGeneration",
    "announced",
    "begin_generation",
    "current",
    "database_identity",
    "ensure_current",
    "restored_at",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CurrentGeneration:
    id: int
    token: str
    # Whether it began on a restored (or moved) database, so that sync pages say where
    # each conversation was restored to; False for a database's first generation.
    restored: bool


_current: CurrentGeneration | None = None


def database_identity() -> str:
    """What changes when the database is restored or recovered: on PostgreSQL its OID, its
    cluster's system identifier and timeline (each read only if the role may); on SQLite
    the file's device and inode (a file copied back in place keeps its inode: declare such
    a restore with ``confide generation --new``)."""
    if connection.vendor == "postgresql":
        parts = []
        with connection.cursor() as cursor:
            cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
            parts.append(f"oid={cursor.fetchone()[0]}")
            for name, query in (
                ("system", "SELECT system_identifier FROM pg_control_system()"),
                ("timeline", "SELECT timeline_id FROM pg_control_checkpoint()"),
            ):
                try:
                    with transaction.atomic():
                        cursor.execute(query)
                        parts.append(f"{name}={cursor.fetchone()[0]}")
                except DatabaseError:
                    # A role without pg_monitor reads no control data: the same every time.
                    parts.append(f"{name}=?")
        return "postgresql:" + ",".join(parts)
    path = Path(str(connection.settings_dict["NAME"]))
    if not path.is_file():  # a test's database in memory
        return "sqlite:memory"
    stat = path.stat()
    return f"sqlite:dev={stat.st_dev},inode={stat.st_ino}"


def begin_generation(reason: str) -> CurrentGeneration:
    """Begins a new generation now, keeping every conversation's last sequence number.
    Server processes already running keep announcing the one they read: restart them."""
    global _current
    with transaction.atomic():
        _lock()
        _current = _begin(reason, database_identity(), restored=True)
    return _current


def ensure_current() -> CurrentGeneration:
    """The current generation; a new one first if the database was restored under it (or
    none began yet). Run at every server start."""
    global _current
    identity = database_identity()
    with transaction.atomic():
        _lock()
        latest = Generation.objects.order_by("-id").first()
        if latest is None:
            _current = _begin("the database's first", identity, restored=False)
        elif latest.database_identity != identity:
            _current = _begin(
                f"the database is not the one generation {latest.id} began on "
                f"({latest.database_identity} then, {identity} now): restored or moved",
                identity,
                restored=True,
            )
        else:
            _current = _of(latest)
    return _current


async def announced() -> str:
    """The token a socket's ``ready`` announces (no database call once it is known)."""
    if _current is not None:
        return _current.token
    generation: CurrentGeneration = await database_sync_to_async(current)()
    return generation.token


def current() -> CurrentGeneration:
    """This process's generation: decided at start (``ensure_current``), or at first use
    when the database did not answer then."""
    return _current if _current is not None else ensure_current()


def restored_at(conversation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """For the conversations that existed when the current generation began on a restored
    database, their last sequence number then."""
    generation = current()
    if not generation.restored:
        return {}
    found: dict[uuid.UUID, int] = {}
    for ids in chunks(conversation_ids):
        rows = GenerationStart.objects.filter(
            generation_id=generation.id, conversation_id__in=ids
        ).values_list("conversation_id", "last_seq")
        found.update(rows)
    return found


def _lock() -> None:
    """One process at a time decides (two starting at once on a restored database begin
    one generation, not two)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Generation._meta.db_table} IN EXCLUSIVE MODE")


def _begin(reason: str, identity: str, *, restored: bool) -> CurrentGeneration:
    generation = Generation.objects.create(
        token=uuid.uuid4().hex, database_identity=identity, reason=reason, restored=restored
    )
    if restored:
        GenerationStart.objects.bulk_create(
            (
                GenerationStart(generation=generation, conversation_id=cid, last_seq=seq)
                for cid, seq in Conversation.objects.values_list("id", "last_seq").iterator()
            ),
            batch_size=5000,
        )
    log.log(
        logging.WARNING if restored else logging.INFO,
        "database generation %d begins: %s",
        generation.id,
        reason,
    )
    return _of(generation)


def _of(generation: Generation) -> CurrentGeneration:
    return CurrentGeneration(generation.id, generation.token, generation.restored)
