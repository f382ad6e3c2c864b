"""HTTP API routes (docs/protocol.md)."""

from __future__ import annotations

from django.urls import path

from accounts import console as admin
from accounts import views as accounts
from accounts.recovery import recover_begin, recover_finish
from messaging import console, views

urlpatterns = [
    path("csrf", accounts.csrf, name="api-csrf"),
    path("auth/params", accounts.params, name="api-auth-params"),
    path("auth/signin", accounts.signin, name="api-auth-signin"),
    path("auth/signout", accounts.signout, name="api-auth-signout"),
    path("auth/recover/begin", recover_begin, name="api-auth-recover-begin"),
    path("auth/recover/finish", recover_finish, name="api-auth-recover-finish"),
    path("me", accounts.me, name="api-me"),
    path("agreement", accounts.agreement, name="api-agreement"),
    path("invitations", views.invitations, name="api-invitations"),
    path("invitations/lookup", views.invitation_lookup, name="api-invitation-lookup"),
    path("invitations/accept", views.invitation_accept, name="api-invitation-accept"),
    path(
        "invitations/<int:invitation_id>/revoke",
        views.invitation_revoke,
        name="api-invitation-revoke",
    ),
    path(
        "invitations/<int:invitation_id>/renew",
        views.invitation_renew,
        name="api-invitation-renew",
    ),
    path("setup/lookup", admin.setup_lookup, name="api-setup-lookup"),
    path("setup/accept", admin.setup_accept, name="api-setup-accept"),
    path("admin/practice", admin.practice_settings, name="api-admin-practice"),
    path("admin/members", admin.members, name="api-admin-members"),
    path("admin/members/<int:user_id>/active", admin.member_active, name="api-admin-member-active"),
    path("admin/setup-links", admin.setup_links, name="api-admin-setup-links"),
    path(
        "admin/setup-links/<int:link_id>/revoke",
        admin.setup_link_revoke,
        name="api-admin-setup-link-revoke",
    ),
    path("admin/invitations", console.invitations, name="api-admin-invitations"),
    path(
        "admin/invitations/<int:invitation_id>/revoke",
        console.invitation_revoke,
        name="api-admin-invitation-revoke",
    ),
    path("admin/agreement", admin.agreement, name="api-admin-agreement"),
    path("conversations", views.conversations, name="api-conversations"),
    path(
        "conversations/<uuid:conversation_id>", views.conversation_detail, name="api-conversation"
    ),
    path(
        "conversations/<uuid:conversation_id>/label",
        views.conversation_label,
        name="api-conversation-label",
    ),
    path(
        "conversations/<uuid:conversation_id>/archive",
        views.conversation_archive,
        name="api-conversation-archive",
    ),
]
