"""HTTP API routes (docs/protocol.md)."""

from __future__ import annotations

from django.urls import path

from accounts import audit_console, second_factor
from accounts import console as admin
from accounts import views as accounts
from accounts.assisted_recovery import assisted_recovery
from accounts.availability import availability
from accounts.identity_upgrade import publish_identity
from accounts.pins import pins
from accounts.recovery import recover_begin, recover_finish
from messaging import (
    attachments,
    console,
    disclosures,
    exports,
    records,
    recoveries,
    subscriptions,
    views,
)

urlpatterns = [
    path("csrf", accounts.csrf, name="api-csrf"),
    path("auth/params", accounts.params, name="api-auth-params"),
    path("auth/signin", accounts.signin, name="api-auth-signin"),
    path(
        "auth/signin/second-factor",
        second_factor.signin_second_factor,
        name="api-auth-signin-second-factor",
    ),
    path(
        "auth/signin/passkey-options",
        second_factor.signin_passkey_options,
        name="api-auth-signin-passkey-options",
    ),
    path("auth/signout", accounts.signout, name="api-auth-signout"),
    path("auth/recover/begin", recover_begin, name="api-auth-recover-begin"),
    path("auth/recover/finish", recover_finish, name="api-auth-recover-finish"),
    path("auth/assisted-recovery", assisted_recovery, name="api-auth-assisted-recovery"),
    path("me", accounts.me, name="api-me"),
    path(
        "me/notifications",
        accounts.notification_settings,
        name="api-me-notifications",
    ),
    path("me/availability", availability, name="api-me-availability"),
    path("me/pins", pins, name="api-me-pins"),
    path("me/identity", publish_identity, name="api-me-identity"),
    path("me/push", subscriptions.push_settings, name="api-me-push"),
    path("me/push/subscribe", subscriptions.push_subscribe, name="api-me-push-subscribe"),
    path("me/push/unsubscribe", subscriptions.push_unsubscribe, name="api-me-push-unsubscribe"),
    path("2fa", second_factor.factors_list, name="api-2fa"),
    path("2fa/totp/begin", second_factor.totp_begin, name="api-2fa-totp-begin"),
    path("2fa/totp/confirm", second_factor.totp_confirm, name="api-2fa-totp-confirm"),
    path(
        "2fa/webauthn/register/begin",
        second_factor.passkey_register_begin,
        name="api-2fa-webauthn-register-begin",
    ),
    path(
        "2fa/webauthn/register/finish",
        second_factor.passkey_register_finish,
        name="api-2fa-webauthn-register-finish",
    ),
    path("2fa/remove", second_factor.remove_factor, name="api-2fa-remove"),
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
    path("recoveries", recoveries.recoveries, name="api-recoveries"),
    path(
        "recoveries/<int:recovery_id>/envelopes",
        recoveries.recovery_envelopes,
        name="api-recovery-envelopes",
    ),
    path(
        "recoveries/<int:recovery_id>/confirm",
        recoveries.recovery_confirm,
        name="api-recovery-confirm",
    ),
    path(
        "recoveries/<int:recovery_id>/decline",
        recoveries.recovery_decline,
        name="api-recovery-decline",
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
    path("admin/records", records.records, name="api-admin-records"),
    path(
        "admin/records/<uuid:conversation_id>/erase",
        records.record_erase,
        name="api-admin-record-erase",
    ),
    path("admin/audit", audit_console.audit_page, name="api-admin-audit"),
    path("admin/audit.csv", audit_console.audit_csv, name="api-admin-audit-csv"),
    path("conversations", views.conversations, name="api-conversations"),
    path(
        "conversations/<uuid:conversation_id>", views.conversation_detail, name="api-conversation"
    ),
    path(
        "conversations/<uuid:conversation_id>/availability",
        views.conversation_availability,
        name="api-conversation-availability",
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
    path(
        "conversations/<uuid:conversation_id>/discharge",
        views.conversation_discharge,
        name="api-conversation-discharge",
    ),
    path(
        "conversations/<uuid:conversation_id>/exports",
        exports.conversation_export,
        name="api-conversation-exports",
    ),
    path(
        "conversations/<uuid:conversation_id>/disclosures",
        disclosures.disclosures,
        name="api-conversation-disclosures",
    ),
    path(
        "conversations/<uuid:conversation_id>/attachments",
        attachments.conversation_attachments,
        name="api-conversation-attachments",
    ),
    path("attachments/<uuid:attachment_id>", attachments.attachment, name="api-attachment"),
    path(
        "attachments/<uuid:attachment_id>/parts/<int:number>",
        attachments.attachment_part,
        name="api-attachment-part",
    ),
    path(
        "attachments/<uuid:attachment_id>/complete",
        attachments.attachment_complete,
        name="api-attachment-complete",
    ),
    path(
        "attachments/<uuid:attachment_id>/content",
        attachments.attachment_content,
        name="api-attachment-content",
    ),
]
