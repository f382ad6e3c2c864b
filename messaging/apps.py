from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        """Builds the process's message writer, and closes a user's sockets whenever
        accounts announce that their access ended."""
        from accounts.access import access_ended
        from messaging.services import messages, sessions

        messages.start()
        access_ended.connect(
            sessions.close_sockets_when_access_ends, dispatch_uid="messaging.close_sockets"
        )
