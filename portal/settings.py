"""Settings for the Confide portal, read from the environment with safe defaults.

Two ways to run, chosen by the environment:

* Embedded default (no DATABASE_URL): a SQLite file and the process-local channel
  layer in one server process; a secret key is made on first run and kept in
  ``CONFIDE_DATA_DIR``.
* Production (DATABASE_URL set): PostgreSQL, Redis between processes when REDIS_URL is
  set, HTTPS only behind a TLS proxy, and SECRET_KEY must be supplied.

Every variable is listed in the README.
"""

from __future__ import annotations

import ipaddress
import warnings
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from messaging.redis_clients import SENTINEL_SCHEME, RedisUrlError, sentinel_set
from portal.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    persistent_secret_key,
    private_directory,
    private_file,
)
from portal.logs import logging_config
from portal.serving import SERVERS
from protocol.limits import ATTACHMENT_PART_BYTES

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the embedded database, the secret key, push keys, mail files and collected static
# files live: ``var`` under the directory the command runs in, never inside the installed
# package. Made 0700 (portal/checks.py warns when it is open to others).
DATA_DIR = Path(env_str("CONFIDE_DATA_DIR", "var")).resolve()

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
CONFIDE_REDIS_PREFIX = env_str("CONFIDE_REDIS_PREFIX", "confide")
PRODUCTION = bool(DATABASE_URL)
if not PRODUCTION:
    # The embedded default keeps its database and secret key there from the first command
    # on; production writes there only what it must (collected static files, mail files),
    # into directories made 0700 by the process's umask (portal/cli.py).
    private_directory(DATA_DIR)

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set when DATABASE_URL is set."
        )
    SECRET_KEY = persistent_secret_key(DATA_DIR / "secret_key")
elif len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "SECRET_KEY must be at least 50 characters long, of at least 5 different ones "
        "(make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
if "*" in ALLOWED_HOSTS:
    # "*" would let any host through the websocket origin check (portal/origins.py) too.
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the hosts; '*' is refused.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Every POST is the API's: a CSRF failure answers its JSON error (``csrf_failed``).
CSRF_FAILURE_VIEW = "accounts.api.csrf_failure"
# Where weaknesses of this deployment are reported: a ``mailto:`` or ``https:`` URI, served
# in /.well-known/security.txt (RFC 9116); none, no such file.
CONFIDE_SECURITY_CONTACT = env_str("CONFIDE_SECURITY_CONTACT")
if CONFIDE_SECURITY_CONTACT and not CONFIDE_SECURITY_CONTACT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured("CONFIDE_SECURITY_CONTACT must be a mailto: or https:// URI.")
# Websockets are opened only by the portal's own pages: an Origin equal to the socket's own
# scheme, allowed host and port (portal/origins.py), or one of these, for a proxy that
# rewrites the Host header (``https://portal.example.org``, lower case).
CONFIDE_ORIGINS = [origin.lower() for origin in env_list("CONFIDE_ORIGINS", [])]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "audit",
    "accounts",
    "messaging",
    "frontend",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.log.OriginMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES: dict[str, Any] = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, its health check run at most once a second per connection
        # (portal/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "portal.postgresql"
    # DATABASE_URL names a pooler in transaction mode (PgBouncer; docs/operations.md): a
    # query's server-side cursor could be read on another server connection, so none is
    # used (the portal uses neither prepared statements nor session state).
    if env_bool("CONFIDE_DATABASE_POOLER", False):
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
else:
    # Made 0600 before SQLite opens it: its -wal and -shm files take the same mode.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": private_file(DATA_DIR / "confide.sqlite3"),
            # One process owns the file: keep its connection rather than open one per
            # database call. WAL keeps each commit to one fsync, and readers off the writer.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }

# The channel layer (messaging/layer.py): process-local queues, and Redis publish/subscribe
# between processes when REDIS_URL is set. Events are at most once; clients backfill.
CHANNEL_LAYERS: dict[str, Any] = {
    "default": {
        "BACKEND": "messaging.layer.FanoutChannelLayer",
        "CONFIG": {
            "url": REDIS_URL,
            "prefix": CONFIDE_REDIS_PREFIX,
            "capacity": env_int("CONFIDE_SOCKET_QUEUE", 100, minimum=10),
            "max_bytes": env_int("CONFIDE_SOCKET_QUEUE_BYTES", 2 * 1024 * 1024, minimum=65536),
        },
    }
}

if REDIS_URL:
    # One Redis, or a Sentinel set's primary (messaging/redis_clients.py): Django's cache
    # reads a Sentinel set's URL through a pool class of ours, since it splits LOCATION at
    # commas (the separator of the sentinels' addresses).
    try:
        _SENTINELS = sentinel_set(REDIS_URL)
    except RedisUrlError as exc:
        raise ImproperlyConfigured(f"REDIS_URL: {exc}") from None
    CACHES: dict[str, Any] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CONFIDE_REDIS_PREFIX", "confide"),
        }
    }
    if _SENTINELS is not None:
        CACHES["default"]["LOCATION"] = f"{SENTINEL_SCHEME}:///{_SENTINELS.service}"
        CACHES["default"]["OPTIONS"] = {
            "pool_class": "messaging.redis_clients.CachePool",
            "sentinel_url": REDIS_URL,
        }
else:
    # Culling at Django's default of 300 entries would let a burst of made-up emails
    # push the sign-in counters out of the cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

AUTH_USER_MODEL = "accounts.User"
# The server never sees a password: it receives a 32-byte authentication secret
# that the client derived with Argon2id. See accounts/hashers.py for why
# this hasher is the right one for such a secret.
PASSWORD_HASHERS = ["accounts.hashers.AuthSecretHasher"]

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("CONFIDE_SESSION_SECONDS", 12 * 3600, minimum=300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"
SECURE_COOKIES = env_bool("CONFIDE_SECURE_COOKIES", default=PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
# HTTPS only, in production: the encryption is only as good as the JavaScript the portal
# serves, so a connection stripped of TLS would hand over the password. Browsers remember
# HSTS for a year; plain http is redirected (/healthz, /readyz and /metrics are answered
# before Django, portal/health.py, for the operator's tools on 127.0.0.1). The HSTS preload
# list is a commitment a practice makes for its own domain: off unless asked for (its
# deployment check, W021, is silenced then).
SECURE_HSTS_SECONDS = env_int("CONFIDE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CONFIDE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("CONFIDE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env_bool("CONFIDE_SSL_REDIRECT", default=PRODUCTION)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# Attachments (messaging/services/attachments.py; docs/operations.md, "Attachments"): the
# encrypted streams members upload, each part an object of its own. A folder of the data
# directory by default (CONFIDE_ATTACHMENT_STORAGE=filesystem), or an S3-compatible bucket
# through django-storages (=s3), which then must be installed.
CONFIDE_ATTACHMENT_STORAGE = env_str("CONFIDE_ATTACHMENT_STORAGE", "filesystem")
if CONFIDE_ATTACHMENT_STORAGE == "filesystem":
    _ATTACHMENTS: dict[str, Any] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(DATA_DIR / "attachments"),
            # A part sent again after an interrupted write replaces what that write left.
            "allow_overwrite": True,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
elif CONFIDE_ATTACHMENT_STORAGE == "s3":
    try:
        import boto3  # noqa: F401 (only whether it is there)
        import storages  # noqa: F401
    except ImportError:
        raise ImproperlyConfigured(
            "CONFIDE_ATTACHMENT_STORAGE=s3 needs django-storages with boto3: "
            "pip install 'confide[s3]' (or 'django-storages[s3]') into the server's "
            "virtualenv."
        ) from None
    _BUCKET = env_str("CONFIDE_S3_BUCKET")
    if not _BUCKET:
        raise ImproperlyConfigured("CONFIDE_ATTACHMENT_STORAGE=s3 needs CONFIDE_S3_BUCKET.")
    _ATTACHMENTS = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _BUCKET,
            # Unset: AWS itself; otherwise the S3-compatible service's URL (MinIO, Ceph, ...).
            "endpoint_url": env_str("CONFIDE_S3_ENDPOINT_URL") or None,
            "region_name": env_str("CONFIDE_S3_REGION") or None,
            # Unset: boto3 finds credentials itself (an instance role, ~/.aws).
            "access_key": env_str("CONFIDE_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("CONFIDE_S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("CONFIDE_S3_PREFIX", "attachments"),
            "file_overwrite": True,
            # The bucket's own policy decides who reads: no ACL is set on an object, and the
            # server streams every download itself (no presigned URLs leave it).
            "default_acl": None,
        },
    }
else:
    raise ImproperlyConfigured(
        "CONFIDE_ATTACHMENT_STORAGE must be 'filesystem' or 's3', "
        f"not {CONFIDE_ATTACHMENT_STORAGE!r}"
    )
STORAGES = {
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "attachments": _ATTACHMENTS,
}
# The largest file (bytes of plaintext) a member may attach; its stream is a little longer
# (crypto.attachment.attachment_ciphertext_size).
CONFIDE_ATTACHMENT_MAX_BYTES = env_int(
    "CONFIDE_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024, minimum=1, maximum=4 * 1024**3
)
# The bytes of stream one practice may store, completed uploads and those under way.
CONFIDE_ATTACHMENT_QUOTA_BYTES = env_int("CONFIDE_ATTACHMENT_QUOTA_BYTES", 10 * 1024**3, minimum=0)
# An upload not completed this long after it began is deleted with its parts.
CONFIDE_ATTACHMENT_ABANDON_HOURS = env_int("CONFIDE_ATTACHMENT_ABANDON_HOURS", 24, minimum=1)
# Request bodies: JSON ones are refused past 64 KiB (portal/bodies.py, accounts/api.py); a
# part of an attachment is the one larger body, exactly ATTACHMENT_PART_BYTES at most.
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_PART_BYTES
WHITENOISE_USE_FINDERS = True
# Files are served from the apps' static folders (finders) until collectstatic has run.
warnings.filterwarnings("ignore", message="No directory at: ")
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Nothing here logs request bodies or frames: the server would only ever see
# ciphertext, but keys, secrets and cookies travel in them too. One line per event, with its
# request id (portal/logs.py): JSON in production, text in the embedded default.
CONFIDE_LOG_FORMAT = env_str("CONFIDE_LOG_FORMAT", "json" if PRODUCTION else "text")
if CONFIDE_LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(
        f"CONFIDE_LOG_FORMAT must be 'json' or 'text', not {CONFIDE_LOG_FORMAT!r}"
    )
LOGGING: dict[str, Any] = logging_config(CONFIDE_LOG_FORMAT, env_str("LOG_LEVEL", "INFO"))
# Behind the TLS proxy, the client's address and https come from its X-Forwarded-For and
# X-Forwarded-Proto, believed only from these peers (portal/asgi.py); never "*", which would
# let anyone who reaches a process claim any address.
CONFIDE_BEHIND_TLS_PROXY = env_bool("CONFIDE_BEHIND_TLS_PROXY", default=False)
CONFIDE_FORWARDED_ALLOW_IPS = env_list("CONFIDE_FORWARDED_ALLOW_IPS", ["127.0.0.1"])
for _proxy in CONFIDE_FORWARDED_ALLOW_IPS:
    try:
        _network = ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"CONFIDE_FORWARDED_ALLOW_IPS must name the proxy's addresses; {_proxy!r} is not one"
            " (no '*', no host names)."
        ) from None
    if _network.prefixlen < (8 if _network.version == 4 else 32):
        raise ImproperlyConfigured(
            f"CONFIDE_FORWARDED_ALLOW_IPS: {_proxy!r} would let most of the internet claim "
            "any address; name the proxy's own."
        )
# Who may read /metrics (portal/health.py): addresses or networks, as the server sees the
# client (behind the proxy, the forwarded address); empty: nobody.
CONFIDE_METRICS_ALLOW_IPS = env_list("CONFIDE_METRICS_ALLOW_IPS", ["127.0.0.1", "::1"])
for _operator in CONFIDE_METRICS_ALLOW_IPS:
    try:
        ipaddress.ip_network(_operator, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"CONFIDE_METRICS_ALLOW_IPS: {_operator!r} is not an address or a network"
        ) from None

# How seldom each server process's garbage collector makes a full collection (portal/asgi.py):
# at most once every this many collections of its middle generation (Python's third
# threshold; Python's own is 10). A process keeps every open socket's objects, and each
# full collection walks all of them: with 10, a reconnect storm of 10,000 sockets spent
# two fifths of a process's CPU in them; with 1,000, the garbage of closed sockets grew a
# process by 40 MiB every 6,000 (docs/performance.md). Young collections run as often as
# Python's own.
CONFIDE_GC_FULL_EVERY = env_int("CONFIDE_GC_FULL_EVERY", 100, minimum=1)

# Limits of the realtime protocol (docs/protocol.md).
CONFIDE_MAX_FRAME_BYTES = env_int("CONFIDE_MAX_FRAME_BYTES", 256 * 1024, minimum=4096)
CONFIDE_MAX_SOCKETS_PER_USER = env_int("CONFIDE_MAX_SOCKETS_PER_USER", 10, minimum=1)
# How often each process checks the sessions of its open sockets, closing those whose
# session ended without an event saying so (expiry, a lost event): the bound on how long a
# socket outlives its session (docs/protocol.md, "Authorisation").
CONFIDE_SESSION_RECHECK_SECONDS = env_float("CONFIDE_SESSION_RECHECK_SECONDS", 30.0, minimum=0.1)
CONFIDE_MESSAGE_RATE = env_int("CONFIDE_MESSAGE_RATE", 20, minimum=1)
CONFIDE_MESSAGE_BURST = env_int("CONFIDE_MESSAGE_BURST", 40, minimum=1)
CONFIDE_HISTORY_PAGE = env_int("CONFIDE_HISTORY_PAGE", 100, minimum=1, maximum=1000)
# Group commit (messaging/batching.py): sends stored per transaction, and how many may wait
# before new ones are refused with ``overloaded``.
CONFIDE_WRITE_BATCH = env_int("CONFIDE_WRITE_BATCH", 256, minimum=1, maximum=10000)
CONFIDE_MAX_PENDING_SENDS = env_int("CONFIDE_MAX_PENDING_SENDS", 2000, minimum=1)
# ... and how late the event loop may run before new sends are refused (messaging/load.py).
CONFIDE_MAX_LOOP_LAG_MS = env_int("CONFIDE_MAX_LOOP_LAG_MS", 1000, minimum=10)
# Messages a second one process accepts before refusing with ``overloaded``; 0: no cap.
# Set it a little under the saturation bench/loadgen.py measures on the machine.
CONFIDE_MAX_SENDS_PER_SECOND = env_int("CONFIDE_MAX_SENDS_PER_SECOND", 0, minimum=0)
CONFIDE_INVITATION_HOURS = env_int("CONFIDE_INVITATION_HOURS", 72, minimum=1)
# How long a staff setup link (a new therapist's or admin's, accounts/setup.py) stays valid.
CONFIDE_SETUP_LINK_HOURS = env_int("CONFIDE_SETUP_LINK_HOURS", 72, minimum=1)
# ... and how many an admin makes a day (each says whether its email has an account in the
# practice).
CONFIDE_SETUP_LINKS_PER_DAY = env_int("CONFIDE_SETUP_LINKS_PER_DAY", 50, minimum=1)
CONFIDE_INVITATION_EMAIL_TAKEN_ANSWERS = env_int(
    "CONFIDE_INVITATION_EMAIL_TAKEN_ANSWERS", 3, minimum=1
)
CONFIDE_IDLE_SECONDS = env_int("CONFIDE_IDLE_SECONDS", 900, minimum=60)
# Sign-in limits (accounts/limits.py; docs/threat-model.md, "Online password guessing").
# Failed sign-ins per address per window, whatever the email, from places the accounts do
# not know: enough for a practice's staff behind one address to mistype now and then.
CONFIDE_SIGNIN_ATTEMPTS = env_int("CONFIDE_SIGNIN_ATTEMPTS", 100, minimum=1)
CONFIDE_SIGNIN_WINDOW_SECONDS = env_int("CONFIDE_SIGNIN_WINDOW_SECONDS", 900, minimum=1)
# Failed sign-ins per window for one account at one address, or in one known browser.
CONFIDE_SIGNIN_PAIR_ATTEMPTS = env_int("CONFIDE_SIGNIN_PAIR_ATTEMPTS", 5, minimum=1)
# Failed sign-ins per email window for one account from all the places it does not know:
# the bound on a guesser with many addresses.
CONFIDE_SIGNIN_EMAIL_ATTEMPTS = env_int("CONFIDE_SIGNIN_EMAIL_ATTEMPTS", 20, minimum=1)
CONFIDE_SIGNIN_EMAIL_WINDOW_SECONDS = env_int(
    "CONFIDE_SIGNIN_EMAIL_WINDOW_SECONDS", 3600, minimum=1
)
# How long an address an account signed in from, and a browser it signed in on, stay
# known (0: nowhere is known, and no known-browser cookie is set).
CONFIDE_SIGNIN_KNOWN_ADDRESS_DAYS = env_int("CONFIDE_SIGNIN_KNOWN_ADDRESS_DAYS", 30, minimum=0)
# Wrong second factors (codes, recovery codes, passkey answers) per account per day, from
# anywhere: the bound on someone who has the password guessing the code
# (accounts/factors/attempts.py; docs/threat-model.md, "Second factors").
CONFIDE_SECOND_FACTOR_FAILURES = env_int("CONFIDE_SECOND_FACTOR_FAILURES", 10, minimum=1)
CONFIDE_SECOND_FACTOR_WINDOW_SECONDS = env_int(
    "CONFIDE_SECOND_FACTOR_WINDOW_SECONDS", 86400, minimum=60
)
# Password recovery with the recovery key (accounts/recovery.py; docs/protocol.md,
# "Password recovery"): how long a challenge is valid, and how many begins and how many
# failed finishes a network (an IPv4 address or an IPv6 /64) may make per window.
CONFIDE_RECOVERY_CHALLENGE_SECONDS = env_int(
    "CONFIDE_RECOVERY_CHALLENGE_SECONDS", 600, minimum=60, maximum=3600
)
CONFIDE_RECOVERY_ATTEMPTS = env_int("CONFIDE_RECOVERY_ATTEMPTS", 10, minimum=1)
CONFIDE_RECOVERY_WINDOW_SECONDS = env_int("CONFIDE_RECOVERY_WINDOW_SECONDS", 900, minimum=1)
# Assisted recovery (accounts/assisted_recovery.py; docs/protocol.md, "Assisted recovery"):
# how long a request waits for a therapist's confirmation, and how many requests one email
# may make per window (each replaces the one before; the address counts with recovery's).
CONFIDE_ASSISTED_RECOVERY_DAYS = env_int("CONFIDE_ASSISTED_RECOVERY_DAYS", 7, minimum=1)
CONFIDE_ASSISTED_RECOVERY_EMAIL_ATTEMPTS = env_int(
    "CONFIDE_ASSISTED_RECOVERY_EMAIL_ATTEMPTS", 5, minimum=1
)
CONFIDE_ASSISTED_RECOVERY_EMAIL_WINDOW_SECONDS = env_int(
    "CONFIDE_ASSISTED_RECOVERY_EMAIL_WINDOW_SECONDS", 86400, minimum=1
)

# Background jobs (messaging/services/notifications.py): Django's tasks framework with its
# database backend, so a job survives a restart and, claimed with SKIP LOCKED, runs in one process
# only. ``confide serve`` runs a worker beside the server (CONFIDE_WORKER=false for none,
# when ``confide worker`` runs apart).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# ``confide serve`` (portal/serving.py): the ASGI server (uvicorn or daphne), and how many
# server processes share the port (by default one per core with Redis, one without).
CONFIDE_SERVER = env_str("CONFIDE_SERVER", SERVERS[0])
if CONFIDE_SERVER not in SERVERS:
    raise ImproperlyConfigured(f"CONFIDE_SERVER must be one of {', '.join(SERVERS)}.")
CONFIDE_SERVER_PROCESSES = (
    env_int("CONFIDE_SERVER_PROCESSES", 1, minimum=1, maximum=256)
    if env_str("CONFIDE_SERVER_PROCESSES")
    else None
)
CONFIDE_WORKER = env_bool("CONFIDE_WORKER", True)
CONFIDE_WORKER_INTERVAL_SECONDS = env_float("CONFIDE_WORKER_INTERVAL_SECONDS", 1.0, minimum=0.05)
# The periodic job (portal.periodic): how often it looks for due work.
CONFIDE_TICK_SECONDS = env_int("CONFIDE_TICK_SECONDS", 300, minimum=1)
# The audit log (docs/records.md): its head written to the log output this often, and how
# many years its events are kept (HIPAA keeps documentation six years, 45 CFR 164.316).
CONFIDE_AUDIT_ANCHOR_SECONDS = env_int("CONFIDE_AUDIT_ANCHOR_SECONDS", 3600, minimum=1)
CONFIDE_AUDIT_RETENTION_YEARS = env_int("CONFIDE_AUDIT_RETENTION_YEARS", 6, minimum=1, maximum=100)

# Email notifications (messaging/services/notifications.py; docs/operations.md, "Email"):
# one email, saying only that a secure message waits, to someone with no live socket this long after
# a message reached them; at most one per conversation until they read it, and one an hour
# per person. SMTP when CONFIDE_SMTP_HOST is set; otherwise written to files under the
# data directory (DATA_DIR/mail), to be read there.
CONFIDE_NOTIFY_AFTER_SECONDS = env_int("CONFIDE_NOTIFY_AFTER_SECONDS", 600, minimum=1)
CONFIDE_NOTIFY_EVERY_SECONDS = env_int("CONFIDE_NOTIFY_EVERY_SECONDS", 3600, minimum=1)
# An email the SMTP server refused goes again after this pause, doubled at each try (at most
# an hour), CONFIDE_NOTIFY_TRIES times in all.
CONFIDE_NOTIFY_TRIES = env_int("CONFIDE_NOTIFY_TRIES", 8, minimum=1)
CONFIDE_NOTIFY_RETRY_SECONDS = env_int("CONFIDE_NOTIFY_RETRY_SECONDS", 30, minimum=1)
CONFIDE_PUBLIC_URL = env_str("CONFIDE_PUBLIC_URL", "")
DEFAULT_FROM_EMAIL = env_str("CONFIDE_EMAIL_FROM", "Confide <no-reply@localhost>")
_SMTP_HOST = env_str("CONFIDE_SMTP_HOST", "")
if _SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _SMTP_HOST
    EMAIL_PORT = env_int("CONFIDE_SMTP_PORT", 587, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env_str("CONFIDE_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = env_str("CONFIDE_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("CONFIDE_SMTP_STARTTLS", True)
    EMAIL_TIMEOUT = env_int("CONFIDE_SMTP_TIMEOUT_SECONDS", 20, minimum=1)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")

# Web Push (messaging/services/push.py; docs/operations.md, "Web Push"): the same notice as
# the email, to each browser that asked for it, through its push service. The VAPID key
# signs each request: CONFIDE_VAPID_PRIVATE_KEY (base64url of the raw 32-byte P-256 key;
# or _FILE) in production, where without it there is no push; made once into
# DATA_DIR/vapid_private_key (mode 0600) in the embedded default.
CONFIDE_VAPID_PRIVATE_KEY = env_str("CONFIDE_VAPID_PRIVATE_KEY")
# Who runs this server, for the push services (RFC 8292 "sub"): a mailto: or https: URI.
CONFIDE_VAPID_SUBJECT = env_str("CONFIDE_VAPID_SUBJECT", "")
if CONFIDE_VAPID_SUBJECT and not CONFIDE_VAPID_SUBJECT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured("CONFIDE_VAPID_SUBJECT must be a mailto: or https:// URI.")
# The push services a subscription may name (host names; ".example.com" also allows its
# subdomains): the server posts to these and nowhere else.
CONFIDE_PUSH_SERVICES = env_list(
    "CONFIDE_PUSH_SERVICES",
    [
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        ".push.apple.com",
        ".notify.windows.com",
    ],
)
# Plain http:// to a push service on 127.0.0.1 (and only there): for the tests' own.
CONFIDE_PUSH_ALLOW_HTTP = env_bool("CONFIDE_PUSH_ALLOW_HTTP", False)
CONFIDE_PUSH_SUBSCRIPTIONS_PER_USER = env_int(
    "CONFIDE_PUSH_SUBSCRIPTIONS_PER_USER", 10, minimum=1, maximum=100
)
# How long a push service keeps a notice for a phone that is off (RFC 8030 TTL).
CONFIDE_PUSH_TTL_SECONDS = env_int("CONFIDE_PUSH_TTL_SECONDS", 86400, minimum=0, maximum=2419200)
CONFIDE_PUSH_TIMEOUT_SECONDS = env_int("CONFIDE_PUSH_TIMEOUT_SECONDS", 10, minimum=1)
