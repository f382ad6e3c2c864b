"""Who opened a websocket: the session of its cookie and the user it signed in, read in one
trip to the database thread.

Django's rules decide, as for every HTTP request (``django.contrib.auth.get_user``): the
session's user, its backend, and the session's hash of the password, checked against the
user's row (a password changed since makes the session worthless, and the session is
flushed). For a therapist or admin the same trip asks whether they still have to enrol a
second factor, which the consumer refuses.

Channels' ``AuthMiddlewareStack`` does the same from three wrappers: the session and the
user as lazy objects, and a ``send`` wrapped for the socket's whole life to save a session
that a socket never changes (its check ran on every frame sent). A reconnect storm is
made of handshakes, so this one does the handshake's reading at once, and hands the
consumer the socket's own ``send``.

With the portal's own settings (database sessions, Django's ``ModelBackend``) the reading
is two statements: the session's row, then the user's row with whether they have a second
factor. Handshakes that arrive while the database thread reads others wait and are read
together, each batch in one trip and two statements (``read_handshake``), each handshake
still decided on its own. Django's querysets cost about four fifths of the handshake's reading
in CPU, building the same statements again for every connect (docs/performance.md). With
any other session engine, backend or user model, a database router, or a database other
than PostgreSQL and SQLite, Django's own ``auth.get_user`` reads them.
``tests/accounts/test_a_socket_handshake_reads_who_it_is_in_one_trip.py`` holds both
readings to the same answers.

A session signed with a fallback secret (``SECRET_KEY_FALLBACKS``) signs nobody in on a
socket: Django would give it a new key, which a socket cannot hand to the browser, and the
browser's next request through HTTP renews it as Django does.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from functools import cache, partial
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends import db as db_sessions
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Field, Model
from django.http import HttpRequest
from django.http.cookie import parse_cookie
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string

from accounts.factors import STAFF_ROLES, needs_enrolment
from accounts.models import Passkey, TotpDevice, User

ASGIApp = Any
T = TypeVar("T")

# Set in the scope when a therapist or admin has no second factor yet.
ENROLMENT_REQUIRED = "confide.enrolment_required"

DB_SESSIONS = "django.contrib.sessions.backends.db"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Handshakes read in one trip to the database thread, and values in one statement, at most.
READ_AT_ONCE = 200
# What a user id can be in the database (a big integer).
_BIGINT = (-(2**63), 2**63 - 1)


def session_key_of(scope: dict[str, Any]) -> str | None:
    """The session cookie's value, from every ``Cookie`` header of the handshake."""
    headers = [value for name, value in scope.get("headers", ()) if name == b"cookie"]
    if not headers:
        return None
    cookies = parse_cookie(b"; ".join(headers).decode("latin-1"))
    return cookies.get(settings.SESSION_COOKIE_NAME) or None


# What a handshake's reading finds: the session, its user (``AnonymousUser`` when it signs
# in nobody, or no longer verifies), and whether that user is staff without a second factor.
Reading = tuple[SessionBase, Any, bool]


def authenticate(session_key: str | None) -> Reading:
    """One handshake's reading."""
    reading = authenticate_many([session_key])[0]
    if isinstance(reading, BaseException):
        raise reading
    return reading


def authenticate_many(keys: Sequence[str | None]) -> list[Reading | Exception]:
    """The readings of several handshakes, in order, with two statements for all of them.
    A reading that failed on its own (Django's raises for a user id that is no number)
    is its exception, so that one cookie cannot fail the handshakes read beside it; a
    statement that fails raises for all of them."""
    if not _plain_settings():
        return [_alone(partial(django_authenticate, key)) for key in keys]
    return _read_many(keys)


def _alone(read: Callable[[], T]) -> T | Exception:
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - that handshake's alone (see authenticate_many)
        return exc


def _plain_settings() -> bool:
    """Whether the portal's own reading decides as Django's would: database sessions,
    Django's ``ModelBackend`` and the portal's user model, on one database (no router) that
    the statements are written for."""
    return (
        settings.SESSION_ENGINE == DB_SESSIONS
        and MODEL_BACKEND in settings.AUTHENTICATION_BACKENDS
        and get_user_model() is User
        and not settings.DATABASE_ROUTERS
        and connection.vendor in ("postgresql", "sqlite")
    )


def django_authenticate(session_key: str | None) -> tuple[SessionBase, Any, bool]:
    """``authenticate`` through Django's own session store and ``auth.get_user``, for any
    session engine and backend."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    session: SessionBase = store(session_key)
    user: Any = AnonymousUser()
    if session_key:
        request = HttpRequest()  # what ``auth.get_user`` reads of it is its session
        request.session = session
        user = auth.get_user(request)
    enrol = bool(user.is_authenticated and user.role in STAFF_ROLES and needs_enrolment(user))
    return session, user, enrol


class SocketSession(db_sessions.SessionStore):
    """Django's database session, its row's data (``row``: None when no live row has its
    key) read beforehand, with the other handshakes of its batch."""

    row: str | None = None

    @property
    def key_salt(self) -> str:
        # Django signs a session's data with its store class's name: the same as Django's.
        return "django.contrib.sessions." + db_sessions.SessionStore.__qualname__

    def load(self) -> dict[str, Any]:
        # As Django's: a session that is missing or has expired is empty, and has no key.
        if self.row is None:
            self._session_key = None
            return {}
        data: dict[str, Any] = self.decode(self.row)
        return data


# A session's claim, before its user's row is read: the user's id, or a reading already
# decided (nobody, or Django's own for another backend).
_Claim = int | Reading


def _read_many(keys: Sequence[str | None]) -> list[Reading | Exception]:
    statements = _statements()
    # A key that cannot be one (too short) is never looked up, as Django's; nor is one that
    # no session of Django's can have (its characters, its length), which finds no row: a
    # cookie of NUL characters would make PostgreSQL refuse the statement, and with it
    # every handshake read beside it.
    sessions = [SocketSession(key) for key in keys]
    wanted = sorted(
        {s.session_key for s in sessions if s.session_key and _storable(s.session_key, statements)}
    )
    rows: dict[str, str] = {}
    if wanted:
        with connection.cursor() as cursor:
            for chunk in _chunks(wanted):
                now = connection.ops.adapt_datetimefield_value(timezone.now())
                cursor.execute(statements.sessions(len(chunk)), [now, *chunk])
                rows.update(cursor.fetchall())
    for session in sessions:
        if session.session_key:
            session.row = rows.get(session.session_key)
    claims = [_alone(partial(_claim, session)) for session in sessions]
    user_ids = sorted({c for c in claims if isinstance(c, int)})
    users: dict[int, Sequence[Any]] = {}
    if user_ids:
        with connection.cursor() as cursor:
            for chunk in _chunks(user_ids):
                cursor.execute(statements.users(len(chunk)), chunk)
                users.update((row[statements.pk_index], row) for row in cursor.fetchall())
    return [
        _alone(partial(_signed_in, session, users.get(claim), statements))
        if isinstance(claim, int)
        else claim
        for session, claim in zip(sessions, claims, strict=True)
    ]


def _storable(key: str, statements: _Statements) -> bool:
    """Whether a session of Django's could have this key: Django makes them of lowercase
    letters and digits, and its table holds keys of at most ``key_length`` characters."""
    return (
        len(key) <= statements.key_length and key.isascii() and key.isalnum() and key == key.lower()
    )


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    """At most ``READ_AT_ONCE`` values a statement (SQLite allows 999 parameters)."""
    return [values[i : i + READ_AT_ONCE] for i in range(0, len(values), READ_AT_ONCE)]


def _claim(session: SocketSession) -> _Claim:
    anonymous = (session, AnonymousUser(), False)
    if not session.session_key:
        return anonymous
    try:
        user_id = User._meta.get_field("id").to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return anonymous
    if not isinstance(user_id, int) or not _BIGINT[0] <= user_id <= _BIGINT[1]:
        return anonymous  # as Django's lookup of a number no row can hold
    if backend_path != MODEL_BACKEND or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return django_authenticate(session.session_key)
    return user_id


def _signed_in(
    session: SocketSession, row: Sequence[Any] | None, statements: _Statements
) -> Reading:
    anonymous = (session, AnonymousUser(), False)
    if row is None:
        return anonymous  # as ModelBackend: no such user
    user = statements.user_of(row[:-1], _converters(statements))
    if not user.is_active:
        return anonymous  # as ModelBackend.user_can_authenticate
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash:
        session.flush()
        return anonymous
    if not constant_time_compare(session_hash, user.get_session_auth_hash()):
        if not any(
            constant_time_compare(session_hash, fallback)
            for fallback in user.get_session_auth_fallback_hash()
        ):
            session.flush()  # as Django: a password changed since ends the session
        return anonymous
    return session, user, bool(user.role in STAFF_ROLES and row[-1])


class _Statements:
    """The two statements' text for the database in use, and how a user's row becomes a
    ``User`` (each column through the converters Django's queries apply to it)."""

    def __init__(self) -> None:
        quote = connection.ops.quote_name
        fields: Sequence[Field[Any, Any]] = [f for f in User._meta.concrete_fields if f.column]
        self.fields = fields

        def q(model: type[Model], field: str | None = None) -> str:
            """A model's table, or one of its field's columns, quoted."""
            name = model._meta.db_table if field is None else model._meta.get_field(field).column  # type: ignore[union-attr]
            if name is None:
                raise LookupError(f"{model.__name__}.{field} has no column")
            return quote(name)

        session = db_sessions.SessionStore.get_model_class()
        self.key_length: int = session._meta.get_field("session_key").max_length or 0
        user, totp, passkey = User, TotpDevice, Passkey
        uid = f"u.{q(user, 'id')}"
        columns = ", ".join(f"u.{quote(f.column)}" for f in fields)  # type: ignore[arg-type]
        # Each statement ends with its list of keys or ids to fill in (``IN (%s, ...)``).
        self.session = (
            f"SELECT {q(session, 'session_key')}, {q(session, 'session_data')} FROM {q(session)}"
            f" WHERE {q(session, 'expire_date')} > %s AND {q(session, 'session_key')} IN "
        )
        # Whether they lack a second factor, beside their row: only staff must have one.
        self.user = (
            f"SELECT {columns}, NOT (EXISTS (SELECT 1 FROM {q(totp)} t"
            f" WHERE t.{q(totp, 'user')} = {uid} AND t.{q(totp, 'confirmed_at')} IS NOT NULL)"
            f" OR EXISTS (SELECT 1 FROM {q(passkey)} p WHERE p.{q(passkey, 'user')} = {uid}))"
            f" FROM {q(user)} u WHERE {uid} IN "
        )
        self.columns = [field.get_col(User._meta.db_table) for field in fields]
        self.pk_index = [f.attname for f in fields].index(User._meta.pk.attname)

    def sessions(self, count: int) -> str:
        """The live rows of ``count`` session keys (parameters: the time now, the keys)."""
        return self.session + _placeholders(count)

    def users(self, count: int) -> str:
        """The rows of ``count`` users, each with whether they lack a second factor."""
        return self.user + _placeholders(count)

    def user_of(self, row: Sequence[Any], converters: _Converters) -> User:
        values = []
        for value, made in zip(row, converters, strict=True):
            for convert, column in made:
                value = convert(value, column, connection)
            values.append(value)
        return User.from_db(connection.alias, [f.attname for f in self.fields], values)


# Each column's converters, as Django's queries apply them (bound to the connection's own
# operations, which read its time zone): made once per connection, and kept on it.
_Converters = list[list[tuple[Callable[..., Any], Any]]]
_CONVERTERS = "_confide_socket_user_converters"


def _converters(statements: _Statements) -> _Converters:
    made: _Converters | None = getattr(connection, _CONVERTERS, None)
    if made is None:
        made = [
            [
                (convert, column)
                for convert in connection.ops.get_db_converters(column)
                + field.get_db_converters(connection)
            ]
            for field, column in zip(statements.fields, statements.columns, strict=True)
        ]
        setattr(connection, _CONVERTERS, made)
    return made


@cache
def _made(vendor: str) -> _Statements:
    return _Statements()


def _statements() -> _Statements:
    return _made(connection.vendor)


def _placeholders(count: int) -> str:
    return "(" + ", ".join(["%s"] * count) + ")"


_authenticate_many: Callable[[Sequence[str | None]], Awaitable[list[Reading | Exception]]] = (
    database_sync_to_async(authenticate_many)
)


class _Waiting:
    """The handshakes of one event loop waiting for their reading. Each trip to the
    database thread reads every handshake that arrived while the one before it ran (up to
    ``READ_AT_ONCE`` a trip): a quiet server reads each handshake as it comes, and a
    reconnect storm's handshakes share their trips and their statements."""

    def __init__(self) -> None:
        self.handshakes: list[tuple[str | None, asyncio.Future[Reading]]] = []
        # The batch the reader is reading now.
        self.reading: list[tuple[str | None, asyncio.Future[Reading]]] = []
        self.reader: asyncio.Task[None] | None = None

    async def read(self, session_key: str | None) -> Reading:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reading] = loop.create_future()
        self.handshakes.append((session_key, future))
        if self.reader is None or self.reader.done():
            # In the first handshake's context, as a socket's hop to the database thread
            # (portal/asgi.py marks them); its request id too, though it reads for many.
            self.reader = loop.create_task(self._read_all())
            self.reader.add_done_callback(self._ended)
        return await future

    def _ended(self, reader: asyncio.Task[None]) -> None:
        """However a reader stopped (nothing left to read, or stopped from outside as the
        event loop ends, even before it began), no handshake of its waits forever. One
        that arrived as it ended has a reader of its own already."""
        if self.reader is reader:
            self.reader = None
            for _, future in [*self.reading, *self.handshakes]:
                future.cancel()
            self.reading, self.handshakes = [], []

    async def _read_all(self) -> None:
        while self.handshakes:
            batch = self.handshakes[:READ_AT_ONCE]
            del self.handshakes[:READ_AT_ONCE]
            self.reading = [(key, future) for key, future in batch if not future.done()]
            if not self.reading:
                continue
            readings = await _read_batch([key for key, _ in self.reading])
            for (_, future), reading in zip(self.reading, readings, strict=True):
                if future.done():
                    continue  # that handshake was given up (its client left)
                if isinstance(reading, BaseException):
                    future.set_exception(reading)
                else:
                    future.set_result(reading)
            self.reading = []


async def _read_batch(keys: list[str | None]) -> list[Reading | Exception]:
    """The batch's readings; when its statements fail, each handshake read again alone, so
    that what failed (a database that went away, a key it refused) fails only its own."""
    try:
        return await _authenticate_many(keys)
    except Exception as exc:  # noqa: BLE001 - answered for each handshake below
        if len(keys) == 1:
            return [exc]
    readings: list[Reading | Exception] = []
    for key in keys:
        try:
            readings.extend(await _authenticate_many([key]))
        except Exception as exc:  # noqa: BLE001 - that handshake's alone
            readings.append(exc)
    return readings


_waiting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Waiting] = (
    weakref.WeakKeyDictionary()
)


async def read_handshake(session_key: str | None) -> Reading:
    """``authenticate``, on the database thread, together with the handshakes beside it."""
    loop = asyncio.get_running_loop()
    waiting = _waiting.get(loop)
    if waiting is None:
        waiting = _waiting[loop] = _Waiting()
    return await waiting.read(session_key)


class SocketAuth:
    """Puts ``session``, ``user`` and, for staff without a second factor,
    ``ENROLMENT_REQUIRED`` in a websocket's scope, read in one database trip."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        session, user, enrol = await read_handshake(session_key_of(scope))
        scope = {**scope, "session": session, "user": user, ENROLMENT_REQUIRED: enrol}
        return await self.inner(scope, receive, send)
