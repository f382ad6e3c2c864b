"""Django project wiring for the Confide portal: settings, ASGI routing, accounts, command line."""
