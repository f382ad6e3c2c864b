"""HTTP API routes (docs/protocol.md)."""

from __future__ import annotations

from django.urls import path

from accounts import views as accounts
from messaging import views

urlpatterns = [
    path("csrf", accounts.csrf, name="api-csrf"),
    path("auth/params", accounts.params, name="api-auth-params"),
    path("auth/signin", accounts.signin, name="api-auth-signin"),
    path("auth/signout", accounts.signout, name="api-auth-signout"),
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
    path("conversations", views.conversations, name="api-conversations"),
    path(
        "conversations/<uuid:conversation_id>", views.conversation_detail, name="api-conversation"
    ),
]
