"""The practice admin's endpoints (``/api/admin/...``), and the setup links' own
(``/api/setup/...``), of docs/protocol.md, "Practice administration".

An admin manages people and the practice's texts. Nothing here reads or answers a key, an
envelope or a message: an admin is a member of no conversation, and the console's answers
(protocol.practice) have no field that could carry one.
"""

from __future__ import annotations

import logging
import zoneinfo
from typing import cast

from django.conf import settings
from django.contrib.auth import login
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpRequest
from django.utils import timezone

from accounts.agreement import agreement_text, current_agreement, publish_agreement
from accounts.api import api, parse_body, signed_in_user
from accounts.counters import hit
from accounts.limits import remember_place, sets_known_browser
from accounts.models import AgreementAcceptance, AgreementVersion, Practice, Role, SetupLink, User
from accounts.practices import change_settings, settings_of
from accounts.setup import (
    LinkState,
    accept_setup_link,
    create_setup_link,
    list_setup_links,
    open_setup_link,
    revoke_links_made_by,
    revoke_setup_link,
)
from accounts.signup import account_keys
from accounts.views import me_body
from audit.log import record
from protocol import practice as body
from protocol.audit import AuditKind
from protocol.errors import (
    AgreementChangedError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
)
from protocol.http import AgreementSection, RoleName, TokenRequest, UserAnswer

ADMIN = (Role.ADMIN,)
log = logging.getLogger(__name__)

# Ids are 64-bit signed integers in every database the server runs on.
_LARGEST_ID = 2**63 - 1


# --- setup links, from the new member's side ---------------------------------------------------


@api(methods=("POST",), auth=False)
def setup_lookup(request: HttpRequest) -> body.SetupLookupAnswer:
    """What a pending setup link makes: the practice, the role, the email."""
    link = open_setup_link(parse_body(request, TokenRequest).token)
    return body.SetupLookupAnswer(
        practice=link.practice.name,
        role=cast(body.StaffRoleName, link.role),
        email=link.email,
        display_name=link.display_name,
        expires_at=link.expires_at,
    )


@sets_known_browser
@api(methods=("POST",), auth=False)
def setup_accept(request: HttpRequest) -> UserAnswer:
    """The new member's account, with the keys their browser made; signed in."""
    request_body = parse_body(request, body.SetupAcceptRequest)
    keys = account_keys(
        auth_secret=request_body.auth_secret,
        kdf=request_body.kdf,
        public_identity=request_body.public_identity,
        key_bundle=request_body.key_bundle,
        recovery_bundle=request_body.recovery_bundle,
    )
    user = accept_setup_link(request_body.token, request_body.display_name, keys)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    remember_place(request, user)
    return UserAnswer(user=me_body(user))


# --- setup links, from the admin's side -------------------------------------------------------


def link_item(link: SetupLink, state: LinkState) -> body.SetupLinkItem:
    return body.SetupLinkItem(
        id=link.pk,
        role=cast(body.StaffRoleName, link.role),
        email=link.email,
        display_name=link.display_name,
        created_by=link.created_by.display_name if link.created_by else None,
        created_at=link.created_at,
        expires_at=link.expires_at,
        state=state,
    )


@api(methods=("GET", "POST"), roles=ADMIN)
def setup_links(request: HttpRequest) -> body.SetupLinksAnswer | body.SetupLinkAnswer:
    """``GET``: the practice's setup links, newest first (never a token). ``POST``: a link
    for a new therapist or admin, its token shown once."""
    admin = signed_in_user(request)
    if request.method == "GET":
        return body.SetupLinksAnswer(
            links=[link_item(*listed) for listed in list_setup_links(admin.practice)]
        )
    wanted = parse_body(request, body.SetupLinkRequest)
    limit: int = settings.CONFIDE_SETUP_LINKS_PER_DAY
    if hit(f"confide:setup-links:{admin.pk}", 86400) > limit:
        raise RateLimitedError(
            f"An admin makes at most {limit} setup links a day; try again tomorrow.",
            retry_after_s=86400,
        )
    with transaction.atomic():
        new = create_setup_link(
            admin.practice, wanted.role, wanted.email, wanted.display_name, created_by=admin
        )
        record(
            AuditKind.SETUP_LINK_CREATED,
            request=request,
            subject=f"setup_link:{new.link.pk}",
            details={"role": wanted.role, "email": wanted.email},
        )
    log.info("admin %s made setup link %s (%s)", admin.pk, new.link.pk, wanted.role)
    return body.SetupLinkAnswer(
        id=new.link.pk, token=new.token, path=new.path, expires_at=new.link.expires_at
    )


@api(methods=("POST",), roles=ADMIN)
def setup_link_revoke(request: HttpRequest, link_id: int) -> body.SetupLinkItemAnswer:
    admin = signed_in_user(request)
    with transaction.atomic():
        link, state = revoke_setup_link(admin.practice, link_id)
        record(AuditKind.SETUP_LINK_REVOKED, request=request, subject=f"setup_link:{link.pk}")
    log.info("admin %s revoked setup link %s", admin.pk, link.pk)
    return body.SetupLinkItemAnswer(link=link_item(link, state))


# --- members ------------------------------------------------------------------------------


def member_item(user: User) -> body.MemberItem:
    return body.MemberItem(
        id=user.pk,
        display_name=user.display_name,
        email=user.email,
        role=cast(RoleName, user.role),
        is_active=user.is_active,
        date_joined=user.date_joined,
        last_login=user.last_login,
    )


_ROLE_ORDER = {Role.ADMIN: 0, Role.THERAPIST: 1, Role.CLIENT: 2}


@api(methods=("GET",), roles=ADMIN)
def members(request: HttpRequest) -> body.MembersAnswer:
    """Everyone of the admin's practice: staff first, then clients, each by name."""
    people = User.objects.filter(practice_id=signed_in_user(request).practice_id)
    ordered = sorted(
        people, key=lambda user: (_ROLE_ORDER[Role(user.role)], user.display_name.lower(), user.pk)
    )
    return body.MembersAnswer(members=[member_item(user) for user in ordered])


@api(methods=("POST",), roles=ADMIN)
def member_active(request: HttpRequest, user_id: int) -> body.MemberAnswer:
    """Deactivates (their sessions end and their sockets close, after the commit) or
    reactivates a member of the admin's practice. An admin cannot deactivate themselves,
    so a practice always keeps an admin who can undo it."""
    admin = signed_in_user(request)
    wanted = parse_body(request, body.MemberActiveRequest)
    if not 1 <= user_id <= _LARGEST_ID:
        raise NotFoundError("No such member.")
    with transaction.atomic():
        # One change of membership at a time per practice, so that two admins deactivating
        # each other at the same moment cannot leave the practice without one.
        Practice.objects.select_for_update().get(pk=admin.practice_id)
        member = (
            User.objects.select_for_update().filter(pk=user_id, practice=admin.practice).first()
        )
        if member is None:
            raise NotFoundError("No such member.")
        if member.pk == admin.pk and not wanted.active:
            raise ForbiddenError(
                "You cannot deactivate your own account; ask another admin of the practice."
            )
        if not wanted.active and member.role == Role.ADMIN and _active_admins(member) == 0:
            raise ForbiddenError("The practice must keep an active admin.")
        if member.is_active != wanted.active:
            member.is_active = wanted.active
            member.save(update_fields=["is_active"])
            if not wanted.active:
                revoke_links_made_by(member)
            record(
                AuditKind.ACCOUNT_REACTIVATED if wanted.active else AuditKind.ACCOUNT_DEACTIVATED,
                request=request,
                subject=f"user:{member.pk}",
                details={"email": member.email, "role": member.role},
            )
            log.info(
                "admin %s %s member %s",
                admin.pk,
                "reactivated" if wanted.active else "deactivated",
                member.pk,
            )
    return body.MemberAnswer(member=member_item(member))


def _active_admins(besides: User) -> int:
    """The practice's active admins other than ``besides``."""
    return (
        User.objects.filter(practice_id=besides.practice_id, role=Role.ADMIN, is_active=True)
        .exclude(pk=besides.pk)
        .count()
    )


# --- practice settings ----------------------------------------------------------------------


@api(methods=("GET", "POST"), roles=ADMIN)
def practice_settings(request: HttpRequest) -> body.PracticeSettingsAnswer:
    """``GET``: the practice's settings. ``POST``: all of them at once (what the form shows)."""
    admin = signed_in_user(request)
    if request.method == "GET":
        return body.PracticeSettingsAnswer(practice=settings_of(admin.practice))
    wanted = parse_body(request, body.PracticeSettings)
    log.info("admin %s changed the settings of practice %s", admin.pk, admin.practice_id)
    with transaction.atomic():
        changed = change_settings(admin.practice_id, wanted)
        record(
            AuditKind.PRACTICE_SETTINGS_CHANGED,
            request=request,
            subject=f"practice:{admin.practice_id}",
        )
    return body.PracticeSettingsAnswer(practice=settings_of(changed))


# --- the messaging agreement -----------------------------------------------------------------


def _admin_agreement(practice_id: int) -> body.AdminAgreementAnswer:
    current = current_agreement(practice_id)
    if current is None:
        raise NotFoundError("The practice has no messaging agreement.")
    clients = User.objects.filter(practice_id=practice_id, role=Role.CLIENT)
    counts = dict(
        AgreementAcceptance.objects.filter(user__in=clients)
        .values_list("version")
        .annotate(n=Count("pk"))
        .values_list("version", "n")
    )
    latest = AgreementAcceptance.objects.filter(user=OuterRef("pk")).order_by("-accepted_at", "-pk")
    listed = (
        clients.annotate(
            accepted_version=Subquery(latest.values("version")[:1]),
            accepted_at=Subquery(latest.values("accepted_at")[:1]),
        )
        .order_by("display_name", "pk")
        .values("pk", "display_name", "is_active", "accepted_version", "accepted_at")
    )
    return body.AdminAgreementAnswer(
        current=agreement_text(current),
        versions=[
            body.AgreementVersionItem(
                version=version.version,
                published_at=version.published_at,
                acceptances=counts.get(version.version, 0),
            )
            for version in AgreementVersion.objects.filter(practice_id=practice_id).order_by(
                "-published_at", "-pk"
            )
        ],
        clients=[
            body.ClientAcceptanceItem(
                id=client["pk"],
                display_name=client["display_name"],
                is_active=client["is_active"],
                version=client["accepted_version"],
                accepted_at=client["accepted_at"],
            )
            for client in listed
        ],
    )


def _version_name(practice: Practice) -> str:
    """Today's date in the practice's time zone, with ``.2``, ``.3``... after the first
    version of a day."""
    today = timezone.localtime(timezone=zoneinfo.ZoneInfo(practice.time_zone)).date().isoformat()
    taken = set(
        AgreementVersion.objects.filter(practice=practice, version__startswith=today).values_list(
            "version", flat=True
        )
    )
    if today not in taken:
        return today
    number = 2
    while f"{today}.{number}" in taken:
        number += 1
    return f"{today}.{number}"


@api(methods=("GET", "POST"), roles=ADMIN)
def agreement(request: HttpRequest) -> body.AdminAgreementAnswer:
    """``GET``: the current text, every version, who accepted which version when.
    ``POST``: publishes a new version written on top of ``based_on``; every client of the
    practice accepts it before their next message."""
    admin = signed_in_user(request)
    if request.method == "GET":
        return _admin_agreement(admin.practice_id)
    wanted = parse_body(request, body.PublishAgreementRequest)
    sections = [
        AgreementSection(heading=section.heading, paragraphs=list(section.paragraphs))
        for section in wanted.sections
    ]
    with transaction.atomic():
        # One publication at a time per practice: the second of two admins waits here and
        # then finds that the version it was written on is no longer the current one.
        practice = Practice.objects.select_for_update().get(pk=admin.practice_id)
        current = current_agreement(practice.pk)
        if current is None or current.version != wanted.based_on:
            raise AgreementChangedError(
                "Another version of the agreement was published since you opened it; "
                "nothing was published. Read the current text and make your change on it."
            )
        if [AgreementSection.model_validate(s) for s in current.sections] == sections:
            raise BadRequestError(
                "The text is the same as the current version; nothing was published."
            )
        published = publish_agreement(practice, _version_name(practice), sections)
        record(
            AuditKind.AGREEMENT_PUBLISHED,
            request=request,
            subject=f"practice:{practice.pk}",
            details={"version": published.version},
        )
        log.info("admin %s published agreement version %s", admin.pk, published.version)
    return _admin_agreement(admin.practice_id)
