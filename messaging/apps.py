from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def check_vapid_key() -> None:
    """A VAPID key from the environment that cannot be read stops start-up, saying why
    (never showing it), rather than failing each notification later."""
    from messaging.vapid import VapidKey

    configured: str = settings.CONFIDE_VAPID_PRIVATE_KEY
    if configured:
        try:
            VapidKey.from_private_raw(configured)
        except ValueError as exc:
            raise ImproperlyConfigured(f"CONFIDE_VAPID_PRIVATE_KEY: {exc}") from None


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        """Builds the process's message writer, refuses an unreadable VAPID key, closes a
        user's sockets (and drops their push subscriptions) whenever accounts announce that
        their access ended, tells a practice's clients' sockets when it publishes a new
        messaging agreement, and a client's therapists' when the client asks for an
        assisted recovery."""
        from accounts.access import access_ended
        from accounts.agreement import agreement_published
        from accounts.assisted_recovery import recovery_requested
        from accounts.identity_upgrade import identity_upgraded
        from messaging.services import agreements, messages, push, recoveries, sessions

        messages.start()
        check_vapid_key()
        access_ended.connect(
            sessions.close_sockets_when_access_ends, dispatch_uid="messaging.close_sockets"
        )
        access_ended.connect(push.remove_when_access_ends, dispatch_uid="messaging.push_ends")
        agreement_published.connect(
            agreements.tell_clients_of_a_new_agreement,
            dispatch_uid="messaging.new_agreement",
        )
        recovery_requested.connect(
            recoveries.tell_therapists_of_a_request,
            dispatch_uid="messaging.recovery_requested",
        )
        identity_upgraded.connect(
            recoveries.tell_members_of_an_upgrade,
            dispatch_uid="messaging.identity_upgraded",
        )
